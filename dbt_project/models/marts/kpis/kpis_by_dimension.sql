{#- SPEC §3 KPIs, one row per dimension × value, as of the run date. The definitions:
      confirmation_rate  confirmed / orders with a confirmation decision (confirmed,
                         cancelled or unreachable) or stale (no news for
                         open_order_stale_after_days: never confirmed); orders still
                         pending confirmation wait
      delivery_rate      delivered / orders that ended (delivered, returned, cancelled,
                         or stale: dead without a delivery)
      rto_rate           returned / (delivered + returned)
      aov                delivered revenue / delivered orders
      ltv                delivered revenue / customers (revenue to date per customer)
      repeat_rate        customers with ≥ 2 delivered orders / customers with ≥ 1
    Customer dimensions (lifecycle stage, RFM segment, segment) use the customer's
    current value for all their orders; order dimensions use the order's own. An order
    without a valid phone is its own customer. -#}
{%- set order_dimensions = {'platform': 'platform', 'city': 'city', 'carrier': 'carrier', 'week': 'placed_week',
                            'lifecycle_stage': 'lifecycle_stage', 'rfm_segment': 'rfm_segment', 'ad': 'ad_key'} %}
with

orders as (
    select * from {{ ref('int_orders_as_of') }}
),

customers as (
    select * from {{ ref('customer_360') }}
),

memberships as (
    select * from {{ ref('segment_membership') }}
),

order_facts as (
    select
        orders.order_ref,
        orders.customer_phone,
        coalesce(orders.customer_phone, {{ dbt.concat(["'order:'", 'orders.order_ref']) }}) as customer_key,
        'all' as all_orders,
        orders.platform,
        coalesce(orders.city, '(unknown)') as city,
        coalesce(orders.carrier, '(not shipped)') as carrier,
        {{ dbt.cast(
            dbt.cast(dbt.date_trunc('week', 'orders.placed_at'), api.Column.translate_type('date')),
            api.Column.translate_type('string')
        ) }} as placed_week,
        coalesce(customers.lifecycle_stage_code, '(no valid phone)') as lifecycle_stage,
        coalesce(customers.rfm_segment, '(no valid phone)') as rfm_segment,
        -- The ad that brought the order (ad_performance's key: channel|source|campaign|ad|form).
        {{ ad_key('orders') }} as ad_key,
        case when orders.confirmation_status = 'confirmed' then 1 else 0 end as is_confirmed,
        case when orders.confirmation_status != 'pending' or orders.is_stale_open then 1 else 0 end as is_decided,
        case when orders.outcome = 'delivered' then 1 else 0 end as is_delivered,
        case when orders.outcome = 'returned' then 1 else 0 end as is_returned,
        case when orders.outcome != 'open' or orders.is_stale_open then 1 else 0 end as is_ended,
        case when orders.outcome = 'delivered' then orders.total_amount else 0 end as delivered_revenue
    from orders
    left join customers on orders.customer_phone = customers.customer_phone
),

dimension_rows as (
    select 'all' as dimension, order_facts.all_orders as dimension_value, order_facts.*
    from order_facts
    {% for dimension, column in order_dimensions.items() %}
        union all
        select '{{ dimension }}', {{ column }}, order_facts.*
        from order_facts
    {% endfor %}
    union all
    select 'segment', memberships.segment_name, order_facts.*
    from order_facts
    inner join memberships on order_facts.customer_phone = memberships.customer_phone
),

per_customer as (
    select
        dimension,
        dimension_value,
        customer_key,
        count(*) as orders_placed,
        sum(is_decided) as orders_decided,
        sum(is_confirmed) as orders_confirmed,
        sum(is_ended) as orders_ended,
        sum(is_delivered) as orders_delivered,
        sum(is_returned) as orders_returned,
        sum(delivered_revenue) as delivered_revenue
    from dimension_rows
    group by dimension, dimension_value, customer_key
),

per_dimension as (
    select
        dimension,
        dimension_value,
        count(*) as customers,
        count(case when orders_delivered >= 1 then 1 end) as customers_with_delivery,
        count(case when orders_delivered >= 2 then 1 end) as repeat_customers,
        sum(orders_placed) as orders_placed,
        sum(orders_decided) as orders_decided,
        sum(orders_confirmed) as orders_confirmed,
        sum(orders_ended) as orders_ended,
        sum(orders_delivered) as orders_delivered,
        sum(orders_returned) as orders_returned,
        sum(delivered_revenue) as delivered_revenue
    from per_customer
    group by dimension, dimension_value
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

final as (
    select
        per_dimension.dimension,
        per_dimension.dimension_value,
        run_date.as_of_date,
        per_dimension.customers,
        per_dimension.customers_with_delivery,
        per_dimension.repeat_customers,
        per_dimension.orders_placed,
        per_dimension.orders_decided,
        per_dimension.orders_confirmed,
        per_dimension.orders_ended,
        per_dimension.orders_delivered,
        per_dimension.orders_returned,
        per_dimension.delivered_revenue,
        {{ safe_ratio('per_dimension.orders_confirmed', 'per_dimension.orders_decided') }} as confirmation_rate,
        {{ safe_ratio('per_dimension.orders_delivered', 'per_dimension.orders_ended') }} as delivery_rate,
        {{ safe_ratio(
            'per_dimension.orders_returned', 'per_dimension.orders_delivered + per_dimension.orders_returned'
        ) }}
            as rto_rate,
        {{ safe_ratio('per_dimension.delivered_revenue', 'per_dimension.orders_delivered') }} as aov,
        {{ safe_ratio('per_dimension.delivered_revenue', 'per_dimension.customers') }} as ltv,
        {{ safe_ratio('per_dimension.repeat_customers', 'per_dimension.customers_with_delivery') }} as repeat_rate
    from per_dimension
    cross join run_date
)

select * from final
