{#- The vocabulary of segment files: every column a filter (or a file's `sql:`
    condition) can read. Adding a column here makes it available to `sql:` at once;
    a new named filter also needs a line in FILTERS of common/segments.py. -#}
with

customers as (
    select * from {{ ref('customer_360') }}
),

final as (
    select
        customer_phone,
        as_of_date,
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
        risk_band
    from customers
)

select * from final
