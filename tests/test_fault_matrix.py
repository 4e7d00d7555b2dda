"""The fault matrix: every fault DESIGN's bar and issue 14 name, and the end it must reach.

Each fault has one test here, or names the test elsewhere that already covers it
(`COVERED_ELSEWHERE`). The reliability table in docs/operations.md is checked against
this file: every row names a test that exists.
"""

from __future__ import annotations

import ast
import email
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from clientpulse.config import CONFIG_ENV, ConfigError, load_config
from clientpulse.pipeline.build_signals import gate_and_alert, publish_if_passed
from clientpulse.pipeline.compose import (
    CLIENT_WEEKLY_STATUS,
    DIGEST_KINDS,
    LEADERSHIP_DIGEST,
    compose_client_statuses,
    compose_leadership_digest,
)
from clientpulse.pipeline.deliver import DeliveryFailed, Senders, deliver
from clientpulse.pipeline.ingest import ingest_crm_csv, ingest_mailboxes
from clientpulse_connections import senders
from connectors.crm.csv_import import CsvExportUnreadable
from connectors.errors import ConnectorError
from connectors.slack import SlackPoster
from connectors.smtp import SmtpSender
from sandbox.fake_slack import create_app
from sandbox.http_server import free_port, serving
from sandbox.slack_render import load_capture
from sandbox.smtp_capture import INDEX, SmtpCapture
from tests.factories import AS_OF, FIXTURE, load_small_world
from transforms.catalog import catalog, checks
from warehouse.db import WarehouseLocked, open_writer
from warehouse.migrate import MIGRATIONS_DIR, migrate
from warehouse.outbox import Delivery, enqueue, release_for_resend
from warehouse.quality import run_gate


@dataclass(frozen=True)
class Fault:
    fault: str
    outcome: str  # nothing lost, duplicated or mis-sent, and what a person sees
    test: str  # the pytest node id that proves it


