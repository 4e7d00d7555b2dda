"""`python -m tooling.resend resend`: one delivery released to be sent again, on purpose.

The CLI runs as ops would run it, in a subprocess on a warehouse file; the outbox
functions the delivery task uses then show the released delivery is enqueued and
sent again while every other delivery stays sent.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import duckdb

from clientpulse.paths import PROJECT_ROOT
from warehouse.db import open_writer
from warehouse.outbox import Delivery, claim_pending, enqueue, mark_sending, mark_sent

DIGEST = Delivery("leadership_digest", "slack", "#leadership", "2026-W47", {"text": "v1"})
STATUS_A = Delivery("client_weekly_status", "email", "a@x.test", "2026-W47", {"s": 1}, "a")
STATUS_B = Delivery("client_weekly_status", "email", "b@y.test", "2026-W47", {"s": 2}, "b")


def _send_all(con: duckdb.DuckDBPyConnection) -> list[str]:
    sent = []
    for item in claim_pending(con, timedelta(days=1)):
        mark_sending(con, item.key)
        mark_sent(con, item, f"ref-{item.key}", dry_run=False)
        sent.append(item.key)
    return sent


def _resend(warehouse, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tooling.resend", "resend", "--warehouse", str(warehouse), *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_one_released_delivery_is_sent_again_and_the_others_are_not(tmp_path):
    warehouse = tmp_path / "cp.duckdb"
    with open_writer(warehouse) as con:
        for delivery in (DIGEST, STATUS_A, STATUS_B):
            enqueue(con, delivery)
        assert len(_send_all(con)) == 3

    result = _resend(
        warehouse,
        *("--kind", "client_weekly_status", "--period", "2026-W47"),
        *("--recipient", "a@x.test", "--reason", "wrong figures, fixed"),
    )
    assert result.returncode == 0, result.stderr
    assert STATUS_A.key in result.stdout and STATUS_B.key not in result.stdout

    with open_writer(warehouse) as con:
        logged = con.execute(
            "SELECT delivery_key, reason, previous_status, previous_provider_ref "
            "FROM ops.resend_log"
        ).fetchall()
        assert logged == [(STATUS_A.key, "wrong figures, fixed", "sent", f"ref-{STATUS_A.key}")]
        # The next run renders it again (the others stay in the outbox: not re-added) ...
        assert [enqueue(con, d) for d in (DIGEST, STATUS_A, STATUS_B)] == [False, True, False]
        # ... and sends only it.
        assert _send_all(con) == [STATUS_A.key]
        assert con.execute("SELECT count(*) FROM ops.sent_log").fetchone()[0] == 3


def test_nothing_matching_changes_nothing_and_says_so(tmp_path):
    warehouse = tmp_path / "cp.duckdb"
    with open_writer(warehouse) as con:
        enqueue(con, DIGEST)
        _send_all(con)
    result = _resend(
        warehouse, "--kind", "leadership_digest", "--period", "2026-W48", "--reason", "typo"
    )
    assert result.returncode == 1
    assert "nothing in the outbox for leadership_digest 2026-W48" in result.stdout
    with open_writer(warehouse) as con:
        assert con.execute("SELECT status FROM ops.outbox").fetchall() == [("sent",)]
        assert con.execute("SELECT count(*) FROM ops.resend_log").fetchone()[0] == 0
