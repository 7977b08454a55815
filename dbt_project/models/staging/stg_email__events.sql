with

source as (
    {{ new_raw_rows(source('raw', 'email_events')) }}
),

final_candidates as (
    select
        md5(
            ({{ json_text('payload', '$.provider') }})
            || '|'
            || ({{ json_text('payload', '$.message_id') }})
            || '|'
            || ({{ json_text('payload', '$.event') }})
        ) as email_event_id,
        {{ json_text('payload', '$.provider') }} as provider,
        {{ json_text('payload', '$.message_id') }} as message_id,
        {{ json_text('payload', '$.event') }} as event_type,
        lower(trim({{ json_text('payload', '$.recipient') }})) as recipient,
        nullif({{ json_text('payload', '$.template') }}, '') as template_name,
        nullif({{ json_text('payload', '$.order_ref') }}, '') as order_ref,
        {{ iso_to_utc(json_text('payload', '$.event_time')) }} as event_at,
        nullif({{ json_text('payload', '$.bounce_type') }}, '') as bounce_type,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
),

-- One row per (message, event type): the first report wins (a provider that reports
-- "opened" on every open gives one row, the first open).
final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='email_event_id',
        order_by='event_at, loaded_at, source_file, line_number',
        columns=[
            'email_event_id', 'provider', 'message_id', 'event_type', 'recipient', 'template_name',
            'order_ref', 'event_at', 'bounce_type', 'record_id', 'source_file', 'line_number',
            'loaded_at'
        ]
    ) }}
)

{{ not_yet_staged('final', ['email_event_id']) }}
