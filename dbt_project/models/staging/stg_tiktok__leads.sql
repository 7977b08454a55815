with

source as (
    {{ new_raw_rows(source('raw', 'tiktok_leads')) }}
),

answers as (
    -- One row per lead and form question.
    select
        record_id,
        lower({{ json_text('field', '$.name') }}) as question,
        {{ json_text('field', '$.values[0]') }} as answer
    from source
    {{ json_array_rows('payload', '$.field_data', 'answers', 'field') }}
),

pivoted as (
    select
        record_id,
        max(case when question in ('full_name', 'name') then answer end) as customer_name,
        max(case when question in ('phone_number', 'phone') then answer end) as phone_raw,
        max(case when question = 'email' then answer end) as email,
        max(case when question = 'city' then answer end) as city_raw,
        max(case when question in ('address', 'street_address') then answer end) as address,
        max(case when question = 'offer' then answer end) as offer
    from answers
    group by record_id
),

final_candidates as (
    select
        'tiktok:' || ({{ json_text('source.payload', '$.lead_id') }}) as order_ref,
        {{ json_text('source.payload', '$.lead_id') }} as platform_order_id,
        'tiktok' as platform,
        {{ json_text('source.payload', '$.lead_id') }} as order_number,
        {{ iso_or_epoch_to_utc(json_text('source.payload', '$.create_time')) }} as placed_at,
        {{ iso_or_epoch_to_utc(json_text('source.payload', '$.create_time')) }} as updated_at,
        -- A lead is an order intent waiting for its confirmation call.
        'lead' as raw_status,
        cast(null as timestamp) as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as cancel_reason,
        'cod' as payment_method,
        pivoted.phone_raw,
        pivoted.email,
        pivoted.customer_name,
        pivoted.city_raw,
        pivoted.address,
        -- The offer answer carries the price: "2 x Sérum éclat - 298 MAD".
        try_cast(
            regexp_extract(
                pivoted.offer, {{ regex_pattern('([0-9]+(?:[.,][0-9]+)?)\\s*(?:MAD|DH|dhs?)') }}, 1
            ) as decimal(
                12, 2
            )
        )
            as total_amount,
        'MAD' as currency,
        coalesce(try_cast(regexp_extract(pivoted.offer, {{ regex_pattern('^\\s*([0-9]+)\\s*x') }}, 1) as integer), 1)
            as item_count,
        {{ json_text('source.payload', '$.advertiser_id') }} as advertiser_id,
        {{ json_text('source.payload', '$.campaign_id') }} as campaign_id,
        {{ json_text('source.payload', '$.ad_id') }} as ad_id,
        {{ json_text('source.payload', '$.ad_name') }} as ad_name,
        {{ json_text('source.payload', '$.form_id') }} as form_id,
        {{ json_text('source.payload', '$.form_name') }} as form_name,
        source.record_id,
        source.source_file,
        source.line_number,
        source.loaded_at
    from source
    left join pivoted on source.record_id = pivoted.record_id
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='order_ref',
        order_by='loaded_at, source_file, line_number',
        columns=['order_ref', 'platform_order_id', 'platform', 'order_number', 'placed_at', 'updated_at', 'raw_status', 'closed_at', 'cancelled_at', 'cancel_reason', 'payment_method', 'phone_raw', 'email', 'customer_name', 'city_raw', 'address', 'total_amount', 'currency', 'item_count', 'advertiser_id', 'campaign_id', 'ad_id', 'ad_name', 'form_id', 'form_name', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['order_ref']) }}
