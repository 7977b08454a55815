{{ config(severity='warn') }}
{#- The finance check: a carrier statement whose lines (cash collected − fees) do not add
    up to what the carrier paid out, or whose lines state different payouts. A warning,
    not a block: the warehouse holds exactly what the carrier sent, and the marts that
    report it (cod_remittance_statements, cash_kpis) must still build so finance can
    claim the difference; blocking would also stop the customer activations downstream
    for a dispute only the carrier can settle. -#}
select carrier, statement_id, payout_date, lines, lines_net_amount, paid_out_amount, payout_difference
from {{ ref('cod_remittance_statements') }}
where not is_balanced
