-- Hand-written reference, step 3: the canonical orders (int_orders): the latest storefront
-- snapshot of each order, its phone in E.164 (temp table `phones`, normalised in Python
-- with phonenumbers like int_phone_numbers) and its tracking. One row per order.

create or replace table bench_reference.int_orders as
with

snapshot_rollup as (
    select
        order_ref,
        min(placed_at) as placed_at,
        min(case when storefront_status = 'confirmed' then updated_at end) as confirmed_at,
        min(case when storefront_status = 'cancelled' then updated_at end) as cancelled_at,
        min(case when storefront_status = 'unreachable' then updated_at end) as storefront_unreachable_at,
        count(*) as snapshot_count
    from snapshots
    group by order_ref
),

-- The ad that brought each order, from the raw payloads (docs/landing.md "Ad attribution").
attribution_raw as (
    select
        'shopify:' || regexp_extract(payload ->> '$.id', '([0-9]+)$', 1) as order_ref,
        coalesce(
            payload ->> '$.customerJourneySummary.lastVisit.utmParameters.source',
            payload ->> '$.customerJourneySummary.firstVisit.utmParameters.source'
        ) as utm_source,
        coalesce(
            payload ->> '$.customerJourneySummary.lastVisit.utmParameters.medium',
            payload ->> '$.customerJourneySummary.firstVisit.utmParameters.medium'
        ) as utm_medium,
        coalesce(
            payload ->> '$.customerJourneySummary.lastVisit.utmParameters.campaign',
            payload ->> '$.customerJourneySummary.firstVisit.utmParameters.campaign'
        ) as utm_campaign,
        coalesce(
            payload ->> '$.customerJourneySummary.lastVisit.utmParameters.content',
            payload ->> '$.customerJourneySummary.firstVisit.utmParameters.content'
        ) as utm_content,
        null as advertiser_id, null as campaign_id, null as ad_id, null as ad_name, null as form_id,
        null as form_name
    from raw.shopify_orders

    union all

    select
        'woocommerce:' || (payload ->> '$.id'),
        [m ->> '$.value' for m in cast(payload -> '$.meta_data' as json[]) if m ->> '$.key' = '_wc_order_attribution_utm_source'][1],
        [m ->> '$.value' for m in cast(payload -> '$.meta_data' as json[]) if m ->> '$.key' = '_wc_order_attribution_utm_medium'][1],
        [m ->> '$.value' for m in cast(payload -> '$.meta_data' as json[]) if m ->> '$.key' = '_wc_order_attribution_utm_campaign'][1],
        [m ->> '$.value' for m in cast(payload -> '$.meta_data' as json[]) if m ->> '$.key' = '_wc_order_attribution_utm_content'][1],
        null, null, null, null, null, null
    from raw.woocommerce_orders

    union all

    select
        'tiktok:' || (payload ->> '$.lead_id'), null, null, null, null,
        payload ->> '$.advertiser_id', payload ->> '$.campaign_id', payload ->> '$.ad_id',
        payload ->> '$.ad_name', payload ->> '$.form_id', payload ->> '$.form_name'
    from raw.tiktok_leads
),

attribution as (
    select
        order_ref,
        max(utm_source) as utm_source, max(utm_medium) as utm_medium, max(utm_campaign) as utm_campaign,
        max(utm_content) as utm_content, max(advertiser_id) as advertiser_id, max(campaign_id) as campaign_id,
        max(ad_id) as ad_id, max(ad_name) as ad_name, max(form_id) as form_id, max(form_name) as form_name
    from attribution_raw
    group by order_ref
),

latest_snapshot as (
    select * from snapshots
    qualify row_number() over (
        partition by order_ref order by updated_at desc, loaded_at desc, source_file desc, line_number desc
    ) = 1
),

tracking_rollup as (
    select
        order_ref,
        min(case when canonical_status not in ('placed', 'unknown') then event_at end) as dispatched_at,
        min(case when canonical_status = 'out_for_delivery' then event_at end) as first_out_for_delivery_at,
        min(case when canonical_status = 'delivered' then event_at end) as tracking_delivered_at,
        min(case when canonical_status = 'returned' then event_at end) as tracking_returned_at,
        count(case when canonical_status = 'failed_attempt' then 1 end) as failed_attempts,
        count(case when failure_reason = 'refused' then 1 end) as refusals,
        count(case when failure_reason = 'unreachable' then 1 end) as unreachable_attempts,
        min(case when failure_reason = 'unreachable' then event_at end) as first_unreachable_attempt_at,
        count(case when canonical_status = 'unknown' then 1 end) as unknown_status_events,
        count(*) as tracking_events,
        -- The parcel's current state: its latest event a mapping knows; its last failure.
        first(
            struct_pack(carrier, tracking_number, canonical_status, event_at) order by event_at desc, loaded_at desc
        ) filter (where canonical_status != 'unknown') as latest_known,
        first(failure_reason order by event_at desc, loaded_at desc) filter (where canonical_status = 'failed_attempt')
            as last_failure_reason
    from tracking_events
    group by order_ref
),

