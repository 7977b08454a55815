{{ config(materialized='view') }}

-- The typed inbound messages (base_whatsapp__inbound_messages, parsed once) with what the
-- customer meant: a view, so an edit of the reply_vocabulary seed re-reads every reply at
-- the next run.

with

messages as (
    select * from {{ ref('base_whatsapp__inbound_messages') }}
),

vocabulary as (
    select * from {{ ref('reply_vocabulary') }}
),

final as (
    select
        messages.inbound_message_id,
        messages.sender_wa_id,
        messages.received_at,
        messages.message_type,
        messages.text_body,
        messages.button_payload,
        messages.button_text,
        messages.replied_to_message_id,
        messages.record_id,
        messages.source_file,
        messages.line_number,
        messages.loaded_at,
        -- What the customer meant, from a button payload or from the words every COD team
        -- sees (the one vocabulary of every channel: the reply_vocabulary seed).
        coalesce(button_words.intent, text_words.intent, 'other') as reply_intent,
        messages.staged_at
    from messages
    left join vocabulary as button_words
        on {{ reply_key('messages.button_payload') }} = button_words.reply_key
    left join vocabulary as text_words
        on {{ reply_key('messages.text_body') }} = text_words.reply_key
)

select * from final
