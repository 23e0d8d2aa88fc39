-- Every inventory snapshot: one row per snapshot, variant and location (parsing: macros/inventory_locations.sql).
{{ inventory_locations(source('bigcommerce', 'inventory_snapshots')) }}
