{#- One lifecycle stage per customer (SPEC §3). Rules are tried in this order and the
    first that holds wins, so every customer gets exactly one stage:
      1. problematic_high_risk  rto_rate ≥ lifecycle_high_risk_min_rto_rate over at least
                                lifecycle_high_risk_min_resolved_orders delivered+returned
                                orders, or refused orders ≥ lifecycle_high_risk_min_refusals, or
                                cancelled/unreachable orders ≥ lifecycle_high_risk_min_cancellations
                                (first: a risky customer must not be treated as a VIP)
      2. new_pre_confirmation   no delivered order, and an open order or an order placed
                                within lifecycle_new_window_days
      3. churned_dormant        no delivered order otherwise
      4. vip                    delivered orders ≥ lifecycle_vip_min_delivered_orders and
                                delivered revenue ≥ lifecycle_vip_min_delivered_revenue, and
                                active (as in 6)
      5. new_post_delivery      exactly one delivered order, within lifecycle_new_window_days
      6. active                 last delivered order within lifecycle_active_window_days, or
                                an open order (a returning customer with a parcel on its way)
      7. lapsed                 last delivered order within lifecycle_churn_after_days
      8. churned_dormant        otherwise -#}
with

customers as (
    select * from {{ ref('int_customer_order_stats') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

stages as (
    select * from {{ ref('lifecycle_stages') }}
),

measured as (
    select
        customers.customer_phone,
        run_date.as_of_date,
        customers.orders_placed,
        customers.orders_delivered,
        customers.orders_returned,
        customers.orders_open,
        customers.orders_unconfirmed,
        customers.refusals,
        -- Refused *orders*, not attempts: one parcel refused at two attempts is one refusal
        -- of the customer, not yet a pattern.
        customers.orders_refused,
        customers.delivered_revenue,
        customers.orders_delivered + customers.orders_returned as orders_resolved,
        {{ safe_ratio('customers.orders_returned', 'customers.orders_delivered + customers.orders_returned') }}
            as rto_rate,
        {{ dbt.datediff('cast(customers.last_order_at as date)', 'run_date.as_of_date', 'day') }}
            as days_since_last_order,
        {{ dbt.datediff('cast(customers.first_delivered_at as date)', 'run_date.as_of_date', 'day') }}
            as days_since_first_delivered,
        {{ dbt.datediff('cast(customers.last_delivered_at as date)', 'run_date.as_of_date', 'day') }}
            as days_since_last_delivered
    from customers
    cross join run_date
),

staged as (
    select
        *,
        case
            when orders_resolved >= {{ var('lifecycle_high_risk_min_resolved_orders') }}
                and rto_rate >= {{ var('lifecycle_high_risk_min_rto_rate') }} then 'high_rto_rate'
            when orders_refused >= {{ var('lifecycle_high_risk_min_refusals') }} then 'repeated_refusals'
            when orders_unconfirmed >= {{ var('lifecycle_high_risk_min_cancellations') }} then 'frequent_cancellations'
            when orders_delivered = 0 and orders_open > 0 then 'first_order_open'
            when orders_delivered = 0 and days_since_last_order <= {{ var('lifecycle_new_window_days') }}
                then 'first_order_recent'
            when orders_delivered = 0 then 'never_delivered_and_silent'
            when orders_delivered >= {{ var('lifecycle_vip_min_delivered_orders') }}
                and delivered_revenue >= {{ var('lifecycle_vip_min_delivered_revenue') }}
                and (days_since_last_delivered <= {{ var('lifecycle_active_window_days') }} or orders_open > 0)
                then 'vip_thresholds_met'
            when orders_delivered = 1 and days_since_first_delivered <= {{ var('lifecycle_new_window_days') }}
                then 'first_delivery_recent'
            when days_since_last_delivered <= {{ var('lifecycle_active_window_days') }} then 'recent_delivery'
            when orders_open > 0 then 'order_on_its_way'
            when days_since_last_delivered <= {{ var('lifecycle_churn_after_days') }} then 'no_recent_delivery'
            else 'no_delivery_in_churn_window'
        end as stage_reason
    from measured
),

stage_by_reason as (
    -- Which stage each rule's reason stands for (rule order is in `staged`).
    select 'high_rto_rate' as stage_reason, 'problematic_high_risk' as stage_code
    union all
    select 'repeated_refusals', 'problematic_high_risk'
    union all
    select 'frequent_cancellations', 'problematic_high_risk'
    union all
    select 'first_order_open', 'new_pre_confirmation'
    union all
    select 'first_order_recent', 'new_pre_confirmation'
    union all
    select 'never_delivered_and_silent', 'churned_dormant'
    union all
    select 'vip_thresholds_met', 'vip'
    union all
    select 'first_delivery_recent', 'new_post_delivery'
    union all
    select 'recent_delivery', 'active'
    union all
    select 'order_on_its_way', 'active'
    union all
    select 'no_recent_delivery', 'lapsed'
    union all
    select 'no_delivery_in_churn_window', 'churned_dormant'
),

final as (
    select
        staged.customer_phone,
        staged.as_of_date,
        stage_by_reason.stage_code as lifecycle_stage_code,
        stages.stage_label as lifecycle_stage,
        staged.stage_reason,
        staged.orders_placed,
        staged.orders_delivered,
        staged.orders_resolved,
        staged.orders_open,
        staged.orders_unconfirmed,
        staged.refusals,
        staged.orders_refused,
        staged.delivered_revenue,
        staged.rto_rate,
        staged.days_since_last_order,
        staged.days_since_last_delivered
    from staged
    inner join stage_by_reason on staged.stage_reason = stage_by_reason.stage_reason
    left join stages on stage_by_reason.stage_code = stages.stage_code
)

select * from final
