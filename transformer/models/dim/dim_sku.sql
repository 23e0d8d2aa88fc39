-- One row per sellable variant (SKU), at the price it actually sells at.
with

variants as (

    select * from {{ ref('stg_bigcommerce__variants') }}

),

products as (

    select * from {{ ref('stg_bigcommerce__products') }}

),

final as (

    select
        variants.variant_id,
        variants.sku,
        variants.product_id,
        products.product_name,
        products.brand_id,
        variants.effective_price,
        variants.effective_sale_price,
        variants.is_on_sale,
        -- true when the variant overrides its product's price or sale price
        (variants.variant_price is not null or variants.variant_sale_price is not null)
            as is_price_overridden,
        variants.is_purchasing_disabled,
        products.is_visible,
        variants.inventory_level,
        variants.upc,
        variants.mpn,
        variants.extracted_at
    from variants
    inner join products
        on variants.product_id = products.product_id

)

select * from final
