"""Compare two demo runs: rows per table (and each table's content), the Slack JSON and
the client email bodies. For refactors that must not change what users see.

    python -m tooling.compare_demo BEFORE_WAREHOUSE BEFORE_OUT AFTER_WAREHOUSE AFTER_OUT
"""

from __future__ import annotations

import argparse
import difflib
import email
import email.policy
import json
import sys
from pathlib import Path

import duckdb

SKIPPED_SCHEMAS = ("ops",)  # run ids and timestamps differ by construction


def _tables(path: Path) -> dict[str, tuple[int, str]]:
    """table → (rows, a checksum of its content without volatile columns)."""
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name NOT IN ? "
        "ORDER BY 1, 2",
        [list(SKIPPED_SCHEMAS)],
    ).fetchall():
        name = f"{schema}.{table}"
        columns = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND "
                "table_name = ? AND column_name NOT IN ('extracted_at', 'evaluated_at', 'as_of')",
                [schema, table],
            ).fetchall()
        ]
        select = ", ".join(f'"{c}"' for c in columns)
        rows, digest = con.execute(
            f"SELECT count(*), coalesce(sum(hash(row({select}))), 0) FROM {name}"
        ).fetchone()
        out[name] = (rows, f"{digest:x}")
    return out


def _slack_lines(path: Path) -> list[str]:
    """Each posted message as indented JSON, without the fields a post stamps anew."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        message = {k: v for k, v in json.loads(raw).items() if k not in ("ts", "posted_at")}
        lines.extend(json.dumps(message, ensure_ascii=False, indent=1).splitlines())
    return lines


def _bodies(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        key = message["Message-ID"] or path.name
        out[key] = "\n".join(
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        )
    return out


def compare(before_db: Path, before_out: Path, after_db: Path, after_out: Path) -> str:
    lines = ["## Tables (rows, content)"]
    before, after = _tables(before_db), _tables(after_db)
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old and new and old[0] == new[0]:
            lines.append(f"- {name}: {new[0]} rows, content changed")
        else:
            lines.append(f"- {name}: {old[0] if old else 'absent'} → {new[0] if new else 'absent'}")
    same = sum(1 for name in before if before[name] == after.get(name))
    lines.append(f"({same} tables identical in rows and content)")
    lines.append("## Slack")
    slack = [_slack_lines(p / "slack" / "messages.jsonl") for p in (before_out, after_out)]
    lines.extend(difflib.unified_diff(*slack, "before", "after", lineterm="", n=0) or ["same"])
    lines.append("## Email bodies")
    old_mail, new_mail = _bodies(before_out / "email"), _bodies(after_out / "email")
    changed = 0
    for key in sorted(old_mail.keys() | new_mail.keys()):
        diff = list(
            difflib.unified_diff(
                old_mail.get(key, "").splitlines(),
                new_mail.get(key, "").splitlines(),
                "before",
                "after",
                lineterm="",
                n=0,
            )
        )
        if diff:
            changed += 1
            lines.append(f"### {key}")
            lines.extend(diff)
    lines.append(f"({len(new_mail)} emails, {changed} changed)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("before_db", "before_out", "after_db", "after_out"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args(argv)
    print(compare(args.before_db, args.before_out, args.after_db, args.after_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
