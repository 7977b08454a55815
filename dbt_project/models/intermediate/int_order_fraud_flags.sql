{#- Simple, explainable fraud rules, each known at the moment the order is placed:
    * invalid_phone: the phone is not a valid number (no courier can call it);
    * order_flooding: this order is at least the `fraud_velocity_min_orders`-th from the
      same phone within `fraud_velocity_window_hours` hours (counting this one).
    `fraud_flagged_at` is the order's placement time when a rule fires. -#}
with

orders as (
    select
        order_ref,
        placed_at,
        phone_is_valid,
        {{ order_history_key('customer_phone', 'phone_raw', 'order_ref') }} as history_key
    from {{ ref('int_orders') }}
),

velocity as (
    select
        orders.order_ref,
        count(*) as orders_in_window
    from orders
    inner join orders as same_phone
        on orders.history_key = same_phone.history_key
        and orders.placed_at >= same_phone.placed_at
        and same_phone.placed_at > {{
            dbt.dateadd('hour', -1 * var('fraud_velocity_window_hours'), 'orders.placed_at')
        }}
    group by orders.order_ref
),

flagged as (
    select
        orders.order_ref,
        orders.history_key,
        velocity.orders_in_window as phone_orders_in_velocity_window,
        not orders.phone_is_valid as is_invalid_phone,
        velocity.orders_in_window >= {{ var('fraud_velocity_min_orders') }} as is_order_flooding,
        orders.placed_at
    from orders
    inner join velocity on orders.order_ref = velocity.order_ref
),

final as (
    select
        order_ref,
        history_key,
        phone_orders_in_velocity_window,
        is_invalid_phone,
        is_order_flooding,
        case when is_invalid_phone or is_order_flooding then placed_at end as fraud_flagged_at,
        case
            when is_invalid_phone and is_order_flooding then 'invalid_phone,order_flooding'
            when is_invalid_phone then 'invalid_phone'
            when is_order_flooding then 'order_flooding'
        end as fraud_reasons
    from flagged
)

select * from final
