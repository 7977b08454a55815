{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.provider',
    '$.message_id',
    '$.status',
    '$.direction',
    '$.phone',
    '$.event_time',
    '$.body',
    '$.order_ref'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'sms_events')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

parsed as (
    select
        md5(
            ({{ json_at(paths, '$.provider') }})
            || '|'
            || ({{ json_at(paths, '$.message_id') }})
            || '|'
            || ({{ json_at(paths, '$.status') }})
        ) as sms_event_id,
        {{ json_at(paths, '$.provider') }} as provider,
        {{ json_at(paths, '$.message_id') }} as message_id,
        {{ json_at(paths, '$.direction') }} as direction,
        {{ json_at(paths, '$.phone') }} as phone_raw,
        {{ json_at(paths, '$.status') }} as status,
        {{ iso_to_utc(json_at(paths, '$.event_time')) }} as event_at,
        {{ json_at(paths, '$.body') }} as body,
        nullif({{ json_at(paths, '$.order_ref') }}, '') as order_ref,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

final as (
    {{ deduplicate_first(
        'parsed',
        partition_by='sms_event_id',
        order_by='loaded_at, source_file, line_number',
        columns=['sms_event_id', 'provider', 'message_id', 'direction', 'phone_raw', 'status', 'event_at', 'body', 'order_ref', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['sms_event_id']) }}
