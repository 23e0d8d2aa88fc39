-- B2B quotations; their lines are in stg_wise__quotation_items.
{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as quotation_id,
        {{ json_text(record, '$.quotation_number') }} as quotation_number,
        -- null for prospects that are not (yet) store customers
        {{ json_int(record, '$.customer_id') }} as customer_id,
        {{ json_text(record, '$.company_name') }} as company_name,
        {{ json_text(record, '$.contact_name') }} as contact_name,
        {{ json_text(record, '$.contact_email') }} as contact_email,
        {{ json_text(record, '$.contact_phone') }} as contact_phone,
        {{ json_text(record, '$.status') }} as status,
        {{ json_text(record, '$.currency_code') }} as currency_code,
        {{ json_money(record, '$.total_amount') }} as total_amount,
        cast({{ json_text(record, '$.valid_until') }} as date) as valid_until,
        nullif({{ json_text(record, '$.note') }}, '') as note,
        {{ parse_iso8601(json_text(record, '$.created_at')) }} as created_at,
        {{ parse_iso8601(json_text(record, '$.updated_at')) }} as modified_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('wise', 'quotations')) }}

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
