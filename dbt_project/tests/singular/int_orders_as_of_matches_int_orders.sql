{#- On the default run date (the latest event in the data) every order must be in its
    int_orders state: int_orders_as_of repeats int_orders' rules over the events known
    before the cutoff, and this test fails on any order where the two disagree. -#}
{#- Dagster shows a singular test as a check of one asset: the model under test. -#}
{{ config(meta={'dagster': {'ref': {'name': 'int_orders_as_of'}}}) }}
select
    as_of.order_ref,
    as_of.order_status as as_of_status,
    current_orders.order_status as current_status,
    as_of.resolved_at as as_of_resolved_at,
    current_orders.resolved_at as current_resolved_at
from {{ ref('int_orders_as_of') }} as as_of
inner join {{ ref('int_orders') }} as current_orders on as_of.order_ref = current_orders.order_ref
cross join {{ ref('int_run_date') }} as run_date
where run_date.as_of_date_source = 'latest_event'
  and (
      as_of.order_status != current_orders.order_status
      or as_of.confirmation_status != current_orders.confirmation_status
      or coalesce(as_of.resolved_at, as_of.placed_at) != coalesce(current_orders.resolved_at, current_orders.placed_at)
      or as_of.refusals != current_orders.refusals
  )
