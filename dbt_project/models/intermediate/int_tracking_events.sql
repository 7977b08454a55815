{#- Keyed incremental (macros/keyed_incremental.sql): a run maps the events staged since
    the last, every event again when the status map or the city aliases change. -#}
{{ config(
    materialized=keyed_materialization(),
    unique_key='tracking_event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
{%- set seeds = [ref('carrier_status_map'), ref('city_aliases')] %}

with

{{ changed_keys('tracking_event_id', [ref('stg_carriers__tracking_events')], seeds=seeds) }}

events as (
    select * from {{ ref('stg_carriers__tracking_events') }}
    {{ where_changed('tracking_event_id') }}
),

status_map as (
    select
        carrier,
        {{ status_key('raw_status') }} as raw_status_key,
        canonical_status,
        failure_reason
    from {{ ref('carrier_status_map') }}
),

cities as (
    select * from {{ ref('city_aliases') }}
),

final as (
    select
        events.tracking_event_id,
        events.carrier,
        events.tracking_number,
        events.order_ref,
        events.raw_status,
        -- A carrier's own row wins over the row for every carrier ("*").
        coalesce(carrier_row.canonical_status, any_row.canonical_status, 'unknown') as canonical_status,
        case
            when coalesce(carrier_row.canonical_status, any_row.canonical_status) = 'failed_attempt'
                then coalesce(carrier_row.failure_reason, any_row.failure_reason, 'other')
        end as failure_reason,
        events.event_at,
        coalesce(cities.city, events.city_raw) as city,
        events.comment,
        events.source_file,
        events.line_number,
        events.loaded_at,
        events.staged_at,
        {{ seeds_fingerprint(seeds) }} as seeds_fingerprint
    from events
    left join status_map as carrier_row
        on events.carrier = carrier_row.carrier and events.raw_status_key = carrier_row.raw_status_key
    left join status_map as any_row
        on any_row.carrier = '*' and events.raw_status_key = any_row.raw_status_key
    left join cities on {{ status_key('events.city_raw') }} = cities.alias
)

select * from final
