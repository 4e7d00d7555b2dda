"""The churn-risk factors, declared once: each factor's area, its curve (the raw value at
which its sub-score is 0 and the one at which it reaches 100), its default weight and
critical sub-score, and the evidence keys its sentence can take.

The config's defaults (clientpulse/config.py, DEFAULT_RISK_FACTORS) and so the seed
`staging.cfg_risk_factors` come from here; the table in docs/risk_detection.md is
generated from it (`python -m clientpulse.risk_factors`); tests check that the SQL
(intermediate.client_risk_factors) returns exactly these factors in these areas with
these evidence keys, that every key has words in every language
(clientpulse/reports/evidence.py) and that the playbook acts on every factor.
The sub-score itself is computed in the SQL, along the curve declared here.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Factor:
    name: str
    area: str
    zero_at: str  # the raw value at which the sub-score is 0 (no sign of risk)
    full_at: str  # the raw value at which it reaches 100 (as bad as it gets)
    weight: float  # default weight in the weighted mean; 0 counts only when critical
    critical_at: float | None  # default sub-score at which it alone puts a client at risk
    evidence: tuple[str, ...]  # its evidence keys (clientpulse/reports/evidence.py)


# Weights tuned on the demo agency's replay (benchmarks/bench_risk_backtest.py): a fall in
# two-way contact against the client's own usual rate weighs most (docs/domain.md §4),
# then the gap since the last exchange and silent slips (§2). Mail unanswered past target
# weighs 1 now that closing messages ("thanks, got it") no longer count as waiting: on
# the demo's replay it cut false alarms by a quarter with every churner still flagged a
# month ahead; at 2 it drowned a slow fade's fall in contact.
# Two factors are critical by default: a report recipient gone (their mail bounces) puts
# the client at risk by itself, as the person the agency reports to is the relationship
# (it weighs nothing in the mean: a rare event at 0 for nearly every client would only
# dilute the other factors); and a lost renewal (lost_deals at 100: the client's own fee
# declined, not a proposal), which on the demo and indie1 replays warned of the budget
# churns ten weeks ahead.
REPLIES = ("responsiveness", "95% on time", "50% on time")  # both reply-compliance factors
FACTORS: tuple[Factor, ...] = (
    Factor("first_reply_compliance", *REPLIES, 2, None, ("replies_on_time",)),
    Factor("next_reply_compliance", *REPLIES, 1, None, ("replies_on_time",)),
    Factor(
        "unanswered_past_target",
        "responsiveness",
        "0 emails",
        "7 emails (15 points each)",
        1,
        None,
        ("unanswered_past_target",),
    ),
    Factor("on_time_rate", "delivery", "90% on time", "40% on time", 1.5, None, ("tasks_on_time",)),
    Factor("silent_slips", "delivery", "0", "10 (10 points each)", 2, None, ("silent_slips",)),
    Factor(
        "open_overdue_tasks",
        "delivery",
        "0",
        "5 (20 points each)",
        1,
        None,
        ("open_overdue_tasks",),
    ),
    Factor("revision_rounds", "delivery", "0", "7 (15 points each)", 1, None, ("revision_rounds",)),
    Factor(
        "contact_vs_cadence",
        "contact",
        "the agreed rhythm",
        "no two-way exchange",
        2,
        None,
        ("contact_vs_cadence",),
    ),
    Factor(
        "contact_vs_baseline",
        "contact",
        "a fall of z = contact_fall_z_from (1.5)",
        "z = contact_fall_z_full (4)",
        8,
        None,
        ("contact_fall", "contact_as_usual"),
    ),
    Factor(
        "contact_gap",
        "contact",
        "1 × the cadence in business days",
        "3 × the cadence",
        3,
        None,
        ("contact_gap", "no_contact_on_record"),
    ),
    Factor("on_site_gap", "contact", "30 days", "90 days", 0.5, None, ("on_site_gap",)),
    Factor("revenue_qoq", "commercial", "no fall", "a 50% fall", 0.5, None, ("revenue_qoq",)),
    Factor("revenue_yoy", "commercial", "no fall", "a 50% fall", 0.5, None, ("revenue_yoy",)),
    Factor(
        "lost_deals",
        "commercial",
        "no renewal lost",
        "1 renewal lost",
        2,
        100,
        ("renewals_lost", "no_renewal_lost"),
    ),
    Factor(
        "no_repeat_order",
        "commercial",
        "any stage but storm",
        "storm scores 60",
        1,
        None,
        ("lifecycle_stage",),
    ),
    Factor(
        "active_contacts",
        "relationship",
        "2 people in touch",
        "nobody (50 points each short)",
        1,
        None,
        ("active_contacts",),
    ),
    Factor(
        "senior_contacts",
        "relationship",
        "1 senior contact in touch",
        "none scores 50",
        0.5,
        None,
        ("senior_contacts",),
    ),
    Factor(
        "key_contact_left",
        "relationship",
        "nobody left",
        "a report recipient left (another contact: 50)",
        0,
        100,
        ("contacts_left", "no_contact_left"),
    ),
    # The agency's own playbook (issue 29, docs/domain.md §5, §7, §8): three signs an account
    # manager is told to act on. None weighs in the mean (a weight would be a hand-set
    # guess). A conflict open three days is critical. Overdue invoices and a detractor are
    # shown, not scored: made critical too, on the demo's replay they spent the alarm budget
    # on healthy clients (habitual late payers, a passive's 6) — false alarms 0.39 → 1.60 a
    # healthy client a year, recall at 4 weeks 0.75 → 0 as the calibrated bar rose.
    Factor(
        "overdue_receivables",
        "commercial",
        "half a month's billing overdue",
        "2 months' billing overdue",
        0,
        None,
        ("overdue_receivables", "nothing_overdue"),
    ),
    Factor(
        "open_conflict",
        "relationship",
        "no conflict open",
        "a conflict open signals.conflict.critical_after_days (3 days; younger: 50)",
        0,
        100,
        ("open_conflict", "no_open_conflict"),
    ),
    Factor(
        "detractor",
        "relationship",
        "no NPS answer of 0–6 in 90 days",
        "a current voice's latest answer 0–6 within 90 days",
        0,
        None,
        ("detractor_answer", "no_detractor"),
    ),
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "risk_detection.md"
BEGIN, END = "<!-- risk factors: begin -->", "<!-- risk factors: end -->"


def table() -> str:
    """The factors as a Markdown table (docs/risk_detection.md)."""
    lines = [
        "| factor | area | sub-score 0 at | 100 at | weight | critical at | evidence keys |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in FACTORS:
        critical = "—" if f.critical_at is None else f"{f.critical_at:g}"
        keys = ", ".join(f"`{k}`" for k in f.evidence)
        lines.append(
            f"| `{f.name}` | {f.area} | {f.zero_at} | {f.full_at} | {f.weight:g} | "
            f"{critical} | {keys} |"
        )
    return "\n".join(lines)


def with_table(text: str) -> str:
    """`text` (the doc) with the table between its markers replaced by the current one."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{BEGIN}\n{table()}\n{END}", text)


if __name__ == "__main__":
    DOC.write_text(with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
