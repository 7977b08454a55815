{#- SPEC §3 message rates: every WhatsApp message cod360 sent, by template and campaign.
    A read counts as delivered (int_whatsapp_messages); replies are tied to the message
    by context, so a customer who replied with read receipts off counts as replied but
    not read. -#}
with

messages as (
    select * from {{ ref('int_whatsapp_messages') }}
),

funnel as (
    select
        coalesce(template_name, '(none)') as template_name,
        coalesce(campaign_id, '(none)') as campaign_id,
        count(*) as messages_sent,
        count(delivered_at) as messages_delivered,
        count(read_at) as messages_read,
        count(replied_at) as messages_replied,
        count(failed_at) as messages_failed,
        count(case when reply_intent = 'confirm' then 1 end) as replies_confirm,
        count(case when reply_intent = 'cancel' then 1 end) as replies_cancel,
        count(case when reply_intent in ('opt_out', 'opt_out_all') then 1 end) as replies_opt_out,
        count(distinct customer_phone) as customers_messaged,
        min(sent_at) as first_sent_at,
        max(sent_at) as last_sent_at
    from messages
    group by coalesce(template_name, '(none)'), coalesce(campaign_id, '(none)')
),

final as (
    select
        *,
        {{ safe_ratio('messages_delivered', 'messages_sent') }} as delivery_rate,
        {{ safe_ratio('messages_read', 'messages_delivered') }} as read_rate,
        {{ safe_ratio('messages_replied', 'messages_delivered') }} as reply_rate,
        {{ safe_ratio('messages_failed', 'messages_sent') }} as failure_rate
    from funnel
)

select * from final
