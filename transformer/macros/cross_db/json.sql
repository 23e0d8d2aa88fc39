{#
  Reading the raw zone's `record` column: the whole source record as JSON text.
  Paths are JSONPath (`$.a.b`, `$.items[0].sku`), which DuckDB and BigQuery both accept.
  The BigQuery versions follow the BigQuery docs and run on the BigQuery emulator in
  tests/transformer/test_dbt_bigquery_emulator.py (docs/bigquery.md, "dbt on BigQuery").
#}

{#
  One parse of each record. DuckDB parses a JSON text anew for every path read from it: the 34
  reads of an order took 2.7 GB and 11.4 s over 200,000 orders, one read of the same 34 paths
  0.5 GB and 1.1 s (2026-12-03). So a staging model names its record once, `json_record`, and
  gives that to the json_* macros instead of a column name: each notes its path and reads its
  element of `<column>_fields`, which `select_with_record` then selects beside the source's
  columns, every noted path read in one call. The reads are therefore rendered first, in a
  `{% set %}` block, and the source CTE after them:

    {%- set record = json_record('record') -%}
    {%- set columns -%}
        {{ json_int(record, '$.customer_id') }} as customer_id, ...
    {%- endset -%}
    with source as ({{ select_with_record(record, source('bigcommerce', 'orders')) }}), ...

  BigQuery bills the bytes of `record` once per query however many paths read it: there each
  macro reads its path from the text (json_value), and `select_with_record` selects the source.
#}
{% macro json_record(column) -%}
    {{ return({'column': column, 'paths': []}) }}
{%- endmacro %}

{% macro select_with_record(record, relation) -%}
    {{ return(adapter.dispatch('select_with_record')(record, relation)) }}
{%- endmacro %}

{% macro duckdb__select_with_record(record, relation) -%}
    select
        *,
        json_extract_string({{ record.column }}, [
            {%- for path in record.paths %}
            '{{ path }}'{{ ',' if not loop.last }}
            {%- endfor %}
        ]) as {{ record.column }}_fields
    from {{ relation }}
{%- endmacro %}

{% macro bigquery__select_with_record(record, relation) -%}
    select * from {{ relation }}
{%- endmacro %}


{# A scalar at `path` as text; NULL when the path is missing or holds JSON null. `column` is a
   column name, or a `json_record`. #}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    {%- if column is mapping -%}
        {%- if path not in column.paths %}{% do column.paths.append(path) %}{% endif -%}
        {{ column.column }}_fields[{{ column.paths.index(path) + 1 }}]
    {%- else -%}
        json_extract_string({{ column }}, '{{ path }}')
    {%- endif -%}
{%- endmacro %}

{% macro bigquery__json_text(column, path) -%}
    json_value({{ column.column if column is mapping else column }}, '{{ path }}')
{%- endmacro %}


{# A JSON integer as a 64-bit integer. #}
{% macro json_int(column, path) -%}
    cast({{ json_text(column, path) }} as {{ dbt.type_bigint() }})
{%- endmacro %}


{# A JSON true/false as a boolean. #}
{% macro json_bool(column, path) -%}
    {{ return(adapter.dispatch('json_bool')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_bool(column, path) -%}
    cast({{ json_text(column, path) }} as boolean)
{%- endmacro %}

{% macro bigquery__json_bool(column, path) -%}
    cast({{ json_text(column, path) }} as bool)
{%- endmacro %}


{# A money value, whether a 4-decimal string ("397320.0000", v2) or a JSON number (v3). #}
{% macro json_money(column, path) -%}
    {{ to_money(json_text(column, path)) }}
{%- endmacro %}


{#
  The elements of the JSON array at `path`, one row each, as a FROM-clause fragment to put
  after the table: `from source {{ json_array_rows('source.record', '$.variants', 'variant') }}`.
  `alias` is then one element (JSON text) and `json_array_position(alias)` its 1-based position.
  A record whose array is empty or missing yields no row (an inner, lateral join).
#}
{% macro json_array_rows(column, path, alias) -%}
    {{ return(adapter.dispatch('json_array_rows')(column, path, alias)) }}
{%- endmacro %}

{% macro duckdb__json_array_rows(column, path, alias) -%}
    cross join unnest(from_json(json_extract({{ column }}, '{{ path }}'), '["json"]'))
        with ordinality as {{ alias }}_rows({{ alias }}, {{ alias }}_ordinality)
{%- endmacro %}

{% macro bigquery__json_array_rows(column, path, alias) -%}
    cross join unnest(json_query_array({{ column }}, '{{ path }}')) as {{ alias }}
        with offset as {{ alias }}_offset
{%- endmacro %}


{# The 1-based position of an element produced by `json_array_rows`. #}
{% macro json_array_position(alias) -%}
    {{ return(adapter.dispatch('json_array_position')(alias)) }}
{%- endmacro %}

{% macro duckdb__json_array_position(alias) -%}
    {{ alias }}_ordinality
{%- endmacro %}

{#- UNNEST ... WITH OFFSET counts from 0. -#}
{% macro bigquery__json_array_position(alias) -%}
    ({{ alias }}_offset + 1)
{%- endmacro %}
