-- One row per variant and location of the products on sale, from the latest inventory
-- snapshot, compared with the snapshot before it to tell what just came back in stock.
with

latest as (

    select * from {{ ref('stg_bigcommerce__inventory') }}

),

snapshots as (

    select * from {{ ref('stg_bigcommerce__inventory_snapshots') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

skus as (

    select * from {{ ref('dim_sku') }}

),

previous_snapshot as (

    select max(snapshot_id) as snapshot_id
    from snapshots
    where snapshot_id < (select max(snapshot_id) from latest)

),

previous as (

    select variant_id, location_id, is_in_stock
    from snapshots
    where snapshot_id = (select snapshot_id from previous_snapshot)

),

final as (

    select
        latest.product_id,
        latest.variant_id,
        latest.sku,
        latest.location_id,
        latest.location_code,
        latest.available_to_sell,
        latest.total_inventory_onhand,
        latest.is_in_stock,
        skus.is_on_sale,
        skus.effective_sale_price as sale_price,
        skus.effective_price as price,
        -- null when there is no earlier snapshot, or the variant was not in it
        previous.is_in_stock as was_in_stock_previously,
        -- back in stock = in stock now and known to have been out of stock just before
        coalesce(latest.is_in_stock and not previous.is_in_stock, false) as is_back_in_stock,
        latest.snapshot_id,
        latest.snapshot_at
    from latest
    -- "currently on sale" is today's catalog, not the one the snapshot was taken for
    inner join products
        on latest.product_id = products.product_id
        and products.is_on_sale
    left join skus
        on latest.variant_id = skus.variant_id
    left join previous
        on latest.variant_id = previous.variant_id
        and latest.location_id = previous.location_id

)

select * from final
