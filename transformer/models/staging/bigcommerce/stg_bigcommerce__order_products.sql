-- Line items of orders (BigCommerce calls them order products).
{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as order_product_id,
        {{ json_int(record, '$.order_id') }} as order_id,
        {{ json_int(record, '$.product_id') }} as product_id,
        {{ json_int(record, '$.variant_id') }} as variant_id,
        {{ json_text(record, '$.sku') }} as sku,
        {{ json_text(record, '$.name') }} as product_name,
        {{ json_text(record, '$.type') }} as product_type,
        nullif({{ json_text(record, '$.brand') }}, '') as brand_name,
        {{ json_int(record, '$.quantity') }} as quantity,
        {{ json_int(record, '$.quantity_shipped') }} as quantity_shipped,
        {{ json_int(record, '$.quantity_refunded') }} as quantity_refunded,
        {{ json_money(record, '$.base_price') }} as base_price,
        {{ json_money(record, '$.price_ex_tax') }} as price_ex_tax,
        {{ json_money(record, '$.price_inc_tax') }} as price_inc_tax,
        {{ json_money(record, '$.price_tax') }} as price_tax,
        {{ json_money(record, '$.total_ex_tax') }} as total_ex_tax,
        {{ json_money(record, '$.total_inc_tax') }} as total_inc_tax,
        {{ json_money(record, '$.total_tax') }} as total_tax,
        {{ json_money(record, '$.refund_amount') }} as refund_amount,
        {{ json_bool(record, '$.is_refunded') }} as is_refunded,
        -- the order's modification time when its items were read (set by the extraction)
        _modified_at as order_modified_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('bigcommerce', 'order_products')) }}

),

parsed as (

    select
        {{ parsed_columns }}
    from source

)

select * from parsed
