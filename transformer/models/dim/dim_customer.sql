-- One row per BigCommerce customer, with the primary address and the CRM/loyalty metafields.
with

customers as (

    select * from {{ ref('stg_bigcommerce__customers') }}

),

addresses as (

    select * from {{ ref('stg_bigcommerce__customer_addresses') }}

),

metafields as (

    select * from {{ ref('stg_bigcommerce__customer_metafields') }}

),

-- the first address listed is the customer's primary one
primary_addresses as (

    select customer_id, city, country_code
    from addresses
    where address_position = 1

),

-- one column per metafield the business uses; a customer without one gets null
customer_attributes as (

    select
        customer_id,
        max(case when metafield_namespace = 'loyalty' and metafield_key = 'tier'
            then metafield_value end) as loyalty_tier,
        max(case when metafield_namespace = 'crm' and metafield_key = 'preferred_language'
            then metafield_value end) as preferred_language,
        max(case when metafield_namespace = 'crm' and metafield_key = 'marketing_consent'
            then metafield_value end) as marketing_consent
    from metafields
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.email,
        customers.phone,
        customers.company_name,
        primary_addresses.city,
        primary_addresses.country_code,
        customers.customer_group_id,
        customer_attributes.loyalty_tier,
        customer_attributes.preferred_language,
        customer_attributes.marketing_consent = 'true' as is_marketing_consented,
        customers.address_count,
        customers.created_at,
        customers.created_at_kst,
        customers.modified_at,
        customers.extracted_at
    from customers
    left join primary_addresses
        on customers.customer_id = primary_addresses.customer_id
    left join customer_attributes
        on customers.customer_id = customer_attributes.customer_id

)

select * from final
