{#- Which replies belong to which order's confirmation.
    * A reply that quotes (context.id) one of the order's confirmation messages belongs
      to the order: `whatsapp_first_reply_at` counts only these (the ML contract).
    * A reply without context (customers often just type "oui") belongs to the order
      whose confirmation was the latest sent to that phone before it, when it arrives
      before the order resolved. `whatsapp_confirmed_at` / `whatsapp_cancelled_at` and
      `whatsapp_first_reply_any_at` use both kinds; `whatsapp_confirmed_by_context`
      says which one decided.
    * An inbound SMS from the order's phone, at or after the order was placed and before
      it resolved, is `sms_replied_at` (inbound SMS carry no order reference; two open
      orders of one phone both get the reply).
    * `sms_confirmed_at` / `sms_cancelled_at`: the first SMS reply meaning OUI / NON
      (the reply_vocabulary seed) attributed to the order by int_sms_replies — the
      same evidence as a WhatsApp CONFIRM / CANCEL, from the other channel.
    * `email_opened_at`: the first open (or click: a click is an open the tracking pixel
      missed) of the order's confirmation email (template `confirmation_template_name`),
      at the time the provider reports it — the lead score cuts it at its moment. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

messages as (
    select * from {{ ref('int_whatsapp_messages') }}
),

inbound_messages as (
    select * from {{ ref('stg_whatsapp__inbound_messages') }}
),

sms_events as (
    select * from {{ ref('stg_sms__events') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

attributed_sms as (
    select * from {{ ref('int_sms_replies') }}
),

email_events as (
    select * from {{ ref('stg_email__events') }}
),

confirmation_messages as (
    select message_id, order_ref, customer_phone, sent_at
    from messages
    where template_name = '{{ var("confirmation_template_name") }}'
        and order_ref is not null
),

first_confirmation as (
    select
        order_ref,
        max(customer_phone) as customer_phone,
        min(sent_at) as confirmation_sent_at,
        count(*) as confirmation_messages
    from confirmation_messages
    group by order_ref
),

confirmation_windows as (
    -- An order's window for context-less replies: from its first confirmation message to
    -- the next order's first confirmation message to the same phone.
    select
        first_confirmation.order_ref,
        first_confirmation.customer_phone,
        first_confirmation.confirmation_sent_at,
        lead(first_confirmation.confirmation_sent_at) over (
            partition by first_confirmation.customer_phone
            order by first_confirmation.confirmation_sent_at, first_confirmation.order_ref
        ) as next_confirmation_sent_at,
        orders.resolved_at
    from first_confirmation
    inner join orders on first_confirmation.order_ref = orders.order_ref
    where first_confirmation.customer_phone is not null
),

inbound_with_phone as (
    select
        inbound_messages.inbound_message_id,
        inbound_messages.received_at,
        inbound_messages.reply_intent,
        inbound_messages.replied_to_message_id,
        phones.phone_e164 as customer_phone
    from inbound_messages
    left join phones on inbound_messages.sender_wa_id = phones.phone_raw
),

context_replies as (
    select
        confirmation_messages.order_ref,
        inbound_with_phone.received_at,
        inbound_with_phone.reply_intent,
        true as by_context
    from inbound_with_phone
    inner join confirmation_messages
        on inbound_with_phone.replied_to_message_id = confirmation_messages.message_id
),

window_replies as (
    select
        confirmation_windows.order_ref,
        inbound_with_phone.received_at,
        inbound_with_phone.reply_intent,
        false as by_context
    from inbound_with_phone
    inner join confirmation_windows
        on inbound_with_phone.customer_phone = confirmation_windows.customer_phone
        and inbound_with_phone.received_at >= confirmation_windows.confirmation_sent_at
        and (
            confirmation_windows.next_confirmation_sent_at is null
            or inbound_with_phone.received_at < confirmation_windows.next_confirmation_sent_at
        )
        and (
            confirmation_windows.resolved_at is null
            or inbound_with_phone.received_at < confirmation_windows.resolved_at
        )
    where inbound_with_phone.replied_to_message_id is null
),

attributed_replies as (
    select * from context_replies
    union all
    select * from window_replies
),

reply_times as (
    select
        order_ref,
        min(case when by_context then received_at end) as whatsapp_first_reply_at,
        min(received_at) as whatsapp_first_reply_any_at,
        min(case when reply_intent = 'confirm' then received_at end) as whatsapp_confirmed_at,
        min(case when reply_intent = 'cancel' then received_at end) as whatsapp_cancelled_at,
        min(case when reply_intent in ('opt_out', 'opt_out_all') then received_at end) as whatsapp_opted_out_at,
        max(case when reply_intent = 'confirm' and by_context then 1 else 0 end) as confirmed_by_context
    from attributed_replies
    group by order_ref
),

inbound_sms as (
    select phones.phone_e164 as customer_phone, sms_events.event_at
    from sms_events
    inner join phones on sms_events.phone_raw = phones.phone_raw
    where sms_events.direction = 'inbound'
        and phones.phone_e164 is not null
),

sms_replies as (
    select orders.order_ref, min(inbound_sms.event_at) as sms_replied_at
    from orders
    inner join inbound_sms
        on orders.customer_phone = inbound_sms.customer_phone
        and orders.placed_at <= inbound_sms.event_at
        and (orders.resolved_at is null or orders.resolved_at > inbound_sms.event_at)
    group by orders.order_ref
),

sms_intents as (
    select
        order_ref,
        min(case when reply_intent = 'confirm' then received_at end) as sms_confirmed_at,
        min(case when reply_intent = 'cancel' then received_at end) as sms_cancelled_at
    from attributed_sms
    where order_ref is not null
    group by order_ref
),

email_opens as (
    select
        order_ref,
        min(event_at) as email_opened_at
    from email_events
    where event_type in ('opened', 'clicked')
        and order_ref is not null
        and template_name = '{{ var("confirmation_template_name") }}'
    group by order_ref
),

final as (
    select
        orders.order_ref,
        first_confirmation.confirmation_sent_at,
        coalesce(first_confirmation.confirmation_messages, 0) as confirmation_messages,
        reply_times.whatsapp_first_reply_at,
        reply_times.whatsapp_first_reply_any_at,
        {{ dbt.datediff(
            'first_confirmation.confirmation_sent_at', 'reply_times.whatsapp_first_reply_any_at', 'second'
        ) }}
            as whatsapp_reply_latency_s,
        reply_times.whatsapp_confirmed_at,
        reply_times.whatsapp_cancelled_at,
        reply_times.whatsapp_opted_out_at,
        case
            when reply_times.whatsapp_confirmed_at is not null then reply_times.confirmed_by_context = 1
        end as whatsapp_confirmed_by_context,
        sms_replies.sms_replied_at,
        sms_intents.sms_confirmed_at,
        sms_intents.sms_cancelled_at,
        email_opens.email_opened_at
    from orders
    left join first_confirmation on orders.order_ref = first_confirmation.order_ref
    left join reply_times on orders.order_ref = reply_times.order_ref
    left join sms_replies on orders.order_ref = sms_replies.order_ref
    left join sms_intents on orders.order_ref = sms_intents.order_ref
    left join email_opens on orders.order_ref = email_opens.order_ref
)

select * from final
