"""The REST client the demo, the smoke and the tests drive Airflow with: a run-state poll
the api-server answers late is asked again, not the end of the run being waited for."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tooling.airflow_api import AirflowApi, AirflowApiError


class _SlowFirstPoll(BaseHTTPRequestHandler):
    """/auth/token, then a dag run that is 'running' and then 'success'; the first poll of
    its state is answered after the client's timeout (a busy api-server)."""

    polls = 0
    late_polls = 1  # how many polls, from the first, are answered after the timeout
    states = ("running", "success")

    def do_POST(self) -> None:
        self._answer(201, {"access_token": "t"})

    def do_GET(self) -> None:
        cls = type(self)
        cls.polls += 1
        if cls.polls <= cls.late_polls:
            time.sleep(0.6)
        state = cls.states[min(cls.polls - 1, len(cls.states) - 1)]
        self._answer(200, {"state": state})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    handler = type("Handler", (_SlowFirstPoll,), {"polls": 0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", handler
    finally:
        httpd.shutdown()


def test_a_state_poll_answered_late_is_asked_again(server):
    url, handler = server
    api = AirflowApi(url, "u", "p", timeout=0.3)
    assert api.wait({"dag": "run-1"}, timeout=10, poll=0.05) == {"dag": "success"}
    assert handler.polls == 2  # the late one (its "running" never read), then "success"


def test_a_run_never_answered_ends_at_the_deadline_saying_so(server):
    url, handler = server
    handler.late_polls = 10**6  # the server never answers in time
    api = AirflowApi(url, "u", "p", timeout=0.3)
    with pytest.raises(AirflowApiError, match=r"not finished after 1 s.*not answered"):
        api.wait({"dag": "run-1"}, timeout=1, poll=0.05)
