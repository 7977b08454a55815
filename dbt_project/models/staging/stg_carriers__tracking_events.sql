{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.carrier',
    '$.tracking_number',
    '$.order_ref',
    '$.raw_status',
    '$.event_time',
    '$.city',
    '$.comment',
    '$.event_id'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'carrier_tracking_events')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

parsed as (
    select
        lower(trim({{ json_at(paths, '$.carrier') }})) as carrier,
        trim({{ json_at(paths, '$.tracking_number') }}) as tracking_number,
        trim({{ json_at(paths, '$.order_ref') }}) as order_ref,
        {{ json_at(paths, '$.raw_status') }} as raw_status,
        {{ status_key(json_at(paths, '$.raw_status')) }} as raw_status_key,
        {{ iso_to_utc(json_at(paths, '$.event_time')) }} as event_at,
        nullif(trim({{ json_at(paths, '$.city') }}), '') as city_raw,
        nullif(trim({{ json_at(paths, '$.comment') }}), '') as comment,
        {{ json_at(paths, '$.event_id') }} as carrier_event_id,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

final_candidates as (
    select
        md5(
            carrier || '|' || tracking_number || '|' || raw_status_key || '|'
            || {{ dbt.cast('event_at', dbt.type_string()) }}
        ) as tracking_event_id,
        *
    from parsed
),

-- Carriers resend the same update (polling overlaps, retries): one row per distinct event.
final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='carrier, tracking_number, raw_status_key, event_at',
        order_by='loaded_at, source_file, line_number',
        columns=[
            'tracking_event_id', 'carrier', 'tracking_number', 'order_ref', 'raw_status', 'raw_status_key',
            'event_at', 'city_raw', 'comment', 'carrier_event_id', 'record_id', 'source_file', 'line_number',
            'loaded_at'
        ]
    ) }}
)

{{ not_yet_staged('final', ['carrier', 'tracking_number', 'raw_status_key', 'event_at']) }}
