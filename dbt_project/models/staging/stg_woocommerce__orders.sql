with

source as (
    {{ new_raw_rows(source('raw', 'woocommerce_orders')) }}
),

meta_entries as (
    -- One row per order snapshot and meta_data entry (order attribution, WooCommerce ≥ 8.5).
    select
        source.record_id,
        {{ json_text('entry', '$.key') }} as meta_key,
        {{ json_text('entry', '$.value') }} as meta_value
    from source
    {{ json_array_rows('source.payload', '$.meta_data', 'entries', 'entry') }}
),

attribution as (
    select
        record_id,
        {%- for field in ['source', 'medium', 'campaign', 'content'] %}
            max(case when meta_key = '_wc_order_attribution_utm_{{ field }}' then meta_value end)
                as utm_{{ field }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from meta_entries
    group by record_id
),

final_candidates as (
    select
        'woocommerce:' || ({{ json_text('payload', '$.id') }}) as order_ref,
        {{ json_text('payload', '$.id') }} as platform_order_id,
        'woocommerce' as platform,
        coalesce({{ json_text('payload', '$.number') }}, {{ json_text('payload', '$.id') }}) as order_number,
        {{ naive_utc(json_text('payload', '$.date_created_gmt')) }} as placed_at,
        {{ naive_utc(json_text('payload', '$.date_modified_gmt')) }} as updated_at,
        lower({{ json_text('payload', '$.status') }}) as raw_status,
        -- WooCommerce's own completion time: a later edit moves date_modified, not this.
        {{ naive_utc(json_text('payload', '$.date_completed_gmt')) }} as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as cancel_reason,
        case when lower({{ json_text('payload', '$.payment_method') }}) in ('cod', '') then 'cod' else 'prepaid' end
            as payment_method,
        coalesce(
            nullif({{ json_text('payload', '$.billing.phone') }}, ''),
            nullif({{ json_text('payload', '$.shipping.phone') }}, '')
        )
            as phone_raw,
        nullif({{ json_text('payload', '$.billing.email') }}, '') as email,
        nullif(trim(
            coalesce({{ json_text('payload', '$.billing.first_name') }}, '')
            || ' '
            || coalesce({{ json_text('payload', '$.billing.last_name') }}, '')
        ), '') as customer_name,
        coalesce(
            nullif({{ json_text('payload', '$.shipping.city') }}, ''), {{ json_text('payload', '$.billing.city') }}
        )
            as city_raw,
        coalesce(
            nullif({{ json_text('payload', '$.shipping.address_1') }}, ''),
            {{ json_text('payload', '$.billing.address_1') }}
        )
            as address,
        cast({{ json_text('payload', '$.total') }} as decimal(12, 2)) as total_amount,
        {{ json_text('payload', '$.currency') }} as currency,
        {{ json_array_sum('source.payload', '$.line_items', 'quantity') }} as item_count,
        attribution.utm_source,
        attribution.utm_medium,
        attribution.utm_campaign,
        attribution.utm_content,
        source.record_id,
        source.source_file,
        source.line_number,
        source.loaded_at
    from source
    left join attribution on source.record_id = attribution.record_id
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='order_ref, updated_at',
        order_by='loaded_at, source_file, line_number',
        columns=['order_ref', 'platform_order_id', 'platform', 'order_number', 'placed_at', 'updated_at', 'raw_status', 'closed_at', 'cancelled_at', 'cancel_reason', 'payment_method', 'phone_raw', 'email', 'customer_name', 'city_raw', 'address', 'total_amount', 'currency', 'item_count', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['order_ref', 'updated_at']) }}
