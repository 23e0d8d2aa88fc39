-- One row per variant (the `variants` array inline in each product), with the price it sells at.
with

source as (

    select * from {{ source('bigcommerce', 'products') }}

),

variants as (

    select
        {{ json_int('variant', '$.id') }} as variant_id,
        source._pk as product_id,
        {{ json_text('variant', '$.sku') }} as sku,
        {{ json_int('variant', '$.sku_id') }} as sku_id,
        {{ json_money('variant', '$.price') }} as variant_price,
        {{ json_money('variant', '$.sale_price') }} as variant_sale_price,
        {{ json_money('source.record', '$.price') }} as product_price,
        {{ json_money('source.record', '$.sale_price') }} as product_sale_price,
        {{ json_money('variant', '$.calculated_price') }} as calculated_price,
        {{ json_int('variant', '$.inventory_level') }} as inventory_level,
        {{ json_int('variant', '$.inventory_warning_level') }} as inventory_warning_level,
        nullif({{ json_text('variant', '$.upc') }}, '') as upc,
        nullif({{ json_text('variant', '$.mpn') }}, '') as mpn,
        {{ json_bool('variant', '$.purchasing_disabled') }} as is_purchasing_disabled,
        source._extracted_at as extracted_at
    from source
    {{ json_array_rows('source.record', '$.variants', 'variant') }}

),

priced as (

    select
        *,
        -- a variant without its own price (null) sells at its product's
        coalesce(variant_price, product_price) as effective_price,
        coalesce(variant_sale_price, product_sale_price) as effective_sale_price
    from variants

),

final as (

    select
        *,
        coalesce(effective_sale_price > 0, false) as is_on_sale
    from priced

)

select * from final
