{#- Cash collected by a carrier and not paid out yet, as of the run date: one row per
    delivered COD order no statement has paid, with how long its cash has been out and
    whether it is overdue (more than `remittance_overdue_after_days` after delivery:
    the carrier should have paid it by now, finance chases it). -#}
with

remittances as (
    select * from {{ ref('cod_order_remittances') }}
),

final as (
    select
        order_ref,
        carrier,
        city,
        tracking_number,
        currency,
        order_total as cash_outstanding,
        delivered_at,
        days_since_delivery as days_outstanding,
        remittance_status = 'overdue' as is_overdue,
        as_of_date
    from remittances
    where remittance_status in ('in_transit', 'overdue')
)

select * from final
