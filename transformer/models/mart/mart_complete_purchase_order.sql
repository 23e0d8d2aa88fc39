-- Completed purchases, one row per order item, with the customer and product attributes an
-- analyst slices them by. Completed = status Completed or Shipped, order not deleted.
-- Guest orders (customer 0) are kept, with no customer attributes.
with

orders as (

    select * from {{ ref('fct_order') }}
    where is_completed and not is_deleted

),

items as (

    select * from {{ ref('fct_order_item') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

final as (

    select
        items.order_item_id,
        orders.order_id,
        orders.status as order_status,
        orders.ordered_at,
        orders.ordered_at_kst,
        orders.currency_code,
        orders.customer_id,
        orders.is_guest,
        customers.customer_group_id,
        customers.loyalty_tier,
        customers.city as customer_city,
        items.product_id,
        products.product_name,
        products.brand_id,
        items.variant_id,
        items.sku,
        items.quantity,
        items.unit_price,
        items.line_total,
        {{ to_krw('items.line_total', 'orders.currency_code', 'orders.store_currency_code',
                  'orders.store_to_transactional_exchange_rate') }} as line_total_krw
    from items
    inner join orders
        on items.order_id = orders.order_id
    left join customers
        on orders.customer_id = customers.customer_id
    left join products
        on items.product_id = products.product_id

)

select * from final
