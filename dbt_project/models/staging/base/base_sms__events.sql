with

source as (
    {{ new_raw_rows(source('raw', 'sms_events')) }}
),

parsed as (
    select
        md5(
            ({{ json_text('payload', '$.provider') }})
            || '|'
            || ({{ json_text('payload', '$.message_id') }})
            || '|'
            || ({{ json_text('payload', '$.status') }})
        ) as sms_event_id,
        {{ json_text('payload', '$.provider') }} as provider,
        {{ json_text('payload', '$.message_id') }} as message_id,
        {{ json_text('payload', '$.direction') }} as direction,
        {{ json_text('payload', '$.phone') }} as phone_raw,
        {{ json_text('payload', '$.status') }} as status,
        {{ iso_to_utc(json_text('payload', '$.event_time')) }} as event_at,
        {{ json_text('payload', '$.body') }} as body,
        nullif({{ json_text('payload', '$.order_ref') }}, '') as order_ref,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
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