HERE = "tests/test_fault_matrix.py::"
FAULTS = (
    # APIs (DESIGN's bar)
    Fault(
        "Asana 429 storm",
        "waits exactly `Retry-After`, every task once",
        "tests/test_asana_connector.py::test_429_waits_exactly_retry_after",
    ),
    Fault(
        "HubSpot 429 storm mid-sync",
        "waited out; the warehouse equals the CRM",
        "tests/test_ingest_crm.py::test_a_429_storm_during_the_incremental_sync_is_waited_out",
    ),
    Fault(
        "Slack 429",
        "posted once after `Retry-After`",
        "tests/test_slack_connector.py::test_rate_limited_post_is_retried_after_retry_after",
    ),
    Fault(
        "5xx and truncated bodies",
        "retried with backoff; every record once",
        "tests/test_asana_connector.py::test_server_errors_and_truncated_bodies_are_retried_with_backoff",
    ),
    Fault(
        "HubSpot 5xx",
        "retried; every record once",
        "tests/test_hubspot_connector.py::test_transient_server_errors_are_retried",
    ),
    Fault(
        "Timeouts",
        "retried; every record once",
        "tests/test_asana_connector.py::test_slow_responses_time_out_and_are_retried",
    ),
    Fault(
        "Retries exhausted",
        "the task fails naming system, request and reason",
        "tests/test_asana_connector.py::test_exhausted_retries_raise_a_clear_error",
    ),
    Fault(
        "Expired Asana offset",
        "the listing restarts; every task once",
        "tests/test_asana_connector.py::test_expired_offset_restarts_the_run_and_still_yields_every_task",
    ),
    Fault(
        "Expired Asana sync token",
        "new token stored, project reconciled",
        "tests/test_asana_sync.py::test_an_expired_sync_token_stores_the_new_one_and_reconciles",
    ),
    Fault(
        "IMAP UIDVALIDITY changed",
        "the folder is read again, no duplicates",
        "tests/test_imap.py::test_a_new_uidvalidity_reads_the_folder_again",
    ),
    Fault(
        "HubSpot daily quota hit mid-listing",
        "stops cleanly; the next run resumes",
        "tests/test_ingest_crm.py::test_daily_limit_mid_listing_stops_cleanly_and_the_next_run_resumes",
    ),
    Fault(
        "HubSpot app without the invoices scope (403 MISSING_SCOPES)",
        "the rest of the CRM loads; the run's stats and a warning name the missing scope",
        "tests/test_receivables.py::test_hubspot_invoices_land_through_the_fake_and_a_missing_scope_is_skipped",
    ),
    Fault(
        "Task killed mid-load (Asana, SIGKILL)",
        "committed pages kept, cursor not advanced; the next run equals the source",
        "tests/test_asana_sync.py::test_initial_then_three_incremental_syncs_match_the_fake_through_faults",
    ),
    Fault(
        "IMAP run fails midway",
        "committed batches kept; the next run resumes",
        "tests/test_imap.py::test_a_failed_run_keeps_what_it_committed_and_the_next_resumes",
    ),
    Fault(
        "Microsoft Graph token expires mid-sync",
        "a new token once, the request repeated; every message once",
        "tests/test_graph_sync.py::test_an_expired_token_mid_sync_is_renewed_once_and_nothing_is_lost",
    ),
    Fault(
        "Microsoft Graph consent revoked for one of three mailboxes",
        "the error names that mailbox and the admin's action; the other two load",
        "tests/test_graph_sync.py::test_a_refused_mailbox_is_named_with_the_admins_action_and_the_others_load",
    ),
    Fault(
        "Microsoft Graph delta link expired (410 Gone)",
        "the folder is read again once, no duplicates; messages gone meanwhile archived",
        "tests/test_graph_sync.py::test_an_expired_delta_link_resyncs_the_folder_once_without_duplicates",
    ),
    Fault(
        "Microsoft Graph 429 storm",
        "waits exactly `Retry-After` (503 too), every message once",
        "tests/test_graph_sync.py::test_a_429_storm_waits_exactly_retry_after_and_loads_everything",
    ),
    Fault(
        "Microsoft Graph 5xx",
        "retried with backoff; nothing lost",
        "tests/test_graph_sync.py::test_server_errors_are_retried_with_backoff_and_nothing_is_lost",
    ),
    Fault(
        "Message moved between Graph folders mid-sync",
        "one row, two sightings in the item ledger (the old one archived); nothing lost",
        "tests/test_graph_sync.py::test_a_message_moved_between_folders_mid_sync_is_one_row_with_two_sightings",
    ),
    Fault(
        "Graph sync killed mid-page (SIGKILL), then rerun",
        "committed pages kept; the rerun resumes at the stored next link, every message once",
        "tests/test_graph_sync.py::test_a_run_killed_mid_page_resumes_from_its_last_committed_page",
    ),
    Fault(
        "Gmail token expired mid-sync",
        "one new token; every message once",
        "tests/test_gmail_sync.py::test_token_expiry_mid_sync_asks_for_one_new_token",
    ),
    Fault(
        "Gmail delegation revoked or user suspended (one of three mailboxes)",
        "the error names the mailbox and what the admin must check; the other two load",
        "tests/test_gmail_sync.py::test_revoked_delegation_for_one_of_three_mailboxes_names_it_and_loads_the_others",
    ),
    Fault(
        "Gmail `historyId` expired (404)",
        "bounded resync to the first loaded message; no duplicate",
        "tests/test_gmail_sync.py::test_an_expired_history_id_resyncs_within_bounds_and_adds_no_duplicate",
    ),
    Fault(
        "Gmail 429 storm, 403 rate limit, 5xx",
        "waited out (`Retry-After`, backoff); failed batch parts again; every message once",
        "tests/test_gmail_sync.py::test_a_429_storm_a_403_rate_limit_and_5xx_are_waited_out",
    ),
    Fault(
        "Gmail message deleted between list and get",
        "skipped and counted; nothing fails",
        "tests/test_gmail_sync.py::test_a_message_deleted_between_list_and_get_is_not_loaded_and_nothing_fails",
    ),
    Fault(
        "Gmail sync killed mid-batch (SIGKILL), then rerun",
        "committed chunks kept with their cursor; the rerun fetches the rest; each message once",
        "tests/test_gmail_sync.py::test_a_sync_killed_mid_batch_then_rerun_loads_every_message_once",
    ),
    Fault(
        "Gmail / Google credentials in logs",
        "no token, key or assertion in DEBUG logs or errors",
        "tests/test_gmail_sync.py::test_no_token_key_or_assertion_appears_in_the_logs_of_a_sync",
    ),
    # Delivery
    Fault(
        "Process killed mid-send",
        "`unknown`, never re-sent; ops told",
        "tests/test_warehouse.py::test_failed_sends_retry_but_interrupted_sends_are_not_repeated",
    ),
    Fault(
        "No SMTP connection, or one without host",
        "`failed`, the task fails (ops alerted); sent once when fixed",
        HERE + "test_send_failing_before_the_relay_is_failed_fails_the_task_then_sends_once",
    ),
    Fault(
        "A newline in a client name",
        "folded into the subject; no header injected, sent",
        HERE + "test_a_newline_in_a_client_name_cannot_break_or_inject_a_header",
    ),
    Fault(
        "SMTP relay down, then up",
        "`failed`, the task fails; each email sent once later",
        HERE + "test_smtp_down_then_up_sends_each_client_email_once",
    ),
    Fault(
        "Slack down, then up",
        "`failed`, the task fails; the digest posted once later",
        HERE + "test_slack_down_then_up_posts_the_digest_once",
    ),
    Fault(
        "Relay hangs up after the message data",
        "`unknown`, never re-sent; one Slack alert to ops saying what to check",
        HERE + "test_a_send_cut_off_after_the_data_is_unknown_never_resent_and_ops_told_once",
    ),
    Fault(
        "Slack hangs up after the post was sent",
        "`unknown`, not retried blindly; ops told",
        HERE + "test_slack_hanging_up_after_the_post_is_unknown_and_not_posted_again",
    ),
    Fault(
        "A delivery older than `delivery.max_age_days`",
        "`expired`, not sent; ops told; sent only after `resend`",
        HERE + "test_a_delivery_older_than_the_limit_waits_for_a_deliberate_resend",
    ),
    Fault(
        "Two clients, one report recipient",
        "each client's own report, once",
        HERE + "test_two_clients_with_one_recipient_each_get_their_own_report",
    ),
    Fault(
        "Outbox key migration on a used warehouse",
        "what was sent stays sent",
        HERE + "test_the_client_key_migration_keeps_what_was_sent_sent",
    ),
    Fault(
        "Quality gate failed",
        "digests held back; ops told once",
        "tests/test_quality_alert.py::test_failing_gate_holds_digests_and_tells_ops_once",
    ),
    Fault(
        "Injection in task or client names",
        "escaped for Slack mrkdwn and HTML",
        "tests/test_reports.py::test_digest_escapes_every_external_string",
    ),
    Fault(
        "Wrong API token",
        "clear error; the token never in logs",
        "tests/test_asana_connector.py::test_wrong_token_gives_a_clear_error_without_the_token",
    ),
    Fault(
        "SMTP login",
        "the password never in errors or logs",
        "tests/test_smtp.py::test_login_is_used_and_the_password_never_shows",
    ),
    # Malformed input
    Fault(
        "Bad CSV rows",
        "quarantined with file, row, field and reason; the rest loads",
        "tests/test_crm_csv.py::test_good_rows_land_and_bad_rows_are_quarantined_with_row_field_and_reason",
    ),
    Fault(
        "CSV in UTF-16 or cp1251; a 2 MB cell",
        "decoded and loaded; the huge cell's row quarantined",
        HERE + "test_utf16_and_cp1251_exports_load_and_a_huge_cell_is_quarantined_alone",
    ),
    Fault(
        "CSV with an unclosed quote",
        "that row quarantined (its field named); the rows after it load",
        HERE + "test_an_unclosed_quote_is_blamed_on_its_row_and_the_rows_after_it_load",
    ),
    Fault(
        "Pipe-delimited CSV; a header missing a column",
        "`|` is read; a missing column fails the task naming file, delimiter and header",
        HERE + "test_a_pipe_delimited_export_loads_and_a_missing_column_names_the_delimiter",
    ),
    Fault(
        "Empty CSV file",
        "other files committed; the task fails naming it; read again next run",
        HERE + "test_an_unreadable_file_rolls_back_nothing_and_is_read_again_next_run",
    ),
    Fault(
        "CSV not in the configured encoding",
        "the task fails naming file, encoding, byte and row",
        HERE + "test_a_configured_encoding_that_does_not_fit_names_file_byte_and_row",
    ),
    Fault(
        "A record gone from a newer full export",
        "archived (tombstone) with `csv_full_export`",
        HERE + "test_a_record_gone_from_a_newer_full_export_is_archived",
    ),
    Fault(
        "An mbox that is binary garbage",
        "the task fails naming the file; not skipped next run",
        HERE + "test_an_mbox_without_a_single_message_is_an_error_naming_the_file",
    ),
    Fault(
        "A mail without From",
        "rejected to quarantine naming the field",
        "tests/test_mbox.py::test_message_without_from_is_rejected_naming_the_field",
    ),
    Fault(
        "Fuzzed mbox input",
        "never crashes; one item per message",
        "tests/test_mbox.py::test_fuzzed_corpus_never_crashes_and_agrees_where_stdlib_has_a_value",
    ),
    Fault(
        "Config errors",
        "refused naming file, key and problem",
        "tests/test_config.py::test_errors_name_the_file_the_key_and_the_problem",
    ),
    Fault(
        "A key twice in the config",
        "refused naming the key and both lines",
        HERE + "test_a_key_given_twice_in_the_config_names_the_key_and_both_lines",
    ),
    Fault(
        "`CLIENTPULSE_CONFIG` set but empty",
        "an error, not the demo config",
        HERE + "test_an_empty_config_variable_is_an_error_not_the_demo",
    ),
    Fault(
        "A report recipient of another client; an unknown one",
        "refused; warned (or refused, `unknown_recipients`)",
        HERE + "test_a_report_recipient_of_another_client_is_refused_an_unknown_one_warned",
    ),
    # The warehouse
    Fault(
        "A failing migration",
        "rolled back whole; every writer task fails naming it",
        "tests/test_warehouse.py::test_a_failing_migration_leaves_nothing_half_done",
    ),
    Fault(
        "An analyst opens the warehouse file",
        "the task fails naming the file and the holding PID, pointing to the snapshot",
        HERE + "test_an_analyst_holding_the_warehouse_gets_a_message_saying_what_to_do",
    ),
    Fault(
        "A build that failed its gate",
        "the snapshot is not replaced; the last good one stays",
        HERE + "test_a_build_that_failed_its_gate_does_not_replace_the_snapshot",
    ),  # Issue 28: the second hostile probe
    Fault(
        "A backfill into the future, or before any data",
        "refused naming the weeks it accepts; nothing written",
        "tests/test_faults_issue28.py::"
        "test_a_backfill_outside_the_data_is_refused_naming_the_weeks_it_would_accept",
    ),
    Fault(
        "Risk-history rows from the future, left by an old backfill",
        "dropped by the next build; the digest reads this week",
        "tests/test_faults_issue28.py::"
        "test_history_rows_from_the_future_are_dropped_by_the_next_build",
    ),
    Fault(
        "A client-email run whose compose failed",
        "the run fails; `record` says nothing was offered (no TypeError); nothing sent",
        "tests/test_faults_issue28.py::"
        "test_a_client_email_run_that_composed_nothing_fails_and_record_says_why",
    ),
    Fault(
        "A UTF-8 CSV with one cp1251 row",
        "read as UTF-8; that row quarantined naming file, row, field and byte",
        "tests/test_faults_issue28.py::"
        "test_a_utf8_export_with_one_cp1251_row_loads_as_utf8_and_quarantines_that_row",
    ),
    Fault(
        "A 5,000-character client or manager name in the config",
        "refused at load (names at most 120 characters)",
        "tests/test_faults_issue28.py::"
        "test_a_name_longer_than_a_sane_one_is_refused_at_config_load",
    ),
    Fault(
        "A digest with a name longer than Slack takes",
        "every block cut to Block Kit's limits with an ellipsis; digest and chart posted",
        "tests/test_faults_issue28.py::"
        "test_a_digest_with_a_huge_name_is_cut_to_slacks_limits_and_posted",
    ),
    Fault(
        "Slack refuses a message's blocks",
        "the delivery fails naming Slack's error, the block and its text (the client)",
        "tests/test_faults_issue28.py::test_a_post_slack_refuses_names_the_block_and_the_client",
    ),
    Fault(
        "A wrong `slack_user_id` fixed while its DM is queued",
        "the DM goes to the id the config names at send time; the sent log keeps it",
        "tests/test_faults_issue28.py::"
        "test_a_queued_dm_goes_to_the_slack_user_the_config_names_at_send_time",
    ),
    Fault(
        "A queued DM whose manager no longer has a Slack id",
        "not sent to anyone else; the task fails naming the manager",
        "tests/test_faults_issue28.py::"
        "test_a_queued_dm_whose_manager_lost_the_slack_id_is_sent_to_nobody_else",
    ),
    Fault(
        "Re-sending what ops was told about",
        "the ops alert gives the working `python -m tooling.resend` command per delivery",
        "tests/test_faults_issue28.py::test_the_resend_command_in_the_ops_alert_is_one_that_works",
    ),
    Fault(
        '`slack_user_id: "<!channel>"`; `fallback_channel: ""`',
        "refused at config load naming the key",
        "tests/test_faults_issue28.py::"
        "test_a_mention_as_slack_user_id_or_an_empty_fallback_channel_is_refused_at_load",
    ),
    Fault(
        "Approvals `required` without a named approver",
        "assigned to the manager's Airflow user (`airflow_user`, else their id); "
        "nobody else can answer",
        "tests/test_faults_issue28.py::"
        "test_an_approval_without_a_named_approver_is_assigned_to_the_managers_airflow_user",
    ),
    Fault(
        "`tooling.demo_approver` on an approval assigned to one user",
        "answered as that user through Airflow's own check (it crashed: no auth manager)",
        "tests/test_faults_issue28.py::"
        "test_the_demo_approver_answers_an_approval_as_the_user_it_is_assigned_to",
    ),
    Fault(
        "An active client with `report_recipients: []`",
        "its email `held` (`no recipients`), never offered; the send task's ops alert names it",
        "tests/test_faults_issue28.py::"
        "test_an_active_client_without_recipients_is_held_by_name_and_ops_told",
    ),
    Fault(
        "A snooze whose `until` is past, or whose `by` nobody knows",
        "refused (`FeedbackError` naming the date or the name); nothing stored",
        "tests/test_faults_issue28.py::"
        "test_a_snooze_already_over_or_by_someone_unknown_is_refused_naming_why",
    ),
    Fault(
        "Two clients with one `crm_company_id`",
        "refused at config load naming both clients and the id",
        "tests/test_faults_issue28.py::"
        "test_two_clients_with_one_crm_company_are_refused_naming_both_and_the_id",
    ),
    Fault(
        "Every risk weight 0",
        "refused at config load (`signals.risk`), not a `-nan` in the build",
        "tests/test_faults_issue28.py::test_risk_weights_all_zero_are_refused_at_config_load",
    ),
    Fault(
        "An mbox whose first `From ` line is followed by garbage",
        "the task fails naming the file; not skipped next run",
        "tests/test_faults_issue28.py::"
        "test_an_mbox_starting_with_a_from_line_then_garbage_fails_naming_the_file",
    ),
    Fault(
        "Garbage after an mbox's last `From ` line",
        "rejected to quarantine naming file and offset (both scanner paths); the rest loads",
        "tests/test_faults_issue28.py::"
        "test_garbage_after_the_last_from_line_is_quarantined_naming_file_and_offset",
    ),
    Fault(
        "A second snapshot reader in one process, after a rebuild",
        "`open_snapshot` reads the new build; a reader already open keeps its own",
        "tests/test_faults_issue28.py::"
        "test_a_reader_opened_after_a_rebuild_sees_the_new_build_beside_an_open_one",
    ),
)


