{#- One row per carrier remittance statement paid out by the run date: its lines summed
    (cash collected, fees, what they add up to) against what the carrier paid out. A
    statement `is_balanced` when the payout is within `remittance_balance_tolerance` of
    its lines and every line states the same payout; the singular test
    `remittance_statement_lines_sum_to_payout` warns on the others. -#}
with

lines as (
    select * from {{ ref('int_remittance_lines') }}
),

statements as (
    select
        carrier,
        statement_id,
        min(period_start) as period_start,
        max(period_end) as period_end,
        max(payout_date) as payout_date,
        max(currency) as currency,
        count(*) as lines,
        sum(case when is_delivered_cod_order then 0 else 1 end) as lines_not_delivered,
        sum(amount_collected) as amount_collected,
        sum(fees) as fees,
        sum(net_amount) as lines_net_amount,
        max(paid_out_amount) as paid_out_amount,
        count(distinct paid_out_amount) as paid_out_amounts_stated
    from lines
    group by carrier, statement_id
),

final as (
    select
        carrier,
        statement_id,
        period_start,
        period_end,
        payout_date,
        currency,
        cast(lines as bigint) as lines,
        cast(lines_not_delivered as bigint) as lines_not_delivered,
        cast(amount_collected as decimal(38, 2)) as amount_collected,
        cast(fees as decimal(38, 2)) as fees,
        cast(lines_net_amount as decimal(38, 2)) as lines_net_amount,
        cast(paid_out_amount as decimal(38, 2)) as paid_out_amount,
        cast(paid_out_amount - lines_net_amount as decimal(38, 2)) as payout_difference,
        cast(paid_out_amounts_stated as bigint) as paid_out_amounts_stated,
        (
            abs(paid_out_amount - lines_net_amount) <= {{ var('remittance_balance_tolerance') }}
            and paid_out_amounts_stated = 1
        ) as is_balanced
    from statements
)

select * from final
