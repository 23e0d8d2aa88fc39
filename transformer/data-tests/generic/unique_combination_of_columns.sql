{#
  Fails on every combination of `columns` that appears more than once: the grain of a model
  whose key spans several columns (one row per variant and location, per quotation line...).
#}
{% test unique_combination_of_columns(model, columns) %}

with grouped as (
    select
        {{ columns | join(', ') }},
        count(*) as n_records
    from {{ model }}
    group by {{ columns | join(', ') }}
)

select * from grouped
where n_records > 1

{% endtest %}