def readme_table() -> str:
    """The reliability table of docs/operations.md, rendered from `FAULTS`."""
    rows = ["| fault | how it ends | test |", "|---|---|---|"]
    rows += [f"| {f.fault} | {f.outcome} | `{f.test}` |" for f in FAULTS]
    return "\n".join(rows)


SMTP_CONN = "AIRFLOW_CONN_CLIENTPULSE_SMTP"


def _config(tmp_path: Path, **changes):
    """The two-client test agency, sending for real, with `changes(raw)` applied. Its
    emails go out under approval policy `auto`: these are faults of sending (approval
    is tests/test_approval.py's)."""
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    raw["delivery"]["dry_run"] = False
    for client in raw["clients"]:
        client["approval"] = "auto"
    for change in changes.values():
        change(raw)
    (tmp_path / "agency.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return load_config(tmp_path / "agency.yaml")


def _built(config):
    with open_writer(config.warehouse.path) as con:
        load_small_world(con, config)
        assert all(r.success for r in run_gate(con, "build-1", checks(catalog())))
    return config


def _statuses(config) -> dict[str, str]:
    with open_writer(config.warehouse.path) as con:
        return dict(con.execute("SELECT client_id, status FROM ops.outbox").fetchall())


def _smtp_connection(monkeypatch, port: int) -> None:
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": {"disable_tls": True}}
    monkeypatch.setenv(SMTP_CONN, json.dumps(conn))


def _captured(folder: Path) -> list[tuple[list[str], email.message.Message]]:
    """(envelope recipients, message) per message the SMTP capture received."""
    index = folder / INDEX
    if not index.exists():
        return []
    entries = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines()]
    return [
        (e["rcpt_tos"], email.message_from_bytes((folder / e["file"]).read_bytes()))
        for e in entries
    ]


