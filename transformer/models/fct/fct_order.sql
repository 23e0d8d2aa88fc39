-- One row per BigCommerce order, with its money in the order's transactional currency and
-- its total in KRW, the store's currency.
-- Incremental by order_id; which rows a run re-reads: macros/incremental.sql.
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

with

orders as (

    select * from {{ ref('stg_bigcommerce__orders') }}

    {% if is_incremental() %}
    where {{ incremental_window() }}
    {% endif %}

),

final as (

    select
        order_id,
        customer_id,
        -- BigCommerce records guest checkouts as customer 0
        customer_id = 0 as is_guest,
        status,
        status_id,
        status in ('Completed', 'Shipped') as is_completed,
        is_deleted,
        currency_code,
        store_currency_code,
        store_to_transactional_exchange_rate,
        -- the source's totals rule:
        -- order_total = items_subtotal + shipping + handling + gift_wrapping + tax - discount
        subtotal_ex_tax as items_subtotal,
        shipping_cost_ex_tax as shipping,
        handling_cost_ex_tax as handling,
        wrapping_cost_ex_tax as gift_wrapping,
        total_tax as tax,
        discount_amount as discount,
        total_inc_tax as order_total,
        {{ to_krw('total_inc_tax', 'currency_code', 'store_currency_code',
                  'store_to_transactional_exchange_rate') }} as order_total_krw,
        refunded_amount,
        items_count,
        payment_method,
        payment_status,
        created_at as ordered_at,
        created_at_kst as ordered_at_kst,
        shipped_at,
        modified_at,
        extracted_at
    from orders

)

select * from final
