with

source as (
    {{ new_raw_rows(source('raw', 'whatsapp_webhooks')) }}
),

preferences as (
    select
        source.record_id,
        source.loaded_at,
        source.source_file,
        source.line_number,
        preferences.preference
    from source
    {{ json_array_rows(
        'source.payload', '$.entry[*].changes[*].value.user_preferences', 'preferences', 'preference'
    ) }}
),

final_candidates as (
    select
        md5(
            ({{ json_text('preference', '$.wa_id') }}) || '|' || ({{ json_text('preference', '$.category') }}) || '|'
            || ({{ json_text('preference', '$.value') }}) || '|' || ({{ json_text('preference', '$.timestamp') }})
        ) as preference_event_id,
        {{ json_text('preference', '$.wa_id') }} as wa_id,
        {{ json_text('preference', '$.category') }} as category,
        lower({{ json_text('preference', '$.value') }}) as preference_value,
        {{ json_text('preference', '$.detail') }} as detail,
        {{ epoch_to_utc(json_text('preference', '$.timestamp')) }} as changed_at,
        record_id,
        source_file,
        line_number,
        loaded_at
    from preferences
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='preference_event_id',
        order_by='loaded_at, source_file, line_number',
        columns=['preference_event_id', 'wa_id', 'category', 'preference_value', 'detail', 'changed_at', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['preference_event_id']) }}