# 1. A delivery that fails before anything leaves ------------------------------------


def test_send_failing_before_the_relay_is_failed_fails_the_task_then_sends_once(
    tmp_path, monkeypatch
):
    config = _built(_config(tmp_path))
    compose_client_statuses(config, AS_OF, "run-1")
    monkeypatch.delenv(SMTP_CONN, raising=False)
    for attempt in (1, 2, 3):  # the task's tries: each fails, nothing turns `unknown`
        with pytest.raises(DeliveryFailed, match="clientpulse_smtp"):
            deliver(config, senders(config), f"run-{attempt}", [CLIENT_WEEKLY_STATUS])
        assert _statuses(config) == {"acme": "failed", "beta": "failed"}

    with SmtpCapture(tmp_path / "mail") as server:
        _smtp_connection(monkeypatch, server.port)
        first = deliver(config, senders(config), "run-4", [CLIENT_WEEKLY_STATUS])
        again = deliver(config, senders(config), "run-5", [CLIENT_WEEKLY_STATUS])
    assert (first["sent"], again["sent"]) == (2, 0)
    assert sorted(r for rcpt, _ in _captured(tmp_path / "mail") for r in rcpt) == [
        "ceo@acme.test",
        "director@beta.test",
    ]


def test_a_newline_in_a_client_name_cannot_break_or_inject_a_header(tmp_path, monkeypatch):
    def hostile_name(raw):
        raw["clients"][0]["name"] = "Acme\nBcc: spy@evil.test"

    config = _built(_config(tmp_path, name=hostile_name))
    compose_client_statuses(config, AS_OF, "run-1")
    with SmtpCapture(tmp_path / "mail") as server:
        _smtp_connection(monkeypatch, server.port)
        sent = deliver(config, senders(config), "run-1", [CLIENT_WEEKLY_STATUS])
    assert sent["sent"] == 2
    received = dict((rcpt[0], message) for rcpt, message in _captured(tmp_path / "mail"))
    assert set(received) == {"ceo@acme.test", "director@beta.test"}
    acme = received["ceo@acme.test"]
    assert "Acme Bcc: spy@evil.test" in acme["Subject"] and acme["Bcc"] is None


