{#- `record` is parsed once for every read below: the reads are rendered first, then
    the source CTE reads all their paths in one call (macros/cross_db/json.sql). -#}
{%- set record = json_record('record') -%}
{%- set parsed_columns %}
        _pk as metafield_id,
        {{ json_int(record, '$.resource_id') }} as customer_id,
        {{ json_text(record, '$.namespace') }} as metafield_namespace,
        {{ json_text(record, '$.key') }} as metafield_key,
        {{ json_text(record, '$.value') }} as metafield_value,
        {{ json_text(record, '$.permission_set') }} as permission_set,
        {{ parse_iso8601(json_text(record, '$.date_created')) }} as created_at,
        {{ parse_iso8601(json_text(record, '$.date_modified')) }} as modified_at,
        _extracted_at as extracted_at
{%- endset %}

with

source as (

    {{ select_with_record(record, source('bigcommerce', 'customer_metafields')) }}

),

parsed as (

    select
        {{ parsed_columns }}
    from source
    -- The endpoint lists customer metafields only; the filter keeps it so if that changes.
    where {{ json_text('record', '$.resource_type') }} = 'customer'

)

select * from parsed
