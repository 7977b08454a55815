with

source as (
    select * from {{ source('raw', 'whatsapp_webhooks') }}
),

messages as (
    select
        source.record_id,
        source.loaded_at,
        source.source_file,
        source.line_number,
        messages.message
    from source,
        unnest(json_extract(source.payload, '$.entry[*].changes[*].value.messages[*]')) as messages (message)
),

parsed as (
    select
        message ->> '$.id' as inbound_message_id,
        message ->> '$.from' as sender_wa_id,
        {{ epoch_to_utc("message ->> '$.timestamp'") }} as received_at,
        message ->> '$.type' as message_type,
        message ->> '$.text.body' as text_body,
        coalesce(
            message ->> '$.button.payload',
            message ->> '$.interactive.button_reply.id'
        ) as button_payload,
        coalesce(message ->> '$.button.text', message ->> '$.interactive.button_reply.title') as button_text,
        message ->> '$.context.id' as replied_to_message_id,
        record_id,
        source_file,
        line_number,
        loaded_at
    from messages
),

final as (
    select
        *,
        -- What the customer meant, from a button or from the words every COD team sees.
        case
            when upper(button_payload) in ('CONFIRM', 'YES', 'OUI') then 'confirm'
            when upper(button_payload) in ('CANCEL', 'NO', 'NON') then 'cancel'
            when upper(button_payload) = 'STOP' then 'opt_out'
            when upper(trim(text_body)) in ('STOP', 'ARRET', 'ARRÊT', 'UNSUBSCRIBE', 'DESABONNER') then 'opt_out'
            when lower(trim(text_body)) in ('oui', 'yes', 'wakha', 'ok', 'confirm', 'confirmer', 'naam', 'نعم')
                then 'confirm'
            when lower(trim(text_body)) in ('non', 'no', 'annuler', 'cancel', 'la', 'لا') then 'cancel'
            else 'other'
        end as reply_intent
    from parsed
    qualify
        row_number() over (
            partition by inbound_message_id order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
