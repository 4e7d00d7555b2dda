"""A large agency for the build benchmarks: the demo's ingested data, replicated.

    python -m benchmarks.large_agency --seed-config config/demo.yaml --clients 504 \
        --messages 2000000 --tasks 300000 --out out/bench/agency-504

The sandbox simulator holds every message in memory (~4 KB each), so it cannot make
2M messages. This starts from what the demo ingested (its warehouse's `raw` tables and
its config) and writes an agency of N clients in DuckDB, set-based, so Python holds no
rows and DuckDB spills under its memory limit: constant memory, deterministic, and a
minute or two for the 500-client agency.

Each demo client becomes `ceil(N / demo clients)` clients (copy `c`: its id, name, mail
domains and contact addresses get an `rC` mark, its Asana projects and CRM ids a
numeric suffix). Within a copy, mail and Asana are repeated `d` times (density) with
their own Message-IDs and gids, so each client holds about `messages / N` messages and
`tasks / N` tasks in as many conversations and projects as the demo's shape gives.
Agency (internal) addresses stay as they are. Copy 0, density 0 is the demo itself.
"""

from __future__ import annotations

import argparse
import math
import shutil
from pathlib import Path

import duckdb
import yaml

from warehouse.db import open_writer, transaction

# Source ids (Asana gids, HubSpot ids) are digit strings: in their own columns, under these
# JSON keys, and as elements of JSON lists (HubSpot associations).
_ID = r"\d+"
_JSON_IDS = (r'("(?:id|gid|hs_object_id)":\s*)"(\d+)"', r'([\[,]\s*)"(\d+)"')
_EMAIL_TABLES = ("email_messages", "email_sightings")


def _suffix(copy: str, density: str) -> str:
    """SQL for the suffix of ids in copy `copy`, density `density` ('' for the demo)."""
    return (
        f"CASE WHEN {copy} = 0 AND {density} = 0 THEN '' "
        f"ELSE lpad(CAST({copy} AS VARCHAR), 3, '0') "
        f"|| lpad(CAST({density} AS VARCHAR), 3, '0') END"
    )


