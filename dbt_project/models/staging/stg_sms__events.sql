with

source as (
    select * from {{ source('raw', 'sms_events') }}
),

final as (
    select
        md5(
            (payload ->> '$.provider') || '|' || (payload ->> '$.message_id') || '|' || (payload ->> '$.status')
        ) as sms_event_id,
        payload ->> '$.provider' as provider,
        payload ->> '$.message_id' as message_id,
        payload ->> '$.direction' as direction,
        payload ->> '$.phone' as phone_raw,
        payload ->> '$.status' as status,
        {{ iso_to_utc("payload ->> '$.event_time'") }} as event_at,
        payload ->> '$.body' as body,
        nullif(payload ->> '$.order_ref', '') as order_ref,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
    qualify
        row_number() over (
            partition by sms_event_id order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
