{#- Which carrier serves which city best, month by month (SPEC §3). A parcel counts in
    the month it was handed over; rates are null below `carrier_performance_min_parcels`
    resolved parcels (macro carrier_parcel_metrics). -#}
with

parcels as (
    select * from {{ ref('int_carrier_parcels') }}
),

final as (
    select
        carrier,
        city,
        dispatch_month,
        {{ carrier_parcel_metrics() }}
    from parcels
    group by carrier, city, dispatch_month
)

select * from final
