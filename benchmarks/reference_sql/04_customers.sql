-- Hand-written reference, step 4: the run date, the orders as they stood at its cutoff,
-- one row per customer (E.164 phone) with RFM scores (rfm_scores) and the full 360° view
-- (customer_360: order counts, WhatsApp engagement, consent, lifecycle stage, risk).

create or replace temp table run_date as
with latest as (
    select max(event_at) as latest_event_at
    from (
        select max(placed_at) as event_at from bench_reference.int_orders
        union all select max(updated_at) from bench_reference.int_orders
        union all select max(event_at) from tracking_events
        union all select max(sent_at) from whatsapp_messages
        union all select max(delivered_at) from whatsapp_messages
        union all select max(read_at) from whatsapp_messages
        union all select max(received_at) from inbound_messages
        union all select max(changed_at) from user_preferences
        union all select max(event_at) from sms_event_times
    )
)
select
    as_of_date,
    cast(as_of_date as timestamp) + interval 1 day as as_of_cutoff_at,
    cast(as_of_date as timestamp) + interval 1 day - to_days(getvariable('stale_after_days')) as stale_before_at,
    cast(as_of_date as timestamp) + interval 1 day - to_days(getvariable('whatsapp_window_days')) as window_start_at
from (
    select coalesce(cast(getvariable('as_of_date') as date), cast(latest_event_at as date), current_date) as as_of_date
    from latest
);

-- int_orders_as_of: each order's state from the events and snapshots known before the cutoff.
create or replace temp table orders_as_of as
with

events as (
    select tracking_events.* from tracking_events, run_date where event_at < as_of_cutoff_at
),

tracking_rollup as (
    select
        order_ref,
        min(case when canonical_status not in ('placed', 'unknown') then event_at end) as dispatched_at,
        max(case when canonical_status = 'out_for_delivery' then event_at end) as last_out_for_delivery_at,
        min(case when canonical_status = 'delivered' then event_at end) as tracking_delivered_at,
        min(case when canonical_status = 'returned' then event_at end) as tracking_returned_at,
        count(case when failure_reason = 'refused' then 1 end) as refusals,
        first(struct_pack(canonical_status, event_at) order by event_at desc, loaded_at desc)
            filter (where canonical_status != 'unknown') as latest_known
    from events
    group by order_ref
),

snapshot_rollup as (
    select
        order_ref,
        min(case when storefront_status = 'confirmed' then updated_at end) as confirmed_at,
        min(case when storefront_status = 'cancelled' then updated_at end) as cancelled_at,
        min(case when storefront_status = 'unreachable' then updated_at end) as storefront_unreachable_at,
        first(struct_pack(storefront_status, updated_at) order by updated_at desc, loaded_at desc, source_file desc, line_number desc)
            as latest
    from snapshots, run_date
    where updated_at < as_of_cutoff_at
    group by order_ref
),

resolved as (
    select
        orders.order_ref, orders.platform, orders.customer_phone, orders.customer_name, orders.city,
        orders.payment_method, orders.total_amount, orders.placed_at,
        snapshot_rollup.latest.updated_at,
        snapshot_rollup.confirmed_at,
        snapshot_rollup.cancelled_at,
        snapshot_rollup.storefront_unreachable_at,
        tracking_rollup.dispatched_at,
        tracking_rollup.last_out_for_delivery_at,
        tracking_rollup.tracking_delivered_at,
        tracking_rollup.tracking_returned_at,
        coalesce(tracking_rollup.refusals, 0) as refusals,
        tracking_rollup.latest_known.event_at as tracking_status_at,
        case
            when tracking_returned_at is not null
                and (tracking_delivered_at is null or tracking_returned_at > tracking_delivered_at) then 'returned'
            when tracking_delivered_at is not null then 'delivered'
            when tracking_rollup.latest_known.canonical_status is not null
                and tracking_rollup.latest_known.canonical_status != 'placed'
                then tracking_rollup.latest_known.canonical_status
            when snapshot_rollup.latest.storefront_status in (
                'cancelled', 'delivered', 'returned', 'dispatched', 'confirmed', 'unreachable', 'pending'
            ) then snapshot_rollup.latest.storefront_status
            else 'placed'
        end as order_status,
        run_date.stale_before_at
    from bench_reference.int_orders as orders
    cross join run_date
    left join snapshot_rollup on orders.order_ref = snapshot_rollup.order_ref
    left join tracking_rollup on orders.order_ref = tracking_rollup.order_ref
    where orders.placed_at < run_date.as_of_cutoff_at
)

