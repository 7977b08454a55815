{#- The one date every customer mart describes. `as_of_date` (a dbt var, YYYY-MM-DD)
    wins; without it, the date of the latest event anywhere in the data, so that a
    re-run on the same data gives the same answers whatever the wall clock says. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

tracking_events as (
    select * from {{ ref('int_tracking_events') }}
),

whatsapp_messages as (
    select * from {{ ref('int_whatsapp_messages') }}
),

inbound_messages as (
    select * from {{ ref('stg_whatsapp__inbound_messages') }}
),

user_preferences as (
    select * from {{ ref('stg_whatsapp__user_preferences') }}
),

sms_events as (
    select * from {{ ref('stg_sms__events') }}
),

event_times as (
    select max(placed_at) as event_at from orders
    union all
    select max(updated_at) from orders
    union all
    select max(event_at) from tracking_events
    union all
    select max(sent_at) from whatsapp_messages
    union all
    select max(delivered_at) from whatsapp_messages
    union all
    select max(read_at) from whatsapp_messages
    union all
    select max(received_at) from inbound_messages
    union all
    select max(changed_at) from user_preferences
    union all
    select max(event_at) from sms_events
),

latest_event as (
    select max(event_at) as latest_event_at from event_times
),

run_date as (
    select
        latest_event_at,
        {% if var('as_of_date', none) %}
        cast('{{ var("as_of_date") }}' as date) as as_of_date,
        'var' as as_of_date_source
        {% else %}
        -- An empty warehouse has no event: today, so that the marts still build.
            coalesce(cast(latest_event_at as date), current_date) as as_of_date,
            'latest_event' as as_of_date_source
        {% endif %}
    from latest_event
),

final as (
    select
        as_of_date,
        -- Exclusive upper bound: everything that happened on the run date counts.
        {{ dbt.dateadd('day', 1, dbt.cast('as_of_date', api.Column.translate_type('timestamp'))) }} as as_of_cutoff_at,
        as_of_date_source,
        latest_event_at
    from run_date
)

select * from final
