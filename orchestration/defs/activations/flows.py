"""The message flows: order confirmation (+ SMS fallback), delivery codes, re-attempt notices."""

from collections.abc import Callable
from datetime import timedelta

import dagster as dg
from pydantic import Field

from activations.campaign_planning import MessageSpec
from activations.campaign_runner import run_campaign
from activations.clients.resources import SmsGatewayResource, WhatsAppCloudResource
from activations.confirmation import (
    ConfirmationSettings,
    confirmation_spec,
    new_cod_orders,
    sms_fallback_spec,
    unanswered_confirmations,
)
from activations.delivery_codes import (
    delivery_code_spec,
    orders_out_for_delivery,
    otp_not_provided_attempts,
    reattempt_spec,
)
from activations.otp import OtpSecretError, otp_secret
from orchestration.defs.activations.common import (
    ACTIVATIONS_GROUP,
    MESSAGE_DEPS,
    ActivationConfig,
    activation_key,
    failing_loudly_when_halted,
    marts_here,
    report_metadata,
    run_mode,
)
from orchestration.defs.activations.gates import enforce_quality_gate
from orchestration.defs.activations.resources import (
    ActivationSettings,
    sms_deliverer,
    whatsapp_deliverer,
)
from orchestration.resources import WarehouseResource

FLOW_TAGS = {"cod360/activation": "flow"}


class ConfirmationConfig(ActivationConfig):
    max_order_age_hours: float = Field(
        default=72, gt=0, description="Orders older than this (vs the newest) are not asked."
    )
    fallback_after_minutes: float = Field(
        default=120, ge=0, description="No reply this long after the WhatsApp → SMS fallback."
    )

    def settings(self, brand: str) -> ConfirmationSettings:
        return ConfirmationSettings(
            max_order_age=timedelta(hours=self.max_order_age_hours),
            fallback_after=timedelta(minutes=self.fallback_after_minutes),
            brand_name=brand,
        )


class DeliveryCodeConfig(ActivationConfig):
    code_valid_hours: float = Field(default=24, gt=0, description="Validity of a delivery code.")
    max_attempts: int = Field(default=5, ge=1, description="Wrong codes before it locks.")


def _run(
    context, warehouse, spec: MessageSpec, audience: Callable, deliverer, dry_run, reason, config
):
    try:
        with failing_loudly_when_halted():
            report = run_campaign(
                warehouse.connect,
                spec,
                audience,
                deliverer=deliverer,
                dry_run=dry_run,
                run_id=context.run.run_id,
                mode_reason=reason,
                grace=config.grace,
            )
    finally:
        if deliverer is not None:
            deliverer.close()
    context.log.info(f"{spec.campaign_id}: {report.summary()}")
    return dg.MaterializeResult(metadata=report_metadata(report))


@dg.asset(
    key=activation_key("order_confirmation"),
    group_name=ACTIVATIONS_GROUP,
    deps=MESSAGE_DEPS,
    kinds={"whatsapp", "python"},
    tags=FLOW_TAGS,
)
def order_confirmation(
    context: dg.AssetExecutionContext,
    config: ConfirmationConfig,
    warehouse: WarehouseResource,
    whatsapp: WhatsAppCloudResource,
    activation_settings: ActivationSettings,
) -> dg.MaterializeResult:
    """New COD orders awaiting confirmation get the `order_confirmation` template with
    CONFIRM / CANCEL quick replies (one message per order, through the outbox)."""
    enforce_quality_gate(context)
    marts_here(context, warehouse)
    settings = config.settings(activation_settings.brand_name)
    deliverer = None if config.dry_run else whatsapp_deliverer(whatsapp)
    dry_run, reason = run_mode(config, deliverer, "WhatsApp (WHATSAPP_ACCESS_TOKEN)")
    return _run(
        context, warehouse, confirmation_spec(settings), new_cod_orders(settings),
        deliverer, dry_run, reason, config,
    )  # fmt: skip