# 2. Two clients, one report recipient ------------------------------------------------


def test_two_clients_with_one_recipient_each_get_their_own_report(tmp_path, monkeypatch):
    def holding(raw):  # two brands of one holding, reporting to its CFO
        for client in raw["clients"]:
            client["report_recipients"] = ["cfo@holding.test"]

    config = _built(_config(tmp_path, holding=holding))
    queued = compose_client_statuses(config, AS_OF, "run-1")
    with SmtpCapture(tmp_path / "mail") as server:
        _smtp_connection(monkeypatch, server.port)
        deliver(config, senders(config), "run-1", [CLIENT_WEEKLY_STATUS])
        deliver(config, senders(config), "run-2", [CLIENT_WEEKLY_STATUS])
    assert queued["enqueued"] == 2
    received = _captured(tmp_path / "mail")
    assert [rcpt for rcpt, _ in received] == [["cfo@holding.test"]] * 2
    ids = sorted(m["Message-ID"] for _, m in received)
    assert ids == [
        "<client_weekly_status.acme.2026-W47@clientpulse.agency.test>",
        "<client_weekly_status.beta.2026-W47@clientpulse.agency.test>",
    ]


# 3. CRM exports in UTF-16 and cp1251, and a huge cell --------------------------------

COMPANIES = "company_id,name,domain\n500,Acme,acme.test\n600,Бета Груп,beta.test\n"
CONTACTS = "contact_id;company_id;email;first_name;job_title\nc1;500;ceo@acme.test;Ann;CEO\n"
DEALS = "deal_id,company_id,name,amount,stage\nd1,600,Сайт,1000,closedwon\n"
ACTIVITIES = (
    "activity_id,type,company_id,occurred_at,title\n"
    "a1,note,500,2026-11-02 10:00,{huge}\n"
    "a2,call,600,2026-11-03 10:00,Дзвінок\n"
)


def _csv_config(tmp_path: Path, files: dict[str, bytes], **crm):
    def csv_source(raw):
        raw["sources"]["crm"] = {"kind": "csv", "csv_dir": "exports", **crm}

    folder = tmp_path / "exports"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return _config(tmp_path, csv=csv_source)


def _crm_ids(config) -> dict[str, list[str]]:
    with open_writer(config.warehouse.path) as con:
        rows = con.execute(
            "SELECT object_type, list(id ORDER BY id) FROM raw.crm_objects GROUP BY 1"
        ).fetchall()
    return dict(rows)


def _quarantined(config, source: str) -> list[tuple[str, str | None, str]]:
    with open_writer(config.warehouse.path) as con:
        return con.execute(
            "SELECT record_ref, field, reason FROM ops.quarantine WHERE source = ? ORDER BY 1",
            [source],
        ).fetchall()


def test_utf16_and_cp1251_exports_load_and_a_huge_cell_is_quarantined_alone(tmp_path):
    config = _csv_config(
        tmp_path,
        {
            "companies.csv": COMPANIES.encode("utf-8"),
            "contacts.csv": CONTACTS.encode("utf-16"),  # Excel "Unicode text": BOM + LE
            "deals.csv": DEALS.encode("cp1251"),
            "activities.csv": ACTIVITIES.format(huge="x" * (2 << 20)).encode("utf-8"),
        },
    )
    ingest_crm_csv(config, "run-1")
    ids = _crm_ids(config)
    assert ids["companies"] == ["500", "600"] and ids["contacts"] == ["c1"]
    assert ids["deals"] == ["d1"] and ids["calls"] == ["a2"] and "notes" not in ids
    with open_writer(config.warehouse.path) as con:
        name = con.execute(
            "SELECT payload->>'$.properties.dealname' FROM raw.crm_objects WHERE id = 'd1'"
        ).fetchone()[0]
    assert name == "Сайт"
    [(ref, field, reason)] = _quarantined(config, "crm_csv")
    assert (ref, field) == ("activities.csv:2", "title")
    assert "longer than" in reason


# 4. An mbox that is binary garbage ---------------------------------------------------


