{{ config(severity='warn') }}
{#- Carrier status words that no row of `carrier_status_map` knows. They are kept as
    `unknown`, never dropped (SPEC §2.2); this test tells the analyst which words to
    add to the seed, with how often each was seen. -#}
select carrier, raw_status, count(*) as events
from {{ ref('int_tracking_events') }}
where canonical_status = 'unknown'
group by carrier, raw_status
