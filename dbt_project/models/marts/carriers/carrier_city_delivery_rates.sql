{#- What each eligible carrier would charge and how often it delivers, for every city an
    order can go to: the input of the carrier recommendation (activations/carrier_choice.py
    combines it with each open order's lead score, which is written after dbt).

    Delivery rate = delivered / resolved (delivered + returned), the lead score's own
    label. Every rate is shrunk with the weight w = `carrier_choice_prior_weight` resolved
    parcels, shrink(d, n, prior) = (d + w × prior) / (n + w), level by level:

        overall, carrier, city, zone rate: shrink towards the overall rate
        carrier × zone: shrink towards inv_logit(logit(carrier) + logit(zone) - logit(overall))
        carrier × city: shrink towards inv_logit(logit(carrier × zone) + logit(city) - logit(zone))

    so a thin cell leans on the carrier's and the city's overall rates, through the
    carrier's record in the city's zone (carriers' networks are regional). A city no zone
    lists uses inv_logit(logit(carrier) + logit(city) - logit(overall)) as its prior.

    Fees come from the seed carrier_rate_card: the row for the city, else the row for the
    city's zone (seed city_zones), else the carrier's national row (zone `*`). A carrier
    with none of the three for a city is not eligible there (no row). -#}
{%- set weight = var('carrier_choice_prior_weight') -%}
with

parcels as (
    select * from {{ ref('int_carrier_parcels') }}
),

rate_card as (
    select * from {{ ref('carrier_rate_card') }}
),

city_zones as (
    select * from {{ ref('city_zones') }}
),

open_orders as (
    select * from {{ ref('order_rto_history') }}
    where is_open
),

cities as (
    select city from city_zones
    union
    select city from parcels
    union
    select coalesce(city, '(unknown)') as city from open_orders
),

carriers as (
    select distinct carrier from rate_card
),

overall as (
    select
        {{ delivered_and_resolved('outcome') }}
    from parcels
),

overall_rate as (
    select
        -- No history at all: an even chance, the same for every carrier (fees decide).
        coalesce({{ safe_ratio('delivered', 'resolved') }}, 0.5) as rate
    from overall
),

per_carrier as (
    select
        parcels.carrier,
        {{ delivered_and_resolved('parcels.outcome') }}
    from parcels
    group by parcels.carrier
),

per_city as (
    select
        parcels.city,
        {{ delivered_and_resolved('parcels.outcome') }}
    from parcels
    group by parcels.city
),

per_zone as (
    select
        city_zones.zone,
        {{ delivered_and_resolved('parcels.outcome') }}
    from parcels
    inner join city_zones on parcels.city = city_zones.city
    group by city_zones.zone
),

per_carrier_zone as (
    select
        parcels.carrier,
        city_zones.zone,
        {{ delivered_and_resolved('parcels.outcome') }}
    from parcels
    inner join city_zones on parcels.city = city_zones.city
    group by parcels.carrier, city_zones.zone
),

per_carrier_city as (
    select
        parcels.carrier,
        parcels.city,
        count(*) as shipped,
        {{ delivered_and_resolved('parcels.outcome') }}
    from parcels
    group by parcels.carrier, parcels.city
),

usual as (
    -- The carrier that took the most parcels for the city (alphabetical on a tie).
    select
        carrier,
        city,
        row_number() over (partition by city order by shipped desc, carrier asc) as volume_rank
    from per_carrier_city
),

grid as (
    select
        carriers.carrier,
        cities.city,
        city_zones.zone
    from carriers
    cross join cities
    left join city_zones on cities.city = city_zones.city
),

priced as (
    select
        grid.carrier,
        grid.city,
        grid.zone,
        case
            when by_city.carrier is not null then 'city'
            when by_zone.carrier is not null then 'zone'
            when national.carrier is not null then 'national'
        end as rate_card_level,
        coalesce(by_city.forward_fee_mad, by_zone.forward_fee_mad, national.forward_fee_mad)
            as forward_fee_mad,
        coalesce(by_city.return_fee_mad, by_zone.return_fee_mad, national.return_fee_mad)
            as return_fee_mad,
        coalesce(by_city.cod_fee_pct, by_zone.cod_fee_pct, national.cod_fee_pct) as cod_fee_pct,
        coalesce(by_city.promised_days, by_zone.promised_days, national.promised_days)
            as promised_days
    from grid
    left join rate_card as by_city
        on grid.carrier = by_city.carrier and grid.city = by_city.city
    left join rate_card as by_zone
        on grid.carrier = by_zone.carrier and grid.zone = by_zone.zone and by_zone.city is null
    left join rate_card as national
        on grid.carrier = national.carrier and national.zone = '*' and national.city is null
),

shrunk as (
    select
        priced.*,
        coalesce(per_carrier_city.shipped, 0) as parcels_shipped,
        coalesce(per_carrier_city.resolved, 0) as parcels_resolved,
        coalesce(per_carrier_city.delivered, 0) as parcels_delivered,
        coalesce(per_city.resolved, 0) as city_parcels_resolved,
        coalesce(per_carrier_zone.resolved, 0) as carrier_zone_parcels_resolved,
        coalesce(per_carrier_zone.delivered, 0) as carrier_zone_parcels_delivered,
        overall_rate.rate as overall_delivery_rate,
        (coalesce(per_carrier.delivered, 0) + {{ weight }} * overall_rate.rate)
        / (coalesce(per_carrier.resolved, 0) + {{ weight }}) as carrier_delivery_rate,
        (coalesce(per_city.delivered, 0) + {{ weight }} * overall_rate.rate)
        / (coalesce(per_city.resolved, 0) + {{ weight }}) as city_delivery_rate,
        case
            when priced.zone is not null
                then
                    (coalesce(per_zone.delivered, 0) + {{ weight }} * overall_rate.rate)
                    / (coalesce(per_zone.resolved, 0) + {{ weight }})
        end as zone_delivery_rate,
        coalesce(usual.volume_rank = 1, false) as is_usual_carrier
    from priced
    cross join overall_rate
    left join per_carrier on priced.carrier = per_carrier.carrier
    left join per_city on priced.city = per_city.city
    left join per_zone on priced.zone = per_zone.zone
    left join per_carrier_zone
        on priced.carrier = per_carrier_zone.carrier and priced.zone = per_carrier_zone.zone
    left join per_carrier_city
        on priced.carrier = per_carrier_city.carrier and priced.city = per_carrier_city.city
    left join usual on priced.carrier = usual.carrier and priced.city = usual.city
    where priced.rate_card_level is not null
),

with_carrier_zone as (
    select
        *,
        case
            when zone_delivery_rate is not null
                then
                    (
                        carrier_zone_parcels_delivered + {{ weight }}
                        * {{ inv_logit(logit('carrier_delivery_rate') ~ ' + ' ~ logit('zone_delivery_rate')
                                       ~ ' - ' ~ logit('overall_delivery_rate')) }}
                    ) / (carrier_zone_parcels_resolved + {{ weight }})
        end as carrier_zone_delivery_rate
    from shrunk
),

with_prior as (
    select
        *,
        case
            when carrier_zone_delivery_rate is not null
                then {{ inv_logit(logit('carrier_zone_delivery_rate') ~ ' + ' ~ logit('city_delivery_rate')
                                  ~ ' - ' ~ logit('zone_delivery_rate')) }}
            else {{ inv_logit(logit('carrier_delivery_rate') ~ ' + ' ~ logit('city_delivery_rate')
                              ~ ' - ' ~ logit('overall_delivery_rate')) }}
        end as prior_delivery_rate
    from with_carrier_zone
),

final as (
    select
        carrier,
        city,
        zone,
        rate_card_level,
        cast(forward_fee_mad as double) as forward_fee_mad,
        cast(return_fee_mad as double) as return_fee_mad,
        cast(cod_fee_pct as double) as cod_fee_pct,
        cast(promised_days as integer) as promised_days,
        parcels_shipped,
        parcels_resolved,
        parcels_delivered,
        city_parcels_resolved,
        cast(overall_delivery_rate as double) as overall_delivery_rate,
        cast(carrier_delivery_rate as double) as carrier_delivery_rate,
        cast(city_delivery_rate as double) as city_delivery_rate,
        cast(zone_delivery_rate as double) as zone_delivery_rate,
        carrier_zone_parcels_resolved,
        cast(carrier_zone_delivery_rate as double) as carrier_zone_delivery_rate,
        cast(prior_delivery_rate as double) as prior_delivery_rate,
        cast(
            (parcels_delivered + {{ weight }} * prior_delivery_rate) / (parcels_resolved + {{ weight }})
            as double
        ) as delivery_rate,
        is_usual_carrier
    from with_prior
)

select * from final
