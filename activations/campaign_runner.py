"""Running a campaign (or a flow): plan the audience through the rules, record, send, report.

One run of :func:`run_campaign`:

1. settle what earlier runs left open (webhook reconciliation, expiry) and refresh
   the suppression list;
2. **plan**: every audience member through :func:`activations.rules.decide`;
   messages to send and holdout members are written to the outbox (committed);
3. **deliver**: every due row of the campaign — this run's and earlier runs'
   ``pending`` / ``retry`` rows — is checked against the rules again, claimed, sent
   and its outcome recorded (``activations.outbox`` explains the guarantees);
4. return a :class:`CampaignReport`. The run's ``activations.campaign_runs`` row is
   written when it starts (``running``), rewritten after each chunk of sends and at the
   end (``finished``; ``halted`` when a credential, account or template error stopped it,
   raised as :class:`CampaignHalted`; ``failed`` on any other error), so a killed run
   shows as started and not finished.

A dry run does 1 (read-only parts) and 2, writes what it would send to
``activations.dry_run_sends`` instead of the outbox, and never builds a client.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import duckdb

from activations.audience import AudienceMember, contact_facts
from activations.campaign_planning import MessageSpec, Plan, naive, plan_messages, utc_now
from activations.clients.errors import RunStoppingError
from activations.delivery import Deliverer
from activations.outbox import (
    OutboxRow,
    OutboxStatus,
    claim,
    due_rows,
    enqueue,
    existing_statuses,
    expire,
    mark,
    record_outcome,
)
from activations.outbox_reconciliation import (
    DEFAULT_RECONCILE_GRACE,
    reconcile_whatsapp,
    release_idempotent,
)
from activations.rules import Action, Category, MessageKind, decide
from activations.suppression import add_suppression, refresh_suppression
from activations.warehouse_tables import (
    CAMPAIGN_RUNS,
    DRY_RUN_SENDS,
    OUTBOX,
    ensure_activation_tables,
)

logger = logging.getLogger("cod360.activations.campaigns")

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
AudienceFn = Callable[[duckdb.DuckDBPyConnection, datetime], list[AudienceMember]]
SAMPLE_ROWS = 20


@dataclass
class CampaignReport:
    campaign_id: str
    dry_run: bool
    mode_reason: str | None = None
    audience: int = 0
    eligible: int = 0
    already_handled: int = 0
    holdout: int = 0
    enqueued: int = 0
    sent: int = 0
    failed: int = 0
    awaiting_retry: int = 0
    awaiting_reconciliation: int = 0
    expired: int = 0
    suppressed_by_rule: Counter = field(default_factory=Counter)
    reconciliation: dict = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Counts only (no customer data): for logs, metadata and the demo printout."""
        return {
            "mode": "dry_run" if self.dry_run else "live",
            "audience": self.audience,
            "eligible": self.eligible,
            "already_handled": self.already_handled,
            "holdout": self.holdout,
            "enqueued": self.enqueued,
            "sent": self.sent,
            "failed": self.failed,
            "awaiting_retry": self.awaiting_retry,
            "awaiting_reconciliation": self.awaiting_reconciliation,
            "expired": self.expired,
            "suppressed_by_rule": dict(sorted(self.suppressed_by_rule.items())),
            **({"mode_reason": self.mode_reason} if self.mode_reason else {}),
        }


# --- delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryHooks:
    """Test and instrumentation points: ``after_claim(row)`` runs once the claim is committed."""

    after_claim: Callable[[OutboxRow], None] | None = None


