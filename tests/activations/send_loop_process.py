"""The campaign send loop as a child process, for the tests that SIGKILL it halfway.

    python send_loop_process.py WAREHOUSE CAMPAIGN_FILE BASE_URL [KILL_AFTER_CLAIMS [CONCURRENCY]]

With KILL_AFTER_CLAIMS, the process SIGKILLs itself right after committing that many
claims (before the HTTP request): the worst moment for a naive sender.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from outbox_harness import run_once

from activations.campaign_config import parse_campaign_file
from activations.campaign_runner import DeliveryHooks


def main() -> None:
    warehouse, campaign_file, base_url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    kill_after = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    claims = 0

    def after_claim(row) -> None:
        nonlocal claims
        claims += 1
        if claims == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    run_once(
        warehouse,
        parse_campaign_file(campaign_file),
        base_url,
        run_id="the-killed-run",
        hooks=DeliveryHooks(after_claim=after_claim),
        timeout_s=5.0,
        concurrency=concurrency,
    )


if __name__ == "__main__":
    main()
