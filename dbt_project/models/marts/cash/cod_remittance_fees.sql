{#- What the carriers charge, per carrier and delivery city: the fees of every remittance
    line paid out by the run date against the cash collected. Lines whose order the
    warehouse does not know count under the city `(unknown order)`. -#}
with

lines as (
    select * from {{ ref('int_remittance_lines') }}
),

orders as (
    select * from {{ ref('int_orders') }}
),

final as (
    select
        lines.carrier,
        coalesce(orders.city, '(unknown order)') as city,
        count(*) as parcels,
        sum(lines.amount_collected) as amount_collected,
        sum(lines.fees) as fees,
        sum(lines.net_amount) as net_amount,
        {{ safe_ratio('sum(lines.fees)', 'count(*)') }} as fees_per_parcel,
        {{ safe_ratio('sum(lines.fees)', 'sum(lines.amount_collected)') }} as fee_share
    from lines
    left join orders on lines.order_ref = orders.order_ref
    group by lines.carrier, coalesce(orders.city, '(unknown order)')
)

select * from final