def test_an_mbox_without_a_single_message_is_an_error_naming_the_file(tmp_path):
    garbage = tmp_path / "takeout.mbox"
    garbage.write_bytes(bytes(range(256)) * 64)

    def mailboxes(raw):
        raw["sources"]["mailboxes"] = {
            "mbox": [{"path": str(garbage), "mailbox": "team@agency.test"}]
        }

    config = _config(tmp_path, mailboxes=mailboxes)
    for attempt in (1, 2):  # not skipped as "unchanged" the second time
        with pytest.raises(ConnectorError, match=rf"{garbage}.*no 'From ' separator line"):
            ingest_mailboxes(config, f"run-{attempt}")


# 5. An unclosed quote in a CSV -------------------------------------------------------


def test_an_unclosed_quote_is_blamed_on_its_row_and_the_rows_after_it_load(tmp_path):
    companies = (
        "company_id,name,domain\n"
        "500,Acme,acme.test\n"
        '600,"Beta Group,beta.test\n'
        "700,Gamma,gamma.test\n"
        "800,Delta,delta.test\n"
        ",,\n"  # blank rows, as spreadsheets leave them, are no rows
        "\n"
    )
    config = _csv_config(tmp_path, {"companies.csv": companies.encode()})
    ingest_crm_csv(config, "run-1")
    assert _crm_ids(config)["companies"] == ["500", "700", "800"]
    [(ref, field, reason)] = _quarantined(config, "crm_csv")
    assert (ref, field) == ("companies.csv:3", "name")
    assert "unclosed quote" in reason


def test_a_report_recipient_of_another_client_is_refused_an_unknown_one_warned(tmp_path, caplog):
    def slip(raw):  # acme's director copied into beta
        raw["clients"][1]["report_recipients"] = ["director@beta.test", "ceo@acme.test"]

    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, slip=slip)
    assert "clients[1] (beta).report_recipients: ceo@acme.test belongs to client 'acme'" in str(
        caught.value
    )

    def outsider(raw, mode="warn"):
        raw["clients"][1]["report_recipients"] = ["cfo@holding.test"]
        raw["delivery"]["email"]["unknown_recipients"] = mode

    with caplog.at_level("WARNING", logger="clientpulse.config"):
        _config(tmp_path, outsider=outsider)
    assert "cfo@holding.test is outside the client's email_domains" in caplog.text
    with pytest.raises(ConfigError, match=r"cfo@holding\.test is outside"):
        _config(tmp_path, outsider=lambda raw: outsider(raw, "refuse"))


def test_the_client_key_migration_keeps_what_was_sent_sent(tmp_path):
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 12:
            shutil.copy(path, before)
    status = Delivery("client_weekly_status", "email", "a@x.test", "2026-W47", {"s": 1}, "acme")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        migrate(con, before)
        old_key = "client_weekly_status|email|a@x.test|2026-W47"  # the key before 0012
        con.execute(
            "INSERT INTO ops.outbox VALUES (?, 'client_weekly_status', 'email', 'a@x.test', "
            "'2026-W47', 'acme', '{}', 'sent', 1, NULL, now(), now())",
            [old_key],
        )
        con.execute(
            "INSERT INTO ops.sent_log VALUES (?, 'client_weekly_status', 'email', 'a@x.test', "
            "'2026-W47', now(), 'ref', false)",
            [old_key],
        )
        assert migrate(con)[0] == 12  # then any later ones
        assert not enqueue(con, status)  # already sent under its old key: not again
        assert con.execute("SELECT delivery_key FROM ops.sent_log").fetchall() == [(status.key,)]


def test_a_pipe_delimited_export_loads_and_a_missing_column_names_the_delimiter(tmp_path):
    companies = COMPANIES.replace(",", "|").encode()
    contacts = b"contact_id,company,email\nc1,500,ceo@acme.test\n"
    config = _csv_config(tmp_path, {"companies.csv": companies, "contacts.csv": contacts})
    with pytest.raises(CsvExportUnreadable) as caught:
        ingest_crm_csv(config, "run-1")
    assert (
        "contacts.csv: missing required column(s): company_id (the header "
        "'contact_id,company,email' read with delimiter ','; tried , ; tab |)"
    ) in str(caught.value)
    assert _crm_ids(config)["companies"] == ["500", "600"]
    [(ref, field, _)] = _quarantined(config, "crm_csv")
    assert (ref, field) == ("contacts.csv:1", "company_id")


def test_an_unreadable_file_rolls_back_nothing_and_is_read_again_next_run(tmp_path):
    config = _csv_config(tmp_path, {"companies.csv": COMPANIES.encode(), "contacts.csv": b""})
    for attempt in (1, 2):  # the folder is not marked imported while a file is unreadable
        with pytest.raises(CsvExportUnreadable, match=r"contacts\.csv: the file is empty"):
            ingest_crm_csv(config, f"run-{attempt}")
    assert _crm_ids(config) == {"companies": ["500", "600"]}
    assert _quarantined(config, "crm_csv") == [
        ("contacts.csv:1", None, "contacts.csv: the file is empty (not even a header row)")
    ]
    (config.sources.crm.csv_dir / "contacts.csv").write_bytes(CONTACTS.encode())
    assert ingest_crm_csv(config, "run-3")["contacts"] == 1


def test_a_configured_encoding_that_does_not_fit_names_file_byte_and_row(tmp_path):
    deals = DEALS.encode("cp1251") + "d2,500,Café,5,closedwon\n".encode()
    config = _csv_config(tmp_path, {"deals.csv": deals}, csv_encoding="ascii")
    with pytest.raises(CsvExportUnreadable, match=r"deals\.csv: not ascii text \(byte 44, row 2\)"):
        ingest_crm_csv(config, "run-1")
    assert [ref for ref, _, _ in _quarantined(config, "crm_csv")] == ["deals.csv:2"]


# Malformed config ---------------------------------------------------------------------


