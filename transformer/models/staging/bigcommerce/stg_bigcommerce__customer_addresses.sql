-- One row per address of a customer (the `addresses` array inline in each v3 customer).
with

source as (

    select * from {{ source('bigcommerce', 'customers') }}

),

addresses as (

    select
        {{ json_int('address', '$.id') }} as address_id,
        source._pk as customer_id,
        {{ json_array_position('address') }} as address_position,
        {{ json_text('address', '$.first_name') }} as first_name,
        {{ json_text('address', '$.last_name') }} as last_name,
        nullif({{ json_text('address', '$.company') }}, '') as company_name,
        {{ json_text('address', '$.address1') }} as address_line_1,
        nullif({{ json_text('address', '$.address2') }}, '') as address_line_2,
        {{ json_text('address', '$.city') }} as city,
        {{ json_text('address', '$.state_or_province') }} as state_or_province,
        {{ json_text('address', '$.postal_code') }} as postal_code,
        {{ json_text('address', '$.country') }} as country,
        {{ json_text('address', '$.country_code') }} as country_code,
        nullif({{ json_text('address', '$.phone') }}, '') as phone,
        {{ json_text('address', '$.address_type') }} as address_type,
        source._extracted_at as extracted_at
    from source
    {{ json_array_rows('source.record', '$.addresses', 'address') }}

)

select * from addresses
