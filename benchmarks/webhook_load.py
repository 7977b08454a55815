"""Load benchmark for the webhook receiver (not a test): signed WhatsApp webhooks at a fixed rate.

Starts ``python -m connectors.webhooks`` on 127.0.0.1 with a fresh landing folder
and a random app secret, sends ``--rate`` signed Cloud API notifications per
second for ``--duration`` seconds (open loop: request *i* leaves at ``i / rate``
whatever the earlier ones are doing), stops the receiver with SIGTERM, then
checks every accepted event is in the closed landing files exactly once.

    .venv/bin/python -m benchmarks.webhook_load                 # 200/s for 10 s
    .venv/bin/python -m benchmarks.webhook_load --rate 500 --duration 20

Bounded on purpose: loopback only, at most 2000 requests/s for at most 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from connectors.webhooks.signatures import sign_hex  # noqa: E402

HOST = "127.0.0.1"  # never anything else
MAX_RATE = 2000
MAX_DURATION = 60


def whatsapp_body(message_id: str) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "212522000000",
                                    "phone_number_id": "106540352242922",
                                },
                                "statuses": [
                                    {
                                        "id": message_id,
                                        "status": "delivered",
                                        "timestamp": str(int(time.time())),
                                        "recipient_id": "212600000001",
                                        "biz_opaque_callback_data": "order_ref=shopify:5123456789&template=cod_confirm&campaign=bench",
                                        "conversation": {
                                            "id": "c1",
                                            "origin": {"type": "utility"},
                                        },
                                        "pricing": {
                                            "billable": True,
                                            "pricing_model": "CBP",
                                            "category": "utility",
                                        },
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        },
        separators=(",", ":"),
    ).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_receiver(
    landing: Path, port: int, secret: str, rotate_seconds: float
) -> subprocess.Popen:
    env = {
        **os.environ,
        "COD360_WHATSAPP_APP_SECRET": secret,
        "COD360_WEBHOOK_ROTATE_SECONDS": str(rotate_seconds),
    }
    command = [sys.executable, "-m", "connectors.webhooks", "--host", HOST, "--port", str(port)]
    command += ["--landing", str(landing), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"receiver exited with {process.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("receiver did not become healthy")


async def send_load(port: int, secret: str, rate: float, duration: float, concurrency: int):
    total = int(rate * duration)
    results: list[
        tuple[str, int, float]
    ] = []  # (message id, status or 0 for a transport error, seconds)
    limiter = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", limits=limits, timeout=30
    ) as client:

        async def one(i: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            message_id = f"wamid.BENCH{i:07d}"
            body = whatsapp_body(message_id)
            headers = {
                "X-Hub-Signature-256": sign_hex(secret, body),
                "Content-Type": "application/json",
            }
            async with limiter:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/webhooks/whatsapp", content=body, headers=headers
                    )
                    status = response.status_code
                except httpx.TransportError:
                    status = 0
                results.append((message_id, status, time.perf_counter() - started))

        t0 = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i, t0 + i / rate) for i in range(total)))
        elapsed = time.perf_counter() - t0
    return results, elapsed


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to tell receiver cost from client cost."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def verify_landing(landing: Path, accepted: set[str]) -> dict:
    open_left = sorted(str(p.relative_to(landing)) for p in landing.rglob("*.open"))
    files = sorted(landing.glob("messages/whatsapp/*.jsonl"))
    landed: Counter[str] = Counter()
    bad_lines = 0
    for path in files:
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            bad_lines += 1
        for line in data.splitlines():
            try:
                value = json.loads(line)
                landed[value["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]] += 1
            except (ValueError, KeyError, IndexError):
                bad_lines += 1
    return {
        "closed_files": len(files),
        "open_files_left": open_left,
        "lines": sum(landed.values()),
        "bad_lines": bad_lines,
        "accepted_missing": sorted(accepted - landed.keys()),
        "accepted_duplicated": sorted(i for i in accepted if landed[i] > 1),
        "landed_not_accepted": sorted(landed.keys() - accepted),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rate", type=float, default=200, help=f"requests per second (max {MAX_RATE})"
    )
    parser.add_argument("--duration", type=float, default=10, help=f"seconds (max {MAX_DURATION})")
    parser.add_argument("--concurrency", type=int, default=256, help="most requests in flight")
    parser.add_argument("--rotate-seconds", type=float, default=2.0, help="receiver file rotation")
    parser.add_argument(
        "--landing", type=Path, help="landing folder (default: a fresh temporary one)"
    )
    args = parser.parse_args()
    if not (0 < args.rate <= MAX_RATE and 0 < args.duration <= MAX_DURATION):
        parser.error(f"--rate must be in (0, {MAX_RATE}] and --duration in (0, {MAX_DURATION}]")

    landing = args.landing or Path(tempfile.mkdtemp(prefix="cod360-webhook-bench-")) / "landing"
    if landing.exists() and any(landing.rglob("*.jsonl")):
        parser.error(f"{landing} already holds landing files; give an empty folder")
    secret = secrets.token_hex(16)
    port = free_port()
    receiver = start_receiver(landing, port, secret, args.rotate_seconds)
    try:
        results, elapsed = asyncio.run(
            send_load(port, secret, args.rate, args.duration, args.concurrency)
        )
    finally:
        receiver_cpu = process_cpu_seconds(receiver.pid)
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(30)

    statuses = Counter(status for _, status, _ in results)
    accepted = {message_id for message_id, status, _ in results if status == 200}
    latencies = sorted(seconds * 1000 for _, status, seconds in results if status == 200)
    check = verify_landing(landing, accepted)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    ok = (
        not check["accepted_missing"]
        and not check["accepted_duplicated"]
        and not check["bad_lines"]
        and not check["open_files_left"]
    )
    report = {
        "target": f"{args.rate:g}/s for {args.duration:g}s to {HOST}",
        "sent": len(results),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "sustained_accepted_per_s": round(len(accepted) / elapsed, 1),
        "latency_ms": {
            "p50": round(quantiles[49], 2),
            "p99": round(quantiles[98], 2),
            "max": round(latencies[-1], 2) if latencies else None,
        },
        "receiver_cpu_ms_per_request": round(receiver_cpu * 1000 / len(results), 3)
        if receiver_cpu is not None and results
        else None,
        "landing": str(landing),
        "closed_files": check["closed_files"],
        "lines": check["lines"],
        "verification": {
            "every_accepted_event_exactly_once": not check["accepted_missing"]
            and not check["accepted_duplicated"],
            "accepted_missing": len(check["accepted_missing"]),
            "accepted_duplicated": len(check["accepted_duplicated"]),
            "landed_not_accepted": len(check["landed_not_accepted"]),
            "bad_or_partial_lines": check["bad_lines"],
            "open_files_left": check["open_files_left"],
        },
        "ok": ok,
    }
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
