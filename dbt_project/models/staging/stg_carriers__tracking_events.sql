with

source as (
    select * from {{ source('raw', 'carrier_tracking_events') }}
),

parsed as (
    select
        lower(trim(payload ->> '$.carrier')) as carrier,
        trim(payload ->> '$.tracking_number') as tracking_number,
        trim(payload ->> '$.order_ref') as order_ref,
        payload ->> '$.raw_status' as raw_status,
        {{ status_key("payload ->> '$.raw_status'") }} as raw_status_key,
        {{ iso_to_utc("payload ->> '$.event_time'") }} as event_at,
        nullif(trim(payload ->> '$.city'), '') as city_raw,
        nullif(trim(payload ->> '$.comment'), '') as comment,
        payload ->> '$.event_id' as carrier_event_id,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
),

final as (
    select
        md5(carrier || '|' || tracking_number || '|' || raw_status_key || '|' || cast(event_at as varchar))
            as tracking_event_id,
        *
    from parsed
    -- Carriers resend the same update (polling overlaps, retries): one row per distinct event.
    qualify
        row_number() over (
            partition by carrier, tracking_number, raw_status_key, event_at
            order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
