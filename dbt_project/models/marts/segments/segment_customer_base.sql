{#- The vocabulary of segment files: every column a filter (or a file's `sql:`
    condition) can read. Adding a column here makes it available to `sql:` at once;
    a new named filter also needs a line in FILTERS of common/segments.py. -#}
with

customers as (
    select * from {{ ref('customer_360') }}
),

customer_orders as (
    select * from {{ ref('int_orders_as_of') }}
    where customer_phone is not null
),

first_orders as (
-- The ad that brought the customer: the one of their first order (up to the run date).
    {{ deduplicate_first(
        'customer_orders',
        partition_by='customer_phone',
        order_by='placed_at, order_ref',
        columns=['customer_phone', 'order_ref', 'ad_channel', 'ad_source', 'ad_campaign', 'ad_id']
    ) }}
),

final as (
    select
        customers.customer_phone,
        customers.as_of_date,
        customers.customer_name,
        customers.latest_city,
        customers.cities_seen,
        customers.platforms_seen,
        customers.payment_methods_seen,
        customers.open_order_statuses,
        customers.orders_placed,
        customers.orders_confirmed,
        customers.orders_delivered,
        customers.orders_returned,
        customers.orders_cancelled,
        customers.orders_open,
        customers.orders_unconfirmed,
        customers.refusals,
        customers.delivered_revenue,
        customers.delivered_aov,
        customers.rto_rate,
        {{ dbt.datediff('cast(customers.last_order_at as date)', 'customers.as_of_date', 'day') }}
            as days_since_last_order,
        {{ dbt.datediff('cast(customers.last_delivered_at as date)', 'customers.as_of_date', 'day') }}
            as days_since_last_delivered,
        {{ dbt.datediff('cast(customers.whatsapp_last_engaged_at as date)', 'customers.as_of_date', 'day') }}
            as days_since_whatsapp_engaged,
        {{ dbt.datediff('cast(customers.open_out_for_delivery_at as date)', 'customers.as_of_date', 'day') }}
            as days_since_out_for_delivery,
        customers.whatsapp_messages_delivered,
        customers.whatsapp_messages_read,
        customers.whatsapp_messages_replied,
        customers.consent_status,
        customers.can_message_marketing,
        customers.lifecycle_stage_code,
        customers.rfm_segment,
        customers.recency_score,
        customers.frequency_score,
        customers.monetary_score,
        customers.is_potential_refuser,
        customers.rto_risk_score,
        customers.risk_band,
        first_orders.order_ref as first_order_ref,
        coalesce(first_orders.ad_channel, 'unattributed') as first_order_ad_channel,
        first_orders.ad_source as first_order_ad_source,
        first_orders.ad_campaign as first_order_ad_campaign,
        first_orders.ad_id as first_order_ad_id
    from customers
    left join first_orders on customers.customer_phone = first_orders.customer_phone
)

select * from final
