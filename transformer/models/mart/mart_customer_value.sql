-- One row per customer: when and how much they buy, and their loyalty point balance.
-- Revenue counts completed orders (Completed or Shipped, not deleted) in KRW: an order paid
-- in another currency is converted with its own store_to_transactional_exchange_rate
-- (see fct_order).
with

customers as (

    select * from {{ ref('dim_customer') }}

),

orders as (

    select * from {{ ref('fct_order') }}
    where not is_deleted

),

point_transactions as (

    select * from {{ ref('fct_point_transaction') }}

),

order_summary as (

    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as order_count,
        count(case when is_completed then order_id end) as completed_order_count,
        sum(case when is_completed then order_total_krw else 0 end) as completed_revenue_krw
    from orders
    group by customer_id

),

-- the balance after a customer's latest movement is their balance now
ranked_point_transactions as (

    select
        customer_id,
        balance_after,
        created_at,
        row_number() over (
            partition by customer_id
            order by created_at desc, point_transaction_id desc
        ) as recency_rank
    from point_transactions

),

latest_points as (

    select customer_id, balance_after as points_balance, created_at as last_point_transaction_at
    from ranked_point_transactions
    where recency_rank = 1

),

final as (

    select
        customers.customer_id,
        customers.customer_group_id,
        customers.loyalty_tier,
        customers.created_at as customer_created_at,
        order_summary.first_order_at,
        order_summary.last_order_at,
        coalesce(order_summary.order_count, 0) as order_count,
        coalesce(order_summary.completed_order_count, 0) as completed_order_count,
        {{ to_money('coalesce(order_summary.completed_revenue_krw, 0)') }} as completed_revenue_krw,
        -- a customer who never earned a point has none
        coalesce(latest_points.points_balance, 0) as points_balance,
        latest_points.last_point_transaction_at
    from customers
    left join order_summary
        on customers.customer_id = order_summary.customer_id
    left join latest_points
        on customers.customer_id = latest_points.customer_id

)

select * from final
