{#- Every delivered COD order with its remittance, as of the run date: when the carrier
    paid its cash out, after how many days, how much it collected against the order's
    total, and where the order stands:
    - `remitted`: paid out, the cash collected equals the order total;
    - `mismatch`: paid out, but the cash collected is not the order total;
    - `in_transit`: not paid out yet, delivered at most `remittance_overdue_after_days` ago;
    - `overdue`: not paid out, delivered longer ago than that.
    A remittance paid after that many days is `is_late_remittance`. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

lines as (
    select * from {{ ref('int_remittance_lines') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

delivered as (
    select
        orders.order_ref,
        orders.platform,
        orders.carrier,
        orders.tracking_number,
        orders.city,
        orders.currency,
        orders.total_amount,
        orders.delivered_at,
        run_date.as_of_date
    from orders
    cross join run_date
    where
        orders.is_cod
        and orders.outcome = 'delivered'
        and orders.delivered_at < run_date.as_of_cutoff_at
),

order_lines as (
    select * from lines
    where order_ref is not null
),

first_lines as (
    {{ deduplicate_first(
        'order_lines',
        partition_by='order_ref',
        order_by='payout_date, statement_id, remittance_line_id',
        columns=['order_ref', 'statement_id', 'payout_date']
    ) }}
),

remitted as (
    select
        order_ref,
        count(*) as remittance_lines,
        sum(amount_collected) as amount_collected,
        sum(fees) as fees,
        sum(net_amount) as net_amount
    from order_lines
    group by order_ref
),

measured as (
    select
        delivered.*,
        first_lines.statement_id,
        first_lines.payout_date as remitted_on,
        coalesce(remitted.remittance_lines, 0) as remittance_lines,
        remitted.amount_collected,
        remitted.fees,
        remitted.net_amount,
        remitted.amount_collected - delivered.total_amount as collected_difference,
        case
            when first_lines.payout_date is not null
                then {{ dbt.datediff('cast(delivered.delivered_at as date)', 'first_lines.payout_date', 'day') }}
        end as days_to_cash,
        {{ dbt.datediff('cast(delivered.delivered_at as date)', 'delivered.as_of_date', 'day') }}
            as days_since_delivery
    from delivered
    left join first_lines on delivered.order_ref = first_lines.order_ref
    left join remitted on delivered.order_ref = remitted.order_ref
),

final as (
    select
        order_ref,
        platform,
        carrier,
        tracking_number,
        city,
        currency,
        total_amount as order_total,
        delivered_at,
        statement_id,
        remitted_on,
        remittance_lines,
        amount_collected,
        fees,
        net_amount as amount_paid_out,
        collected_difference,
        days_to_cash,
        days_since_delivery,
        case
            when remitted_on is null and days_since_delivery > {{ var('remittance_overdue_after_days') }}
                then 'overdue'
            when remitted_on is null then 'in_transit'
            when collected_difference <> 0 or collected_difference is null then 'mismatch'
            else 'remitted'
        end as remittance_status,
        coalesce(days_to_cash > {{ var('remittance_overdue_after_days') }}, false) as is_late_remittance,
        as_of_date
    from measured
)

select * from final
