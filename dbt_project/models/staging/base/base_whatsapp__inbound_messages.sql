with

source as (
    {{ new_raw_rows(source('raw', 'whatsapp_webhooks')) }}
),

messages as (
    select
        source.record_id,
        source.loaded_at,
        source.source_file,
        source.line_number,
        messages.message
    from source
    {{ json_array_rows(
        'source.payload', '$.entry[*].changes[*].value.messages', 'messages', 'message'
    ) }}
),

parsed as (
    select
        {{ json_text('message', '$.id') }} as inbound_message_id,
        {{ json_text('message', '$.from') }} as sender_wa_id,
        {{ epoch_to_utc(json_text('message', '$.timestamp')) }} as received_at,
        {{ json_text('message', '$.type') }} as message_type,
        {{ json_text('message', '$.text.body') }} as text_body,
        coalesce(
            {{ json_text('message', '$.button.payload') }},
            {{ json_text('message', '$.interactive.button_reply.id') }}
        ) as button_payload,
        coalesce(
            {{ json_text('message', '$.button.text') }}, {{ json_text('message', '$.interactive.button_reply.title') }}
        )
            as button_text,
        {{ json_text('message', '$.context.id') }} as replied_to_message_id,
        record_id,
        source_file,
        line_number,
        loaded_at
    from messages
),

final as (
    {{ deduplicate_first(
        'parsed',
        partition_by='inbound_message_id',
        order_by='loaded_at, source_file, line_number',
        columns=[
            'inbound_message_id', 'sender_wa_id', 'received_at', 'message_type', 'text_body', 'button_payload',
            'button_text', 'replied_to_message_id', 'record_id', 'source_file', 'line_number', 'loaded_at'
        ]
    ) }}
)

{{ not_yet_staged('final', ['inbound_message_id']) }}
