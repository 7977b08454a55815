"""Landing files: rotation, crash recovery, the lock, write failures."""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import replace

import pytest
from starlette.testclient import TestClient
from webhook_helpers import closed_lines, open_files, whatsapp_body, whatsapp_headers

from connectors.webhooks import create_app, recover_open_files
from connectors.webhooks import writer as writer_module
from connectors.webhooks.files import FILE_NAME, LandingLock


def _post(client, message_id: str) -> int:
    body = whatsapp_body(message_id)
    return client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(body)
    ).status_code


def _ids(lines: list[bytes]) -> list[str]:
    return [
        json.loads(line)["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] for line in lines
    ]


def test_size_rotation_closes_files_without_splitting_lines(settings, landing):
    one_line = len(whatsapp_body("wamid.000")) + 1
    with TestClient(create_app(replace(settings, rotate_bytes=3 * one_line))) as client:
        for i in range(10):
            assert _post(client, f"wamid.{i:03d}") == 200
        closed_while_running = sorted(landing.rglob("*.jsonl"))
        assert len(closed_while_running) == 3  # files 1-3 hold 9 lines; the 10th is still open
        assert len(open_files(landing)) == 1
    files = sorted(landing.glob("messages/whatsapp/*.jsonl"))
    assert [len(path.read_bytes().splitlines()) for path in files] == [3, 3, 3, 1]
    assert all(FILE_NAME.match(path.name) for path in files)
    assert _ids(closed_lines(landing)) == [f"wamid.{i:03d}" for i in range(10)]


def test_time_rotation_closes_an_idle_file(settings, landing):
    with TestClient(create_app(replace(settings, rotate_seconds=0.2))) as client:
        assert _post(client, "wamid.T") == 200
        assert len(open_files(landing)) == 1
        deadline = time.monotonic() + 5
        while open_files(landing) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert open_files(landing) == []  # closed by the timer, no further traffic needed
        [closed] = landing.rglob("*.jsonl")
        assert closed.parent == landing / "messages/whatsapp"
        assert _post(client, "wamid.U") == 200  # a new file opens for later deliveries
    assert _ids(closed_lines(landing)) == ["wamid.T", "wamid.U"]


def test_no_traffic_creates_no_files(settings, landing):
    with TestClient(create_app(replace(settings, rotate_seconds=0.05))) as client:
        assert client.get("/healthz").status_code == 200
        time.sleep(0.2)
    assert list(landing.rglob("*.jsonl*")) == []


def _write_open_file(landing, relative: str, content: bytes):
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_recovery_cuts_the_partial_last_line_and_closes(landing):
    complete = whatsapp_body("wamid.1") + b"\n" + whatsapp_body("wamid.2") + b"\n"
    left = _write_open_file(
        landing,
        "messages/whatsapp/whatsapp_20260301T120000000000Z_000001.jsonl.open",
        complete + whatsapp_body("wamid.3")[:40],
    )
    only_partial = _write_open_file(
        landing, "tracking/ameex/ameex_20260301T120000000000Z_000001.jsonl.open", b'{"carrier":"am'
    )
    foreign = _write_open_file(
        landing, "tracking/ameex/pull-batch.jsonl.open", b'{"x":'
    )  # not ours

    reports = {report.open_path.name: report for report in recover_open_files(landing)}

    assert reports[left.name].lines_kept == 2 and reports[left.name].partial_bytes_dropped == 40
    closed = left.with_name(left.name.removesuffix(".open"))
    assert closed.read_bytes() == complete and not left.exists()
    assert reports[only_partial.name].closed_path is None and not only_partial.exists()
    assert foreign.exists() and foreign.name not in reports


def test_recovery_sets_aside_corrupt_lines(landing):
    good = whatsapp_body("wamid.1")
    left = _write_open_file(
        landing,
        "messages/whatsapp/whatsapp_20260301T120000000000Z_000001.jsonl.open",
        good + b"\n" + b"\x00" * 16 + b"\n",
    )
    [report] = recover_open_files(landing)
    assert report.corrupt_lines == 1 and report.lines_kept == 1
    closed = left.with_name(left.name.removesuffix(".open"))
    assert closed.read_bytes() == good + b"\n"
    assert closed.with_name(closed.name + ".corrupt").read_bytes() == b"\x00" * 16 + b"\n"


def test_startup_recovers_before_accepting(settings, landing):
    left = _write_open_file(
        landing,
        "messages/whatsapp/whatsapp_20260301T120000000000Z_000001.jsonl.open",
        whatsapp_body("wamid.old") + b"\n" + b'{"object":"whatsapp_bus',
    )
    with TestClient(create_app(settings)) as client:
        assert not left.exists()
        assert _post(client, "wamid.new") == 200
    assert sorted(_ids(closed_lines(landing))) == ["wamid.new", "wamid.old"]


def test_a_second_receiver_on_the_same_landing_folder_is_refused(settings, landing):
    with (
        TestClient(create_app(settings)),
        pytest.raises(RuntimeError, match="another webhook receiver"),
    ):
        LandingLock(landing).acquire()
    lock = LandingLock(landing)
    lock.acquire()  # released at shutdown
    lock.release()


def test_failed_disk_write_answers_503_and_leaves_only_complete_lines(
    settings, landing, monkeypatch
):
    real_write = os.write

    def flaky_write(fd, data):
        if b"wamid.failed" in bytes(data):
            real_write(
                fd, bytes(data[:25])
            )  # part of the line reaches the file, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    with TestClient(create_app(settings)) as client:
        assert _post(client, "wamid.before") == 200
        monkeypatch.setattr(writer_module.os, "write", flaky_write)
        assert _post(client, "wamid.failed") == 503  # not acknowledged: the sender retries
        assert _post(client, "wamid.after") == 200
    assert _ids(closed_lines(landing)) == ["wamid.before", "wamid.after"]
