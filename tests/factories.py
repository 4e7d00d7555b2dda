"""Hand-made raw rows for model and report tests, with a two-client agency."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import yaml

from clientpulse.config import AgencyConfig, load_config
from clientpulse.pipeline.build_signals import build_models
from transforms.catalog import load_catalog
from warehouse.db import open_writer
from warehouse.load import upsert

FIXTURE = Path(__file__).parent / "fixtures" / "small_agency.yaml"
AS_OF = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # Monday 09:00 in Kyiv


def small_config(folder: Path) -> AgencyConfig:
    shutil.copy(FIXTURE, folder / "agency.yaml")
    return load_config(folder / "agency.yaml")


def mailbox_config(folder: Path, mailboxes: dict) -> AgencyConfig:
    """The small agency reading `mailboxes` (a `sources.mailboxes` section), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load(FIXTURE.read_text())
    document["sources"]["mailboxes"] = mailboxes
    (folder / "agency.yaml").write_text(yaml.safe_dump(document))
    return load_config(folder / "agency.yaml")


def mail_rows(config: AgencyConfig, columns: str, order: str) -> list[tuple]:
    """`columns` of every sighting joined to its message (aliases m, s), by `order`."""
    with open_writer(config.warehouse.path) as con:
        return con.execute(
            f"SELECT {columns} FROM raw.email_messages AS m "
            f"JOIN raw.email_sightings AS s USING (message_key) ORDER BY {order}"
        ).fetchall()


def message(key, sender, to, at, *, cc=(), refs=(), irt=None, **flags):
    row = {
        "message_key": key,
        "message_id": key,
        "from_addr": sender,
        "from_name": None,
        "to_addrs": list(to),
        "cc_addrs": list(cc),
        "reply_to": None,
        "subject": "s",
        "sent_at": at,
        "date_status": "ok",
        "in_reply_to": irt,
        "references": list(refs),
        "auto_submitted": None,
        "precedence": None,
        "list_id": None,
        "x_autoreply": False,
        "return_path_null": False,
        "is_bounce": False,
        "gmail_labels": [],
        "gmail_thread_id": None,
        "problems": [],
        "extracted_at": AS_OF,
    }
    row.update(flags)
    return row


def task(gid, project, *, due=None, completed=False, created=AS_OF - timedelta(days=30)):
    payload = {
        "gid": gid,
        "name": f"Task {gid}",
        "completed": completed,
        "completed_at": (created + timedelta(days=1)).isoformat() if completed else None,
        "created_at": created.isoformat(),
        "modified_at": created.isoformat(),
        "due_on": due,
        "assignee": None,
        "parent": None,
        "memberships": [],
    }
    return {
        "gid": gid,
        "project_gid": project,
        "modified_at": created,
        "payload": json.dumps(payload),
        "extracted_at": AS_OF,
    }


def hypothesis(
    gid, project, status, *, name=None, created, completed_at=None, section=None, due=None
):
    """A top-level Asana task that is a hypothesis: `status` in the "Hypothesis status"
    field (None: no value), completed at `completed_at` if given, in `section` if given,
    due on `due` if given."""
    row = task(gid, project, due=due, created=created, completed=completed_at is not None)
    payload = json.loads(row["payload"])
    payload["name"] = name or payload["name"]
    payload["completed_at"] = completed_at.isoformat() if completed_at else None
    payload["modified_at"] = (completed_at or created).isoformat()
    fields = [{"name": "Hypothesis status", "display_value": status}] if status else []
    payload["custom_fields"] = [{"name": "Priority", "display_value": "High"}, *fields]
    if section:
        payload["memberships"] = [{"section": {"name": section}}]
    return row | {"payload": json.dumps(payload)}


def story(gid: str, task: str, at: str, subtype: str, old: str | None = None, new=None):
    """A `raw.asana_stories` row: `subtype` on `task` at `at` (ISO), for a due-date change
    from `old` to `new`, or (enum_custom_field_changed) the "Hypothesis status" field's
    option changed from `old` to `new` (None: empty), in Asana's shape."""
    payload: dict = {"gid": gid, "created_at": at, "resource_subtype": subtype}
    if subtype == "due_date_changed":
        payload["old_dates"] = {"due_on": old}
        payload["new_dates"] = {"due_on": new}
    if subtype == "enum_custom_field_changed":
        payload["custom_field"] = {"gid": "cf-h", "name": "Hypothesis status"}
        payload["old_enum_value"] = {"gid": f"o-{old}", "name": old} if old else None
        payload["new_enum_value"] = {"gid": f"o-{new}", "name": new} if new else None
    return {
        "gid": gid,
        "task_gid": task,
        "created_at": datetime.fromisoformat(at),
        "payload": json.dumps(payload),
        "extracted_at": AS_OF,
    }