select
    order_ref, platform, customer_phone, customer_name, city, payment_method, total_amount, placed_at,
    order_status, refusals, last_out_for_delivery_at,
    case
        when order_status = 'cancelled' or cancelled_at is not null and dispatched_at is null then 'cancelled'
        when confirmed_at is not null or dispatched_at is not null then 'confirmed'
        when storefront_unreachable_at is not null then 'unreachable'
        else 'pending'
    end as confirmation_status,
    case when order_status in ('delivered', 'returned', 'cancelled') then order_status else 'open' end as outcome,
    order_status not in ('delivered', 'returned', 'cancelled')
        and case
            when tracking_status_at is not null and tracking_status_at > coalesce(updated_at, placed_at)
                then tracking_status_at
            when updated_at is not null and updated_at > placed_at then updated_at
            else placed_at
        end < stale_before_at as is_stale_open,
    case when order_status = 'delivered' then coalesce(tracking_delivered_at, updated_at) end as delivered_at
from resolved;

-- int_customer_order_stats: one row per customer (E.164 phone).
create or replace temp table customers as
select
    customer_phone,
    first(struct_pack(customer_name, city) order by placed_at desc, order_ref desc) as latest_order,
    min(placed_at) as first_order_at,
    max(placed_at) as last_order_at,
    count(*) as orders_placed,
    count(case when confirmation_status = 'confirmed' then 1 end) as orders_confirmed,
    count(case when outcome = 'delivered' then 1 end) as orders_delivered,
    count(case when outcome = 'returned' then 1 end) as orders_returned,
    count(case when outcome = 'cancelled' then 1 end) as orders_cancelled,
    count(case when outcome = 'open' and not is_stale_open then 1 end) as orders_open,
    count(case when is_stale_open then 1 end) as orders_stale_open,
    count(case when confirmation_status = 'unreachable' then 1 end) as orders_unreachable,
    count(case when outcome = 'cancelled' or confirmation_status = 'unreachable' then 1 end) as orders_unconfirmed,
    sum(refusals) as refusals,
    count(case when refusals > 0 then 1 end) as orders_refused,
    coalesce(sum(case when outcome = 'delivered' then total_amount end), 0) as delivered_revenue,
    min(delivered_at) as first_delivered_at,
    max(delivered_at) as last_delivered_at,
    max(case when order_status = 'out_for_delivery' and not is_stale_open then last_out_for_delivery_at end)
        as open_out_for_delivery_at,
    string_agg(distinct platform, ',' order by platform) as platforms_seen,
    string_agg(distinct city, ',' order by city) as cities_seen,
    string_agg(distinct payment_method, ',' order by payment_method) as payment_methods_seen,
    string_agg(distinct order_status, ',' order by order_status) filter (where outcome = 'open' and not is_stale_open)
        as open_order_statuses
from orders_as_of
where customer_phone is not null
group by customer_phone;

create or replace table bench_reference.rfm_scores as
with

measured as (
    select
        customers.*,
        run_date.as_of_date,
        customers.orders_delivered > 0 as has_delivered_order,
        case when last_delivered_at is not null
            then date_diff('day', cast(cast(last_delivered_at as date) as timestamp), cast(as_of_date as timestamp))
        end as recency_days
    from customers cross join run_date
),

ranked as (
    select
        customer_phone,
        rank() over (order by recency_days desc) as recency_rank,
        rank() over (order by orders_delivered) as frequency_rank,
        rank() over (order by delivered_revenue) as monetary_rank,
        count(*) over () as n
    from measured
    where has_delivered_order
),

scored as (
    select
        customer_phone,
        case when n = 1 then 1 else least(cast(1 + floor(5.0 * (recency_rank - 1) / nullif(n - 1, 0)) as integer), 5) end
            as recency_score,
        case when n = 1 then 1 else least(cast(1 + floor(5.0 * (frequency_rank - 1) / nullif(n - 1, 0)) as integer), 5) end
            as frequency_score,
        case when n = 1 then 1 else least(cast(1 + floor(5.0 * (monetary_rank - 1) / nullif(n - 1, 0)) as integer), 5) end
            as monetary_score
    from ranked
),

segment_map as (
    select cast(recency_score as integer) as recency_score, cast(fm_score as integer) as fm_score, rfm_segment
    from read_csv(getvariable('seeds') || '/rfm_segment_map.csv', header = true, all_varchar = true)
)

select
    measured.customer_phone,
    measured.as_of_date,
    measured.has_delivered_order,
    measured.last_delivered_at,
    measured.recency_days,
    measured.orders_delivered as frequency,
    measured.delivered_revenue as monetary,
    scored.recency_score,
    scored.frequency_score,
    scored.monetary_score,
    fm.fm_score,
    cast(scored.recency_score as varchar) || cast(scored.frequency_score as varchar)
        || cast(scored.monetary_score as varchar) as rfm_cell,
    case when not measured.has_delivered_order then 'No Delivered Order' else segment_map.rfm_segment end
        as rfm_segment,
    measured.refusals,
    measured.orders_unconfirmed,
    refuser.is_potential_refuser,
    case
        when refuser.is_potential_refuser then 'Potential Refusers'
        when not measured.has_delivered_order then 'No Delivered Order'
        else segment_map.rfm_segment
    end as rfm_segment_with_overlay
