-- One row per line of a quotation (the `items` array inline in each quotation).
with

source as (

    select * from {{ source('wise', 'quotations') }}

),

items as (

    select
        source._pk as quotation_id,
        {{ json_array_position('item') }} as line_number,
        {{ json_text('item', '$.sku') }} as sku,
        {{ json_text('item', '$.name') }} as item_name,
        {{ json_int('item', '$.quantity') }} as quantity,
        {{ json_money('item', '$.unit_price') }} as unit_price,
        source._extracted_at as extracted_at
    from source
    {{ json_array_rows('source.record', '$.items', 'item') }}

),

final as (

    select
        *,
        {{ to_money('quantity * unit_price') }} as line_total
    from items

)

select * from final
