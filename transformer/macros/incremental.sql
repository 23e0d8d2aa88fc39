{#
  Incremental facts are rebuilt by key (`unique_key`): each run re-selects the rows that may
  have changed and replaces them. The strategy is the warehouse's native one for that:
  delete+insert on DuckDB, merge on BigQuery.
#}
{% macro incremental_strategy() -%}
    {{ return('merge' if target.type == 'bigquery' else 'delete+insert') }}
{%- endmacro %}


{#
  Which source rows an incremental run re-reads. A row is taken when either
    - its source modification time is at or after the newest one already loaded, or
    - it was extracted at or after the newest extraction already loaded,
  each less `var('incremental_overlap_hours')`.
  The first clause is the usual watermark. The second catches late-arriving rows: a record
  modified long ago but published only now (a missed window, a backfill, a resumed
  extraction), or re-extracted unchanged into a newer batch, which the raw view then serves
  with the newer `_extracted_at`. Every change to a row of the raw current view comes with a
  newer batch, so with both clauses an incremental run ends with the same table as a full
  refresh; the overlap covers batches published out of order (two extractions at once).
#}
{% macro incremental_window(modified_at='modified_at', extracted_at='extracted_at') -%}
    {%- set overlap = var('incremental_overlap_hours') -%}
    (
        {{ modified_at }} >= (
            select {{ timestamp_minus_hours('max(' ~ modified_at ~ ')', overlap) }} from {{ this }}
        )
        or {{ extracted_at }} >= (
            select {{ timestamp_minus_hours('max(' ~ extracted_at ~ ')', overlap) }} from {{ this }}
        )
        -- an empty table has no watermark: read everything
        or not exists (select 1 from {{ this }})
    )
{%- endmacro %}
