-- One row per order line. An item takes its order's customer and modification time, so an
-- incremental run re-reads the items of every order it re-reads (macros/incremental.sql).
{{
    config(
        materialized='incremental',
        unique_key='order_item_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

with

items as (

    select * from {{ ref('stg_bigcommerce__order_products') }}

),

orders as (

    select * from {{ ref('stg_bigcommerce__orders') }}

),

joined as (

    select
        items.order_product_id as order_item_id,
        items.order_id,
        orders.customer_id,
        items.product_id,
        items.variant_id,
        items.sku,
        items.product_name,
        items.quantity,
        items.price_ex_tax as unit_price,
        items.total_ex_tax as line_total,
        items.total_inc_tax as line_total_inc_tax,
        items.is_refunded,
        orders.modified_at,
        -- the newer of the item's and the order's batch: a change to either reaches the item
        greatest(items.extracted_at, orders.extracted_at) as extracted_at
    from items
    -- an item is loaded with its order; one whose order is not published yet waits for it
    inner join orders
        on items.order_id = orders.order_id

),

final as (

    select * from joined

    {% if is_incremental() %}
    where {{ incremental_window() }}
    {% endif %}

)

select * from final
