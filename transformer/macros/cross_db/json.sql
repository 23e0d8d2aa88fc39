{#
  Reading the raw zone's `record` column: the whole source record as JSON text.
  Paths are JSONPath (`$.a.b`, `$.items[0].sku`), which DuckDB and BigQuery both accept.
  The BigQuery versions follow the BigQuery docs and run on the BigQuery emulator in
  tests/transformer/test_dbt_bigquery_emulator.py (docs/bigquery.md, "dbt on BigQuery").
#}

{# A scalar at `path` as text; NULL when the path is missing or holds JSON null. #}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro bigquery__json_text(column, path) -%}
    json_value({{ column }}, '{{ path }}')
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
