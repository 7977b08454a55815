{{ config(materialized='view') }}

-- The typed snapshots (base_lightfunnels__orders, parsed once) with the one fact that
-- spans an order's snapshots: its payment method. A view over a typed table, cheap to
-- recompute, so a new snapshot can turn an earlier one's order prepaid.

with

snapshots as (
    select * from {{ ref('base_lightfunnels__orders') }}
),

final as (
    select
        order_ref,
        platform_order_id,
        platform,
        order_number,
        placed_at,
        updated_at,
        raw_status,
        closed_at,
        cancelled_at,
        cancel_reason,
        -- The pulled Order node carries no payment gateway. Assumption: an order paid
        -- while still unfulfilled (and not cancelled) in any of its snapshots was paid
        -- online (prepaid); every other order is cash on delivery, whose `paid` only
        -- comes once the carrier has collected the cash.
        case
            when max(case when paid_while_unfulfilled then 1 else 0 end) over (partition by order_ref) = 1
                then 'prepaid'
            else 'cod'
        end as payment_method,
        phone_raw,
        email,
        customer_name,
        city_raw,
        address,
        total_amount,
        currency,
        item_count,
        record_id,
        source_file,
        line_number,
        loaded_at,
        staged_at
    from snapshots
)

select * from final
