{#- WhatsApp engagement counts over the window that ends at the run date's cutoff
    (var whatsapp_engagement_window_days, SPEC §3: 60 days). -#}
with

run_date as (
    select * from {{ ref('int_run_date') }}
),

messages as (
    select * from {{ ref('int_whatsapp_messages') }}
),

inbound_messages as (
    select * from {{ ref('stg_whatsapp__inbound_messages') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

run_window as (
    select
        as_of_cutoff_at,
        {{ dbt.dateadd('day', -1 * var('whatsapp_engagement_window_days'), 'as_of_cutoff_at') }} as window_start_at
    from run_date
),

known_messages as (
    select messages.*
    from messages
    inner join run_window on messages.sent_at < run_window.as_of_cutoff_at
    where messages.customer_phone is not null
),

known_inbound as (
    select phones.phone_e164 as customer_phone, inbound_messages.received_at
    from inbound_messages
    inner join phones on inbound_messages.sender_wa_id = phones.phone_raw
    inner join run_window on inbound_messages.received_at < run_window.as_of_cutoff_at
    where phones.phone_e164 is not null
),

window_counts as (
    select
        known_messages.customer_phone,
        count(case when known_messages.sent_at >= run_window.window_start_at then 1 end) as messages_sent,
        count(
            case
                when known_messages.sent_at >= run_window.window_start_at
                    and known_messages.delivered_at < run_window.as_of_cutoff_at then 1
            end
        ) as messages_delivered,
        count(
            case
                when known_messages.sent_at >= run_window.window_start_at
                    and known_messages.read_at < run_window.as_of_cutoff_at then 1
            end
        ) as messages_read,
        count(
            case
                when known_messages.sent_at >= run_window.window_start_at
                    and known_messages.replied_at < run_window.as_of_cutoff_at then 1
            end
        ) as messages_replied,
        max(known_messages.sent_at) as last_message_sent_at
    from known_messages
    cross join run_window
    group by known_messages.customer_phone
),

engagement_events as (
    -- Engagement = the customer read one of our messages or wrote to us.
    select known_messages.customer_phone, known_messages.read_at as engaged_at
    from known_messages
    inner join run_window on known_messages.read_at < run_window.as_of_cutoff_at
    union all
    select customer_phone, received_at
    from known_inbound
),

last_engagement as (
    select customer_phone, max(engaged_at) as last_engaged_at
    from engagement_events
    group by customer_phone
),

customers as (
    select customer_phone from window_counts
    union
    select customer_phone from last_engagement
),

final as (
    select
        customers.customer_phone,
        {{ var('whatsapp_engagement_window_days') }} as window_days,
        coalesce(window_counts.messages_sent, 0) as messages_sent,
        coalesce(window_counts.messages_delivered, 0) as messages_delivered,
        coalesce(window_counts.messages_read, 0) as messages_read,
        coalesce(window_counts.messages_replied, 0) as messages_replied,
        window_counts.last_message_sent_at,
        last_engagement.last_engaged_at
    from customers
    left join window_counts on customers.customer_phone = window_counts.customer_phone
    left join last_engagement on customers.customer_phone = last_engagement.customer_phone
)

select * from final
