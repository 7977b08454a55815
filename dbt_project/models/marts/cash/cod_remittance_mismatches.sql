{#- Remittance lines that do not square with the orders, one row per line:
    - `amount`: the line pays a delivered COD order, but the cash its lines collected is
      not the order's total (a partial payment at the door, a courier's error);
    - `not_delivered`: the line pays for an order the warehouse does not know as a
      delivered COD order (unknown, returned, prepaid, still open). -#}
with

lines as (
    select * from {{ ref('int_remittance_lines') }}
),

remittances as (
    select * from {{ ref('cod_order_remittances') }}
),

final as (
    select
        lines.remittance_line_id,
        lines.carrier,
        lines.statement_id,
        lines.payout_date,
        lines.order_ref,
        lines.tracking_number,
        case when remittances.order_ref is null then 'not_delivered' else 'amount' end as mismatch_kind,
        remittances.order_total,
        lines.amount_collected,
        remittances.collected_difference,
        lines.currency
    from lines
    left join remittances on lines.order_ref = remittances.order_ref
    where remittances.order_ref is null or remittances.remittance_status = 'mismatch'
)

select * from final
