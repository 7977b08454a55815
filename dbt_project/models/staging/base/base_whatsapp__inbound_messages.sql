{#- Every scalar path this model reads of a message, extracted in one pass (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.from',
    '$.timestamp',
    '$.type',
    '$.text.body',
    '$.button.payload',
    '$.interactive.button_reply.id',
    '$.button.text',
    '$.interactive.button_reply.title',
    '$.context.id'
] %}
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

message_fields as (
    select
        *,
        {{ json_texts('message', paths) }} as message_texts
    from messages
),

parsed as (
    select
        {{ json_at(paths, '$.id', 'message_texts') }} as inbound_message_id,
        {{ json_at(paths, '$.from', 'message_texts') }} as sender_wa_id,
        {{ epoch_to_utc(json_at(paths, '$.timestamp', 'message_texts')) }} as received_at,
        {{ json_at(paths, '$.type', 'message_texts') }} as message_type,
        {{ json_at(paths, '$.text.body', 'message_texts') }} as text_body,
        coalesce(
            {{ json_at(paths, '$.button.payload', 'message_texts') }},
            {{ json_at(paths, '$.interactive.button_reply.id', 'message_texts') }}
        ) as button_payload,
        coalesce(
            {{ json_at(paths, '$.button.text', 'message_texts') }},
            {{ json_at(paths, '$.interactive.button_reply.title', 'message_texts') }}
        )
            as button_text,
        {{ json_at(paths, '$.context.id', 'message_texts') }} as replied_to_message_id,
        record_id,
        source_file,
        line_number,
        loaded_at
    from message_fields
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
