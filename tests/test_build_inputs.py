"""What counts as new for a build: raw content, not re-fetches; and a build with nothing
new is skipped while a full refresh still builds."""

from __future__ import annotations

from datetime import timedelta

from clientpulse.pipeline.build_inputs import ingest_changed, raw_fingerprint
from clientpulse.pipeline.build_signals import build_signals
from tests.factories import AS_OF, load_small_world, message, small_config
from warehouse.db import open_writer
from warehouse.load import upsert


def _upsert_mail(config, rows) -> dict:
    with open_writer(config.warehouse.path) as con:
        upsert(con, "raw.email_messages", rows, ["message_key"])
    return {"messages": len(rows)}


def test_a_refetch_of_what_the_build_read_is_not_new_but_an_edit_is(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
    mail = message("m1", "ceo@acme.test", ["am@agency.test"], AS_OF - timedelta(hours=3))
    path = config.warehouse.path
    assert ingest_changed(path, "email", lambda: _upsert_mail(config, [mail]))[1]
    build_signals(config, AS_OF, "run-1")
    refetched = {**mail, "extracted_at": AS_OF + timedelta(hours=1)}
    assert not ingest_changed(path, "email", lambda: _upsert_mail(config, [refetched]))[1]
    edited = {**mail, "subject": "Changed"}
    assert ingest_changed(path, "email", lambda: _upsert_mail(config, [edited]))[1]
    with open_writer(path) as con:  # other sources' tables are not this ingest's
        before = raw_fingerprint(con)
        con.execute("DELETE FROM raw.email_messages")
        after = raw_fingerprint(con)
    assert {t for t in before if before[t] != after[t]} == {"email_messages"}


def test_a_retry_after_a_killed_try_that_wrote_everything_still_announces_it(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
    build_signals(config, AS_OF, "run-1")
    mail = message("m1", "ceo@acme.test", ["am@agency.test"], AS_OF - timedelta(hours=3))
    _upsert_mail(config, [mail])  # the killed try: committed, never announced
    path = config.warehouse.path
    retry = ingest_changed(path, "email", lambda: _upsert_mail(config, [mail]))
    assert retry[1], "the build has not read it yet: the retry must announce it"
    build_signals(config, AS_OF + timedelta(hours=1), "run-2")
    assert not ingest_changed(path, "email", lambda: _upsert_mail(config, [mail]))[1]


def test_a_build_with_nothing_new_is_skipped_unless_a_full_refresh_is_asked(tmp_path):
    config = small_config(tmp_path)
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
    first = build_signals(config, AS_OF, "run-1")
    later_same_day = AS_OF + timedelta(hours=1)
    assert not first.get("skipped")
    assert build_signals(config, later_same_day, "run-2")["skipped"]
    assert not build_signals(config, later_same_day, "run-3", full_refresh=True).get("skipped")
    late = message("late", "ceo@acme.test", ["am@agency.test"], AS_OF - timedelta(hours=1))
    _upsert_mail(config, [late])
    assert not build_signals(config, later_same_day, "run-4").get("skipped")
    assert not build_signals(config, AS_OF + timedelta(days=1), "run-5").get("skipped")