def test_a_key_given_twice_in_the_config_names_the_key_and_both_lines(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    first = text.splitlines().index("clients:") + 1
    path = tmp_path / "agency.yaml"
    path.write_text(text + "clients:\n  - {id: gamma}\n", encoding="utf-8")
    again = len(text.splitlines()) + 1
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"duplicate key 'clients': on line {first} and again on line {again}" in str(
        caught.value
    )
    assert str(path) in str(caught.value)


def test_an_empty_config_variable_is_an_error_not_the_demo(monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "")
    with pytest.raises(ValueError, match="CLIENTPULSE_CONFIG is set but empty"):
        load_config()


# The warehouse and its snapshot -------------------------------------------------------


def test_an_analyst_holding_the_warehouse_gets_a_message_saying_what_to_do(tmp_path):
    path = tmp_path / "clientpulse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseLocked) as caught, open_writer(path):
            pass
    finally:
        holder.kill()
        holder.wait()
    message = str(caught.value)
    assert str(path) in message and f"PID {holder.pid}" in message
    assert "Analysts query the snapshot (warehouse.snapshot_path" in message


HOLD_THE_FILE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_a_build_that_failed_its_gate_does_not_replace_the_snapshot(tmp_path):
    config = _built(_config(tmp_path))
    snapshot = config.warehouse.snapshot_path
    with open_writer(config.warehouse.path) as con:
        assert publish_if_passed(con, config, gate_and_alert(con, config, "build-1")) == str(
            snapshot
        )
        con.execute("UPDATE core.fct_email_sla SET business_minutes = -30")
        failures = gate_and_alert(con, config, "build-2")
        assert failures
        assert "still the last good build" in publish_if_passed(con, config, failures)
    with duckdb.connect(str(snapshot), read_only=True) as analyst:
        negative = "SELECT count(*) FROM core.fct_email_sla WHERE business_minutes < 0"
        assert analyst.execute(negative).fetchone()[0] == 0


# Sends that may have arrived, and sends too old to go out unasked -------------------

SLACK_TOKEN = "xoxb-test-token"


def _dropping_relay(connections: int) -> tuple[int, threading.Thread]:
    """An SMTP relay that takes the whole message, then hangs up before replying."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with server:
            for _ in range(connections):
                conn, _ = server.accept()
                with conn, conn.makefile("rwb") as wire:
                    _speak_until_the_data_is_in(wire)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], thread


def _speak_until_the_data_is_in(wire) -> None:
    replies = {b"EHLO": b"250 relay", b"HELO": b"250 relay", b"MAIL": b"250 ok", b"RCPT": b"250 ok"}
    wire.write(b"220 relay ready\r\n")
    wire.flush()
    while line := wire.readline():
        if line[:4].upper() == b"DATA":
            wire.write(b"354 go ahead\r\n")
            wire.flush()
            while wire.readline() not in (b".\r\n", b""):
                pass
            return  # the message is in; the 250 never comes
        wire.write(replies.get(line[:4].upper(), b"502 no") + b"\r\n")
        wire.flush()


def test_a_send_cut_off_after_the_data_is_unknown_never_resent_and_ops_told_once(tmp_path):
    config = _built(_config(tmp_path))
    compose_client_statuses(config, AS_OF, "run-1")
    port, relay = _dropping_relay(connections=2)
    capture = tmp_path / "slack.jsonl"
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops", "leadership"))) as slack:
        live = Senders(
            lambda: SlackPoster.with_token(SLACK_TOKEN, f"{slack.base_url}/api/"),
            lambda: SmtpSender("127.0.0.1", port, timeout=5),
        )
        with pytest.raises(DeliveryFailed, match="before replying"):
            deliver(config, live, "run-1", [CLIENT_WEEKLY_STATUS])
        relay.join(5)
        assert _statuses(config) == {"acme": "unknown", "beta": "unknown", None: "sent"}
        assert deliver(config, live, "run-2", [CLIENT_WEEKLY_STATUS])["sent"] == 0
    [alert] = load_capture(capture)
    assert alert["channel_name"] == "ops"
    assert alert["text"].count("may or may not have arrived") == 2
    assert "client_weekly_status|email|acme|ceo@acme.test|2026-W47" in alert["text"]


def _hanging_up_slack() -> tuple[str, list[bytes]]:
    """An HTTP server that reads each whole request, then hangs up without answering."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        with server:
            while True:
                conn, _ = server.accept()
                with conn, conn.makefile("rb") as wire:
                    head = b"".join(iter(lambda: wire.readline(), b"\r\n"))
                    length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])
                    received.append(wire.read(length))

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/api/", received


def test_slack_hanging_up_after_the_post_is_unknown_and_not_posted_again(tmp_path):
    config = _built(_config(tmp_path))
    compose_leadership_digest(config, AS_OF, "run-1")
    url, received = _hanging_up_slack()
    slack = Senders(lambda: SlackPoster.with_token(SLACK_TOKEN, url), _refuse)
    with pytest.raises(DeliveryFailed, match="Slack may have posted it"):
        deliver(config, slack, "run-1", [LEADERSHIP_DIGEST])
    with open_writer(config.warehouse.path) as con:
        statuses = dict(con.execute("SELECT kind, status FROM ops.outbox").fetchall())
    assert statuses[LEADERSHIP_DIGEST] == "unknown"
    channels = [json.loads(body)["channel"] for body in received]
    assert channels == ["#leadership", "#ops"]  # no blind retry; the ops alert tried once


