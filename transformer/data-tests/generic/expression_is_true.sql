{#
  Fails on every row where `expression` is not true (false or NULL), e.g.
    data_tests:
      - expression_is_true:
          arguments: {expression: "order_total >= 0"}
  Put on a column, the column name is prefixed: `expression: ">= 0"` on `order_total`.
  A NULL result fails too: a rule that cannot be evaluated is not a rule that holds.
#}
{% test expression_is_true(model, expression, column_name=none) %}

with checked as (
    select *
    from {{ model }}
    where not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)
)

select * from checked

{% endtest %}