joined as (
    select
        latest_snapshot.*,
        snapshot_rollup.placed_at as first_placed_at,
        snapshot_rollup.confirmed_at,
        snapshot_rollup.cancelled_at,
        snapshot_rollup.storefront_unreachable_at,
        snapshot_rollup.snapshot_count,
        attribution.* exclude (order_ref),
        phones.phone_e164 as customer_phone,
        coalesce(phones.phone_is_valid, false) as phone_is_valid,
        coalesce(city_aliases.city, latest_snapshot.city_raw) as city,
        tracking_rollup.* exclude (order_ref, latest_known),
        tracking_rollup.latest_known.carrier as tracking_carrier,
        tracking_rollup.latest_known.tracking_number as tracking_tracking_number,
        tracking_rollup.latest_known.canonical_status as tracking_status,
        tracking_rollup.latest_known.event_at as tracking_status_at
    from latest_snapshot
    inner join snapshot_rollup on latest_snapshot.order_ref = snapshot_rollup.order_ref
    left join attribution on latest_snapshot.order_ref = attribution.order_ref
    left join phones on latest_snapshot.phone_raw = phones.phone_raw
    left join city_aliases on status_key(latest_snapshot.city_raw) = city_aliases.alias
    left join tracking_rollup on latest_snapshot.order_ref = tracking_rollup.order_ref
),

resolved as (
    select
        *,
        case
            when tracking_returned_at is not null
                and (tracking_delivered_at is null or tracking_returned_at > tracking_delivered_at) then 'returned'
            when tracking_delivered_at is not null then 'delivered'
            when tracking_status is not null and tracking_status != 'placed' then tracking_status
            when storefront_status in ('cancelled', 'delivered', 'returned', 'dispatched') then storefront_status
            when storefront_status in ('confirmed', 'unreachable', 'pending') then storefront_status
            else 'placed'
        end as order_status
    from joined
)

select
    order_ref, platform, platform_order_id, order_number, customer_phone, phone_raw, phone_is_valid,
    customer_name, email, city, address, payment_method, payment_method = 'cod' as is_cod, total_amount,
    currency, item_count,
    case when platform = 'tiktok' then 'tiktok_lead_form' else 'storefront' end as lead_source,
    case
        when platform = 'tiktok' and ad_id is not null then 'tiktok_lead_form'
        when utm_source is not null and utm_source != '(direct)' then 'storefront_utm'
        else 'unattributed'
    end as ad_channel,
    case
        when platform = 'tiktok' and ad_id is not null then 'tiktok'
        when utm_source != '(direct)' then lower(utm_source)
    end as ad_source,
    advertiser_id as ad_advertiser_id,
    case when platform = 'tiktok' then campaign_id when utm_source != '(direct)' then utm_campaign end
        as ad_campaign,
    case when platform = 'tiktok' then ad_id when utm_source != '(direct)' then utm_content end as ad_id,
    case
        when platform = 'tiktok' then coalesce(ad_name, ad_id) when utm_source != '(direct)' then utm_content
    end as ad_name,
    form_id as ad_form_id,
    form_name as ad_form_name,
    utm_source, utm_medium, utm_campaign, utm_content,
    first_placed_at as placed_at, updated_at, order_status,
    case
        when order_status = 'cancelled' or cancelled_at is not null and dispatched_at is null then 'cancelled'
        when confirmed_at is not null or dispatched_at is not null then 'confirmed'
        when storefront_unreachable_at is not null then 'unreachable'
        else 'pending'
    end as confirmation_status,
    case when order_status in ('delivered', 'returned', 'cancelled') then order_status else 'open' end as outcome,
    case
        when order_status = 'delivered' then coalesce(tracking_delivered_at, updated_at)
        when order_status = 'returned' then coalesce(tracking_returned_at, updated_at)
        when order_status = 'cancelled' then coalesce(cancelled_at, updated_at)
    end as resolved_at,
    confirmed_at, cancelled_at, cancel_reason,
    coalesce(storefront_unreachable_at, first_unreachable_attempt_at) as unreachable_at,
    raw_status as storefront_raw_status, storefront_status,
    tracking_carrier as carrier, tracking_tracking_number as tracking_number, tracking_status, tracking_status_at,
    dispatched_at, first_out_for_delivery_at,
    case when order_status = 'delivered' then coalesce(tracking_delivered_at, updated_at) end as delivered_at,
    case when order_status = 'returned' then coalesce(tracking_returned_at, updated_at) end as returned_at,
    coalesce(failed_attempts, 0) as failed_attempts,
    coalesce(refusals, 0) as refusals,
    coalesce(unreachable_attempts, 0) as unreachable_attempts,
    last_failure_reason,
    coalesce(unknown_status_events, 0) as unknown_status_events,
    coalesce(tracking_events, 0) as tracking_events,
    snapshot_count
from resolved;
