{%- set shop_tz = var('prestashop_shop_timezone', 'Africa/Casablanca') -%}

with

source as (
    select * from {{ source('raw', 'prestashop_orders') }}
),

final as (
    select
        'prestashop:' || (payload ->> '$.id') as order_ref,
        payload ->> '$.id' as platform_order_id,
        'prestashop' as platform,
        coalesce(nullif(payload ->> '$.reference', ''), payload ->> '$.id') as order_number,
        {{ local_to_utc("payload ->> '$.date_add'", shop_tz) }} as placed_at,
        {{ local_to_utc("payload ->> '$.date_upd'", shop_tz) }} as updated_at,
        payload ->> '$.current_state' as raw_status,
        -- date_upd moves with any edit and the order carries no time per state (its
        -- history is another resource): the first snapshot showing a state dates it.
        cast(null as timestamp) as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as varchar) as cancel_reason,
        case
            when lower(payload ->> '$.module') = 'ps_cashondelivery' then 'cod'
            when lower(payload ->> '$.payment') like '%cash on delivery%' then 'cod'
            else 'prepaid'
        end as payment_method,
        coalesce(
            nullif(payload ->> '$.cod360_related.address_delivery.phone_mobile', ''),
            nullif(payload ->> '$.cod360_related.address_delivery.phone', '')
        ) as phone_raw,
        nullif(payload ->> '$.cod360_related.customer.email', '') as email,
        coalesce(
            nullif(trim(
                coalesce(payload ->> '$.cod360_related.customer.firstname', '') || ' '
                || coalesce(payload ->> '$.cod360_related.customer.lastname', '')
            ), ''),
            nullif(trim(
                coalesce(payload ->> '$.cod360_related.address_delivery.firstname', '') || ' '
                || coalesce(payload ->> '$.cod360_related.address_delivery.lastname', '')
            ), '')
        ) as customer_name,
        nullif(payload ->> '$.cod360_related.address_delivery.city', '') as city_raw,
        nullif(payload ->> '$.cod360_related.address_delivery.address1', '') as address,
        cast(payload ->> '$.total_paid' as decimal(12, 2)) as total_amount,
        '{{ var("prestashop_shop_currency", "MAD") }}' as currency,
        (
            select coalesce(sum(cast(line_items.item ->> '$.product_quantity' as integer)), 0)
            from (select unnest(cast(payload -> '$.associations.order_rows' as json[])) as item) as line_items
        ) as item_count,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
    qualify
        row_number() over (
            partition by order_ref, updated_at order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
