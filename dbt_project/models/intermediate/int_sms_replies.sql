{#- Every inbound SMS (a customer's reply) with what it means and the order it answers.
    A table: its readers and tests would each redo the matching as a view (a reply counts
    once dbt has staged it, as every record does).
    The order it answers, of the orders of that phone open when the reply arrived
    (placed at or before it, not resolved before it):
      1. the order the gateway names (`order_ref` on the inbound event), if it was open;
      2. else the phone's only open order (`attributed_by` `texted_about` when cod360
         had texted about it before the reply, else `only_open_order`);
      3. else none: with two or more open orders and no order named, an OUI or a NON
         could mean either, so the reply answers no order (`attributed_by`
         `ambiguous`) and `candidate_order_refs` lists them (sorted, comma-separated)
         for the agent queue to ask. Never a guess from the last order texted about.
    `open_orders_at_reply` says how many orders were candidates. -#}
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
    group by inbound.sms_event_id, orders.order_ref
),

per_reply as (
    select
        sms_event_id,
        count(*) as open_orders_at_reply,
        -- the order, when it is the only candidate (a named order is the only one kept)
        max(order_ref) as only_order_ref,
        max(last_texted_at) as last_texted_at,
        {{ sorted_listagg('order_ref', ',') }} as candidate_order_refs
    from candidates
    group by sms_event_id
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
        case
            when per_reply.open_orders_at_reply = 1 then per_reply.only_order_ref
        end as order_ref,
        case
            when per_reply.open_orders_at_reply is null then null
            when per_reply.open_orders_at_reply > 1 then 'ambiguous'
            when inbound.named_order_ref is not null then 'named_by_gateway'
            when per_reply.last_texted_at is not null then 'texted_about'
            else 'only_open_order'
        end as attributed_by,
        coalesce(per_reply.open_orders_at_reply, 0) as open_orders_at_reply,
        case
            when per_reply.open_orders_at_reply > 1 then per_reply.candidate_order_refs
        end as candidate_order_refs
    from inbound
    left join per_reply on inbound.sms_event_id = per_reply.sms_event_id
)

select * from final
