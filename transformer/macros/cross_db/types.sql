{#
  Money, time and local-time conversions, one definition per warehouse.
  The BigQuery versions follow the BigQuery docs and run on the BigQuery emulator in
  tests/transformer/test_dbt_bigquery_emulator.py (docs/bigquery.md, "dbt on BigQuery").
#}

{#
  Money as an exact decimal(18,4), never a float: the sources send 4-decimal strings
  ("397320.0000") or JSON numbers (97800.0), both cast from their text.
#}
{% macro to_money(expression) -%}
    {{ return(adapter.dispatch('to_money')(expression)) }}
{%- endmacro %}

{% macro duckdb__to_money(expression) -%}
    cast({{ expression }} as decimal(18, 4))
{%- endmacro %}

{#-
  PARSE_NUMERIC then ROUND rather than CAST(... AS NUMERIC(18, 4)): the same value on BigQuery
  (a NUMERIC, 4 places, rounded half away from zero; a CAST's type parameters do not outlive the
  expression there either), but the only spelling the emulator keeps exact inside a view: its
  views drop a type's parameters, so the cast read 3 places when staging models were views
  (they are tables since 2026-12-04; the spelling is right in either).
-#}
{% macro bigquery__to_money(expression) -%}
    round(parse_numeric({{ expression }}), 4)
{%- endmacro %}



{#
  An exchange rate as an exact decimal with 10 places (BigCommerce sends "0.0007407407").
  BigQuery's NUMERIC keeps only 9 places, hence BIGNUMERIC there.
#}
{% macro to_exchange_rate(expression) -%}
    {{ return(adapter.dispatch('to_exchange_rate')(expression)) }}
{%- endmacro %}

{% macro duckdb__to_exchange_rate(expression) -%}
    cast({{ expression }} as decimal(20, 10))
{%- endmacro %}

{#- As for money: CAST(... AS BIGNUMERIC(20, 10)) came back with 5 places from an emulator view. -#}
{% macro bigquery__to_exchange_rate(expression) -%}
    round(parse_bignumeric({{ expression }}), 10)
{%- endmacro %}

{#
  An amount in the store's currency (KRW) from an amount in the order's transactional
  currency, as BigCommerce's reference defines them: `exchange_rate` is the order's
  `store_default_to_transactional_exchange_rate`, units of the transactional currency per unit
  of the store's (0.0007407407 for USD at 1,350 won), so won = amount / rate, rounded to whole
  won since KRW has no minor unit. An order already in the store's currency is its amount
  (its rate is 1 by contract, and nothing is divided or rounded).
#}
{% macro to_krw(amount, currency_code, store_currency_code, exchange_rate) -%}
    {{ return(adapter.dispatch('to_krw')(amount, currency_code, store_currency_code, exchange_rate)) }}
{%- endmacro %}

{#-
  DuckDB divides decimals as DOUBLE; at these magnitudes (< 10^12 won) its error is far below
  half a won, so rounding to whole won gives the exact answer.
-#}
{% macro duckdb__to_krw(amount, currency_code, store_currency_code, exchange_rate) -%}
    case
        when {{ currency_code }} = {{ store_currency_code }}
            then cast({{ amount }} as decimal(18, 4))
        else cast(round({{ amount }} / {{ exchange_rate }}, 0) as decimal(18, 4))
    end
{%- endmacro %}

{% macro bigquery__to_krw(amount, currency_code, store_currency_code, exchange_rate) -%}
    case
        when {{ currency_code }} = {{ store_currency_code }}
            then cast({{ amount }} as numeric(18, 4))
        else cast(round({{ amount }} / {{ exchange_rate }}, 0) as numeric(18, 4))
    end
{%- endmacro %}


{# RFC-2822 text (BigCommerce v2: "Thu, 06 Nov 2025 22:21:21 +0000") to a UTC timestamp; '' is NULL. #}
{% macro parse_rfc2822(expression) -%}
    {{ return(adapter.dispatch('parse_rfc2822')(expression)) }}
{%- endmacro %}

{% macro duckdb__parse_rfc2822(expression) -%}
    strptime(nullif({{ expression }}, ''), '%a, %d %b %Y %H:%M:%S %z')
{%- endmacro %}

{#-
  `%z` is BigQuery's element for a `+HHMM` offset, and PARSE_TIMESTAMP returns a TIMESTAMP.
  The emulator answers a DATETIME (the UTC wall-clock) for `%z`, which fails the marts'
  contracts and compares with no TIMESTAMP; the cast is a no-op on BigQuery.
-#}
{% macro bigquery__parse_rfc2822(expression) -%}
    cast(parse_timestamp('%a, %d %b %Y %H:%M:%S %z', nullif({{ expression }}, '')) as timestamp)
{%- endmacro %}


{# ISO-8601 text ("2026-09-13T10:10:49Z", "2026-10-02T07:27:02+00:00") to a UTC timestamp; '' is NULL. #}
{% macro parse_iso8601(expression) -%}
    {{ return(adapter.dispatch('parse_iso8601')(expression)) }}
{%- endmacro %}

{% macro duckdb__parse_iso8601(expression) -%}
    cast(nullif({{ expression }}, '') as timestamptz)
{%- endmacro %}

{#- TIMESTAMP(string) takes the canonical form with `T` and a `Z` or `+HH:MM` zone. -#}
{% macro bigquery__parse_iso8601(expression) -%}
    timestamp(nullif({{ expression }}, ''))
{%- endmacro %}


{# A UTC timestamp as local wall-clock time (a timestamp without zone) in `var('local_timezone')`. #}
{% macro to_local_time(timestamp) -%}
    {{ return(adapter.dispatch('to_local_time')(timestamp)) }}
{%- endmacro %}

{% macro duckdb__to_local_time(timestamp) -%}
    timezone('{{ var("local_timezone") }}', {{ timestamp }})
{%- endmacro %}

{% macro bigquery__to_local_time(timestamp) -%}
    datetime({{ timestamp }}, '{{ var("local_timezone") }}')
{%- endmacro %}


{# `timestamp` minus a number of hours, staying a timestamp with zone. #}
{% macro timestamp_minus_hours(timestamp, hours) -%}
    {{ return(adapter.dispatch('timestamp_minus_hours')(timestamp, hours)) }}
{%- endmacro %}

{% macro duckdb__timestamp_minus_hours(timestamp, hours) -%}
    ({{ timestamp }} - to_hours(cast({{ hours }} as bigint)))
{%- endmacro %}

{#- Not dbt.dateadd: on BigQuery it returns a DATETIME, which does not compare with a TIMESTAMP. -#}
{% macro bigquery__timestamp_minus_hours(timestamp, hours) -%}
    timestamp_sub({{ timestamp }}, interval {{ hours }} hour)
{%- endmacro %}
