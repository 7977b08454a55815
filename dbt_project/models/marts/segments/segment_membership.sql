{#- `since` is the first run date of the customer's current unbroken stretch of
    membership: the history's evaluation dates of the segment are numbered, and a stretch
    is a run of consecutive numbers (gaps-and-islands). When the history starts with the
    customer already in, `since` is the first date of the history. -#}
with

definitions as (
    select * from {{ ref('segment_definitions') }}
),

evaluation as (
    select * from {{ ref('segment_evaluation') }}
),

history as (
    select * from {{ ref('segment_membership_history') }}
),

evaluations as (
    select * from {{ ref('segment_size_history') }}
),

numbered_evaluations as (
    select
        segment_name,
        as_of_date,
        row_number() over (partition by segment_name order by as_of_date) as evaluation_number
    from evaluations
),

member_stretches as (
    select
        history.segment_name,
        history.customer_phone,
        history.as_of_date,
        numbered_evaluations.evaluation_number - row_number() over (
            partition by history.segment_name, history.customer_phone order by history.as_of_date
        ) as stretch_id
    from history
    inner join numbered_evaluations
        on history.segment_name = numbered_evaluations.segment_name
        and history.as_of_date = numbered_evaluations.as_of_date
),

stretches as (
    select
        segment_name,
        customer_phone,
        min(as_of_date) as since,
        max(as_of_date) as last_seen_on
    from member_stretches
    group by segment_name, customer_phone, stretch_id
),

final as (
    select
        evaluation.segment_name,
        definitions.label as segment_label,
        evaluation.customer_phone,
        evaluation.as_of_date,
        coalesce(stretches.since, evaluation.as_of_date) as since
    from evaluation
    inner join definitions on evaluation.segment_name = definitions.segment_name
    left join stretches
        on evaluation.segment_name = stretches.segment_name
        and evaluation.customer_phone = stretches.customer_phone
        and evaluation.as_of_date between stretches.since and stretches.last_seen_on
)

select * from final
