-- Every order's items_subtotal equals the sum of its items' line totals, to the cent.
-- A gap means items were lost or doubled between extraction and the facts.
-- Two models are read; Dagster attaches the check to fct_order.
{{ config(meta={'dagster': {'ref': {'name': 'fct_order'}}}) }}

with

orders as (

    select order_id, items_subtotal from {{ ref('fct_order') }}

),

item_totals as (

    select order_id, sum(line_total) as items_total
    from {{ ref('fct_order_item') }}
    group by order_id

)

select
    orders.order_id,
    orders.items_subtotal,
    item_totals.items_total
from orders
left join item_totals
    on orders.order_id = item_totals.order_id
where abs(orders.items_subtotal - coalesce(item_totals.items_total, 0)) > 0.01
