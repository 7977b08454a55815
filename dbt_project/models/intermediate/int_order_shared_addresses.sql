{#- Shared-identity velocity, known when the order is placed: how many orders from
    *other* phones went to the same delivery address (same city) in the
    `shared_address_window_days` days before this one. A fraud ring, or a reseller,
    orders with many phones to a few addresses. Orders without an address count 0. -#}
with

orders as (
    select
        order_ref,
        placed_at,
        lower(trim(address)) || '|' || lower(coalesce(city, '')) as address_key,
        {{ order_history_key('customer_phone', 'phone_raw', 'order_ref') }} as history_key
    from {{ ref('int_orders') }}
),

addressed as (
    select * from orders
    where address_key is not null and address_key != '|'
),

earlier_at_address as (
    select
        addressed.order_ref,
        count(other.order_ref) as shared_address_recent_orders
    from addressed
    inner join addressed as other
        on addressed.address_key = other.address_key
        and addressed.history_key != other.history_key
        and addressed.placed_at > other.placed_at
        and other.placed_at >= {{
            dbt.dateadd('day', -1 * var('shared_address_window_days'), 'addressed.placed_at')
        }}
    group by addressed.order_ref
),

final as (
    select
        orders.order_ref,
        coalesce(earlier_at_address.shared_address_recent_orders, 0) as shared_address_recent_orders
    from orders
    left join earlier_at_address on orders.order_ref = earlier_at_address.order_ref
)

select * from final
