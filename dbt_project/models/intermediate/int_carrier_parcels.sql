{#- The parcels the carriers were given: the unit of carrier performance. A parcel is
    dated by the month it was handed over (first tracking event past "placed"). -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

tracking_events as (
    select * from {{ ref('int_tracking_events') }}
),

failures as (
    select
        order_ref,
        {% for reason in failure_reasons() %}
            count(case when failure_reason = '{{ reason }}' then 1 end) as failed_attempts_{{ reason }},
        {% endfor %}
        count(*) as failed_attempts
    from tracking_events
    where canonical_status = 'failed_attempt'
    group by order_ref
),

final as (
    select
        orders.order_ref,
        orders.carrier,
        coalesce(orders.city, '(unknown)') as city,
        cast({{ dbt.date_trunc('month', 'coalesce(orders.dispatched_at, orders.placed_at)') }} as date)
            as dispatch_month,
        orders.outcome,
        case when orders.outcome = 'delivered' and coalesce(failures.failed_attempts, 0) = 0 then 1 else 0 end
            as is_delivered_first_attempt,
        case
            when orders.outcome = 'delivered' and orders.dispatched_at is not null
                -- LT05 measures dbt.datediff's rendered padding, not this short line.
                then {{ dbt.datediff('orders.dispatched_at', 'orders.delivered_at', 'hour') }} / 24.0  -- noqa: LT05
        end as days_to_deliver,
        {% for reason in failure_reasons() %}
            coalesce(failures.failed_attempts_{{ reason }}, 0) as failed_attempts_{{ reason }},
        {% endfor %}
        coalesce(failures.failed_attempts, 0) as failed_attempts
    from orders
    left join failures on orders.order_ref = failures.order_ref
    where orders.carrier is not null
)

select * from final