def _chunks(rows: Sequence[OutboxRow], size: int) -> Iterator[Sequence[OutboxRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def deliver_due(
    connect: Connect,
    spec: MessageSpec,
    deliverer: Deliverer,
    *,
    run_id: str,
    now_fn: Callable[[], datetime] = utc_now,
    grace: timedelta = DEFAULT_RECONCILE_GRACE,
    hooks: DeliveryHooks | None = None,
    chunk_size: int = 100,
    on_progress: Callable[[Counter], None] | None = None,
) -> tuple[Counter, dict]:
    """Send every due row of the campaign once; returns (outcome counts, reconciliation).

    Up to ``deliverer.concurrency`` sends are in flight at once (a small thread pool; the
    client's token bucket keeps the pace), so one hung request no longer stalls the
    campaign. Only this thread touches the warehouse: it decides, claims (committed before
    the row is handed to a worker, so the claim stays the exactly-once guard) and records
    each outcome as its request completes. A :class:`RunStoppingError` (credential, account
    or template refused) trips the breaker: nothing more is claimed, the requests in flight
    finish and are recorded, and the error is raised; unclaimed rows stay ``pending``.
    """
    counts: Counter = Counter()
    # Rows are already assigned to a group: no holdout draw at send time.
    policy = replace(spec.policy, holdout_share=0.0)
    with connect() as conn:
        now = now_fn()
        if spec.channel == "whatsapp":
            reconciliation = reconcile_whatsapp(conn, spec.campaign_id, naive(now), grace).as_dict()
        else:
            reconciliation = {
                "released_for_retry": release_idempotent(conn, spec.campaign_id, naive(now))
            }
        counts["expired"] += expire(conn, spec.campaign_id, naive(now))
        due = due_rows(conn, spec.campaign_id, naive(now))
        facts = dict(contact_facts(conn, [r.customer_phone for r in due], now))
    workers = max(1, int(getattr(deliverer, "concurrency", 1) or 1))
    in_flight: dict[Future, OutboxRow] = {}
    tripped: list[RunStoppingError] = []

    def record(conn: duckdb.DuckDBPyConnection, row: OutboxRow, future: Future) -> None:
        try:
            outcome = future.result()
        except RunStoppingError as exc:
            # The vendor refused the credential, account or template: nothing was accepted.
            record_outcome(
                conn,
                row.outbox_key,
                OutboxStatus.RETRY,
                naive(now_fn()),
                error_code=str(exc.code),
                error_message=str(exc),
            )
            counts["halted"] += 1
            tripped.append(exc)
            return
        done = now_fn()
        record_outcome(
            conn,
            row.outbox_key,
            outcome.status,
            naive(done),
            message_id=outcome.message_id,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            retry_not_before=naive(outcome.retry_not_before) if outcome.retry_not_before else None,
        )
        if outcome.suppress_reason:
            add_suppression(
                conn,
                row.customer_phone,
                outcome.suppress_reason,
                row.outbox_key,
                naive(done),
                naive(done),
            )
        counts[outcome.status.value] += 1

    def collect(conn: duckdb.DuckDBPyConnection, *, block: bool) -> None:
        if not in_flight:
            return
        finished, _ = wait(
            list(in_flight), timeout=None if block else 0, return_when=FIRST_COMPLETED
        )
        for future in finished:
            record(conn, in_flight.pop(future), future)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"send-{spec.campaign_id}")
    try:
        # Short connections per chunk: other writers (ingestion, dbt) get the file between
        # chunks; requests in flight carry over and are recorded on the next connection.
        for chunk in _chunks(due, chunk_size):
            with connect() as conn:
                for row in chunk:
                    collect(conn, block=False)
                    while len(in_flight) >= workers and not tripped:
                        collect(conn, block=True)
                    if tripped:
                        break
                    now = now_fn()
                    verdict = decide(
                        policy,
                        facts[row.customer_phone],
                        now,
                        about_open_order=row.order_ref is not None,
                    )
                    if verdict.action is Action.SUPPRESS:
                        mark(
                            conn,
                            row.outbox_key,
                            OutboxStatus.SUPPRESSED,
                            verdict.reason.value,
                            naive(now),
                        )
                        counts[f"suppress:{verdict.reason.value}"] += 1
                        continue
                    if verdict.action is Action.DEFER:
                        counts[f"defer:{verdict.reason.value}"] += 1
                        continue
                    if not claim(conn, row.outbox_key, naive(now), run_id):
                        counts["claimed_elsewhere"] += 1
                        continue
                    if hooks and hooks.after_claim:
                        hooks.after_claim(row)
                    if (
                        verdict.message_kind is MessageKind.TEMPLATE
                        and row.message_kind == "text"
                        and spec.channel == "whatsapp"
                    ):
                        row.message_kind = "template"  # the window closed since planning
                    params = (
                        spec.params_at_send(conn, row, now) if spec.params_at_send else row.params
                    )
                    if row.category == Category.MARKETING.value:
                        # Counted against the frequency cap when claimed, not when answered:
                        # another row of the same customer may be decided meanwhile.
                        old = facts[row.customer_phone]
                        facts[row.customer_phone] = replace(
                            old, marketing_sent_at=(*old.marketing_sent_at, now)
                        )
                    in_flight[pool.submit(deliverer.deliver, row, params)] = row
            if on_progress:
                on_progress(counts)
            if tripped:
                break
        with connect() as conn:
            while in_flight:
                collect(conn, block=True)
    finally:
        pool.shutdown(wait=True)
    if tripped:
        tripped[0].counts = dict(counts)  # what was done before the stop, for the report
        raise tripped[0]
    return counts, reconciliation


# --- one run ---------------------------------------------------------------------------------


def _status_counts(conn: duckdb.DuckDBPyConnection, campaign_id: str) -> Counter:
    rows = conn.execute(
        f"select status, count(*) from {OUTBOX} where campaign_id = ? group by status",
        [campaign_id],
    ).fetchall()
    return Counter(dict(rows))


def _write_dry_run(conn, run_id: str, spec: MessageSpec, plan: Plan, now: datetime) -> None:
    conn.execute(
        f"delete from {DRY_RUN_SENDS} where run_id = ? and campaign_id = ?",
        [run_id, spec.campaign_id],
    )
    if not plan.rows:
        return
    conn.executemany(
        f"insert into {DRY_RUN_SENDS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id,
                spec.campaign_id,
                r["outbox_key"],
                r["customer_phone_masked"],
                r.get("order_ref"),
                r.get("verdict", "skip"),
                r.get("reason"),
                r.get("variant"),
                r.get("template_name"),
                r.get("body_params"),
                naive(now),
            )
            for r in plan.rows
        ],
    )


