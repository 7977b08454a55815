with

customers as (
    select * from {{ ref('int_customer_order_stats') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

orders as (
    select * from {{ ref('int_orders_as_of') }}
),

rfm as (
    select * from {{ ref('rfm_scores') }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

engagement as (
    select * from {{ ref('int_customer_whatsapp_engagement') }}
),

consent as (
    select * from {{ ref('int_customer_consent') }}
),

population as (
    -- The RTO rate of every resolved order: the prior a customer's own history moves.
    select
        {{ safe_ratio(
            "count(case when outcome = 'returned' then 1 end)",
            "count(case when outcome in ('delivered', 'returned') then 1 end)"
        ) }} as population_rto_rate
    from orders
),

risk as (
    -- Current risk from history: the customer's RTO rate shrunk towards the population's
    -- with the weight of `risk_prior_weight` orders, so one RTO out of one order is not
    -- read as a certainty (empirical-Bayes smoothing).
    select
        customers.customer_phone,
        (
            customers.orders_returned + {{ var('risk_prior_weight') }} * population.population_rto_rate
        ) / (customers.orders_delivered + customers.orders_returned + {{ var('risk_prior_weight') }})
            as rto_risk_score
    from customers
    cross join population
),

final as (
    select
        customers.customer_phone,
        run_date.as_of_date,
        customers.customer_name,
        customers.latest_city,
        customers.first_order_at,
        customers.last_order_at,
        customers.orders_placed,
        customers.orders_confirmed,
        customers.orders_delivered,
        customers.orders_returned,
        customers.orders_cancelled,
        customers.orders_open,
        customers.orders_stale_open,
        customers.orders_unreachable,
        customers.orders_unconfirmed,
        customers.delivered_revenue,
        {{ safe_ratio('customers.delivered_revenue', 'customers.orders_delivered') }} as delivered_aov,
        {{ safe_ratio('customers.orders_returned', 'customers.orders_delivered + customers.orders_returned') }}
            as rto_rate,
        cast(customers.refusals as bigint) as refusals,
        customers.orders_refused,
        customers.first_delivered_at,
        customers.last_delivered_at,
        customers.platforms_seen,
        customers.cities_seen,
        customers.payment_methods_seen,
        customers.open_order_statuses,
        customers.open_out_for_delivery_at,
        {{ var('whatsapp_engagement_window_days') }} as whatsapp_window_days,
        coalesce(engagement.messages_sent, 0) as whatsapp_messages_sent,
        coalesce(engagement.messages_delivered, 0) as whatsapp_messages_delivered,
        coalesce(engagement.messages_read, 0) as whatsapp_messages_read,
        coalesce(engagement.messages_replied, 0) as whatsapp_messages_replied,
        engagement.last_engaged_at as whatsapp_last_engaged_at,
        coalesce(consent.consent_status, 'no_preference') as consent_status,
        consent.consent_changed_at,
        consent.consent_source,
        coalesce(consent.consent_status, 'no_preference') != 'opted_out' as can_message_marketing,
        lifecycle.lifecycle_stage_code,
        lifecycle.lifecycle_stage,
        lifecycle.stage_reason as lifecycle_stage_reason,
        rfm.has_delivered_order,
        cast(rfm.recency_days as bigint) as recency_days,  -- Spark datediff is int
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.fm_score,
        rfm.rfm_cell,
        rfm.rfm_segment,
        rfm.is_potential_refuser,
        rfm.rfm_segment_with_overlay,
        risk.rto_risk_score,
        case
            when lifecycle.lifecycle_stage_code = 'problematic_high_risk' then 'high'
            when risk.rto_risk_score is null then 'unknown'
            when risk.rto_risk_score >= {{ var('risk_high_min_score') }} then 'high'
            when risk.rto_risk_score < {{ var('risk_low_max_score') }} then 'low'
            else 'medium'
        end as risk_band
    from customers
    cross join run_date
    inner join rfm on customers.customer_phone = rfm.customer_phone
    inner join lifecycle on customers.customer_phone = lifecycle.customer_phone
    inner join risk on customers.customer_phone = risk.customer_phone
    left join engagement on customers.customer_phone = engagement.customer_phone
    left join consent on customers.customer_phone = consent.customer_phone
)

select * from final