@dg.asset(
    key=activation_key("order_confirmation_sms_fallback"),
    group_name=ACTIVATIONS_GROUP,
    deps=[activation_key("order_confirmation"), *MESSAGE_DEPS],
    kinds={"sms", "python"},
    tags=FLOW_TAGS,
)
def order_confirmation_sms_fallback(
    context: dg.AssetExecutionContext,
    config: ConfirmationConfig,
    warehouse: WarehouseResource,
    sms_gateway: SmsGatewayResource,
    activation_settings: ActivationSettings,
) -> dg.MaterializeResult:
    """Orders still pending `fallback_after_minutes` after an unanswered (or failed) WhatsApp
    confirmation get one SMS; the gateway dedupes on the outbox key."""
    enforce_quality_gate(context)
    marts_here(context, warehouse)
    settings = config.settings(activation_settings.brand_name)
    deliverer = None if config.dry_run else sms_deliverer(sms_gateway)
    dry_run, reason = run_mode(config, deliverer, "SMS gateway (SMS_API_KEY)")
    return _run(
        context, warehouse, sms_fallback_spec(settings), unanswered_confirmations(settings),
        deliverer, dry_run, reason, config,
    )  # fmt: skip


@dg.asset(
    key=activation_key("delivery_codes"),
    group_name=ACTIVATIONS_GROUP,
    deps=MESSAGE_DEPS,
    kinds={"whatsapp", "python"},
    tags=FLOW_TAGS,
)
def delivery_codes(
    context: dg.AssetExecutionContext,
    config: DeliveryCodeConfig,
    warehouse: WarehouseResource,
    whatsapp: WhatsAppCloudResource,
    activation_settings: ActivationSettings,
) -> dg.MaterializeResult:
    """Each order out for delivery gets a new 6-digit delivery code (`delivery_code` template);
    only its HMAC is stored (`activations.otp_codes`), a new code supersedes the old."""
    enforce_quality_gate(context)
    marts_here(context, warehouse)
    try:
        secret = otp_secret(activation_settings.otp_secret)
    except OtpSecretError:
        secret = None
    deliverer = None if config.dry_run or secret is None else whatsapp_deliverer(whatsapp)
    missing = "COD360_OTP_SECRET" if secret is None else "WhatsApp (WHATSAPP_ACCESS_TOKEN)"
    dry_run, reason = run_mode(config, deliverer, missing)
    spec = delivery_code_spec(
        secret or b"dry-run: no code is issued",
        ttl=timedelta(hours=config.code_valid_hours),
        max_attempts=config.max_attempts,
    )
    return _run(
        context, warehouse, spec, orders_out_for_delivery, deliverer, dry_run, reason, config
    )


@dg.asset(
    key=activation_key("delivery_reattempts"),
    group_name=ACTIVATIONS_GROUP,
    deps=MESSAGE_DEPS,
    kinds={"whatsapp", "python"},
    tags=FLOW_TAGS,
)
def delivery_reattempts(
    context: dg.AssetExecutionContext,
    config: ActivationConfig,
    warehouse: WarehouseResource,
    whatsapp: WhatsAppCloudResource,
) -> dg.MaterializeResult:
    """A failed attempt with reason `otp_not_provided` gets a re-attempt message: free text
    inside the 24 h window, the `delivery_reattempt` template outside it."""
    enforce_quality_gate(context)
    marts_here(context, warehouse)
    deliverer = None if config.dry_run else whatsapp_deliverer(whatsapp)
    dry_run, reason = run_mode(config, deliverer, "WhatsApp (WHATSAPP_ACCESS_TOKEN)")
    return _run(
        context, warehouse, reattempt_spec(), otp_not_provided_attempts, deliverer, dry_run,
        reason, config,
    )  # fmt: skip


FLOW_KEYS = [
    activation_key(name)
    for name in (
        "order_confirmation",
        "order_confirmation_sms_fallback",
        "delivery_codes",
        "delivery_reattempts",
    )
]