from measured
left join scored on measured.customer_phone = scored.customer_phone
cross join lateral (
    -- Mean of F and M rounded half up.
    select cast(floor((scored.frequency_score + scored.monetary_score) / 2.0 + 0.5) as integer) as fm_score
) as fm
cross join lateral (
    select (
        measured.refusals >= getvariable('potential_refuser_min_refusals')
        or measured.orders_unconfirmed >= getvariable('potential_refuser_min_unconfirmed_orders')
    ) as is_potential_refuser
) as refuser
left join segment_map on scored.recency_score = segment_map.recency_score and fm.fm_score = segment_map.fm_score;

create or replace table bench_reference.customer_360 as
with

wa_phones as (
    select phone_raw, phone_e164 from phones where phone_e164 is not null
),

known_messages as (
    select wa_phones.phone_e164 as customer_phone, whatsapp_messages.*, replies.replied_at
    from whatsapp_messages
    inner join wa_phones on whatsapp_messages.recipient_wa_id = wa_phones.phone_raw
    inner join run_date on whatsapp_messages.sent_at < run_date.as_of_cutoff_at
    left join (
        select replied_to_message_id, min(received_at) as replied_at
        from inbound_messages
        where replied_to_message_id is not null
        group by replied_to_message_id
    ) as replies on whatsapp_messages.message_id = replies.replied_to_message_id
),

engagement as (
    select
        customer_phone,
        count(case when sent_at >= window_start_at then 1 end) as messages_sent,
        count(case when sent_at >= window_start_at and delivered_at < as_of_cutoff_at then 1 end) as messages_delivered,
        count(case when sent_at >= window_start_at and read_at < as_of_cutoff_at then 1 end) as messages_read,
        count(case when sent_at >= window_start_at and replied_at < as_of_cutoff_at then 1 end) as messages_replied,
        max(case when engaged_at < as_of_cutoff_at then engaged_at end) as last_engaged_at
    from (
        select customer_phone, sent_at, delivered_at, read_at, replied_at, read_at as engaged_at from known_messages
        union all
        select wa_phones.phone_e164, null, null, null, null, inbound_messages.received_at
        from inbound_messages
        inner join wa_phones on inbound_messages.sender_wa_id = wa_phones.phone_raw
    ) as events
    cross join run_date
    group by customer_phone
),

consent as (
    select
        wa_phones.phone_e164 as customer_phone,
        first(
            struct_pack(consent_status, changed_at, consent_source)
            order by changed_at desc, case when consent_status = 'opted_out' then 0 else 1 end, consent_source
        ) as latest
    from (
        select sender_wa_id as wa_id, received_at as changed_at, 'opted_out' as consent_status,
            'whatsapp_stop_reply' as consent_source
        from inbound_messages where is_opt_out
        union all
        select wa_id, changed_at, case preference_value when 'stop' then 'opted_out' else 'opted_in' end,
            'whatsapp_user_preferences'
        from user_preferences where preference_value in ('stop', 'resume')
    ) as changes
    inner join wa_phones on changes.wa_id = wa_phones.phone_raw
    inner join run_date on changes.changed_at < run_date.as_of_cutoff_at
    group by wa_phones.phone_e164
),

population as (
    select ((1.0 * (count(case when outcome = 'returned' then 1 end)))
        / nullif(count(case when outcome in ('delivered', 'returned') then 1 end), 0)) as population_rto_rate
    from orders_as_of
),

lifecycle_stages as (
    select * from read_csv(getvariable('seeds') || '/lifecycle_stages.csv', header = true, all_varchar = true)
),

measured as (
    select
        customers.*,
        customers.orders_delivered + customers.orders_returned as orders_resolved,
        ((1.0 * customers.orders_returned) / nullif(customers.orders_delivered + customers.orders_returned, 0))
            as rto_rate,
        date_diff('day', cast(cast(last_order_at as date) as timestamp), cast(as_of_date as timestamp))
            as days_since_last_order,
        date_diff('day', cast(cast(first_delivered_at as date) as timestamp), cast(as_of_date as timestamp))
            as days_since_first_delivered,
        date_diff('day', cast(cast(last_delivered_at as date) as timestamp), cast(as_of_date as timestamp))
            as days_since_last_delivered,
        (customers.orders_returned + getvariable('risk_prior_weight') * population.population_rto_rate)
            / (customers.orders_delivered + customers.orders_returned + getvariable('risk_prior_weight'))
            as rto_risk_score,
        run_date.as_of_date
    from customers cross join run_date cross join population
),

