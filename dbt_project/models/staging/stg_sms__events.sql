with

source as (
    select * from {{ source('raw', 'sms_events') }}
),

vocabulary as (
    select * from {{ ref('reply_vocabulary') }}
),

parsed as (
    select
        md5(
            ({{ json_text('payload', '$.provider') }})
            || '|'
            || ({{ json_text('payload', '$.message_id') }})
            || '|'
            || ({{ json_text('payload', '$.status') }})
        ) as sms_event_id,
        {{ json_text('payload', '$.provider') }} as provider,
        {{ json_text('payload', '$.message_id') }} as message_id,
        {{ json_text('payload', '$.direction') }} as direction,
        {{ json_text('payload', '$.phone') }} as phone_raw,
        {{ json_text('payload', '$.status') }} as status,
        {{ iso_to_utc(json_text('payload', '$.event_time')) }} as event_at,
        {{ json_text('payload', '$.body') }} as body,
        nullif({{ json_text('payload', '$.order_ref') }}, '') as order_ref,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
),

final_candidates as (
    select
        parsed.*,
        -- What an inbound reply means (the reply_vocabulary seed, shared with WhatsApp);
        -- null for the messages cod360 sends.
        case
            when parsed.direction = 'inbound' then coalesce(vocabulary.intent, 'other')
        end as reply_intent
    from parsed
    left join vocabulary
        on parsed.direction = 'inbound' and {{ reply_key('parsed.body') }} = vocabulary.reply_key
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='sms_event_id',
        order_by='loaded_at, source_file, line_number',
        columns=['sms_event_id', 'provider', 'message_id', 'direction', 'phone_raw', 'status', 'event_at', 'body', 'order_ref', 'reply_intent', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

select * from final
