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
        customer_name,
        latest_city,
        cities_seen,
        platforms_seen,
        payment_methods_seen,
        open_order_statuses,
        orders_placed,
        orders_confirmed,
        orders_delivered,
        orders_returned,
        orders_cancelled,
        orders_open,
        orders_unconfirmed,
        refusals,
        delivered_revenue,
        delivered_aov,
        rto_rate,
        {{ dbt.datediff('cast(last_order_at as date)', 'as_of_date', 'day') }}
            as days_since_last_order,
        {{ dbt.datediff('cast(last_delivered_at as date)', 'as_of_date', 'day') }}
            as days_since_last_delivered,
        {{ dbt.datediff('cast(whatsapp_last_engaged_at as date)', 'as_of_date', 'day') }}
            as days_since_whatsapp_engaged,
        {{ dbt.datediff('cast(open_out_for_delivery_at as date)', 'as_of_date', 'day') }}
            as days_since_out_for_delivery,
        whatsapp_messages_delivered,
        whatsapp_messages_read,
        whatsapp_messages_replied,
        consent_status,
        can_message_marketing,
        lifecycle_stage_code,
        rfm_segment,
        recency_score,
        frequency_score,
        monetary_score,
        is_potential_refuser,
        rto_risk_score,
        risk_band,
        first_orders.order_ref as first_order_ref,
        coalesce(first_orders.ad_channel, 'unattributed') as first_order_ad_channel,
        first_orders.ad_source as first_order_ad_source,
        first_orders.ad_campaign as first_order_ad_campaign,
        first_orders.ad_id as first_order_ad_id
    from customers
    left join first_orders on customers.customer_phone = first_orders.customer_phone
)

select * from final
