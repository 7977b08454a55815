{#- One row per segment file, from the var `cod360_segments` (macros/segments.sql). The
    seeds give the filters their vocabulary when the files are compiled. -#}
-- depends_on: {{ ref('segment_customer_base') }}
-- depends_on: {{ ref('lifecycle_stages') }}
-- depends_on: {{ ref('rfm_segment_map') }}

with

definitions as (
    {{ segment_definition_rows() }}
),

final as (
    select * from definitions
)

select * from final
