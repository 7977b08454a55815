{#- What was known about an order's customer, city, carrier and platform at the moment
    it was placed, and nothing later (the lead-score model trains on this).

    `customer_past_orders` counts the customer's orders *placed* before this one (open
    or not); `customer_past_ended_orders` those that had ended by then, of which
    delivered, returned (`customer_past_rto`) and cancelled; `customer_past_refusals`
    the orders refused at the door (first refusal) by then.

    Customer history uses the same technique as the `prior_rto_counts` macro: a union of
    timed events (the order's placement; each earlier order's resolution, refusals at the
    door, unreachable calls, confirmation requests and replies), ordered by time with
    placements first on a tie, and running sums read on the placement row. Events of an
    order written before its own placement are clamped to it, so they never count for
    the order itself. -#}
with

orders as (
    select
        order_ref,
        platform,
        city,
        carrier,
        placed_at,
        resolved_at,
        outcome,
        unreachable_at,
        {{ order_history_key('customer_phone', 'phone_raw', 'order_ref') }} as history_key
    from {{ ref('int_orders') }}
),

tracking_events as (
    select * from {{ ref('int_tracking_events') }}
),

contact_signals as (
    select * from {{ ref('int_order_contact_signals') }}
),

first_refusals as (
    select order_ref, min(event_at) as refused_at
    from tracking_events
    where failure_reason = 'refused'
    group by order_ref
),

customer_events as (
    select
        history_key, placed_at as event_at, 0 as event_order, order_ref,
        1 as is_placement, 0 as is_delivered, 0 as is_returned, 0 as is_cancelled, 0 as is_refusal,
        0 as is_unreachable, 0 as is_confirmation_request, 0 as is_confirmation_reply,
        0 as reply_latency_s
    from orders
    union all
    select
        history_key,
        case when resolved_at < placed_at then placed_at else resolved_at end, 1, order_ref,
        0, case when outcome = 'delivered' then 1 else 0 end, case when outcome = 'returned' then 1 else 0 end,
        case when outcome = 'cancelled' then 1 else 0 end, 0, 0, 0, 0, 0
    from orders
    where outcome in ('delivered', 'returned', 'cancelled')
    union all
    -- An order counts as refused from its first refusal at the door.
    select
        orders.history_key,
        case when first_refusals.refused_at < orders.placed_at then orders.placed_at else first_refusals.refused_at end,
        1, orders.order_ref, 0, 0, 0, 0, 1, 0, 0, 0, 0
    from first_refusals
    inner join orders on first_refusals.order_ref = orders.order_ref
    union all
    select
        history_key,
        case when unreachable_at < placed_at then placed_at else unreachable_at end, 1, order_ref,
        0, 0, 0, 0, 0, 1, 0, 0, 0
    from orders
    where unreachable_at is not null
    union all
    select
        orders.history_key,
        case
            when contact_signals.confirmation_sent_at < orders.placed_at then orders.placed_at
            else contact_signals.confirmation_sent_at
        end,
        1, orders.order_ref, 0, 0, 0, 0, 0, 0, 1, 0, 0
    from contact_signals
    inner join orders on contact_signals.order_ref = orders.order_ref
    where contact_signals.confirmation_sent_at is not null
    union all
    select
        orders.history_key,
        case
            when contact_signals.whatsapp_first_reply_any_at < orders.placed_at then orders.placed_at
            else contact_signals.whatsapp_first_reply_any_at
        end,
        1, orders.order_ref, 0, 0, 0, 0, 0, 0, 0, 1, contact_signals.whatsapp_reply_latency_s
    from contact_signals
    inner join orders on contact_signals.order_ref = orders.order_ref
    where contact_signals.whatsapp_first_reply_any_at is not null
        and contact_signals.confirmation_sent_at is not null
),

customer_running as (
    select
        order_ref,
        is_placement,
        {% for measure in ['is_placement', 'is_delivered', 'is_returned', 'is_cancelled', 'is_refusal',
                           'is_unreachable', 'is_confirmation_request', 'is_confirmation_reply',
                           'reply_latency_s'] %}
            sum({{ measure }}) over (
                partition by history_key
                order by event_at, event_order, order_ref
                rows between unbounded preceding and current row
            ) as running_{{ measure }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from customer_events
),

customer_prior as (
    select
        order_ref,
        -- The running count of placements includes this order's own.
        running_is_placement - 1 as customer_past_orders,
        running_is_delivered as customer_past_delivered,
        running_is_returned as customer_past_rto,
        running_is_cancelled as customer_past_cancelled,
        running_is_delivered + running_is_returned + running_is_cancelled as customer_past_ended_orders,
        running_is_refusal as customer_past_refusals,
        running_is_unreachable as customer_past_unreachable,
        running_is_confirmation_request as customer_past_confirmation_requests,
        running_is_confirmation_reply as customer_past_confirmation_replies,
        {{ safe_ratio('running_reply_latency_s', 'running_is_confirmation_reply') }}
            as customer_past_avg_reply_latency_s
    from customer_running
    where is_placement = 1
),

city_prior as (
    {{ prior_rto_counts('orders', 'city') }}
),

carrier_prior as (
    {{ prior_rto_counts('orders', 'carrier') }}
),

platform_prior as (
    {{ prior_rto_counts('orders', 'platform') }}
),

final as (
    select
        orders.order_ref,
        orders.history_key,
        customer_prior.customer_past_orders,
        customer_prior.customer_past_delivered,
        customer_prior.customer_past_rto,
        customer_prior.customer_past_cancelled,
        customer_prior.customer_past_ended_orders,
        customer_prior.customer_past_refusals,
        customer_prior.customer_past_unreachable,
        customer_prior.customer_past_confirmation_requests,
        customer_prior.customer_past_confirmation_replies,
        customer_prior.customer_past_avg_reply_latency_s,
        coalesce(city_prior.prior_resolved_orders, 0) as city_prior_resolved_orders,
        {{ safe_ratio('city_prior.prior_returned_orders', 'city_prior.prior_resolved_orders') }}
            as city_rto_rate_prior,
        coalesce(carrier_prior.prior_resolved_orders, 0) as carrier_prior_resolved_orders,
        {{ safe_ratio('carrier_prior.prior_returned_orders', 'carrier_prior.prior_resolved_orders') }}
            as carrier_rto_rate_prior,
        coalesce(platform_prior.prior_resolved_orders, 0) as platform_prior_resolved_orders,
        {{ safe_ratio('platform_prior.prior_returned_orders', 'platform_prior.prior_resolved_orders') }}
            as platform_rto_rate_prior
    from orders
    inner join customer_prior on orders.order_ref = customer_prior.order_ref
    left join city_prior on orders.order_ref = city_prior.order_ref
    left join carrier_prior on orders.order_ref = carrier_prior.order_ref
    left join platform_prior on orders.order_ref = platform_prior.order_ref
)

select * from final
