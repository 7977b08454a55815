{#- Keyed incremental (macros/keyed_incremental.sql): a run rebuilds the orders with a new
    snapshot or tracking event, every order when a seed it reads changed. -#}
{{ config(
    materialized=keyed_materialization(),
    unique_key='order_ref',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
{%- set seeds = [ref('storefront_status_map'), ref('carrier_status_map'), ref('city_aliases')] %}

with

{{ changed_keys('order_ref', [ref('int_storefront_orders'), ref('int_tracking_events')], seeds=seeds) }}

storefront_orders as (
    select * from {{ ref('int_storefront_orders') }}
    {{ where_changed('order_ref') }}
),

tracking_events as (
    select * from {{ ref('int_tracking_events') }}
    {{ where_changed('order_ref') }}
),

known_events as (
    select * from tracking_events
    where canonical_status != 'unknown'
),

failed_attempts as (
    select * from tracking_events
    where canonical_status = 'failed_attempt'
),

latest_known_event as (
-- The parcel's current state: its latest event that a mapping knows.
    {{ deduplicate_first(
        'known_events',
        partition_by='order_ref',
        order_by='event_at desc, loaded_at desc',
        columns=['order_ref', 'carrier', 'tracking_number', 'canonical_status', 'event_at']
    ) }}
),

tracking_rollup as (
    select
        order_ref,
        min(case when canonical_status not in ('placed', 'unknown') then event_at end) as dispatched_at,
        min(case when canonical_status = 'out_for_delivery' then event_at end) as first_out_for_delivery_at,
        min(case when canonical_status = 'delivered' then event_at end) as delivered_at,
        min(case when canonical_status = 'returned' then event_at end) as returned_at,
        count(case when canonical_status = 'failed_attempt' then 1 end) as failed_attempts,
        count(case when failure_reason = 'refused' then 1 end) as refusals,
        count(case when failure_reason = 'unreachable' then 1 end) as unreachable_attempts,
        min(case when failure_reason = 'unreachable' then event_at end) as first_unreachable_attempt_at,
        max(case when canonical_status = 'failed_attempt' then failure_reason end) as any_failure_reason,
        count(case when canonical_status = 'unknown' then 1 end) as unknown_status_events,
        count(*) as tracking_events,
        max(staged_at) as tracking_staged_at
    from tracking_events
    group by order_ref
),

last_failure as (
    {{ deduplicate_first(
        'failed_attempts',
        partition_by='order_ref',
        order_by='event_at desc, loaded_at desc',
        columns=['order_ref', 'failure_reason as last_failure_reason']
    ) }}
),

joined as (
    select
        storefront_orders.*,
        latest_known_event.carrier,
        latest_known_event.tracking_number,
        latest_known_event.canonical_status as tracking_status,
        latest_known_event.event_at as tracking_status_at,
        tracking_rollup.dispatched_at,
        tracking_rollup.first_out_for_delivery_at,
        tracking_rollup.delivered_at as tracking_delivered_at,
        tracking_rollup.returned_at as tracking_returned_at,
        coalesce(tracking_rollup.failed_attempts, 0) as failed_attempts,
        coalesce(tracking_rollup.refusals, 0) as refusals,
        coalesce(tracking_rollup.unreachable_attempts, 0) as unreachable_attempts,
        tracking_rollup.first_unreachable_attempt_at,
        last_failure.last_failure_reason,
        coalesce(tracking_rollup.unknown_status_events, 0) as unknown_status_events,
        coalesce(tracking_rollup.tracking_events, 0) as tracking_events,
        tracking_rollup.tracking_staged_at
    from storefront_orders
    left join latest_known_event on storefront_orders.order_ref = latest_known_event.order_ref
    left join tracking_rollup on storefront_orders.order_ref = tracking_rollup.order_ref
    left join last_failure on storefront_orders.order_ref = last_failure.order_ref
),

resolved as (
    select
        *,
        {{ order_status_precedence() }} as order_status
    from joined
),

final as (
    select
        order_ref,
        platform,
        platform_order_id,
        order_number,
        customer_phone,
        phone_raw,
        phone_is_valid,
        customer_name,
        email,
        city,
        address,
        payment_method,
        payment_method = 'cod' as is_cod,
        total_amount,
        currency,
        item_count,
        lead_source,
        {{ ad_attribution_columns() }},
        placed_at,
        updated_at,
        order_status,
        case
            when order_status = 'cancelled' or cancelled_at is not null and dispatched_at is null then 'cancelled'
            when confirmed_at is not null or dispatched_at is not null then 'confirmed'
            when unreachable_at is not null then 'unreachable'
            else 'pending'
        end as confirmation_status,
        case
            when order_status = 'delivered' then 'delivered'
            when order_status = 'returned' then 'returned'
            when order_status = 'cancelled' then 'cancelled'
            else 'open'
        end as outcome,
        case
            when order_status = 'delivered' then coalesce(tracking_delivered_at, storefront_delivered_at)
            when order_status = 'returned' then coalesce(tracking_returned_at, storefront_returned_at)
            when order_status = 'cancelled' then coalesce(cancelled_at, updated_at)
        end as resolved_at,
        confirmed_at,
        cancelled_at,
        cancel_reason,
        coalesce(unreachable_at, first_unreachable_attempt_at) as unreachable_at,
        storefront_raw_status,
        storefront_status,
        carrier,
        tracking_number,
        tracking_status,
        tracking_status_at,
        dispatched_at,
        first_out_for_delivery_at,
        case
            when order_status = 'delivered' then coalesce(tracking_delivered_at, storefront_delivered_at)
        end as delivered_at,
        case
            when order_status = 'returned' then coalesce(tracking_returned_at, storefront_returned_at)
        end as returned_at,
        failed_attempts,
        refusals,
        unreachable_attempts,
        last_failure_reason,
        unknown_status_events,
        tracking_events,
        snapshot_count,
        {{ newest_staged_at(['staged_at', 'tracking_staged_at']) }} as staged_at,
        {{ seeds_fingerprint(seeds) }} as seeds_fingerprint
    from resolved
)

select * from final
