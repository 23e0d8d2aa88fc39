-- One row per B2B quotation, with the total of its lines next to the quoted total.
with

quotations as (

    select * from {{ ref('stg_wise__quotations') }}

),

items as (

    select * from {{ ref('stg_wise__quotation_items') }}

),

item_totals as (

    select
        quotation_id,
        count(*) as item_count,
        {{ to_money('sum(line_total)') }} as items_total
    from items
    group by quotation_id

),

final as (

    select
        quotations.quotation_id,
        quotations.quotation_number,
        quotations.customer_id,
        quotations.company_name,
        quotations.status,
        quotations.status = 'accepted' as is_accepted,
        quotations.currency_code,
        quotations.total_amount,
        coalesce(item_totals.items_total, 0) as items_total,
        coalesce(item_totals.item_count, 0) as item_count,
        quotations.valid_until,
        quotations.created_at,
        quotations.created_at_kst,
        quotations.modified_at,
        quotations.extracted_at
    from quotations
    left join item_totals
        on quotations.quotation_id = item_totals.quotation_id

)

select * from final
