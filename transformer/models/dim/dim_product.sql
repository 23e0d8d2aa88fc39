-- One row per catalog product.
with

products as (

    select * from {{ ref('stg_bigcommerce__products') }}

),

variants as (

    select * from {{ ref('stg_bigcommerce__variants') }}

),

variant_counts as (

    select product_id, count(*) as variant_count
    from variants
    group by product_id

),

final as (

    select
        products.product_id,
        products.product_name,
        products.sku,
        products.product_type,
        products.brand_id,
        products.price,
        products.sale_price,
        products.cost_price,
        products.retail_price,
        products.is_on_sale,
        products.is_visible,
        products.is_featured,
        products.availability,
        products.inventory_tracking,
        products.inventory_level,
        products.total_sold,
        coalesce(variant_counts.variant_count, 0) as variant_count,
        products.base_variant_id,
        products.created_at,
        products.modified_at,
        products.extracted_at
    from products
    left join variant_counts
        on products.product_id = variant_counts.product_id

)

select * from final
