{#- Marketing stopped or resumed by the customer in WhatsApp itself, as the opt-out
    rules read it. A view, so a STOP counts as soon as its webhook is ingested. -#}
with

user_preferences as (
    select * from {{ ref('stg_whatsapp__user_preferences') }}
),

final as (
    select
        user_preferences.preference_event_id,
        user_preferences.wa_id,
        user_preferences.category,
        user_preferences.preference_value,
        user_preferences.detail,
        user_preferences.changed_at
    from user_preferences
)

select * from final
