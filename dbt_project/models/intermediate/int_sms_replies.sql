{#- Every inbound SMS (a customer's reply) with what it means and the order it answers.
    A table: its readers and tests would each redo the matching as a view (a reply counts
    once dbt has staged it, as every record does).
    The order it answers, of the orders of that phone open when the reply arrived
    (placed at or before it, not resolved before it):
      1. the order the gateway names (`order_ref` on the inbound event), if it was open;
      2. else the one cod360 last texted about (outbound SMS carrying its order_ref)
         before the reply;
      3. else the latest placed.
    `open_orders_at_reply` says how many orders were candidates: more than one is a
    guess a person may want to check. -#}
{{ config(materialized='table') }}

with

sms_events as (
    select * from {{ ref('stg_sms__events') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

inbound as (
    select
        sms_events.sms_event_id,
        sms_events.provider,
        sms_events.message_id,
        sms_events.event_at as received_at,
        sms_events.body,
        sms_events.reply_intent,
        sms_events.order_ref as named_order_ref,
        -- A sender no earlier record has shown (int_phone_numbers is built with the
        -- marts; this view is read live) is taken as the gateway gives it when it is
        -- E.164 digits, with or without "+".
        coalesce(
            phones.phone_e164,
            case
                when {{ regex_full_match('sms_events.phone_raw', '[+]?[1-9][0-9]{7,14}') }}
                    then
                        case
                            when substring(sms_events.phone_raw, 1, 1) = '+' then sms_events.phone_raw
                            else concat('+', sms_events.phone_raw)
                        end
            end
        ) as customer_phone
    from sms_events
    left join phones on sms_events.phone_raw = phones.phone_raw
    where sms_events.direction = 'inbound'
),

texted_about as (
    select
        phones.phone_e164 as customer_phone,
        sms_events.order_ref,
        sms_events.event_at as sent_at
    from sms_events
    inner join phones on sms_events.phone_raw = phones.phone_raw
    where sms_events.direction = 'outbound'
        and sms_events.status = 'sent'
        and sms_events.order_ref is not null
),

candidates as (
    select
        inbound.sms_event_id,
        orders.order_ref,
        orders.placed_at,
        max(texted_about.sent_at) as last_texted_at
    from inbound
    inner join orders
        on inbound.customer_phone = orders.customer_phone
        and inbound.received_at >= orders.placed_at
        and (orders.resolved_at is null or inbound.received_at <= orders.resolved_at)
        and (inbound.named_order_ref is null or inbound.named_order_ref = orders.order_ref)
    left join texted_about
        on orders.order_ref = texted_about.order_ref
        and inbound.customer_phone = texted_about.customer_phone
        and inbound.received_at >= texted_about.sent_at
    group by inbound.sms_event_id, orders.order_ref, orders.placed_at
),

ranked as (
    select
        sms_event_id,
        order_ref,
        last_texted_at,
        row_number() over (
            partition by sms_event_id
            order by last_texted_at desc nulls last, placed_at desc, order_ref desc
        ) as candidate_rank,
        count(*) over (partition by sms_event_id) as open_orders_at_reply
    from candidates
),

final as (
    select
        inbound.sms_event_id,
        inbound.provider,
        inbound.message_id,
        inbound.customer_phone,
        inbound.received_at,
        inbound.body,
        inbound.reply_intent,
        ranked.order_ref,
        case
            when ranked.order_ref is null then null
            when inbound.named_order_ref is not null then 'named_by_gateway'
            when ranked.last_texted_at is not null then 'texted_about'
            else 'latest_open_order'
        end as attributed_by,
        coalesce(ranked.open_orders_at_reply, 0) as open_orders_at_reply
    from inbound
    left join ranked
        on inbound.sms_event_id = ranked.sms_event_id
        and ranked.candidate_rank = 1
)

select * from final
