{#- Which ads bring orders that arrive: one row per ad (TikTok advertiser × campaign × ad ×
    form, or storefront UTM source × campaign × content), as of the run date.

      leads      every order intent the ad brought (a lead form or a checkout)
      orders     leads with a valid phone number: the ones the confirmation team can call
      delivered / returned / cancelled, ended (delivered, returned, cancelled, or stale:
                 no news for open_order_stale_after_days), as kpis_by_dimension counts them
      profit     delivered × delivered_margin − returned × (forward + return shipping +
                 handling): the unit economics of ml/lead_score_config.yaml, passed here as
                 the dbt var `unit_economics` (a test keeps the two equal)

    The lead score at placement comes from ml.order_placement_scores, which the Dagster
    asset `order_placement_scores` fills *after* dbt (it scores each order as of its
    placement, once, with the version approved then). A build therefore averages the
    scores recorded by earlier runs: an order first seen in this run counts from the next
    build (`orders_scored_at_placement` says how many are in). The table is absent until
    the first scoring run and on engines where the lead score does not run (Spark): the
    columns are null then. -#}
{%- set economics = var('unit_economics') %}
{%- set rto_cost = economics['rto_forward_shipping'] + economics['rto_return_shipping'] + economics['rto_handling'] %}
{%- set scores_relation = adapter.get_relation(
    database=target.database if target.type == 'duckdb' else none,
    schema='ml', identifier='order_placement_scores'
) if execute else none %}
with

orders as (
    select * from {{ ref('int_orders_as_of') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

placement_scores as (
    {% if scores_relation is not none %}
        select order_ref, score, rto_probability from {{ scores_relation }}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as order_ref,
            cast(null as double) as score,
            cast(null as double) as rto_probability
        where 1 = 0
    {% endif %}
),

order_facts as (
    select
        {{ ad_key('orders') }} as ad_key,
        orders.ad_channel,
        orders.ad_source,
        orders.ad_advertiser_id,
        orders.ad_campaign,
        orders.ad_id,
        orders.ad_name,
        orders.ad_form_id,
        orders.ad_form_name,
        case when orders.phone_is_valid then 1 else 0 end as is_order,
        case when orders.confirmation_status = 'confirmed' then 1 else 0 end as is_confirmed,
        case when orders.outcome = 'delivered' then 1 else 0 end as is_delivered,
        case when orders.outcome = 'returned' then 1 else 0 end as is_returned,
        case when orders.outcome = 'cancelled' then 1 else 0 end as is_cancelled,
        case when orders.outcome != 'open' or orders.is_stale_open then 1 else 0 end as is_ended,
        case when orders.outcome = 'delivered' then orders.total_amount else 0 end as delivered_revenue,
        placement_scores.score as placement_score,
        placement_scores.rto_probability as placement_rto_probability
    from orders
    left join placement_scores on orders.order_ref = placement_scores.order_ref
),

per_ad as (
    select
        ad_key,
        ad_channel,
        max(ad_source) as ad_source,
        max(ad_advertiser_id) as ad_advertiser_id,
        max(ad_campaign) as ad_campaign,
        max(ad_id) as ad_id,
        max(ad_name) as ad_name,
        max(ad_form_id) as ad_form_id,
        max(ad_form_name) as ad_form_name,
        count(*) as leads,
        cast(sum(is_order) as bigint) as orders,
        cast(sum(is_confirmed) as bigint) as orders_confirmed,
        cast(sum(is_delivered) as bigint) as orders_delivered,
        cast(sum(is_returned) as bigint) as orders_returned,
        cast(sum(is_cancelled) as bigint) as orders_cancelled,
        cast(sum(is_ended) as bigint) as orders_ended,
        sum(delivered_revenue) as delivered_revenue,
        count(placement_score) as orders_scored_at_placement,
        avg(placement_score) as avg_lead_score_at_placement,
        avg(placement_rto_probability) as avg_rto_probability_at_placement
    from order_facts
    group by ad_key, ad_channel
),

lead_form_ad_names as (
    -- A TikTok ad that also sends storefront traffic writes its id in utm_content: the
    -- lead form names it (ad_name), the UTM does not.
    select
        ad_id,
        max(ad_name) as ad_name
    from order_facts
    where ad_channel = 'tiktok_lead_form'
    group by ad_id
),

final as (
    select
        per_ad.ad_key,
        per_ad.ad_channel,
        per_ad.ad_source,
        per_ad.ad_advertiser_id,
        per_ad.ad_campaign,
        per_ad.ad_id,
        case
            when per_ad.ad_channel = 'storefront_utm' and per_ad.ad_source = 'tiktok'
                then coalesce(lead_form_ad_names.ad_name, per_ad.ad_name)
            else per_ad.ad_name
        end as ad_name,
        per_ad.ad_form_id,
        per_ad.ad_form_name,
        run_date.as_of_date,
        per_ad.leads,
        per_ad.orders,
        per_ad.orders_confirmed,
        per_ad.orders_delivered,
        per_ad.orders_returned,
        per_ad.orders_cancelled,
        per_ad.orders_ended,
        cast({{ safe_ratio('per_ad.orders_delivered', 'per_ad.orders_ended') }} as double) as delivery_rate,
        {{ wilson_lower('per_ad.orders_delivered', 'per_ad.orders_ended') }} as delivery_rate_ci_low,
        {{ wilson_upper('per_ad.orders_delivered', 'per_ad.orders_ended') }} as delivery_rate_ci_high,
        cast({{ safe_ratio('per_ad.orders_returned', 'per_ad.orders_delivered + per_ad.orders_returned') }} as double)
            as rto_rate,
        {{ wilson_lower('per_ad.orders_returned', 'per_ad.orders_delivered + per_ad.orders_returned') }}
            as rto_rate_ci_low,
        {{ wilson_upper('per_ad.orders_returned', 'per_ad.orders_delivered + per_ad.orders_returned') }}
            as rto_rate_ci_high,
        cast(per_ad.delivered_revenue as decimal(14, 2)) as delivered_revenue,
        cast(
            per_ad.orders_delivered * {{ economics['delivered_margin'] }} - per_ad.orders_returned * {{ rto_cost }}
            as decimal(14, 2)
        ) as profit,
        cast(
            (per_ad.orders_delivered * {{ economics['delivered_margin'] }} - per_ad.orders_returned * {{ rto_cost }})
            / cast(per_ad.leads as double)
            as double
        ) as profit_per_lead,
        per_ad.orders_scored_at_placement,
        cast(per_ad.avg_lead_score_at_placement as double) as avg_lead_score_at_placement,
        cast(per_ad.avg_rto_probability_at_placement as double) as avg_rto_probability_at_placement
    from per_ad
    left join lead_form_ad_names on per_ad.ad_id = lead_form_ad_names.ad_id
    cross join run_date
)

select * from final
