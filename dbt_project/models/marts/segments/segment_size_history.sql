{#- One row per segment evaluated on a date, including segments with no member: it is
    the record of which segments existed on which dates, which segment_changes and
    segment_membership need to tell "left the segment" from "segment not evaluated". -#}
{{
    config(
        materialized='incremental',
        tags=['daily_history'],
        incremental_strategy=history_incremental_strategy(),
        partition_by=history_partition_by('as_of_date'),
        unique_key='as_of_date',
        on_schema_change='append_new_columns',
    )
}}

with

run_date as (
    select * from {{ ref('int_run_date') }}
),

definitions as (
    select * from {{ ref('segment_definitions') }}
),

evaluation as (
    select * from {{ ref('segment_evaluation') }}
),

member_counts as (
    select segment_name, count(*) as members
    from evaluation
    group by segment_name
),

final as (
    select
        run_date.as_of_date,
        definitions.segment_name,
        coalesce(member_counts.members, 0) as members
    from definitions
    cross join run_date
    left join member_counts on definitions.segment_name = member_counts.segment_name
)

select * from final
