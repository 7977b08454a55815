"""Run a contract server on 127.0.0.1 in a background thread, for tests and notebooks.

``with serve(server) as base_url:`` binds an ephemeral port (or the one given),
starts uvicorn in a daemon thread, waits until it accepts connections, yields
``http://127.0.0.1:<port>`` and shuts it down cleanly on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from sandbox.contract_servers.common import ContractServer

HOST = "127.0.0.1"


@contextmanager
def serve(
    server: ContractServer | ASGIApp, *, port: int = 0, startup_timeout_s: float = 10.0
) -> Iterator[str]:
    """Serve ``server`` (a contract server or any ASGI app) and yield its base URL."""
    app = server.app if isinstance(server, ContractServer) else server
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(
        target=uv.run, kwargs={"sockets": [sock]}, name=f"contract-server-{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            uv.should_exit = True
            sock.close()
            raise RuntimeError(f"contract server on port {bound_port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://{HOST}:{bound_port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=5)
        sock.close()
