"""Lead-signal writer: the landing-page session of an order (noisy view of its intent)."""

from __future__ import annotations

import math

from sandbox.sample_store import vendors as v
from sandbox.sample_store.order import _OrderCtx
from sandbox.sample_store.timing import _poisson, _sigmoid


class _LeadSignalMixin:
    def _lead_signal(self, order: _OrderCtx, intent: float, *, bot: bool = False) -> None:
        rnd = self.rnd
        time_on_page = round(math.exp(rnd.gauss(3.9 + 0.35 * intent, 0.7)), 1)
        scroll = round(100 * _sigmoid(rnd.gauss(0.6 + 0.7 * intent, 1.0)))
        products_viewed = 1 + _poisson(rnd, math.exp(0.1 + 0.3 * intent))
        form_s = round(math.exp(rnd.gauss(3.1 + 0.15 * intent, 0.5)), 1)
        visits = 1 + _poisson(rnd, math.exp(-0.4 + 0.35 * intent))
        if bot:
            # A script fills the form in seconds after a glance at the page (own stream,
            # so the other orders' sessions are unchanged).
            brnd = self.behaviour_rnd
            time_on_page = round(brnd.uniform(3.0, 20.0), 1)
            form_s = round(brnd.uniform(1.0, 6.0), 1)
            products_viewed, visits = 1, 1
        roll = rnd.random()
        device = "mobile" if roll < 0.85 else "desktop" if roll < 0.95 else "tablet"
        record = v.lead_signal(
            order_ref=order.ref,
            session_id=f"s_{self._hex(64).lower()}",
            event_time=v.iso_local(order.placed_ts),
            time_on_page_s=time_on_page,
            scroll_depth_pct=scroll,
            products_viewed=products_viewed,
            form_completion_s=form_s,
            visits=visits,
            ad_creative=order.creative,
            device=device,
        )
        self._emit(order.placed_ts, "signals", "lead_signals", record)
