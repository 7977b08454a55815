{#- Rebuilt every run from the whole history. Dates are each segment's own evaluation
    dates (segment_size_history), so a segment added later does not "lose" anyone on the
    dates before it existed, and a customer not in a segment on two consecutive
    evaluations produces no row. -#}
with

history as (
    select * from {{ ref('segment_membership_history') }}
),

evaluations as (
    select * from {{ ref('segment_size_history') }}
),

linked_evaluations as (
    select
        segment_name,
        as_of_date,
        lag(as_of_date) over (partition by segment_name order by as_of_date) as previous_as_of_date,
        lead(as_of_date) over (partition by segment_name order by as_of_date) as next_as_of_date
    from evaluations
),

entered as (
    select
        history.segment_name,
        history.customer_phone,
        'entered' as change_type,
        history.as_of_date as changed_on,
        linked_evaluations.previous_as_of_date,
        linked_evaluations.previous_as_of_date is null as is_first_evaluation
    from history
    inner join linked_evaluations
        on history.segment_name = linked_evaluations.segment_name
        and history.as_of_date = linked_evaluations.as_of_date
    left join history as previous_history
        on history.segment_name = previous_history.segment_name
        and history.customer_phone = previous_history.customer_phone
        and linked_evaluations.previous_as_of_date = previous_history.as_of_date
    where previous_history.customer_phone is null
),

exited as (
    select
        history.segment_name,
        history.customer_phone,
        'exited' as change_type,
        linked_evaluations.next_as_of_date as changed_on,
        history.as_of_date as previous_as_of_date,
        false as is_first_evaluation
    from history
    inner join linked_evaluations
        on history.segment_name = linked_evaluations.segment_name
        and history.as_of_date = linked_evaluations.as_of_date
    left join history as next_history
        on history.segment_name = next_history.segment_name
        and history.customer_phone = next_history.customer_phone
        and linked_evaluations.next_as_of_date = next_history.as_of_date
    where linked_evaluations.next_as_of_date is not null
        and next_history.customer_phone is null
),

final as (
    select * from entered
    union all
    select * from exited
)

select * from final
