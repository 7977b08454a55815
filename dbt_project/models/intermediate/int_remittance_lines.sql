{#- Remittance lines paid out by the run date, each tied to its order: by the order ref
    the statement gives, else by the carrier's tracking number (a number two orders share
    ties to neither). -#}
with

lines as (
    select * from {{ ref('stg_carriers__remittance_lines') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

tracked as (
    select
        carrier,
        tracking_number,
        min(order_ref) as order_ref
    from orders
    where tracking_number is not null and carrier is not null
    group by carrier, tracking_number
    having count(*) = 1
),

final as (
    select
        lines.remittance_line_id,
        lines.carrier,
        lines.statement_id,
        lines.tracking_number,
        lines.order_ref as line_order_ref,
        coalesce(lines.order_ref, tracked.order_ref) as order_ref,
        lines.period_start,
        lines.period_end,
        lines.payout_date,
        lines.currency,
        lines.amount_collected,
        lines.fees,
        lines.amount_collected - lines.fees as net_amount,
        lines.paid_out_amount,
        orders.order_ref is not null as is_known_order,
        coalesce(orders.is_cod and orders.outcome = 'delivered', false) as is_delivered_cod_order
    from lines
    cross join run_date
    left join tracked
        on lines.carrier = tracked.carrier
        and lines.tracking_number = tracked.tracking_number
        and lines.order_ref is null
    left join orders on coalesce(lines.order_ref, tracked.order_ref) = orders.order_ref
    where lines.payout_date <= run_date.as_of_date
)

select * from final
