"""What a campaign would do now, before anything is sent: ``cod360 campaign preview ID``.

The preview goes through the same steps as a live run — the opt-outs refreshed, the
audience read from the segment, every member through the sending rules, the template
variables rendered — inside one warehouse transaction that is rolled back: it writes
nothing (no outbox row, no dry-run row, no run history) and calls nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from activations.audience import campaign_audience, contact_facts
from activations.campaign_config import Campaign
from activations.campaign_planning import MessageSpec, naive, plan_messages, utc_now
from activations.outbox import OutboxStatus, existing_statuses
from activations.suppression import refresh_suppression
from activations.warehouse_tables import ensure_activation_tables

SAMPLE_ROWS = 10


@dataclass
class CampaignPreview:
    """Counts of a campaign's plan and a few of its rows (phones masked)."""

    campaign_id: str
    enabled: bool
    audience: int = 0
    already_handled: int = 0
    would_send: int = 0
    holdout: int = 0
    by_variant: dict[str, int] = field(default_factory=dict)
    held_back: dict[str, int] = field(default_factory=dict)  # "suppress:opted_out" → n
    samples: list[dict] = field(default_factory=list)

    def lines(self, campaign: Campaign) -> list[str]:
        variants = ", ".join(f"{n} → {t.name}" for n, t in campaign.variant_templates().items())
        state = "enabled" if self.enabled else "disabled (a run would be a dry run)"
        out = [
            f"Campaign {self.campaign_id}: {state}, {campaign.category.value}, segment "
            f"`{campaign.segment}`, variants {variants}, holdout {campaign.holdout_share:.0%}",
            f"  audience:          {self.audience}",
            f"  already handled:   {self.already_handled} (an earlier run has their message)",
            f"  would send:        {self.would_send}"
            + (
                " (" + ", ".join(f"{v} {n}" for v, n in sorted(self.by_variant.items())) + ")"
                if self.by_variant
                else ""
            ),
            f"  holdout:           {self.holdout} (recorded, not messaged: the comparison group)",
        ]
        if self.held_back:
            out.append("  held back, by rule:")
            out += [f"    {rule:<34} {n}" for rule, n in sorted(self.held_back.items())]
        else:
            out.append("  held back, by rule: none")
        if self.samples:
            out.append(f"  first {len(self.samples)} of the audience:")
            out.append(
                f"    {'phone':<15} {'order':<28} {'verdict':<9} {'variant':<8} "
                f"{'template':<26} variables / reason"
            )
            for row in self.samples:
                detail = row.get("body_params") or row.get("reason") or ""
                out.append(
                    f"    {row.get('customer_phone_masked') or '':<15} "
                    f"{row.get('order_ref') or '-':<28} {row.get('verdict') or '':<9} "
                    f"{row.get('variant') or '-':<8} {row.get('template_name') or '-':<26} {detail}"
                )
        return out


def preview_campaign(
    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
    campaign: Campaign,
    now: datetime | None = None,
) -> CampaignPreview:
    """Plan ``campaign`` as a live run would at ``now`` and roll everything back."""
    now = now or utc_now()
    spec = MessageSpec.from_campaign(campaign)
    preview = CampaignPreview(campaign.id, campaign.enabled)
    with connect() as conn:
        conn.execute("begin transaction")
        try:
            ensure_activation_tables(conn)
            refresh_suppression(conn, naive(now))
            members = campaign_audience(conn, campaign, now)
            existing = existing_statuses(conn, campaign.id)
            facts = contact_facts(conn, [m.customer_phone for m in members], now)
            plan = plan_messages(spec, members, facts, existing, now)
        finally:
            conn.execute("rollback")
    counts = Counter(plan.counts)
    preview.audience = len(members)
    preview.already_handled = counts.pop("already_handled", 0)
    preview.holdout = counts.pop("holdout", 0)
    preview.would_send = counts.pop("send", 0)
    preview.held_back = dict(counts)
    preview.by_variant = dict(
        Counter(e.variant for e in plan.entries if e.status is OutboxStatus.PENDING)
    )
    preview.samples = plan.rows[:SAMPLE_ROWS]
    return preview
