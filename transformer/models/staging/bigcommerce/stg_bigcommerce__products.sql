-- Catalog products (v3: ISO-8601 dates, prices as JSON numbers). Variants: stg_bigcommerce__variants.
{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as product_id,
        {{ json_text(record, '$.name') }} as product_name,
        {{ json_text(record, '$.type') }} as product_type,
        {{ json_text(record, '$.sku') }} as sku,
        {{ json_int(record, '$.brand_id') }} as brand_id,
        {{ json_money(record, '$.price') }} as price,
        {{ json_money(record, '$.sale_price') }} as sale_price,
        {{ json_money(record, '$.cost_price') }} as cost_price,
        {{ json_money(record, '$.retail_price') }} as retail_price,
        {{ json_money(record, '$.calculated_price') }} as calculated_price,
        {{ json_bool(record, '$.is_visible') }} as is_visible,
        {{ json_bool(record, '$.is_featured') }} as is_featured,
        {{ json_text(record, '$.availability') }} as availability,
        {{ json_text(record, '$.condition') }} as product_condition,
        {{ json_text(record, '$.inventory_tracking') }} as inventory_tracking,
        {{ json_int(record, '$.inventory_level') }} as inventory_level,
        {{ json_int(record, '$.inventory_warning_level') }} as inventory_warning_level,
        {{ json_int(record, '$.base_variant_id') }} as base_variant_id,
        {{ json_int(record, '$.total_sold') }} as total_sold,
        {{ parse_iso8601(json_text(record, '$.date_created')) }} as created_at,
        {{ parse_iso8601(json_text(record, '$.date_modified')) }} as modified_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('bigcommerce', 'products')) }}

),

parsed as (

    select
        {{ parsed_columns }}
    from source

),

final as (

    select
        *,
        -- BigCommerce's rule: a sale price of 0 means no sale (the extraction reads the
        -- inventory of exactly these products)
        coalesce(sale_price > 0, false) as is_on_sale
    from parsed

)

select * from final
