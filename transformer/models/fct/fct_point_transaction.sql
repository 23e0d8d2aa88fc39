-- One row per loyalty point movement (earn, redeem, adjust, expire).
-- Incremental by point_transaction_id; which rows a run re-reads: macros/incremental.sql.
{{
    config(
        materialized='incremental',
        unique_key='point_transaction_id',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
    )
}}

with

transactions as (

    select * from {{ ref('stg_wise__point_transactions') }}

    {% if is_incremental() %}
    where {{ incremental_window() }}
    {% endif %}

),

final as (

    select
        point_transaction_id,
        customer_id,
        order_id,
        transaction_type,
        points,
        balance_after,
        description,
        created_at,
        created_at_kst,
        modified_at,
        extracted_at
    from transactions

)

select * from final
