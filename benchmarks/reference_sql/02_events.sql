-- Hand-written reference, step 2: the event sources the customer marts read, typed and
-- deduplicated like their dbt staging models (carrier tracking with its mapped status,
-- WhatsApp statuses, inbound messages and user preferences, SMS event times).

create or replace temp table carrier_status_map as
select carrier, status_key(raw_status) as raw_status_key, canonical_status, failure_reason
from read_csv(getvariable('seeds') || '/carrier_status_map.csv', header = true, all_varchar = true);

create or replace temp table city_aliases as
select * from read_csv(getvariable('seeds') || '/city_aliases.csv', header = true, all_varchar = true);

-- One row per distinct carrier event (carriers resend updates), as int_tracking_events.
create or replace temp table tracking_events as
with events as (
    select
        lower(trim(payload ->> '$.carrier')) as carrier,
        trim(payload ->> '$.tracking_number') as tracking_number,
        trim(payload ->> '$.order_ref') as order_ref,
        status_key(payload ->> '$.raw_status') as raw_status_key,
        iso_utc(payload ->> '$.event_time') as event_at,
        loaded_at
    from raw.carrier_tracking_events
    qualify row_number() over (
        partition by carrier, tracking_number, raw_status_key, event_at order by loaded_at, source_file, line_number
    ) = 1
)
select
    events.order_ref,
    events.carrier,
    events.tracking_number,
    coalesce(carrier_row.canonical_status, any_row.canonical_status, 'unknown') as canonical_status,
    case
        when coalesce(carrier_row.canonical_status, any_row.canonical_status) = 'failed_attempt'
            then coalesce(carrier_row.failure_reason, any_row.failure_reason, 'other')
    end as failure_reason,
    events.event_at,
    events.loaded_at
from events
left join carrier_status_map as carrier_row
    on events.carrier = carrier_row.carrier and events.raw_status_key = carrier_row.raw_status_key
left join carrier_status_map as any_row
    on any_row.carrier = '*' and events.raw_status_key = any_row.raw_status_key;

-- One row per WhatsApp message we sent (from its deduplicated statuses), as int_whatsapp_messages
-- without the reply (added in step 4).
create or replace temp table whatsapp_messages as
with statuses as (
    select
        status ->> '$.id' as message_id,
        status ->> '$.status' as status,
        epoch_utc(status ->> '$.timestamp') as status_at,
        status ->> '$.recipient_id' as recipient_wa_id
    from raw.whatsapp_webhooks,
        unnest(json_extract(payload, '$.entry[*].changes[*].value.statuses[*]')) as statuses (status)
    qualify row_number() over (
        partition by message_id, status order by status_at, loaded_at, source_file, line_number
    ) = 1
)
select
    message_id,
    max(recipient_wa_id) as recipient_wa_id,
    coalesce(min(case when status = 'sent' then status_at end), min(status_at)) as sent_at,
    min(case when status in ('delivered', 'read') then status_at end) as delivered_at,
    min(case when status = 'read' then status_at end) as read_at
from statuses
group by message_id;

create or replace temp table inbound_messages as
select
    message ->> '$.id' as inbound_message_id,
    message ->> '$.from' as sender_wa_id,
    epoch_utc(message ->> '$.timestamp') as received_at,
    message ->> '$.context.id' as replied_to_message_id,
    case
        when upper(coalesce(message ->> '$.button.payload', message ->> '$.interactive.button_reply.id')) = 'STOP'
            then true
        when upper(coalesce(message ->> '$.button.payload', message ->> '$.interactive.button_reply.id'))
            in ('CONFIRM', 'YES', 'OUI', 'CANCEL', 'NO', 'NON') then false
        else upper(trim(message ->> '$.text.body')) in ('STOP', 'ARRET', 'ARRÊT', 'UNSUBSCRIBE', 'DESABONNER')
    end as is_opt_out
from raw.whatsapp_webhooks,
    unnest(json_extract(payload, '$.entry[*].changes[*].value.messages[*]')) as messages (message)
qualify row_number() over (partition by inbound_message_id order by loaded_at, source_file, line_number) = 1;

create or replace temp table user_preferences as
select
    preference ->> '$.wa_id' as wa_id,
    lower(preference ->> '$.value') as preference_value,
    epoch_utc(preference ->> '$.timestamp') as changed_at
from raw.whatsapp_webhooks,
    unnest(json_extract(payload, '$.entry[*].changes[*].value.user_preferences[*]')) as preferences (preference)
qualify row_number() over (
    partition by md5(
        (preference ->> '$.wa_id') || '|' || (preference ->> '$.category') || '|'
        || (preference ->> '$.value') || '|' || (preference ->> '$.timestamp')
    )
    order by loaded_at, source_file, line_number
) = 1;

-- SMS only dates the run (int_run_date): the time of each deduplicated SMS event.
create or replace temp table sms_event_times as
select iso_utc(payload ->> '$.event_time') as event_at
from raw.sms_events
qualify row_number() over (
    partition by md5((payload ->> '$.provider') || '|' || (payload ->> '$.message_id') || '|' || (payload ->> '$.status'))
    order by loaded_at, source_file, line_number
) = 1;
