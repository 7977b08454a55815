-- The phones were normalised with phonenumbers before dbt (asset raw/phone_numbers,
-- connectors/phones.py), once per distinct string; this model keeps the strings the
-- staging models hold and reads their E.164 form from that dimension.
with
staged_phones as (
    select phone_raw from {{ ref('stg_shopify__orders') }}
    union
    select phone_raw from {{ ref('stg_shopify__webhook_orders') }}
    union
    select phone_raw from {{ ref('stg_woocommerce__orders') }}
    union
    select phone_raw from {{ ref('stg_youcan__orders') }}
    union
    select phone_raw from {{ ref('stg_lightfunnels__orders') }}
    union
    select phone_raw from {{ ref('stg_prestashop__orders') }}
    union
    select phone_raw from {{ ref('stg_tiktok__leads') }}
    union
    select phone_raw from {{ ref('stg_sms__events') }}
    union
    select recipient_wa_id as phone_raw from {{ ref('stg_whatsapp__message_statuses') }}
    union
    select sender_wa_id as phone_raw from {{ ref('stg_whatsapp__inbound_messages') }}
    union
    select wa_id as phone_raw from {{ ref('stg_whatsapp__user_preferences') }}
),

phone_numbers as (
    select * from {{ source('raw', 'phone_numbers') }}
    where default_region = '{{ var("default_phone_region") }}'
),

final as (
    -- A string missing from the dimension (raw/phone_numbers not run since it was
    -- loaded) keeps a null phone_is_valid, which the not_null test reports.
    select
        staged_phones.phone_raw,
        phone_numbers.phone_e164,
        phone_numbers.phone_is_valid,
        phone_numbers.phone_region
    from staged_phones
    left join phone_numbers
        on staged_phones.phone_raw = phone_numbers.phone_raw
    where staged_phones.phone_raw is not null
)

select * from final
