{#- The email provider's events (the confirmation email: sent, delivered, opened,
    clicked, bounced), one row per message and event type, for the Python side (the demo
    summary, a growth team's notebook). A view over the staging view. -#}
with

events as (
    select * from {{ ref('stg_email__events') }}
),

final as (
    select
        events.email_event_id,
        events.provider,
        events.message_id,
        events.event_type,
        events.recipient,
        events.template_name,
        events.order_ref,
        events.event_at,
        events.bounce_type
    from events
)

select * from final
