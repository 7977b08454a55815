with

snapshots as (
    select * from {{ ref('int_storefront_order_snapshots') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

cities as (
    select * from {{ ref('city_aliases') }}
),

status_times as (
    -- When the storefront reached each status: the platform's own time for it, else the
    -- first snapshot showing it. Never the update time of a later edit.
    select
        order_ref,
        min(placed_at) as placed_at,
        {{ storefront_status_times('storefront_status', 'status_reached_at') }},
        count(*) as snapshot_count
    from snapshots
    group by order_ref
),

latest as (
    {{ deduplicate_first(
        'snapshots',
        partition_by='order_ref',
        order_by='updated_at desc, loaded_at desc, source_file desc, line_number desc'
    ) }}
),

final as (
    select
        latest.order_ref,
        latest.platform,
        latest.platform_order_id,
        latest.order_number,
        status_times.placed_at,
        latest.updated_at,
        latest.raw_status as storefront_raw_status,
        latest.storefront_status,
        status_times.confirmed_at,
        status_times.cancelled_at,
        status_times.unreachable_at,
        status_times.storefront_delivered_at,
        status_times.storefront_returned_at,
        latest.cancel_reason,
        latest.payment_method,
        latest.phone_raw,
        phones.phone_e164 as customer_phone,
        coalesce(phones.phone_is_valid, false) as phone_is_valid,
        latest.email,
        latest.customer_name,
        latest.city_raw,
        coalesce(cities.city, latest.city_raw) as city,
        latest.address,
        latest.total_amount,
        latest.currency,
        latest.item_count,
        case when latest.platform = 'tiktok' then 'tiktok_lead_form' else 'storefront' end as lead_source,
        status_times.snapshot_count
    from latest
    inner join status_times on latest.order_ref = status_times.order_ref
    left join phones on latest.phone_raw = phones.phone_raw
    left join cities on {{ status_key('latest.city_raw') }} = cities.alias
)

select * from final
