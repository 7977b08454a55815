{#- The orders waiting for a carrier: live (order_rto_history.is_open, the marts' staleness
    rule), confirmed by the customer or the call centre, and not picked up by a carrier yet
    (a carrier may already be assigned: `assigned_carrier`).
    What a pickup sheet needs about each (the dispatch manifest,
    activations/dispatch_manifest.py): reference, name, phone, city, address, the amount the
    courier collects. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

live as (
    select order_ref from {{ ref('order_rto_history') }}
    where is_open
),

final as (
    select
        orders.order_ref,
        orders.platform,
        orders.order_number,
        orders.customer_name,
        orders.customer_phone,
        orders.city,
        orders.address,
        orders.is_cod,
        cast(case when orders.is_cod then orders.total_amount else 0 end as decimal(12, 2))
            as cod_amount,
        orders.currency,
        orders.carrier as assigned_carrier,
        orders.confirmed_at,
        orders.placed_at
    from orders
    inner join live on orders.order_ref = live.order_ref
    where
        orders.order_status = 'confirmed'
        and orders.dispatched_at is null
)

select * from final
