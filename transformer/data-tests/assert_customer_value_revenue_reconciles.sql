-- The customers' completed revenue adds up to the completed orders' revenue in fct_order
-- (customers known to dim_customer; guests excluded), to the won.
-- Two models are read; Dagster attaches the check to mart_customer_value.
{{ config(meta={'dagster': {'ref': {'name': 'mart_customer_value'}}}) }}

with

mart as (

    select sum(completed_revenue_krw) as revenue_krw
    from {{ ref('mart_customer_value') }}

),

orders as (

    select sum(order_total_krw) as revenue_krw
    from {{ ref('fct_order') }}
    where is_completed
        and not is_deleted
        and customer_id in (select customer_id from {{ ref('dim_customer') }})

)

select
    mart.revenue_krw as mart_revenue_krw,
    orders.revenue_krw as order_revenue_krw
from mart
cross join orders
where abs(coalesce(mart.revenue_krw, 0) - coalesce(orders.revenue_krw, 0)) >= 1
