{#- Rebuilt every run from the whole history, so a backfilled date in the middle of it
    re-links the dates around it. -#}
with

history as (
    select * from {{ ref('customer_lifecycle_history') }}
),

sequenced as (
    select
        customer_phone,
        as_of_date,
        lifecycle_stage_code,
        lifecycle_stage,
        lag(as_of_date) over (partition by customer_phone order by as_of_date) as previous_as_of_date,
        lag(lifecycle_stage_code) over (partition by customer_phone order by as_of_date) as previous_stage_code,
        lag(lifecycle_stage) over (partition by customer_phone order by as_of_date) as previous_stage
    from history
),

final as (
    select
        customer_phone,
        as_of_date as changed_on,
        previous_as_of_date,
        previous_stage_code as from_stage_code,
        previous_stage as from_stage,
        lifecycle_stage_code as to_stage_code,
        lifecycle_stage as to_stage,
        previous_stage_code is null as is_first_observation
    from sequenced
    where previous_stage_code is null
        or previous_stage_code != lifecycle_stage_code
)

select * from final
