{#- Keyed incremental (macros/keyed_incremental.sql): a run rebuilds the orders with a
    snapshot staged since the last, every order when a seed it reads changed. -#}
{{ config(
    materialized=keyed_materialization(),
    unique_key='order_ref',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
{%- set seeds = [ref('storefront_status_map'), ref('city_aliases')] %}

with

{{ changed_keys('order_ref', [ref('int_storefront_order_snapshots')], seeds=seeds) }}

snapshots as (
    select * from {{ ref('int_storefront_order_snapshots') }}
    {{ where_changed('order_ref') }}
),

phones as (
    select * from {{ ref('int_phone_numbers') }}
),

cities as (
    select * from {{ ref('city_aliases') }}
),

status_times as (
    -- When the storefront reached each status: the platform's own time for it, else the
    -- first snapshot showing it. Never the update time of a later edit.
    select
        order_ref,
        min(placed_at) as placed_at,
        {{ storefront_status_times('storefront_status', 'status_reached_at') }},
        -- The ad is fixed at placement: any snapshot that carries it (a webhook snapshot
        -- of the same order may not).
        {%- for column in ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content',
                           'advertiser_id', 'campaign_id', 'ad_id', 'ad_name', 'form_id', 'form_name'] %}
            max({{ column }}) as {{ column }},
        {%- endfor %}
        count(*) as snapshot_count,
        max(staged_at) as staged_at
    from snapshots
    group by order_ref
),

latest as (
    {{ deduplicate_first(
        'snapshots',
        partition_by='order_ref',
        order_by='updated_at desc, loaded_at desc, source_file desc, line_number desc'
    ) }}
),

final as (
    select
        latest.order_ref,
        latest.platform,
        latest.platform_order_id,
        latest.order_number,
        status_times.placed_at,
        latest.updated_at,
        latest.raw_status as storefront_raw_status,
        latest.storefront_status,
        status_times.confirmed_at,
        status_times.cancelled_at,
        status_times.unreachable_at,
        status_times.storefront_delivered_at,
        status_times.storefront_returned_at,
        latest.cancel_reason,
        latest.payment_method,
        latest.phone_raw,
        phones.phone_e164 as customer_phone,
        coalesce(phones.phone_is_valid, false) as phone_is_valid,
        latest.email,
        latest.customer_name,
        latest.city_raw,
        coalesce(cities.city, latest.city_raw) as city,
        latest.address,
        latest.total_amount,
        latest.currency,
        latest.item_count,
        case when latest.platform = 'tiktok' then 'tiktok_lead_form' else 'storefront' end as lead_source,
        -- Ad attribution, one vocabulary for both channels: a TikTok lead names its ad
        -- itself; a storefront order by the UTM of the visit that ended in the checkout
        -- (utm_content is the ad id the ad's URL template writes). "(direct)" is
        -- WooCommerce's word for a visit without UTM.
        case
            when latest.platform = 'tiktok' and status_times.ad_id is not null then 'tiktok_lead_form'
            when status_times.utm_source is not null and status_times.utm_source != '(direct)' then 'storefront_utm'
            else 'unattributed'
        end as ad_channel,
        case
            when latest.platform = 'tiktok' and status_times.ad_id is not null then 'tiktok'
            when status_times.utm_source != '(direct)' then lower(status_times.utm_source)
        end as ad_source,
        status_times.advertiser_id as ad_advertiser_id,
        case
            when latest.platform = 'tiktok' then status_times.campaign_id
            when status_times.utm_source != '(direct)' then status_times.utm_campaign
        end as ad_campaign,
        case
            when latest.platform = 'tiktok' then status_times.ad_id
            when status_times.utm_source != '(direct)' then status_times.utm_content
        end as ad_id,
        case
            when latest.platform = 'tiktok' then coalesce(status_times.ad_name, status_times.ad_id)
            when status_times.utm_source != '(direct)' then status_times.utm_content
        end as ad_name,
        status_times.form_id as ad_form_id,
        status_times.form_name as ad_form_name,
        status_times.utm_source,
        status_times.utm_medium,
        status_times.utm_campaign,
        status_times.utm_content,
        status_times.snapshot_count,
        status_times.staged_at,
        {{ seeds_fingerprint(seeds) }} as seeds_fingerprint
    from latest
    inner join status_times on latest.order_ref = status_times.order_ref
    left join phones on latest.phone_raw = phones.phone_raw
    left join cities on {{ status_key('latest.city_raw') }} = cities.alias
)

select * from final
