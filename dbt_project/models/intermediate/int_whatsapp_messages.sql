with

statuses as (
    select * from {{ ref('stg_whatsapp__message_statuses') }}
),

replies as (
    select * from {{ ref('stg_whatsapp__inbound_messages') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

messages as (
    select
        message_id,
        max(recipient_wa_id) as recipient_wa_id,
        max(order_ref) as order_ref,
        max(template_name) as template_name,
        max(campaign_id) as campaign_id,
        min(case when status = 'sent' then status_at end) as sent_at,
        -- A "read" implies delivery even when Meta skipped the "delivered" webhook.
        min(case when status in ('delivered', 'read') then status_at end) as delivered_at,
        min(case when status = 'read' then status_at end) as read_at,
        min(case when status = 'failed' then status_at end) as failed_at,
        max(error_code) as error_code,
        max(error_title) as error_title,
        min(status_at) as first_status_at
    from statuses
    group by message_id
),

reply_candidates as (
    select
        replied_to_message_id as message_id,
        received_at as replied_at,
        reply_intent,
        button_payload
    from replies
    where replied_to_message_id is not null
),

first_reply as (
    {{ deduplicate_first('reply_candidates', partition_by='message_id', order_by='replied_at') }}
),

final as (
    select
        messages.message_id,
        phones.phone_e164 as customer_phone,
        messages.order_ref,
        messages.template_name,
        messages.campaign_id,
        coalesce(messages.sent_at, messages.first_status_at) as sent_at,
        messages.delivered_at,
        messages.read_at,
        messages.failed_at,
        messages.error_code,
        messages.error_title,
        first_reply.replied_at,
        first_reply.reply_intent,
        first_reply.button_payload as reply_button_payload,
        case
            when messages.failed_at is not null then 'failed'
            when messages.read_at is not null then 'read'
            when messages.delivered_at is not null then 'delivered'
            else 'sent'
        end as latest_status
    from messages
    left join first_reply on messages.message_id = first_reply.message_id
    left join phones on messages.recipient_wa_id = phones.phone_raw
)

select * from final
