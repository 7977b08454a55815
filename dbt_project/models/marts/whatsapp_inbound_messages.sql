{#- The customers' WhatsApp messages as the activations read them: replies to
    confirmations, STOPs, the last inbound message of the 24-hour window. A view, so a
    reply is visible as soon as its webhook is ingested, without a rebuild. -#}
with

inbound_messages as (
    select * from {{ ref('stg_whatsapp__inbound_messages') }}
),

final as (
    select
        inbound_messages.inbound_message_id,
        inbound_messages.sender_wa_id,
        inbound_messages.received_at,
        inbound_messages.message_type,
        inbound_messages.text_body,
        inbound_messages.button_payload,
        inbound_messages.replied_to_message_id,
        inbound_messages.reply_intent
    from inbound_messages
)

select * from final
