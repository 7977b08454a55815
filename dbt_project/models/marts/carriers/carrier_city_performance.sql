{#- Which carrier serves which city best, over every parcel handed over so far (the
    monthly view is carrier_performance, whose cells are often too small for a rate).
    Carriers are ranked within each city by RTO rate among those with enough volume. -#}
with

parcels as (
    select * from {{ ref('int_carrier_parcels') }}
),

per_carrier_city as (
    select
        carrier,
        city,
        min(dispatch_month) as first_dispatch_month,
        max(dispatch_month) as last_dispatch_month,
        {{ carrier_parcel_metrics() }}
    from parcels
    group by carrier, city
),

final as (
    select
        *,
        case
            when rto_rate is not null
                then
                    rank() over (
                        partition by city, case when rto_rate is null then 1 else 0 end
                        order by rto_rate asc, parcels_resolved desc
                    )
        end as rto_rank_in_city
    from per_carrier_city
)

select * from final
