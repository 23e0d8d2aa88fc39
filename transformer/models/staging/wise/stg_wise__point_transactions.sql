{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as point_transaction_id,
        {{ json_int(record, '$.customer_id') }} as customer_id,
        -- set for earn and redeem; may name an order BigCommerce does not (or no longer) list
        {{ json_int(record, '$.order_id') }} as order_id,
        {{ json_text(record, '$.transaction_type') }} as transaction_type,
        {{ json_int(record, '$.points') }} as points,
        {{ json_int(record, '$.balance_after') }} as balance_after,
        {{ json_text(record, '$.description') }} as description,
        {{ parse_iso8601(json_text(record, '$.created_at')) }} as created_at,
        {{ parse_iso8601(json_text(record, '$.updated_at')) }} as modified_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('wise', 'point_transactions')) }}

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
