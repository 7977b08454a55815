with

source as (
    select * from {{ source('raw', 'whatsapp_webhooks') }}
),

preferences as (
    select
        source.record_id,
        source.loaded_at,
        source.source_file,
        source.line_number,
        preferences.preference
    from source,
        unnest(json_extract(source.payload, '$.entry[*].changes[*].value.user_preferences[*]'))
            as preferences (preference)
),

final as (
    select
        md5(
            (preference ->> '$.wa_id') || '|' || (preference ->> '$.category') || '|'
            || (preference ->> '$.value') || '|' || (preference ->> '$.timestamp')
        ) as preference_event_id,
        preference ->> '$.wa_id' as wa_id,
        preference ->> '$.category' as category,
        lower(preference ->> '$.value') as preference_value,
        preference ->> '$.detail' as detail,
        {{ epoch_to_utc("preference ->> '$.timestamp'") }} as changed_at,
        record_id,
        source_file,
        line_number,
        loaded_at
    from preferences
    qualify
        row_number() over (
            partition by preference_event_id order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