def _macros(con: duckdb.DuckDBPyConnection, internal: list[str]) -> None:
    domains = ", ".join("'" + d.lower() + "'" for d in internal) or "''"
    con.execute(
        f"""CREATE OR REPLACE TEMP MACRO bench_addr(a, c) AS CASE
              WHEN a IS NULL OR c = 0 OR NOT contains(a, '@')
                   OR lower(split_part(a, '@', 2)) IN ({domains}) THEN a
              ELSE split_part(a, '@', 1) || '@r' || c || '.' || split_part(a, '@', 2) END"""
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO bench_mid(m, s) AS "
        "CASE WHEN m IS NULL OR s = '' THEN m ELSE m || '~' || s END"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO bench_id(v, s) AS "
        f"CASE WHEN regexp_full_match(v, '{_ID}') THEN v || s ELSE v END"
    )
    # JSON text: every id gets the suffix; addresses outside the agency the copy's mark.
    ids = "CAST(j AS VARCHAR)"
    for pattern in _JSON_IDS:
        ids = f"regexp_replace({ids}, '{pattern}', '\\1\"\\2' || s || '\"', 'g')"
    internal_fix = "".join(
        f".replace('@r' || c || '.{d.lower()}', '@{d.lower()}')" for d in internal
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP MACRO bench_json(j, c, s) AS CASE WHEN s = '' THEN j
              WHEN c = 0 THEN CAST({ids} AS JSON)
              ELSE CAST(regexp_replace({ids}, '@([A-Za-z0-9-]+\\.[A-Za-z0-9.-]+)',
                                       '@r' || c || '.\\1', 'g'){internal_fix} AS JSON) END"""
    )


def _expression(table: str, column: str, kind: str) -> str:
    """How a column of copy `c`, density `d` (suffix `s`) is derived from the demo's."""
    if column in ("message_id", "in_reply_to", "gmail_thread_id", "message_key"):
        return f'bench_mid(t."{column}", s)'
    if column == "references":
        return 'list_transform(t."references", lambda x: bench_mid(x, s))'
    if column in ("from_addr", "reply_to"):
        return f'bench_addr(t."{column}", c)'
    if column in ("to_addrs", "cc_addrs"):
        return f'list_transform(t."{column}", lambda x: bench_addr(x, c))'
    if kind == "JSON":
        return f't."{column}"' if table in _EMAIL_TABLES else f'bench_json(t."{column}", c, s)'
    if kind == "VARCHAR" and table not in _EMAIL_TABLES:
        return f'bench_id(t."{column}", s)'
    return f't."{column}"'


def replicate_raw(
    con: duckdb.DuckDBPyConnection, copies: int, mail_density: int, task_density: int
) -> dict[str, int]:
    """Fill every `raw` table from the attached seed warehouse's, `copies` × density times."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'seed' "
            "AND schema_name = 'raw' ORDER BY table_name"
        ).fetchall()
    ]
    counts = {}
    for table in tables:
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'seed' "
            "AND schema_name = 'raw' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
        density = (
            mail_density
            if table.startswith("email")
            else task_density
            if table.startswith("asana")
            else 1
        )
        select = ", ".join(_expression(table, name, kind) for name, kind in columns)
        names = ", ".join(f'"{name}"' for name, _ in columns)
        # HubSpot owners are the agency's people: the same in every copy.
        owners = ""
        if table == "crm_objects":
            owners = "WHERE NOT (t.object_type = 'owners' AND s <> '')"
        con.execute(f"DELETE FROM raw.{table}")
        # One copy at a time keeps each statement's working set small.
        for c in range(copies):
            con.execute(
                f"""INSERT INTO raw.{table} ({names})
                    SELECT {select}
                    FROM seed.raw.{table} AS t,
                         (SELECT {c} AS c, d, {_suffix(str(c), "d")} AS s
                          FROM range({density}) AS r (d))
                    {owners}"""
            )
        counts[table] = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
    return counts


def _mark(address: str, copy: int, internal: set[str]) -> str:
    local, _, domain = address.partition("@")
    return address if copy == 0 or domain.lower() in internal else f"{local}@r{copy}.{domain}"


def _id(value: str, copy: int, density: int) -> str:
    return value if copy == 0 and density == 0 else f"{value}{copy:03d}{density:03d}"


def replicate_config(
    seed: dict, copies: int, task_density: int, clients: int, warehouse: str = "warehouse"
) -> dict:
    """The seed config with `clients` clients (copies of the seed's, in order)."""
    internal = {d.lower() for d in seed["agency"]["internal_domains"]}
    out = []
    for copy in range(copies):
        for client in seed["clients"]:
            if len(out) == clients:
                break
            new = dict(client)
            if copy:
                new["id"] = f"{client['id']}-r{copy}"
                new["name"] = f"{client['name']} #{copy}"
                new["email_domains"] = [f"r{copy}.{d}" for d in client.get("email_domains", [])]
                for key in ("contact_addresses", "report_recipients"):
                    new[key] = [_mark(a, copy, internal) for a in client.get(key, [])]
                if client.get("crm_company_id"):
                    new["crm_company_id"] = _id(client["crm_company_id"], copy, 0)
            projects = client.get("asana_projects", [])
            new["asana_projects"] = [_id(p, copy, d) for p in projects for d in range(task_density)]
            out.append(new)
    config = dict(seed)
    config["clients"] = out
    config["warehouse"] = {  # relative: the config's folder can be copied as it is
        "path": f"{warehouse}/clientpulse.duckdb",
        "snapshot_path": f"{warehouse}/clientpulse_snapshot.duckdb",
    }
    return config


def generate(
    seed_config: Path, seed_db: Path, clients: int, messages: int, tasks: int, out: Path
) -> Path:
    """Write `out/agency.yaml` and its warehouse; returns the config's path."""
    seed = yaml.safe_load(seed_config.read_text(encoding="utf-8"))
    with duckdb.connect(str(seed_db), read_only=True) as con:
        seed_messages = con.execute("SELECT count(*) FROM raw.email_messages").fetchone()[0]
        seed_tasks = con.execute("SELECT count(*) FROM raw.asana_tasks").fetchone()[0]
    copies = math.ceil(clients / len(seed["clients"]))
    mail_density = max(1, round(messages / (seed_messages * copies)))
    task_density = max(1, round(tasks / (seed_tasks * copies)))
    if out.exists():
        shutil.rmtree(out)
    config = replicate_config(seed, copies, task_density, clients)
    for key in ("mailboxes",):  # the bench builds from raw; no source is read
        config["sources"].pop(key, None)
    config_path = out / "agency.yaml"
    out.mkdir(parents=True)
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    with open_writer(out / "warehouse" / "clientpulse.duckdb") as con:
        con.execute("SET memory_limit = '1GB'")
        _macros(con, seed["agency"]["internal_domains"])
        con.execute(f"ATTACH '{seed_db}' AS seed (READ_ONLY)")
        with transaction(con):
            counts = replicate_raw(con, copies, mail_density, task_density)
        con.execute("DETACH seed")
        con.execute("CHECKPOINT")
    print(
        f"agency: {len(config['clients'])} clients, {counts.get('email_messages')} messages, "
        f"{counts.get('asana_tasks')} tasks, {counts.get('crm_objects')} CRM objects "
        f"(copies {copies}, mail density {mail_density}, task density {task_density})"
    )
    return config_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-config", type=Path, default=Path("config/demo.yaml"))
    parser.add_argument(
        "--seed-db", type=Path, default=Path("out/demo/warehouse/clientpulse.duckdb")
    )
    parser.add_argument("--clients", type=int, default=504)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--tasks", type=int, default=300_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.seed_config, args.seed_db, args.clients, args.messages, args.tasks, args.out)


if __name__ == "__main__":
    main()
