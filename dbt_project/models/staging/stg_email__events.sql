{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.provider',
    '$.message_id',
    '$.event',
    '$.recipient',
    '$.template',
    '$.order_ref',
    '$.event_time',
    '$.bounce_type'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'email_events')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

final_candidates as (
    select
        md5(
            ({{ json_at(paths, '$.provider') }})
            || '|'
            || ({{ json_at(paths, '$.message_id') }})
            || '|'
            || ({{ json_at(paths, '$.event') }})
        ) as email_event_id,
        {{ json_at(paths, '$.provider') }} as provider,
        {{ json_at(paths, '$.message_id') }} as message_id,
        {{ json_at(paths, '$.event') }} as event_type,
        lower(trim({{ json_at(paths, '$.recipient') }})) as recipient,
        nullif({{ json_at(paths, '$.template') }}, '') as template_name,
        nullif({{ json_at(paths, '$.order_ref') }}, '') as order_ref,
        {{ iso_to_utc(json_at(paths, '$.event_time')) }} as event_at,
        nullif({{ json_at(paths, '$.bounce_type') }}, '') as bounce_type,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
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
