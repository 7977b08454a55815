{#- When each order's carrier became known: the first tracking event from the carrier that
    int_orders names (its latest known event), whatever its status. A store that books the
    parcel before it leaves (a "label created" / `placed` event) makes the carrier known
    from that booking; otherwise it is known from dispatch. A score made before this moment
    must not see the carrier (ml.features: decision-time contract). -#}
with

orders as (
    select order_ref, carrier from {{ ref('int_orders') }}
    where carrier is not null
),

tracking_events as (
    select * from {{ ref('int_tracking_events') }}
),

first_event_per_carrier as (
    select
        order_ref,
        carrier,
        min(event_at) as carrier_assigned_at
    from tracking_events
    group by order_ref, carrier
),

final as (
    select
        orders.order_ref,
        orders.carrier,
        first_event_per_carrier.carrier_assigned_at
    from orders
    inner join first_event_per_carrier
        on orders.order_ref = first_event_per_carrier.order_ref
        and orders.carrier = first_event_per_carrier.carrier
)

select * from final
