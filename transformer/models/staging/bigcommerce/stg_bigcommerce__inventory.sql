-- The latest inventory snapshot: one row per variant and location (parsing: macros/inventory_locations.sql).
{{ inventory_locations(source('bigcommerce', 'inventory')) }}
