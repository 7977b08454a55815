{#- What the activations read about an order (audiences, confirmation, delivery codes,
    storefront decisions, agent queue, measurement). int_orders stays free to change:
    this mart's columns are a contract. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

final as (
    select
        orders.order_ref,
        orders.platform,
        orders.platform_order_id,
        orders.order_number,
        orders.customer_phone,
        orders.customer_name,
        orders.city,
        orders.payment_method,
        orders.is_cod,
        orders.total_amount,
        orders.currency,
        orders.placed_at,
        orders.order_status,
        orders.confirmation_status,
        orders.outcome,
        orders.carrier,
        orders.tracking_number,
        orders.failed_attempts,
        orders.last_failure_reason
    from orders
)

select * from final
