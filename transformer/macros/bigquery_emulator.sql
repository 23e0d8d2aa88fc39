{#
  Tables with an enforced contract (the marts) on the local BigQuery emulator.

  dbt-bigquery creates them with `CREATE OR REPLACE TABLE t (columns) AS (SELECT ...)`, which
  BigQuery documents and the emulator (bqemulator 1.4.0) cannot parse. On the emulator only
  (BIGQUERY_EMULATOR_HOST set, the switch profiles.yml reads too) the same table is made by one
  two-statement script: the DDL with the contract's types and constraints, then the insert, so
  the contract is still checked before and enforced by the table. Against BigQuery,
  dbt-bigquery's own macro runs unchanged.
#}
{% macro bigquery__create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {%- set contract = config.get('contract') -%}
  {%- if language == 'sql' and contract and contract.enforced
        and env_var('BIGQUERY_EMULATOR_HOST', '').strip() -%}
    {{ get_assert_columns_equivalent(compiled_code) }}
    create or replace table {{ relation }}
    {{ get_table_columns_and_constraints() }}
    {{ bigquery_table_options(config, model, temporary) }};

    insert into {{ relation }} ({{ adapter.dispatch('get_column_names')() }})
    {{ get_select_subquery(compiled_code) }};
  {%- else -%}
    {{ return(dbt.bigquery__create_table_as(temporary, relation, compiled_code, language)) }}
  {%- endif -%}
{%- endmacro %}
