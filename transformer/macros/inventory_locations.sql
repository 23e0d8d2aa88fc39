{#
  One row per variant and location of BigCommerce inventory items
  (`{"identity": {...}, "locations": [...]}`), for both the latest snapshot and the history,
  so the two parse the same JSON the same way.
#}
{% macro inventory_locations(relation) %}

with

source as (

    select * from {{ relation }}

),

locations as (

    select
        source._pk as variant_id,
        {{ json_int('source.record', '$.identity.product_id') }} as product_id,
        {{ json_text('source.record', '$.identity.sku') }} as sku,
        {{ json_int('source.record', '$.identity.sku_id') }} as sku_id,
        {{ json_int('location', '$.location_id') }} as location_id,
        {{ json_text('location', '$.location_code') }} as location_code,
        {{ json_text('location', '$.location_name') }} as location_name,
        {{ json_int('location', '$.available_to_sell') }} as available_to_sell,
        {{ json_int('location', '$.total_inventory_onhand') }} as total_inventory_onhand,
        {{ json_int('location', '$.settings.safety_stock') }} as safety_stock,
        {{ json_int('location', '$.settings.warning_level') }} as warning_level,
        {{ json_bool('location', '$.location_enabled') }} as is_location_enabled,
        source._batch_id as snapshot_id,
        source._extracted_at as snapshot_at
    from source
    {{ json_array_rows('source.record', '$.locations', 'location') }}

),

final as (

    select
        *,
        -- in stock = something can be sold now (on hand less reservations and safety stock)
        available_to_sell > 0 as is_in_stock
    from locations

)

select * from final

{% endmacro %}
