"""``python -m sandbox.contract_servers``: a real process, configured from YAML."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import yaml
from activation_helpers import PHONE

from sandbox.contract_servers.__main__ import build_server
from sandbox.contract_servers.whatsapp import WhatsAppContractServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_build_server_from_a_yaml_mapping(tmp_path):
    config = yaml.safe_load(
        """
        templates: [{name: relance, languages: [darija], body_params: 1, category: MARKETING}]
        replies: {"+212612345678": {button_payload: CONFIRM}}
        failures: {"+212600000000": 131026}
        faults: {script: ["503"]}
        """
    )
    server = build_server("whatsapp", tmp_path, config)
    assert isinstance(server, WhatsAppContractServer)
    assert server.templates["relance"].languages == ("darija",)
    assert server.failures["212600000000"].code == 131026
    assert server.faults.next_fault().status == 503
    for vendor in ("shopify", "woocommerce", "youcan", "sms"):
        assert build_server(vendor, tmp_path, {}).vendor == vendor


def test_cli_serves_whatsapp_and_flushes_webhooks_on_exit(tmp_path):
    port = free_port()
    env = {**os.environ, "WHATSAPP_ACCESS_TOKEN": "cli-token"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.contract_servers",
            "whatsapp",
            "--port",
            str(port),
            "--landing",
            str(tmp_path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/_admin/faults", timeout=0.2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        body = {
            "messaging_product": "whatsapp",
            "to": PHONE,
            "type": "template",
            "template": {
                "name": "delivery_otp",
                "language": {"code": "fr"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "482913"}]}
                ],
            },
        }
        response = httpx.post(
            url + "/v23.0/106540352242922/messages",
            json=body,
            headers={"Authorization": "Bearer cli-token"},
        )
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=10)[0].decode()
    assert "cli-token" not in output
    (landed,) = (tmp_path / "messages" / "whatsapp").glob("*.jsonl")
    first = json.loads(landed.read_text().splitlines()[0])
    assert first["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "sent"
