{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as customer_id,
        {{ json_text(record, '$.email') }} as email,
        {{ json_text(record, '$.first_name') }} as first_name,
        {{ json_text(record, '$.last_name') }} as last_name,
        nullif({{ json_text(record, '$.company') }}, '') as company_name,
        nullif({{ json_text(record, '$.phone') }}, '') as phone,
        {{ json_int(record, '$.customer_group_id') }} as customer_group_id,
        {{ json_int(record, '$.origin_channel_id') }} as origin_channel_id,
        {{ json_int(record, '$.address_count') }} as address_count,
        {{ json_bool(record, '$.accepts_product_review_abandoned_cart_emails') }}
            as is_accepting_review_and_cart_emails,
        {{ parse_iso8601(json_text(record, '$.date_created')) }} as created_at,
        {{ parse_iso8601(json_text(record, '$.date_modified')) }} as modified_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('bigcommerce', 'customers')) }}

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
