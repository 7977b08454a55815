{#- COD cash KPIs as of the run date, for all carriers (`all`) and per `carrier`: days
    from delivery to cash, cash in transit, unremitted (overdue) value, mismatches, late
    remittances, fees and unbalanced statements. Money is in the store's currency. -#}
with

remittances as (
    select * from {{ ref('cod_order_remittances') }}
),

statements as (
    select * from {{ ref('cod_remittance_statements') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

order_slices as (
    select 'all' as dimension, 'all' as dimension_value, remittances.* from remittances
    union all
    select 'carrier' as dimension, coalesce(carrier, '(unknown)') as dimension_value, remittances.*
    from remittances
),

statement_slices as (
    select 'all' as dimension, 'all' as dimension_value, statements.* from statements
    union all
    select 'carrier' as dimension, carrier as dimension_value, statements.* from statements
),

order_kpis as (
    select
        dimension,
        dimension_value,
        count(*) as delivered_cod_orders,
        sum(case when remittance_status in ('remitted', 'mismatch') then 1 else 0 end) as remitted_orders,
        coalesce(sum(amount_collected), 0) as remitted_value,
        coalesce(sum(fees), 0) as fees,
        coalesce(sum(amount_paid_out), 0) as paid_out_value,
        avg(1.0 * days_to_cash) as avg_days_to_cash,
        {{ median('days_to_cash') }} as median_days_to_cash,
        max(days_to_cash) as max_days_to_cash,
        sum(case when remittance_status in ('in_transit', 'overdue') then 1 else 0 end)
            as cash_in_transit_orders,
        coalesce(sum(case when remittance_status in ('in_transit', 'overdue') then order_total end), 0)
            as cash_in_transit_value,
        max(case when remittance_status in ('in_transit', 'overdue') then days_since_delivery end)
            as oldest_in_transit_days,
        sum(case when remittance_status = 'overdue' then 1 else 0 end) as overdue_orders,
        coalesce(sum(case when remittance_status = 'overdue' then order_total end), 0) as unremitted_value,
        sum(case when remittance_status = 'mismatch' then 1 else 0 end) as mismatch_orders,
        coalesce(sum(case when remittance_status = 'mismatch' then collected_difference end), 0)
            as mismatch_amount,
        sum(case when is_late_remittance then 1 else 0 end) as late_remittances
    from order_slices
    group by dimension, dimension_value
),

statement_kpis as (
    select
        dimension,
        dimension_value,
        count(*) as statements,
        sum(case when is_balanced then 0 else 1 end) as unbalanced_statements
    from statement_slices
    group by dimension, dimension_value
),

slices as (
    select dimension, dimension_value from order_kpis
    union
    select dimension, dimension_value from statement_kpis
),

final as (
    select
        slices.dimension,
        slices.dimension_value,
        run_date.as_of_date,
        cast(coalesce(order_kpis.delivered_cod_orders, 0) as bigint) as delivered_cod_orders,
        cast(coalesce(order_kpis.remitted_orders, 0) as bigint) as remitted_orders,
        cast(coalesce(order_kpis.remitted_value, 0) as decimal(38, 2)) as remitted_value,
        cast(coalesce(order_kpis.fees, 0) as decimal(38, 2)) as fees,
        cast(coalesce(order_kpis.paid_out_value, 0) as decimal(38, 2)) as paid_out_value,
        cast(order_kpis.avg_days_to_cash as double) as avg_days_to_cash,
        cast(order_kpis.median_days_to_cash as double) as median_days_to_cash,
        cast(order_kpis.max_days_to_cash as bigint) as max_days_to_cash,
        cast(coalesce(order_kpis.cash_in_transit_orders, 0) as bigint) as cash_in_transit_orders,
        cast(coalesce(order_kpis.cash_in_transit_value, 0) as decimal(38, 2)) as cash_in_transit_value,
        cast(order_kpis.oldest_in_transit_days as bigint) as oldest_in_transit_days,
        cast(coalesce(order_kpis.overdue_orders, 0) as bigint) as overdue_orders,
        cast(coalesce(order_kpis.unremitted_value, 0) as decimal(38, 2)) as unremitted_value,
        cast(coalesce(order_kpis.mismatch_orders, 0) as bigint) as mismatch_orders,
        cast(coalesce(order_kpis.mismatch_amount, 0) as decimal(38, 2)) as mismatch_amount,
        cast(coalesce(order_kpis.late_remittances, 0) as bigint) as late_remittances,
        cast(coalesce(statement_kpis.statements, 0) as bigint) as statements,
        cast(coalesce(statement_kpis.unbalanced_statements, 0) as bigint) as unbalanced_statements
    from slices
    cross join run_date
    left join order_kpis
        on slices.dimension = order_kpis.dimension and slices.dimension_value = order_kpis.dimension_value
    left join statement_kpis
        on slices.dimension = statement_kpis.dimension and slices.dimension_value = statement_kpis.dimension_value
)

select * from final
