{#- Marketing consent per phone: a STOP or STOP ALL reply (reply_intent 'opt_out' / 'opt_out_all') or a WhatsApp
    `user_preferences` "stop" opts out, a "resume" opts back in; the latest change
    before the cutoff wins, and on a tie the opt-out wins (never message by accident). -#}
with

run_date as (
    select * from {{ ref('int_run_date') }}
),

inbound_messages as (
    select * from {{ ref('stg_whatsapp__inbound_messages') }}
),

user_preferences as (
    select * from {{ ref('stg_whatsapp__user_preferences') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

changes as (
    select
        inbound_messages.sender_wa_id as wa_id,
        inbound_messages.received_at as changed_at,
        'opted_out' as consent_status,
        'whatsapp_stop_reply' as consent_source
    from inbound_messages
    where inbound_messages.reply_intent in ('opt_out', 'opt_out_all')
    union all
    select
        wa_id,
        changed_at,
        case preference_value when 'stop' then 'opted_out' else 'opted_in' end,
        'whatsapp_user_preferences'
    from user_preferences
    where preference_value in ('stop', 'resume')
),

known_changes as (
    select phones.phone_e164 as customer_phone, changes.*
    from changes
    inner join phones on changes.wa_id = phones.phone_raw
    inner join run_date on changes.changed_at < run_date.as_of_cutoff_at
    where phones.phone_e164 is not null
),

ranked_changes as (
    select
        known_changes.*,
        row_number() over (
            partition by known_changes.customer_phone
            order by
                known_changes.changed_at desc,
                case when known_changes.consent_status = 'opted_out' then 0 else 1 end asc,
                known_changes.consent_source asc
        ) as recency_rank,
        count(case when known_changes.consent_status = 'opted_out' then 1 end)
            over (partition by known_changes.customer_phone)
            as opt_outs
    from known_changes
),

final as (
    select
        customer_phone,
        consent_status,
        changed_at as consent_changed_at,
        consent_source,
        opt_outs
    from ranked_changes
    where recency_rank = 1
)

select * from final