def _write_run(
    conn,
    run_id: str,
    report: CampaignReport,
    started: datetime,
    now: datetime,
    *,
    status: str = "finished",
    error: str | None = None,
) -> None:
    """The run's history row: written when the run starts (``running``), rewritten as it
    goes and at its end, so a killed run shows as started and never as finished."""
    conn.execute(
        f"""
        insert or replace into {CAMPAIGN_RUNS} (
            run_id, campaign_id, dry_run, mode_reason, started_at, finished_at, audience,
            eligible, already_handled, holdout, enqueued, sent, failed, awaiting_retry,
            awaiting_reconciliation, suppressed_by_rule, status, updated_at, error
        ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            run_id,
            report.campaign_id,
            report.dry_run,
            report.mode_reason,
            naive(started),
            None if status == "running" else naive(now),
            report.audience,
            report.eligible,
            report.already_handled,
            report.holdout,
            report.enqueued,
            report.sent,
            report.failed,
            report.awaiting_retry,
            report.awaiting_reconciliation,
            json.dumps(dict(sorted(report.suppressed_by_rule.items()))),
            status,
            naive(now),
            error,
        ],
    )


class CampaignHalted(Exception):
    """The run stopped early on a :class:`RunStoppingError` (credential, account, template):
    the rows not sent stay ``pending`` / ``retry`` for the run after the fix."""

    def __init__(self, report: CampaignReport, cause: RunStoppingError) -> None:
        self.report = report
        self.cause = cause
        self.code = cause.code
        self.template = getattr(cause, "template", None)
        super().__init__(
            f"campaign {report.campaign_id} stopped after {report.sent} sent: {cause}; "
            f"{report.awaiting_retry} messages left to send once fixed"
        )


def run_campaign(
    connect: Connect,
    spec: MessageSpec,
    audience: AudienceFn,
    *,
    deliverer: Deliverer | None,
    dry_run: bool,
    run_id: str,
    mode_reason: str | None = None,
    now_fn: Callable[[], datetime] = utc_now,
    grace: timedelta = DEFAULT_RECONCILE_GRACE,
    hooks: DeliveryHooks | None = None,
) -> CampaignReport:
    """Plan, record and deliver one campaign (module doc); a dry run sends and records nothing
    but what it would do."""
    if not dry_run and deliverer is None:
        raise ValueError("a live run needs a deliverer; use dry_run=True to plan only")
    started = now_fn()
    report = CampaignReport(spec.campaign_id, dry_run, mode_reason)

    def history(status: str = "running", error: str | None = None) -> None:
        with connect() as conn:
            _write_run(conn, run_id, report, started, now_fn(), status=status, error=error)

    with connect() as conn:
        ensure_activation_tables(conn)
        _write_run(conn, run_id, report, started, started, status="running")
        if not dry_run:
            refresh_suppression(conn, naive(started))
        members = audience(conn, started)
        existing = existing_statuses(conn, spec.campaign_id)
        facts = contact_facts(conn, [m.customer_phone for m in members], started)
        plan = plan_messages(spec, members, facts, existing, started)
        if dry_run:
            _write_dry_run(conn, run_id, spec, plan, started)
        else:
            # Holdout rows are recorded too (measurement needs them) but are not messages.
            enqueue(
                conn,
                [e for e in plan.entries if e.status is OutboxStatus.HOLDOUT],
                naive(started),
                run_id,
            )
            report.enqueued = enqueue(
                conn,
                [e for e in plan.entries if e.status is OutboxStatus.PENDING],
                naive(started),
                run_id,
            )
    report.audience = len(members)
    report.already_handled = plan.counts.pop("already_handled", 0)
    report.holdout = plan.counts.pop("holdout", 0)
    would_send = plan.counts.pop("send", 0)
    report.eligible = would_send + report.holdout
    report.suppressed_by_rule.update(plan.counts)
    report.samples = plan.rows[:SAMPLE_ROWS]
    halted: RunStoppingError | None = None
    if dry_run:
        report.enqueued = would_send
    else:
        history()

        def progress(counts: Counter) -> None:
            report.sent, report.failed = counts["sent"], counts["failed"]
            history()

        try:
            outcomes, report.reconciliation = deliver_due(
                connect,
                spec,
                deliverer,
                run_id=run_id,
                now_fn=now_fn,
                grace=grace,
                hooks=hooks,
                on_progress=progress,
            )
        except RunStoppingError as exc:
            halted, outcomes = exc, Counter(getattr(exc, "counts", {}))
        except Exception as exc:
            history("failed", f"{type(exc).__name__}: {exc}")
            raise
        report.sent = outcomes.pop("sent", 0)
        report.failed = outcomes.pop("failed", 0)
        report.expired = outcomes.pop("expired", 0)
        for name in ("retry", "unknown", "claimed_elsewhere", "halted"):
            outcomes.pop(name, 0)
        for name, count in outcomes.items():  # rules that held back already-planned rows
            report.suppressed_by_rule[f"at_send:{name}"] += count
    with connect() as conn:
        ensure_activation_tables(conn)
        statuses = _status_counts(conn, spec.campaign_id)
        report.awaiting_retry = statuses["pending"] + statuses["retry"]
        report.awaiting_reconciliation = statuses["sending"] + statuses["unknown"]
        _write_run(
            conn,
            run_id,
            report,
            started,
            now_fn(),
            status="halted" if halted else "finished",
            error=str(halted) if halted else None,
        )
    logger.info("campaign %s: %s", spec.campaign_id, report.summary())
    if halted is not None:
        raise CampaignHalted(report, halted) from halted
    return report
