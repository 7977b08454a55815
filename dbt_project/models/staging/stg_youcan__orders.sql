with

source as (
    select * from {{ source('raw', 'youcan_orders') }}
),

final as (
    select
        'youcan:' || (payload ->> '$.id') as order_ref,
        payload ->> '$.id' as platform_order_id,
        'youcan' as platform,
        coalesce(payload ->> '$.ref', payload ->> '$.id') as order_number,
        {{ iso_to_utc("payload ->> '$.created_at'") }} as placed_at,
        {{ iso_to_utc("payload ->> '$.updated_at'") }} as updated_at,
        lower(coalesce(payload ->> '$.status_object.slug', payload ->> '$.status')) as raw_status,
        -- The YouCan order entity carries no time per status: the first snapshot showing
        -- a status dates it (int_storefront_order_snapshots).
        cast(null as timestamp) as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as varchar) as cancel_reason,
        case when lower(coalesce(payload ->> '$.payment.method', 'cod')) = 'cod' then 'cod' else 'prepaid' end
            as payment_method,
        coalesce(payload ->> '$.customer.phone', payload ->> '$.shipping.address.phone') as phone_raw,
        nullif(payload ->> '$.customer.email', '') as email,
        coalesce(
            nullif(payload ->> '$.customer.full_name', ''),
            nullif(trim(
                coalesce(payload ->> '$.customer.first_name', '') || ' '
                || coalesce(payload ->> '$.customer.last_name', '')
            ), '')
        ) as customer_name,
        coalesce(payload ->> '$.shipping.address.city', payload ->> '$.customer.city') as city_raw,
        payload ->> '$.shipping.address.first_line' as address,
        cast(payload ->> '$.total' as decimal(12, 2)) as total_amount,
        payload ->> '$.currency' as currency,
        (
            select coalesce(sum(cast(line_items.item ->> '$.quantity' as integer)), 0)
            from (select unnest(cast(payload -> '$.variants' as json[])) as item) as line_items
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