staged as (
    select
        *,
        case
            when orders_resolved >= getvariable('high_risk_min_resolved_orders')
                and rto_rate >= getvariable('high_risk_min_rto_rate') then 'high_rto_rate'
            when refusals >= getvariable('high_risk_min_refusals') then 'repeated_refusals'
            when orders_unconfirmed >= getvariable('high_risk_min_cancellations') then 'frequent_cancellations'
            when orders_delivered = 0 and orders_open > 0 then 'first_order_open'
            when orders_delivered = 0 and days_since_last_order <= getvariable('new_window_days')
                then 'first_order_recent'
            when orders_delivered = 0 then 'never_delivered_and_silent'
            when orders_delivered >= getvariable('vip_min_delivered_orders')
                and delivered_revenue >= getvariable('vip_min_delivered_revenue')
                and (days_since_last_delivered <= getvariable('active_window_days') or orders_open > 0)
                then 'vip_thresholds_met'
            when orders_delivered = 1 and days_since_first_delivered <= getvariable('new_window_days')
                then 'first_delivery_recent'
            when days_since_last_delivered <= getvariable('active_window_days') then 'recent_delivery'
            when orders_open > 0 then 'order_on_its_way'
            when days_since_last_delivered <= getvariable('churn_after_days') then 'no_recent_delivery'
            else 'no_delivery_in_churn_window'
        end as stage_reason
    from measured
),

with_stage as (
    select
        *,
        case
            when stage_reason in ('high_rto_rate', 'repeated_refusals', 'frequent_cancellations')
                then 'problematic_high_risk'
            when stage_reason in ('first_order_open', 'first_order_recent') then 'new_pre_confirmation'
            when stage_reason in ('never_delivered_and_silent', 'no_delivery_in_churn_window') then 'churned_dormant'
            when stage_reason = 'vip_thresholds_met' then 'vip'
            when stage_reason = 'first_delivery_recent' then 'new_post_delivery'
            when stage_reason in ('recent_delivery', 'order_on_its_way') then 'active'
            when stage_reason = 'no_recent_delivery' then 'lapsed'
        end as lifecycle_stage_code
    from staged
)

select
    c.customer_phone,
    c.as_of_date,
    c.latest_order.customer_name,
    c.latest_order.city as latest_city,
    c.first_order_at, c.last_order_at, c.orders_placed, c.orders_confirmed, c.orders_delivered, c.orders_returned,
    c.orders_cancelled, c.orders_open, c.orders_stale_open, c.orders_unreachable, c.orders_unconfirmed,
    c.delivered_revenue,
    ((1.0 * c.delivered_revenue) / nullif(c.orders_delivered, 0)) as delivered_aov,
    c.rto_rate,
    c.refusals, c.orders_refused, c.first_delivered_at, c.last_delivered_at, c.platforms_seen, c.cities_seen,
    c.payment_methods_seen, c.open_order_statuses, c.open_out_for_delivery_at,
    getvariable('whatsapp_window_days') as whatsapp_window_days,
    coalesce(engagement.messages_sent, 0) as whatsapp_messages_sent,
    coalesce(engagement.messages_delivered, 0) as whatsapp_messages_delivered,
    coalesce(engagement.messages_read, 0) as whatsapp_messages_read,
    coalesce(engagement.messages_replied, 0) as whatsapp_messages_replied,
    engagement.last_engaged_at as whatsapp_last_engaged_at,
    coalesce(consent.latest.consent_status, 'no_preference') as consent_status,
    consent.latest.changed_at as consent_changed_at,
    consent.latest.consent_source as consent_source,
    coalesce(consent.latest.consent_status, 'no_preference') != 'opted_out' as can_message_marketing,
    c.lifecycle_stage_code,
    lifecycle_stages.stage_label as lifecycle_stage,
    c.stage_reason as lifecycle_stage_reason,
    rfm.has_delivered_order, rfm.recency_days, rfm.recency_score, rfm.frequency_score, rfm.monetary_score,
    rfm.fm_score, rfm.rfm_cell, rfm.rfm_segment, rfm.is_potential_refuser, rfm.rfm_segment_with_overlay,
    c.rto_risk_score,
    case
        when c.lifecycle_stage_code = 'problematic_high_risk' then 'high'
        when c.rto_risk_score is null then 'unknown'
        when c.rto_risk_score >= getvariable('risk_high_min_score') then 'high'
        when c.rto_risk_score < getvariable('risk_low_max_score') then 'low'
        else 'medium'
    end as risk_band
from with_stage as c
inner join bench_reference.rfm_scores as rfm on c.customer_phone = rfm.customer_phone
left join lifecycle_stages on c.lifecycle_stage_code = lifecycle_stages.stage_code
left join engagement on c.customer_phone = engagement.customer_phone
left join consent on c.customer_phone = consent.customer_phone;
