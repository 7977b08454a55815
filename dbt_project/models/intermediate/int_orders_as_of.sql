{#- int_orders as it stood at the run date's cutoff. Same resolution rules as int_orders
    (carrier first once the parcel moves, then the storefront), applied only to the
    tracking events and storefront snapshots known before the cutoff, so that a past
    `as_of_date` rebuilds the state of that day and not today's. With the default run
    date (the latest event) every order is in its int_orders state: the singular test
    `int_orders_as_of_matches_int_orders` guards that the two never drift apart. -#}
with

run_date as (
    select * from {{ ref('int_run_date') }}
),

all_orders as (
    select * from {{ ref('int_orders') }}
),

all_tracking_events as (
    select * from {{ ref('int_tracking_events') }}
),

all_snapshots as (
    select * from {{ ref('int_storefront_order_snapshots') }}
),

orders as (
    select all_orders.*
    from all_orders
    inner join run_date on all_orders.placed_at < run_date.as_of_cutoff_at
),

tracking_events as (
    select all_tracking_events.*
    from all_tracking_events
    inner join run_date on all_tracking_events.event_at < run_date.as_of_cutoff_at
),

snapshots as (
    select all_snapshots.*
    from all_snapshots
    inner join run_date on all_snapshots.updated_at < run_date.as_of_cutoff_at
),

ranked_known_events as (
    select
        order_ref,
        carrier,
        canonical_status,
        event_at,
        row_number() over (partition by order_ref order by event_at desc, loaded_at desc) as recency_rank
    from tracking_events
    where canonical_status != 'unknown'
),

latest_known_event as (
    select order_ref, carrier, canonical_status, event_at
    from ranked_known_events
    where recency_rank = 1
),

tracking_rollup as (
    select
        order_ref,
        min(case when canonical_status not in ('placed', 'unknown') then event_at end) as dispatched_at,
        min(case when canonical_status = 'out_for_delivery' then event_at end) as first_out_for_delivery_at,
        max(case when canonical_status = 'out_for_delivery' then event_at end) as last_out_for_delivery_at,
        min(case when canonical_status = 'delivered' then event_at end) as delivered_at,
        min(case when canonical_status = 'returned' then event_at end) as returned_at,
        count(case when canonical_status = 'failed_attempt' then 1 end) as failed_attempts,
        count(case when failure_reason = 'refused' then 1 end) as refusals,
        count(case when failure_reason = 'unreachable' then 1 end) as unreachable_attempts,
        min(case when failure_reason = 'unreachable' then event_at end) as first_unreachable_attempt_at
    from tracking_events
    group by order_ref
),

snapshot_times as (
    select
        order_ref,
        {{ storefront_status_times('storefront_status', 'status_reached_at') }}
    from snapshots
    group by order_ref
),

ranked_snapshots as (
    select
        order_ref,
        storefront_status,
        updated_at,
        row_number() over (
            partition by order_ref order by updated_at desc, loaded_at desc, source_file desc, line_number desc
        ) as recency_rank
    from snapshots
),

latest_snapshot as (
    select order_ref, storefront_status, updated_at
    from ranked_snapshots
    where recency_rank = 1
),

joined as (
    select
        orders.order_ref,
        orders.platform,
        orders.customer_phone,
        orders.phone_is_valid,
        orders.customer_name,
        orders.city,
        orders.payment_method,
        orders.is_cod,
        orders.total_amount,
        orders.currency,
        orders.lead_source,
        {{ ad_attribution_columns('orders') }},
        orders.placed_at,
        latest_snapshot.updated_at,
        latest_snapshot.storefront_status,
        snapshot_times.confirmed_at,
        snapshot_times.cancelled_at,
        snapshot_times.unreachable_at as storefront_unreachable_at,
        snapshot_times.storefront_delivered_at,
        snapshot_times.storefront_returned_at,
        latest_known_event.carrier,
        latest_known_event.canonical_status as tracking_status,
        latest_known_event.event_at as tracking_status_at,
        tracking_rollup.dispatched_at,
        tracking_rollup.first_out_for_delivery_at,
        tracking_rollup.last_out_for_delivery_at,
        tracking_rollup.delivered_at as tracking_delivered_at,
        tracking_rollup.returned_at as tracking_returned_at,
        coalesce(tracking_rollup.failed_attempts, 0) as failed_attempts,
        coalesce(tracking_rollup.refusals, 0) as refusals,
        coalesce(tracking_rollup.unreachable_attempts, 0) as unreachable_attempts,
        tracking_rollup.first_unreachable_attempt_at
    from orders
    left join latest_snapshot on orders.order_ref = latest_snapshot.order_ref
    left join snapshot_times on orders.order_ref = snapshot_times.order_ref
    left join latest_known_event on orders.order_ref = latest_known_event.order_ref
    left join tracking_rollup on orders.order_ref = tracking_rollup.order_ref
),

resolved as (
    select
        *,
        -- The latest news about the order: storefront update, tracking event or placement.
        case
            when tracking_status_at is not null and tracking_status_at > coalesce(updated_at, placed_at)
                then tracking_status_at
            when updated_at is not null and updated_at > placed_at then updated_at
            else placed_at
        end as last_activity_at,
        {{ order_status_precedence() }} as order_status
    from joined
),

run_cutoff as (
    select
        {{ dbt.dateadd('day', -1 * var('open_order_stale_after_days'), 'as_of_cutoff_at') }} as stale_before_at
    from run_date
),

final as (
    select
        order_ref,
        platform,
        customer_phone,
        phone_is_valid,
        customer_name,
        city,
        payment_method,
        is_cod,
        total_amount,
        currency,
        lead_source,
        {{ ad_attribution_columns() }},
        placed_at,
        order_status,
        case
            when order_status = 'cancelled' or cancelled_at is not null and dispatched_at is null then 'cancelled'
            when confirmed_at is not null or dispatched_at is not null then 'confirmed'
            when storefront_unreachable_at is not null then 'unreachable'
            else 'pending'
        end as confirmation_status,
        case
            when order_status in ('delivered', 'returned', 'cancelled') then order_status
            else 'open'
        end as outcome,
        last_activity_at,
        (
            order_status not in ('delivered', 'returned', 'cancelled')
            and last_activity_at < (select run_cutoff.stale_before_at from run_cutoff)
        ) as is_stale_open,
        case
            when order_status = 'delivered' then coalesce(tracking_delivered_at, storefront_delivered_at)
            when order_status = 'returned' then coalesce(tracking_returned_at, storefront_returned_at)
            when order_status = 'cancelled' then coalesce(cancelled_at, updated_at)
        end as resolved_at,
        case
            when order_status = 'delivered' then coalesce(tracking_delivered_at, storefront_delivered_at)
        end as delivered_at,
        case
            when order_status = 'returned' then coalesce(tracking_returned_at, storefront_returned_at)
        end as returned_at,
        confirmed_at,
        cancelled_at,
        coalesce(storefront_unreachable_at, first_unreachable_attempt_at) as unreachable_at,
        carrier,
        tracking_status,
        tracking_status_at,
        dispatched_at,
        first_out_for_delivery_at,
        last_out_for_delivery_at,
        failed_attempts,
        refusals,
        unreachable_attempts
    from resolved
)

select * from final