def test_a_delivery_older_than_the_limit_waits_for_a_deliberate_resend(tmp_path):
    config = _built(_config(tmp_path, fresh=lambda raw: raw["delivery"].update(dry_run=True)))
    compose_client_statuses(config, AS_OF, "last-week")
    with open_writer(config.warehouse.path) as con:  # it failed all last week
        con.execute("UPDATE ops.outbox SET created_at = now() - INTERVAL 8 DAY, status = 'failed'")
    nobody = Senders(_refuse, _refuse)
    assert deliver(config, nobody, "run-1", [CLIENT_WEEKLY_STATUS])["sent"] == 1  # ops alert
    assert _statuses(config) == {"acme": "expired", "beta": "expired", None: "sent"}
    [alert] = (config.delivery.dry_run_dir / "delivery_alert").rglob("*.json")
    assert json.loads(alert.read_text())["text"].count("held back as too old") == 2
    with open_writer(config.warehouse.path) as con:
        release_for_resend(con, CLIENT_WEEKLY_STATUS, "2026-W47", "asked by acme", "ceo@acme.test")
    compose_client_statuses(config, AS_OF, "resend")
    assert deliver(config, nobody, "run-2", [CLIENT_WEEKLY_STATUS])["sent"] == 1
    assert _statuses(config) == {"acme": "sent", "beta": "expired", None: "sent"}


def _refuse():
    raise AssertionError("dry run builds no sender")


def test_a_record_gone_from_a_newer_full_export_is_archived(tmp_path):
    config = _csv_config(
        tmp_path,
        {"companies.csv": COMPANIES.encode(), "deals.csv": DEALS.encode()},
        csv_full_export=True,
    )
    ingest_crm_csv(config, "run-1")
    folder = config.sources.crm.csv_dir
    (folder / "companies.csv").write_text("company_id,name\n500,Acme\n600,\n", encoding="utf-8")
    (folder / "deals.csv").unlink()  # a file left out of an export deletes nothing
    assert ingest_crm_csv(config, "run-2")["tombstoned"] == 0  # 600 is there, if bad
    (folder / "companies.csv").write_text("company_id,name\n500,Acme\n", encoding="utf-8")
    assert ingest_crm_csv(config, "run-3")["tombstoned"] == 1
    with open_writer(config.warehouse.path) as con:
        rows = con.execute(
            "SELECT id, archived, archived_at IS NOT NULL FROM raw.crm_objects ORDER BY id"
        ).fetchall()
    assert rows == [("500", False, False), ("600", True, True), ("d1", False, False)]


# Slack or SMTP down, then up ---------------------------------------------------------


def test_slack_down_then_up_posts_the_digest_once(tmp_path):
    config = _built(_config(tmp_path))
    compose_leadership_digest(config, AS_OF, "run-1")
    capture = tmp_path / "slack.jsonl"
    down = Senders(
        lambda: SlackPoster.with_token(SLACK_TOKEN, f"http://127.0.0.1:{free_port()}/api/"), _refuse
    )
    with pytest.raises(DeliveryFailed, match="SlackUnreachable"):
        deliver(config, down, "run-1", DIGEST_KINDS)
    with open_writer(config.warehouse.path) as con:
        statuses = dict(con.execute("SELECT kind, status FROM ops.outbox").fetchall())
    assert statuses == {kind: "failed" for kind in DIGEST_KINDS}  # the chart too: retried
    with serving(create_app(SLACK_TOKEN, capture, channels=("ops", "leadership"))) as slack:
        up = Senders(lambda: SlackPoster.with_token(SLACK_TOKEN, f"{slack.base_url}/api/"), _refuse)
        assert deliver(config, up, "run-2", DIGEST_KINDS)["sent"] == 2
        assert deliver(config, up, "run-3", DIGEST_KINDS)["sent"] == 0
    posted = load_capture(capture)
    assert [m["channel_name"] for m in posted] == ["leadership", "leadership"]
    assert [len(m.get("files") or []) for m in posted] == [0, 1]  # the digest, then its chart


def test_smtp_down_then_up_sends_each_client_email_once(tmp_path):
    config = _built(_config(tmp_path))
    compose_client_statuses(config, AS_OF, "run-1")
    port = free_port()
    relay = Senders(_refuse, lambda: SmtpSender("127.0.0.1", port, timeout=5))
    with pytest.raises(DeliveryFailed, match="could not send"):
        deliver(config, relay, "run-1", [CLIENT_WEEKLY_STATUS])
    assert _statuses(config) == {"acme": "failed", "beta": "failed"}
    with SmtpCapture(tmp_path / "mail", port=port):
        assert deliver(config, relay, "run-2", [CLIENT_WEEKLY_STATUS])["sent"] == 2
        assert deliver(config, relay, "run-3", [CLIENT_WEEKLY_STATUS])["sent"] == 0
    assert len(_captured(tmp_path / "mail")) == 2


# The matrix itself --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"
RELIABILITY_HEADING = "## Reliability: faults and how they end"


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_fault_names_a_test_that_exists():
    root = ROOT
    missing = [
        f.test
        for f in FAULTS
        if f.test.split("::")[1] not in _test_names(root / f.test.split("::")[0])
    ]
    assert missing == []


def test_every_fault_test_in_this_file_is_in_the_matrix():
    listed = {f.test.removeprefix(HERE) for f in FAULTS if f.test.startswith(HERE)}
    own = {n for n in _test_names(Path(__file__)) if n.startswith("test_")}
    meta = {n for n in own if "matrix" in n or "readme" in n or "every_fault" in n}
    assert own - meta - listed == set()


def test_the_operations_fault_table_is_the_matrix():
    """Every row of the reliability table in docs/operations.md is a fault here, with its test."""
    section = OPERATIONS.read_text(encoding="utf-8").split(RELIABILITY_HEADING, 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows == readme_table().splitlines(), (
        "the reliability table in docs/operations.md differs from FAULTS; regenerate it with "
        "`PYTHONPATH=plugins python -m tests.test_fault_matrix`"
    )


if __name__ == "__main__":
    print(readme_table())
