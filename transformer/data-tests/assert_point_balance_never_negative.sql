-- No customer's point balance is ever negative: redeeming more than one holds is a ledger bug.
select
    point_transaction_id,
    customer_id,
    transaction_type,
    points,
    balance_after
from {{ ref('fct_point_transaction') }}
where balance_after < 0
