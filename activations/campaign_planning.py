"""Planning a campaign: what each audience member gets, through the sending rules.

:func:`plan_messages` is pure over its inputs (audience, contact facts, existing outbox
keys, time): every member is decided by :func:`activations.rules.decide` and becomes an
outbox entry to send, a holdout entry, or a count under the rule that held it back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import duckdb

from activations.audience import AudienceMember
from activations.campaign_config import Campaign, Template
from activations.outbox import OutboxEntry, OutboxRow, OutboxStatus
from activations.rules import Action, MessageKind, SendingPolicy, decide
from common.privacy import mask_phone

ParamsAtSend = Callable[[duckdb.DuckDBPyConnection, OutboxRow, datetime], tuple[str, ...]]
SECRET_PARAMS = "<generated at send time, never stored>"


def utc_now() -> datetime:
    return datetime.now(UTC)


def naive(moment: datetime) -> datetime:
    """Aware → naive UTC, the warehouse's time type."""
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class MessageSpec:
    """Everything the runner needs about one campaign or flow."""

    campaign_id: str
    policy: SendingPolicy
    templates: Mapping[str, Template]  # by variant
    valid_for: timedelta
    channel: str = "whatsapp"
    text_for: Callable[[AudienceMember], str | None] | None = None
    params_at_send: ParamsAtSend | None = None  # secret parameters (delivery codes)

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> MessageSpec:
        return cls(
            campaign_id=campaign.id,
            policy=campaign.policy(),
            templates=campaign.variant_templates(),
            valid_for=timedelta(hours=campaign.valid_for_hours),
        )


@dataclass
class Plan:
    entries: list[OutboxEntry] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    rows: list[dict] = field(default_factory=list)  # one per member, for dry runs and samples


def _entry(
    spec: MessageSpec, member: AudienceMember, variant: str, now: datetime, **kw
) -> OutboxEntry:
    template = spec.templates.get(variant) or next(iter(spec.templates.values()))
    return OutboxEntry(
        campaign_id=spec.campaign_id,
        customer_phone=member.customer_phone,
        occasion=member.occasion,
        order_ref=member.order_ref,
        variant=variant,
        channel=spec.channel,
        category=spec.policy.category.value,
        template_name=template.name if spec.channel == "whatsapp" else None,
        language=template.language if spec.channel == "whatsapp" else None,
        button_payloads=tuple(template.buttons),
        expires_at=naive(now + spec.valid_for),
        **kw,
    )


def plan_messages(
    spec: MessageSpec,
    members: Sequence[AudienceMember],
    facts: Mapping,
    existing: Mapping[str, str],
    now: datetime,
) -> Plan:
    """Each member through the rules: outbox entries to write, counts, one row per member."""
    plan = Plan()
    seen: set[str] = set()
    for member in members:
        probe = _entry(spec, member, "A", now, message_kind="template")
        key = probe.key
        row = {
            "outbox_key": key,
            "customer_phone_masked": mask_phone(member.customer_phone),
            "order_ref": member.order_ref,
        }
        plan.rows.append(row)
        if key in existing or key in seen:
            plan.counts["already_handled"] += 1
            row.update(verdict="already_handled", reason=existing.get(key, "planned"))
            continue
        seen.add(key)
        verdict = decide(
            spec.policy,
            facts[member.customer_phone],
            now,
            about_open_order=member.order_ref is not None,
        )
        row.update(verdict=verdict.action.value, variant=verdict.variant)
        if verdict.action in (Action.SUPPRESS, Action.DEFER):
            plan.counts[f"{verdict.action.value}:{verdict.reason.value}"] += 1
            row["reason"] = verdict.reason.value
            continue
        if verdict.action is Action.HOLDOUT:
            plan.counts["holdout"] += 1
            held = _entry(
                spec, member, "holdout", now, message_kind="none", status=OutboxStatus.HOLDOUT
            )
            plan.entries.append(
                replace(held, template_name=None, language=None, button_payloads=())
            )
            continue
        template = spec.templates.get(verdict.variant) or next(iter(spec.templates.values()))
        text = spec.text_for(member) if spec.text_for else None
        if spec.params_at_send is not None:
            params = None
        else:
            rendered = [v.render(member.values) for v in template.variables]
            if any(p is None or p == "" for p in rendered):
                plan.counts["skip:missing_variable"] += 1
                row.update(verdict="skip", reason="missing_variable")
                continue
            params = tuple(str(p) for p in rendered)
        if spec.channel == "sms" and not text:
            plan.counts["skip:missing_variable"] += 1
            row.update(verdict="skip", reason="missing_text")
            continue
        kind = verdict.message_kind or MessageKind.TEMPLATE
        entry = _entry(
            spec,
            member,
            verdict.variant or "A",
            now,
            message_kind="text" if spec.channel == "sms" else kind.value,
            body_params=params,
            text_body=text,
        )
        plan.entries.append(entry)
        plan.counts["send"] += 1
        row.update(
            template_name=entry.template_name,
            body_params=json.dumps(list(params), ensure_ascii=False)
            if params
            else SECRET_PARAMS
            if spec.params_at_send
            else None,
        )
    return plan
