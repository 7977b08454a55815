{{ config(materialized='view') }}

with

shopify as (select * from {{ ref('stg_shopify__orders') }}),

shopify_webhooks as (select * from {{ ref('stg_shopify__webhook_orders') }}),

woocommerce as (select * from {{ ref('stg_woocommerce__orders') }}),

youcan as (select * from {{ ref('stg_youcan__orders') }}),

lightfunnels as (select * from {{ ref('stg_lightfunnels__orders') }}),

prestashop as (select * from {{ ref('stg_prestashop__orders') }}),

tiktok as (select * from {{ ref('stg_tiktok__leads') }}),

unioned as (
    {%- set relations = [
        'shopify', 'shopify_webhooks', 'woocommerce', 'youcan', 'lightfunnels', 'prestashop', 'tiktok'
    ] %}
    {#- The ad attribution each source carries (docs/landing.md): UTM parameters of the
        storefront visit, or the TikTok lead's own ad; null where a source has none. -#}
    {%- set attribution_columns = {
        'shopify': ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content'],
        'woocommerce': ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content'],
        'tiktok': ['advertiser_id', 'campaign_id', 'ad_id', 'ad_name', 'form_id', 'form_name'],
    } %}
    {%- set all_attribution_columns = [
        'utm_source', 'utm_medium', 'utm_campaign', 'utm_content',
        'advertiser_id', 'campaign_id', 'ad_id', 'ad_name', 'form_id', 'form_name'
    ] %}
    {% for relation in relations %}
        select
            order_ref, platform, platform_order_id, order_number, placed_at, updated_at, raw_status,
            closed_at, cancelled_at, cancel_reason, payment_method, phone_raw, email, customer_name, city_raw, address,
            total_amount, currency, item_count, record_id, source_file, line_number, loaded_at, staged_at,
            {%- for column in all_attribution_columns %}
                {%- if column in attribution_columns.get(relation, []) %}
                    {{ column }},
                {%- else %}
                    cast(null as {{ dbt.type_string() }}) as {{ column }},
                {%- endif %}
            {%- endfor %}
            {{ loop.index }} as source_rank
        from {{ relation }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

status_map as (select * from {{ ref('storefront_status_map') }}),

deduplicated as (
    -- One snapshot per order and update time: a Shopify order pulled and also received
    -- by webhook at the same updatedAt is one snapshot (the pulled node wins the tie).
    select
        *,
        row_number() over (
            partition by order_ref, updated_at order by source_rank, loaded_at, source_file, line_number
        ) as snapshot_rank
    from unioned
),

mapped as (
    select
        unioned.*,
        coalesce(status_map.canonical_status, 'unknown') as storefront_status
    from deduplicated as unioned
    left join status_map
        on unioned.platform = status_map.platform
        and unioned.raw_status = status_map.raw_status
    where unioned.snapshot_rank = 1
),

final as (
    select
        *,
        -- When the order reached the status this snapshot shows, as far as the snapshot
        -- tells: the platform's own completion / cancellation time where it carries one,
        -- else the snapshot's update time (int_storefront_orders then keeps the first
        -- snapshot per status, so a later edit never moves it).
        case
            when storefront_status = 'delivered' then coalesce(closed_at, updated_at)
            when storefront_status in ('cancelled', 'returned') then coalesce(cancelled_at, updated_at)
            else updated_at
        end as status_reached_at
    from mapped
)

select * from final
