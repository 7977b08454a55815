with

orders as (
    select * from {{ ref('int_orders_as_of') }}
    -- A customer is an E.164 phone: orders without a valid phone have no customer.
    where customer_phone is not null
),

ranked_orders as (
    select
        customer_phone,
        customer_name,
        city,
        row_number() over (partition by customer_phone order by placed_at desc, order_ref desc) as recency_rank
    from orders
),

latest_order as (
    select customer_phone, customer_name, city
    from ranked_orders
    where recency_rank = 1
),

platforms as (
    select distinct customer_phone, platform from orders
),

cities as (
    select distinct customer_phone, city from orders
    where city is not null
),

payment_methods as (
    select distinct customer_phone, payment_method from orders
    where payment_method is not null
),

open_statuses as (
    select distinct customer_phone, order_status from orders
    where outcome = 'open' and not is_stale_open
),

platform_lists as (
    select customer_phone, {{ sorted_listagg('platform', ',') }} as platforms_seen
    from platforms
    group by customer_phone
),

city_lists as (
    select customer_phone, {{ sorted_listagg('city', ',') }} as cities_seen
    from cities
    group by customer_phone
),

payment_method_lists as (
    select customer_phone, {{ sorted_listagg('payment_method', ',') }} as payment_methods_seen
    from payment_methods
    group by customer_phone
),

open_status_lists as (
    select customer_phone, {{ sorted_listagg('order_status', ',') }} as open_order_statuses
    from open_statuses
    group by customer_phone
),

order_counts as (
    select
        customer_phone,
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
        count(case when outcome = 'cancelled' or confirmation_status = 'unreachable' then 1 end)
            as orders_unconfirmed,
        count(case when payment_method = 'cod' then 1 end) as orders_cod,
        sum(refusals) as refusals,
        count(case when refusals > 0 then 1 end) as orders_refused,
        -- decimal(38, 2) on every engine (Spark sums decimal(12, 2) as decimal(22, 2)).
        cast(
            coalesce(sum(case when outcome = 'delivered' then total_amount end), 0) as decimal(38, 2)
        ) as delivered_revenue,
        min(delivered_at) as first_delivered_at,
        max(delivered_at) as last_delivered_at,
        max(returned_at) as last_returned_at,
        max(case when order_status = 'out_for_delivery' and not is_stale_open then last_out_for_delivery_at end)
            as open_out_for_delivery_at
    from orders
    group by customer_phone
),

final as (
    select
        order_counts.customer_phone,
        latest_order.customer_name,
        latest_order.city as latest_city,
        order_counts.first_order_at,
        order_counts.last_order_at,
        order_counts.orders_placed,
        order_counts.orders_confirmed,
        order_counts.orders_delivered,
        order_counts.orders_returned,
        order_counts.orders_cancelled,
        order_counts.orders_open,
        order_counts.orders_stale_open,
        order_counts.orders_unreachable,
        order_counts.orders_unconfirmed,
        order_counts.orders_cod,
        order_counts.refusals,
        order_counts.orders_refused,
        order_counts.delivered_revenue,
        order_counts.first_delivered_at,
        order_counts.last_delivered_at,
        order_counts.last_returned_at,
        order_counts.open_out_for_delivery_at,
        platform_lists.platforms_seen,
        city_lists.cities_seen,
        payment_method_lists.payment_methods_seen,
        open_status_lists.open_order_statuses
    from order_counts
    inner join latest_order on order_counts.customer_phone = latest_order.customer_phone
    left join platform_lists on order_counts.customer_phone = platform_lists.customer_phone
    left join city_lists on order_counts.customer_phone = city_lists.customer_phone
    left join payment_method_lists on order_counts.customer_phone = payment_method_lists.customer_phone
    left join open_status_lists on order_counts.customer_phone = open_status_lists.customer_phone
)

select * from final
