{#- The lead-score model's input (ml/): one row per order with what was known about it
    and its customer, and how it ended. Every *_prior / customer_past_* column counts
    only events before the order was placed (int_order_prior_history); the *_at signal
    columns are the times evidence arrived, so a scorer can cut them at any moment. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

orders_as_of as (
    -- The marts' staleness rule (`open_order_stale_after_days`), read from the one model
    -- that applies it, so a dead lead is not "open" here either.
    select order_ref, is_stale_open from {{ ref('int_orders_as_of') }}
),

prior_history as (
    select * from {{ ref('int_order_prior_history') }}
),

contact_signals as (
    select * from {{ ref('int_order_contact_signals') }}
),

fraud_flags as (
    select * from {{ ref('int_order_fraud_flags') }}
),

shared_addresses as (
    select * from {{ ref('int_order_shared_addresses') }}
),

carrier_assignments as (
    select * from {{ ref('int_order_carrier_assignments') }}
),

lead_signals as (
    select * from {{ ref('stg_storefront__lead_signals') }}
),

ranked_lead_signals as (
    -- The session that ended in the order (the latest one, if the pixel sent several).
    select
        order_ref,
        time_on_page_s,
        scroll_depth_pct,
        products_viewed,
        form_completion_s,
        visits,
        ad_creative,
        device,
        row_number() over (partition by order_ref order by submitted_at desc, session_id desc) as recency_rank
    from lead_signals
),

order_lead_signals as (
    select * from ranked_lead_signals
    where recency_rank = 1
),

final as (
    select
        orders.order_ref,
        orders.customer_phone,
        orders.platform,
        orders.payment_method,
        orders.carrier,
        carrier_assignments.carrier_assigned_at,
        orders.city,
        orders.placed_at,
        orders.resolved_at,
        -- int_orders says 'open' for an order still under way; the ML contract says null.
        case when orders.outcome != 'open' then orders.outcome end as outcome,
        -- Live orders only: an open order with no news for `open_order_stale_after_days` is
        -- dead (never scored, never decided), as in customer_360 and the segments.
        orders.outcome = 'open' and not coalesce(orders_as_of.is_stale_open, false) as is_open,
        coalesce(orders_as_of.is_stale_open, false) as is_stale_open,
        orders.order_status,
        orders.total_amount as order_total,
        prior_history.customer_past_orders = 0 as is_first_order,
        orders.phone_is_valid,
        orders.lead_source,
        order_lead_signals.time_on_page_s,
        order_lead_signals.scroll_depth_pct,
        order_lead_signals.products_viewed,
        order_lead_signals.form_completion_s,
        order_lead_signals.visits,
        order_lead_signals.ad_creative,
        order_lead_signals.device,
        shared_addresses.shared_address_recent_orders,
        contact_signals.confirmation_sent_at,
        contact_signals.whatsapp_confirmed_at,
        contact_signals.whatsapp_cancelled_at,
        contact_signals.whatsapp_first_reply_at,
        contact_signals.whatsapp_first_reply_any_at,
        contact_signals.whatsapp_reply_latency_s,
        contact_signals.whatsapp_confirmed_by_context,
        contact_signals.sms_replied_at,
        contact_signals.sms_confirmed_at,
        contact_signals.sms_cancelled_at,
        contact_signals.email_opened_at,
        -- No conversation (question-and-answer) source yet: a customer asking "where is my
        -- parcel?" is not answering our questions, so nothing is inferred from chats.
        {{ dbt.cast('null', api.Column.translate_type('timestamp')) }} as conversation_answered_at,
        orders.unreachable_at,
        fraud_flags.fraud_flagged_at,
        fraud_flags.fraud_reasons,
        cast(prior_history.customer_past_orders as bigint) as customer_past_orders,
        cast(prior_history.customer_past_delivered as bigint) as customer_past_delivered,
        cast(prior_history.customer_past_rto as bigint) as customer_past_rto,
        cast(prior_history.customer_past_refusals as bigint) as customer_past_refusals,
        cast(prior_history.customer_past_cancelled as bigint) as customer_past_cancelled,
        cast(prior_history.customer_past_ended_orders as bigint) as customer_past_ended_orders,
        cast(prior_history.customer_past_unreachable as bigint) as customer_past_unreachable,
        cast(prior_history.customer_past_confirmation_requests as bigint) as customer_past_confirmation_requests,
        cast(prior_history.customer_past_confirmation_replies as bigint) as customer_past_confirmation_replies,
        prior_history.customer_past_avg_reply_latency_s,
        prior_history.city_rto_rate_prior,
        cast(prior_history.city_prior_resolved_orders as bigint) as city_prior_resolved_orders,
        prior_history.carrier_rto_rate_prior,
        cast(prior_history.carrier_prior_resolved_orders as bigint) as carrier_prior_resolved_orders,
        prior_history.platform_rto_rate_prior,
        cast(prior_history.platform_prior_resolved_orders as bigint) as platform_prior_resolved_orders
    from orders
    inner join prior_history on orders.order_ref = prior_history.order_ref
    inner join contact_signals on orders.order_ref = contact_signals.order_ref
    inner join fraud_flags on orders.order_ref = fraud_flags.order_ref
    left join order_lead_signals on orders.order_ref = order_lead_signals.order_ref
    left join orders_as_of on orders.order_ref = orders_as_of.order_ref
    left join carrier_assignments on orders.order_ref = carrier_assignments.order_ref
    left join shared_addresses on orders.order_ref = shared_addresses.order_ref
)

select * from final
