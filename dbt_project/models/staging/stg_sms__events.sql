{{ config(materialized='view') }}

-- The typed SMS events (base_sms__events, parsed once) with what each inbound reply means:
-- a view, so an edit of the reply_vocabulary seed re-reads every reply at the next run.

with

events as (
    select * from {{ ref('base_sms__events') }}
),

vocabulary as (
    select * from {{ ref('reply_vocabulary') }}
),

final as (
    select
        events.sms_event_id,
        events.provider,
        events.message_id,
        events.direction,
        events.phone_raw,
        events.status,
        events.event_at,
        events.body,
        events.order_ref,
        -- What an inbound reply means (the reply_vocabulary seed, shared with WhatsApp);
        -- null for the messages cod360 sends.
        case
            when events.direction = 'inbound' then coalesce(vocabulary.intent, 'other')
        end as reply_intent,
        events.record_id,
        events.source_file,
        events.line_number,
        events.loaded_at,
        events.staged_at
    from events
    left join vocabulary
        on events.direction = 'inbound' and {{ reply_key('events.body') }} = vocabulary.reply_key
)

select * from final
