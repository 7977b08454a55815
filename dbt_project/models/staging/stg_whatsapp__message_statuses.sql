{#- Every scalar path this model reads of a status, extracted in one pass (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.status',
    '$.timestamp',
    '$.recipient_id',
    '$.biz_opaque_callback_data',
    '$.errors[0].code',
    '$.errors[0].title',
    '$.conversation.origin.type'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'whatsapp_webhooks')) }}
),

statuses as (
    select
        source.record_id,
        source.loaded_at,
        source.source_file,
        source.line_number,
        statuses.status
    from source
    {{ json_array_rows(
        'source.payload', '$.entry[*].changes[*].value.statuses', 'statuses', 'status'
    ) }}
),

status_fields as (
    select
        *,
        {{ json_texts('status', paths) }} as status_texts
    from statuses
),

parsed as (
    select
        {{ json_at(paths, '$.id', 'status_texts') }} as message_id,
        {{ json_at(paths, '$.status', 'status_texts') }} as status,
        {{ epoch_to_utc(json_at(paths, '$.timestamp', 'status_texts')) }} as status_at,
        {{ json_at(paths, '$.recipient_id', 'status_texts') }} as recipient_wa_id,
        {{ json_at(paths, '$.biz_opaque_callback_data', 'status_texts') }} as callback_data,
        regexp_extract(
            {{ json_at(paths, '$.biz_opaque_callback_data', 'status_texts') }}, 'order_ref=([^&]+)', 1
        ) as order_ref,
        regexp_extract(
            {{ json_at(paths, '$.biz_opaque_callback_data', 'status_texts') }}, 'template=([^&]+)', 1
        ) as template_name,
        regexp_extract(
            {{ json_at(paths, '$.biz_opaque_callback_data', 'status_texts') }}, 'campaign=([^&]+)', 1
        ) as campaign_id,
        regexp_extract(
            {{ json_at(paths, '$.biz_opaque_callback_data', 'status_texts') }}, 'outbox=([^&]+)', 1
        ) as outbox_key,
        try_cast({{ json_at(paths, '$.errors[0].code', 'status_texts') }} as integer) as error_code,
        {{ json_at(paths, '$.errors[0].title', 'status_texts') }} as error_title,
        {{ json_at(paths, '$.conversation.origin.type', 'status_texts') }} as conversation_category,
        record_id,
        source_file,
        line_number,
        loaded_at
    from status_fields
),

final_candidates as (
    select
        message_id || ':' || status as message_status_id,
        message_id,
        status,
        status_at,
        recipient_wa_id,
        nullif(order_ref, '') as order_ref,
        nullif(template_name, '') as template_name,
        nullif(campaign_id, '') as campaign_id,
        nullif(outbox_key, '') as outbox_key,
        error_code,
        error_title,
        conversation_category,
        record_id,
        source_file,
        line_number,
        loaded_at
    from parsed
),

final as (
-- Meta delivers webhooks at least once: one row per message and status.
    {{ deduplicate_first(
        'final_candidates',
        partition_by='message_id, status',
        order_by='status_at, loaded_at, source_file, line_number',
        columns=['message_status_id', 'message_id', 'status', 'status_at', 'recipient_wa_id', 'order_ref', 'template_name', 'campaign_id', 'outbox_key', 'error_code', 'error_title', 'conversation_category', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['message_id', 'status']) }}