def crm(kind, object_id, properties, *, companies=(), contacts=(), archived=False, at=AS_OF):
    """A `raw.crm_objects` row in HubSpot's v3 shape."""
    payload = {
        "id": object_id,
        "properties": {k: str(v) for k, v in properties.items()},
        "createdAt": at.isoformat(),
        "updatedAt": at.isoformat(),
        "archived": archived,
        "associations": {"companies": list(companies), "contacts": list(contacts)},
    }
    return {
        "object_type": kind,
        "id": object_id,
        "updated_at": at,
        "archived": archived,
        "archived_at": at if archived else None,
        "payload": json.dumps(payload),
        "extracted_at": AS_OF,
    }


def engagement(eid, kind, company, at, *, contacts=(), **properties):
    props = {"hs_timestamp": at.isoformat(), **properties}
    return crm(kind, eid, props, companies=[company], contacts=contacts, at=at)


H = timedelta(hours=1)
D = timedelta(days=1)


def load_small_world(con, config: AgencyConfig) -> None:
    """Raw rows whose expected marts are worked out by hand in test_transforms.py."""
    upsert(
        con,
        "raw.email_messages",
        [
            # acme: answered in 2 h (achieved)
            message("a1", "ceo@acme.test", ["anna@agency.test"], AS_OF - 3 * D),
            message(
                "a2",
                "anna@agency.test",
                ["ceo@acme.test"],
                AS_OF - 3 * D + 2 * H,
                refs=["a1"],
                irt="a1",
            ),
            # acme: the out-of-office "reply" does not count; the human one at +30 h breaches
            message("a3", "boss.acme@gmail.com", ["anna@agency.test"], AS_OF - 6 * D),
            message(
                "a4",
                "anna@agency.test",
                ["boss.acme@gmail.com"],
                AS_OF - 6 * D + H,
                refs=["a3"],
                irt="a3",
                auto_submitted="auto-replied",
            ),
            message(
                "a5",
                "anna@agency.test",
                ["boss.acme@gmail.com"],
                AS_OF - 6 * D + 30 * H,
                refs=["a3"],
                irt="a3",
            ),
            # a newsletter from the client's domain is not inbound
            message("a6", "news@acme.test", ["anna@agency.test"], AS_OF - D, list_id="<n.acme>"),
            # internal-only thread: no client involved
            message("i1", "anna@agency.test", ["bob@agency.test"], AS_OF - D),
            # beta (prospect, 3 h target), Kyiv hours 09-18 = 07-16 UTC:
            # b1 Fri 07:00 UTC, unanswered: Fri 07-16 = 540 business minutes > 180 → breached;
            # b2 at 06:00 UTC today, before opening: 0 business minutes → pending
            message("b1", "director@beta.test", ["anna@agency.test"], AS_OF - 3 * D),
            message("b2", "director@beta.test", ["anna@agency.test"], AS_OF - H),
            # undated messages never reach staging
            message("u1", "ceo@acme.test", ["anna@agency.test"], None, date_status="missing"),
        ],
        ["message_key"],
    )
    upsert(
        con,
        "raw.asana_tasks",
        [
            task("t1", "100", due="2026-11-10"),  # overdue 6 days
            task("t2", "100", due="2026-11-15"),  # overdue 1 day
            task("t3", "100", due="2026-11-16"),  # due today: not overdue
            task("t4", "100", due="2026-11-01", completed=True),
            task("t5", "200", due="2026-11-20"),
            task("t6", "100", due="2026-11-01", created=AS_OF + D),  # created after as_of
        ],
        ["gid"],
    )
    upsert(
        con,
        "raw.crm_objects",
        [engagement("e1", "meetings", "600", AS_OF - 40 * D)],
        ["object_type", "id"],
    )
    build_models(con, config, AS_OF)


def model_rows(path: Path, partitions_in: Path | None = None) -> dict[str, list[tuple]]:
    """Every staging, core, intermediate and marts table of the warehouse at `path`, its rows
    sorted. With `partitions_in` (another warehouse), a history table (materialized
    `incremental`) keeps only the partitions that one holds: a full refresh starts
    history over, so only the weeks it built can be compared."""
    history = {
        t: d.partition_by for t, d in load_catalog().items() if d.materialized == "incremental"
    }
    con = duckdb.connect(str(path), read_only=True)
    try:
        if partitions_in is not None:
            con.execute(f"ATTACH '{partitions_in}' AS other (READ_ONLY)")
        tables = [
            r[0]
            for r in con.execute(
                "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE "
                "database_name = current_database() "
                "AND schema_name IN ('staging', 'core', 'intermediate', 'marts') ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            where = ""
            if partitions_in is not None and table in history:
                keys = ", ".join(f'"{c}"' for c in history[table])
                where = f" WHERE ({keys}) IN (SELECT ({keys}) FROM other.{table})"
            out[table] = sorted(con.execute(f"SELECT * FROM {table}{where}").fetchall(), key=repr)
        return out
    finally:
        con.close()
