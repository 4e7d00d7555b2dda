"""Serve an ASGI app (a fake SaaS API) on a loopback port from a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    """An ASGI app being served; `base_url` has no trailing slash."""

    server: uvicorn.Server
    thread: threading.Thread
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(app, port: int | None = None, startup_timeout: float = 10.0) -> RunningServer:
    """Start `app` on 127.0.0.1 and return once it accepts connections."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fake-api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"fake API server on port {port} did not start")
        time.sleep(0.01)
    return RunningServer(server=server, thread=thread, port=port)


@contextmanager
def serving(app, port: int | None = None) -> Iterator[RunningServer]:
    """Context manager form of `start_server`, for tests."""
    running = start_server(app, port)
    try:
        yield running
    finally:
        running.stop()
