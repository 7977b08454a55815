{#- Who is in each segment on the run date: every compiled condition of the segment files
    (the var `cod360_segments`, macros/segments.sql) over segment_customer_base, in one
    statement (a union all of one select per segment). -#}
-- depends_on: {{ ref('segment_definitions') }}

with

base as (
    select * from {{ ref('segment_customer_base') }}
),

members as (
    {{ segment_member_rows('base') }}
),

final as (
    select * from members
)

select * from final
