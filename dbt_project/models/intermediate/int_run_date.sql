{#- The one date every customer mart describes. `as_of_date` (a dbt var, YYYY-MM-DD)
    wins; without it, the date of the latest event anywhere in the data, so that a
    re-run on the same data gives the same answers whatever the wall clock says.
    A robust latest: events later than the last load (plus a day for senders' clocks
    and wall-clock times up to UTC+14) are outliers, not "today", and are ignored, so
    one event dated 2099 cannot move the date (the ingestion boundary quarantines
    such records too; this keeps the date right whatever else writes the tables). -#}
{%- set raw_tables = ['shopify_orders', 'woocommerce_orders', 'youcan_orders', 'lightfunnels_orders',
    'prestashop_orders', 'tiktok_leads', 'carrier_tracking_events', 'whatsapp_webhooks', 'sms_events'] %}
{%- set event_columns = [
    ('orders', 'placed_at'), ('orders', 'updated_at'), ('tracking_events', 'event_at'),
    ('whatsapp_messages', 'sent_at'), ('whatsapp_messages', 'delivered_at'),
    ('whatsapp_messages', 'read_at'), ('inbound_messages', 'received_at'),
    ('user_preferences', 'changed_at'), ('sms_events', 'event_at')] %}
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

loads as (
    {% for table in raw_tables %}
        select max(loaded_at) as loaded_at from {{ source('raw', table) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

load_cutoff as (
    select {{ dbt.dateadd('day', 1, 'max(loaded_at)') }} as cutoff_at from loads
),

event_times as (
    {% for relation, column in event_columns %}
        select max({{ relation }}.{{ column }}) as event_at
        from {{ relation }}
        cross join load_cutoff
        where {{ relation }}.{{ column }} <= load_cutoff.cutoff_at
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
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
