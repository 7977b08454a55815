{#- The customers' SMS replies as the activations read them (storefront decisions, the
    agent queue, opt-outs): a view, so a reply counts as soon as it is ingested. -#}
with

replies as (
    select * from {{ ref('int_sms_replies') }}
),

final as (
    select
        replies.sms_event_id,
        replies.provider,
        replies.message_id,
        replies.customer_phone,
        replies.received_at,
        replies.body,
        replies.reply_intent,
        replies.order_ref,
        replies.attributed_by,
        replies.open_orders_at_reply,
        replies.candidate_order_refs
    from replies
)

select * from final
