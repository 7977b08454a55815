{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.session_id',
    '$.order_ref',
    '$.event_time',
    '$.time_on_page_s',
    '$.scroll_depth_pct',
    '$.products_viewed',
    '$.form_completion_s',
    '$.visits',
    '$.ad_creative',
    '$.device'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'lead_signals')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

final_candidates as (
    select
        {{ json_at(paths, '$.session_id') }} as session_id,
        {{ json_at(paths, '$.order_ref') }} as order_ref,
        {{ iso_to_utc(json_at(paths, '$.event_time')) }} as submitted_at,
        try_cast({{ json_at(paths, '$.time_on_page_s') }} as double) as time_on_page_s,
        try_cast({{ json_at(paths, '$.scroll_depth_pct') }} as double) as scroll_depth_pct,
        try_cast({{ json_at(paths, '$.products_viewed') }} as integer) as products_viewed,
        try_cast({{ json_at(paths, '$.form_completion_s') }} as double) as form_completion_s,
        try_cast({{ json_at(paths, '$.visits') }} as integer) as visits,
        {{ json_at(paths, '$.ad_creative') }} as ad_creative,
        {{ json_at(paths, '$.device') }} as device,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='session_id',
        order_by='loaded_at, source_file, line_number',
        columns=['session_id', 'order_ref', 'submitted_at', 'time_on_page_s', 'scroll_depth_pct', 'products_viewed', 'form_completion_s', 'visits', 'ad_creative', 'device', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['session_id']) }}
