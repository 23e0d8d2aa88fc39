-- BigCommerce v2 orders: RFC-2822 dates and money as 4-decimal strings, parsed here once.
-- The currencies are renamed to what they mean (BigCommerce's reference): `currency_code` is
-- the transactional currency every amount is in, `display_currency_code` only what the
-- storefront showed.
{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as order_id,
        {{ json_int(record, '$.customer_id') }} as customer_id,
        {{ json_int(record, '$.status_id') }} as status_id,
        {{ json_text(record, '$.status') }} as status,
        {{ json_bool(record, '$.is_deleted') }} as is_deleted,
        -- every amount is in the transactional currency, which v2 calls default_currency_code
        {{ json_text(record, '$.default_currency_code') }} as currency_code,
        {{ json_text(record, '$.store_default_currency_code') }} as store_currency_code,
        {{ to_exchange_rate(json_text(record, '$.store_default_to_transactional_exchange_rate')) }}
            as store_to_transactional_exchange_rate,
        -- what the storefront showed; converts no amount
        {{ json_text(record, '$.currency_code') }} as display_currency_code,
        {{ to_exchange_rate(json_text(record, '$.currency_exchange_rate')) }}
            as display_exchange_rate,
        {{ json_text(record, '$.payment_method') }} as payment_method,
        {{ json_text(record, '$.payment_status') }} as payment_status,
        {{ json_text(record, '$.order_source') }} as order_source,
        {{ json_int(record, '$.channel_id') }} as channel_id,
        {{ json_int(record, '$.items_total') }} as items_count,
        {{ json_int(record, '$.items_shipped') }} as items_shipped_count,
        {{ json_money(record, '$.subtotal_ex_tax') }} as subtotal_ex_tax,
        {{ json_money(record, '$.subtotal_inc_tax') }} as subtotal_inc_tax,
        {{ json_money(record, '$.subtotal_tax') }} as subtotal_tax,
        {{ json_money(record, '$.shipping_cost_ex_tax') }} as shipping_cost_ex_tax,
        {{ json_money(record, '$.shipping_cost_inc_tax') }} as shipping_cost_inc_tax,
        {{ json_money(record, '$.handling_cost_ex_tax') }} as handling_cost_ex_tax,
        {{ json_money(record, '$.wrapping_cost_ex_tax') }} as wrapping_cost_ex_tax,
        {{ json_money(record, '$.total_tax') }} as total_tax,
        {{ json_money(record, '$.discount_amount') }} as discount_amount,
        {{ json_money(record, '$.coupon_discount') }} as coupon_discount,
        {{ json_money(record, '$.total_ex_tax') }} as total_ex_tax,
        {{ json_money(record, '$.total_inc_tax') }} as total_inc_tax,
        {{ json_money(record, '$.refunded_amount') }} as refunded_amount,
        {{ json_money(record, '$.store_credit_amount') }} as store_credit_amount,
        {{ json_text(record, '$.billing_address.city') }} as billing_city,
        {{ json_text(record, '$.billing_address.country_iso2') }} as billing_country_code,
        {{ parse_rfc2822(json_text(record, '$.date_created')) }} as created_at,
        {{ parse_rfc2822(json_text(record, '$.date_modified')) }} as modified_at,
        -- '' until the order ships
        {{ parse_rfc2822(json_text(record, '$.date_shipped')) }} as shipped_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('bigcommerce', 'orders')) }}

),

parsed as (

    select
        {{ parsed_columns }}
    from source

),

final as (

    select
        *,
        {{ to_local_time('created_at') }} as created_at_kst
    from parsed

)

select * from final
