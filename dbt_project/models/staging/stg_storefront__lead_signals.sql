with

source as (
    select * from {{ source('raw', 'lead_signals') }}
),

final as (
    select
        payload ->> '$.session_id' as session_id,
        payload ->> '$.order_ref' as order_ref,
        {{ iso_to_utc("payload ->> '$.event_time'") }} as submitted_at,
        try_cast(payload ->> '$.time_on_page_s' as double) as time_on_page_s,
        try_cast(payload ->> '$.scroll_depth_pct' as double) as scroll_depth_pct,
        try_cast(payload ->> '$.products_viewed' as integer) as products_viewed,
        try_cast(payload ->> '$.form_completion_s' as double) as form_completion_s,
        try_cast(payload ->> '$.visits' as integer) as visits,
        payload ->> '$.ad_creative' as ad_creative,
        payload ->> '$.device' as device,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
    qualify
        row_number() over (
            partition by session_id order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
