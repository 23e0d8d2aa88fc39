-- Each movement's balance_after is the previous balance plus its points (the first starts
-- from 0). Advisory: a balance migrated or corrected outside the ledger breaks the chain
-- without any point being wrong, so this warns for a steward to look.
{{ config(severity='warn') }}

with

ledger as (

    select
        point_transaction_id,
        customer_id,
        points,
        balance_after,
        lag(balance_after) over (
            partition by customer_id
            order by created_at, point_transaction_id
        ) as balance_before
    from {{ ref('fct_point_transaction') }}

)

select *
from ledger
where coalesce(balance_before, 0) + points <> balance_after
