"""The Monday leadership digest, as Slack Block Kit, and its chart.

Read in a minute at any portfolio size: headline figures with their change since last
week, the biggest movers, the top at-risk clients (the rest counted), lost lately, one
line per manager, clients per strategy, and a chart of the last weeks; on the first digest
of each month, last month's client feedback (NPS, its change, detractors named). Every
figure is selected from a mart (marts.portfolio_weekly, client_risk_movers,
client_risk_actions, manager_portfolio, portfolio_segments, client_strategy_changes,
portfolio_feedback_monthly); this module formats.
Every string that comes from outside (client names, manager names, reasons built
from them) is escaped for mrkdwn, so a client called `<!channel>` pings nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.config import Alerts, LeadershipDigest
from clientpulse.periods import ReportWeek, is_first_week_of_month, report_week
from clientpulse.reports.account_manager_alerts import Playbook
from clientpulse.reports.digest_chart import ChartData, alt_text, render_png, text_fallback
from clientpulse.reports.evidence import sentence
from clientpulse.reports.i18n import money
from clientpulse.reports.sla_figures import SlaWeek, hours, percent, portfolio_sla_week
from connectors.slack import escape_mrkdwn, fit_blocks
from transforms.catalog import accepted_values

LOST_NAMED = 3  # lost lately: the newest by name, the rest counted
# the monthly feedback block (three lines at most): clients whose latest NPS answer is a
# detractor's, newest first, and managers with answers, lowest NPS first; the rest counted
FEEDBACK_NAMED = 3
LANGUAGE = "en"  # the digest's own words are English; factors and actions come from catalogs


_PORTFOLIO = (
    "clients",
    "active_clients",
    "at_risk",
    "recently_lost",
    "open_overdue_tasks",
    "risk_threshold",
    "risk_threshold_calibrated",
    "risk_false_alarm_budget",
)


def _portfolio(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute(
        "SELECT clients, active_clients, at_risk_clients, recently_lost_clients, "
        "open_overdue_tasks, risk_threshold, risk_threshold_calibrated, "
        "risk_false_alarm_budget FROM marts.portfolio_health"
    ).fetchone()
    return dict(zip(_PORTFOLIO, row, strict=True))


def _threshold_note(portfolio: dict[str, Any]) -> str:
    """Which at-risk threshold flagged this week, and whether the alarm budget set it."""
    threshold = portfolio["risk_threshold"]
    if threshold is None:
        return ""
    if portfolio["risk_threshold_calibrated"]:
        budget = portfolio["risk_false_alarm_budget"]
        return (
            f" · at risk from score {threshold:.0f}, calibrated this week on the year before"
            f" to {float(budget):g} false-alarm weeks per retained client a year"
        )
    return f" · at risk from score {threshold:.0f} (the default: too little history to calibrate)"


SLA_LABELS = {"first_reply": "First replies", "next_reply": "Next replies"}


def _sla_block(week: SlaWeek, changes: dict[str, float | None]) -> dict[str, Any]:
    """Last week's email SLA over all clients (marts.portfolio_sla_weekly), per metric,
    with its change against the week before (marts.portfolio_weekly)."""
    lines = [
        f"• {SLA_LABELS[metric]}: {percent(f.compliance)} on time ({f.achieved} of {f.decided})"
        f"{_points(changes.get(metric))}"
        f" · median {hours(f.median_minutes)} h · P90 {hours(f.p90_minutes)} h"
        f" · {f.breached} breached · {f.pending} pending"
        for metric, f in week.figures.items()
    ]
    heading = f"*Email SLA, {week.iso_week}* (business hours on each client's calendar)"
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join([heading, *lines])}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _signed(value: float | int | None, unit: str = "") -> str:
    """`+3`, `−2`, `±0` (with `unit`); "" without a value to compare with."""
    if value is None:
        return ""
    if value == 0:
        return f"±0{unit}"
    sign = "+" if value > 0 else "−"
    return f"{sign}{abs(value):g}{unit}"


def _points(change: float | None) -> str:
    """A compliance change as percentage points: ` · +3 pts`; "" without one."""
    return "" if change is None else f" ({_signed(round(100 * change), ' pts')})"


def _since(value: float | int | None, unit: str = "") -> str:
    return "" if value is None else f" ({_signed(value, unit)})"


def _portfolio_weeks(con: duckdb.DuckDBPyConnection, weeks: int) -> list[dict[str, Any]]:
    """The last `weeks` rows of marts.portfolio_weekly, oldest first."""
    relation = con.execute(
        "SELECT * FROM (SELECT * FROM marts.portfolio_weekly ORDER BY week_start DESC LIMIT ?) "
        "ORDER BY week_start",
        [weeks],
    )
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _headline_block(week: dict[str, Any] | None, portfolio: dict[str, Any]) -> dict[str, Any]:
    """Clients at risk, lost this month, on-time delivery and overdue tasks, with their
    change since last week (marts.portfolio_weekly, marts.portfolio_health)."""
    if week is None:
        at_risk = f"{portfolio['at_risk']} of {portfolio['active_clients']} active"
        lost = "no history yet"
        on_time = "no history yet"
    else:
        at_risk = (
            f"{week['at_risk_clients']} of {week['active_clients']} active"
            f"{_since(week['at_risk_change_1w'])}"
        )
        lost = f"{week['lost_this_month']}{_since(week['lost_this_month_change_1w'])}"
        on_time = (
            "no dated task completed"
            if week["on_time_rate"] is None
            else f"{percent(week['on_time_rate'])} of {week['dated_completed_tasks']} tasks"
            f"{_points(week['on_time_change_1w'])}"
        )
    label = f", {week['reported_iso_week']}" if week else ""
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": f"*Clients at risk*\n{at_risk}"},
            {"type": "mrkdwn", "text": f"*Lost this month*\n{lost}"},
            {"type": "mrkdwn", "text": f"*Delivered on time{label}*\n{on_time}"},
            {
                "type": "mrkdwn",
                "text": f"*Open overdue tasks*\n{portfolio['open_overdue_tasks']}",
            },
        ],
    }


def _playbook_block(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Overdue receivables per currency, clients with a recent detractor, open conflicts
    (marts.portfolio_playbook)."""
    conflicts, detractors, owing, overdue = con.execute(
        "SELECT open_conflicts, recent_detractor_clients, overdue_clients, overdue_by_currency "
        "FROM marts.portfolio_playbook"
    ).fetchone()
    amounts = " + ".join(money(o["overdue_amount"], o["currency"], LANGUAGE) for o in overdue)
    oldest = max((o["oldest_overdue_days"] for o in overdue), default=None)
    receivables = (
        f"{amounts} at {owing} {'client' if owing == 1 else 'clients'} "
        f"(the oldest {oldest} days past due)"
        if overdue
        else "none"
    )
    return _section(
        f"*Overdue invoices* {receivables} · *Recent detractors* {detractors} "
        f"{'client' if detractors == 1 else 'clients'} · *Open conflicts* {conflicts}"
    )


def _named(items: list[str], listed: int) -> str:
    """The first `listed` items, the rest counted."""
    text = ", ".join(items[:listed])
    if len(items) > listed:
        text += " " + sentence("feedback_more", LANGUAGE, count=len(items) - listed)
    return text


def _feedback_headline(agency: dict[str, Any]) -> str:
    """The month, its NPS with the change against the previous survey and the answers by
    group; or that nobody answered, with the last survey's NPS."""
    previous = agency["previous_month_start"]
    month = agency["month_start"].isoformat()
    heading = f"*{sentence('feedback_heading', LANGUAGE, month=month)}*"
    if not agency["answers"]:
        none = sentence("feedback_none", LANGUAGE)
        if previous is None:
            return f"{heading} · {none}"
        last = sentence(
            "feedback_last",
            LANGUAGE,
            previous=previous.isoformat(),
            previous_nps=agency["previous_nps"],
        )
        return f"{heading} · {none} ({last})"
    score = sentence("feedback_score", LANGUAGE, nps=agency["nps"])
    if agency["nps_change"] is not None:
        change = sentence(
            "feedback_change", LANGUAGE, change=agency["nps_change"], previous=previous.isoformat()
        )
        score += f" {change}"
    groups = ("answers", "promoters", "passives", "detractors")
    answers = sentence("feedback_answers", LANGUAGE, **{k: agency[k] for k in groups})
    return f"{heading} · {score} · {answers}"


def _feedback_block(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """Last month's client feedback (marts.portfolio_feedback_monthly, its latest month): the
    agency's NPS and answers by group with the change against the previous survey, the
    clients whose latest answer is a detractor's, and the managers with answers, lowest
    NPS first. None when the agency has no NPS answer on record (it runs no survey)."""
    relation = con.execute(
        "SELECT scope, account_manager_name, answers, promoters, passives, detractors, nps, "
        "previous_month_start, previous_nps, nps_change, detractor_clients, month_start "
        "FROM marts.portfolio_feedback_monthly "
        "WHERE month_start = (SELECT max(month_start) FROM marts.portfolio_feedback_monthly) "
        "ORDER BY scope = 'agency' DESC, nps NULLS LAST, account_manager_name"
    )
    names = [d[0] for d in relation.description]
    rows = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    if not rows:
        return None
    agency, managers = rows[0], [r for r in rows[1:] if r["answers"]]
    lines = [_feedback_headline(agency)]
    detractors = [
        sentence(
            "feedback_detractor",
            LANGUAGE,
            name=f"*{escape_mrkdwn(c['client_name'])}*",
            score=c["score"],
            on=c["answered_on"].isoformat(),
        )
        for c in agency["detractor_clients"]
    ]
    if detractors:
        named = _named(detractors, FEEDBACK_NAMED)
        lines.append(f"{sentence('feedback_detractors', LANGUAGE)}: {named}")
    if managers:
        by_manager = [
            sentence(
                "feedback_manager",
                LANGUAGE,
                name=escape_mrkdwn(m["account_manager_name"]),
                nps=m["nps"],
                answers=m["answers"],
            )
            for m in managers
        ]
        lines.append(
            f"{sentence('feedback_managers', LANGUAGE)}: {_named(by_manager, FEEDBACK_NAMED)}"
        )
    return _section("\n".join(lines))


def _movers_block(
    con: duckdb.DuckDBPyConnection, listed: int, playbook: Playbook
) -> dict[str, Any]:
    """The clients whose risk score rose or fell most since last week, with the factor
    that moved them (marts.client_risk_movers)."""
    rows = con.execute(
        "SELECT direction, client_name, account_manager_name, previous_score, score, "
        "score_change_1w, factor, factor_evidence FROM marts.client_risk_movers "
        "WHERE mover_rank <= ? ORDER BY direction DESC, mover_rank",
        [listed],
    ).fetchall()
    heading = "*Biggest movers* (risk score 0–100)"
    if not rows:
        return _section(heading + "\nNo risk score moved since last week.")
    lines = []
    for direction, name, _manager, before, score, change, factor, _evidence in rows:
        arrow = ":small_red_triangle:" if direction == "rose" else ":small_red_triangle_down:"
        why = f": {escape_mrkdwn(playbook.factor(LANGUAGE, factor))}" if factor else ""
        lines.append(f"{arrow} *{escape_mrkdwn(name)}* {before} → {score} ({_signed(change)}){why}")
    return _section("\n".join([heading, *lines]))


def _at_risk_block(
    con: duckdb.DuckDBPyConnection, active: int, listed: int, playbook: Playbook
) -> dict[str, Any]:
    """The top `listed` at-risk clients by score with owner, score, the top two factors
    by name (the evidence is in the manager's DM: a line here is read at a glance) and the
    playbook's action for the first (marts.client_risk_actions); the rest as a count."""
    rows = con.execute(
        "SELECT client_name, account_manager_name, score, top_factor, second_factor "
        "FROM marts.client_risk_actions ORDER BY risk_rank"
    ).fetchall()
    if not rows:
        return _section("*At-risk clients*\nNone this week.")
    lines = [f"*At-risk clients* · {len(rows)} of {active} active, highest risk first"]
    for name, manager, score, first, second in rows[:listed]:
        reasons = "; ".join(
            escape_mrkdwn(playbook.factor(LANGUAGE, f)) for f in (first, second) if f
        )
        # the playbook's action says what is wrong, then what to do ("Spend is falling:
        # review…"); the factors are named just before, so the line keeps the advice
        action = playbook.action(LANGUAGE, first).split(": ", 1)[-1]
        lines.append(
            f"• *{escape_mrkdwn(name)}* ({escape_mrkdwn(manager)}) · risk {score:.0f}: {reasons}"
            f" → _{escape_mrkdwn(action)}_"
        )
    if len(rows) > listed:
        lines.append(f"…and {len(rows) - listed} more at risk")
    return _section("\n".join(lines))


def _lost_block(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """Clients lost lately, newest first, as a count with the first few names."""
    rows = con.execute(
        """SELECT c.client_name, r.lost_on
            FROM marts.client_risk_weekly AS r JOIN staging.cfg_clients AS c USING (client_id)
            WHERE r.lost_recently
                AND r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
            ORDER BY r.lost_on DESC, c.client_name"""
    ).fetchall()
    if not rows:
        return None
    names = [f"{escape_mrkdwn(name)} ({lost_on:%b %-d})" for name, lost_on in rows[:LOST_NAMED]]
    text = f"*Lost lately* · {len(rows)}: " + ", ".join(names)
    if len(rows) > LOST_NAMED:
        text += f" …and {len(rows) - LOST_NAMED} more"
    return _section(text)


def _managers_block(
    con: duckdb.DuckDBPyConnection, reported_week: str, listed: int
) -> dict[str, Any]:
    """One line per account manager: clients at risk of their active clients and their
    clients' SLA last week (marts.manager_portfolio, docs/domain.md §7)."""
    rows = con.execute(
        "SELECT account_manager_name, at_risk_clients, active_clients, first_reply_compliance, "
        "next_reply_compliance FROM marts.manager_portfolio WHERE active_clients > 0 "
        "ORDER BY at_risk_clients DESC, account_manager_name"
    ).fetchall()
    lines = [f"*By account manager* (at risk of active · replies on time, {reported_week})"]
    for name, at_risk, active, first, next_ in rows[:listed]:
        lines.append(
            f"• {escape_mrkdwn(name)}: {at_risk} of {active} · first {percent(first)}"
            f" · next {percent(next_)}"
        )
    if len(rows) > listed:
        rest = rows[listed:]
        lines.append(
            f"…and {len(rest)} more managers with {sum(r[1] for r in rest)} clients at risk"
        )
    return _section("\n".join(lines))


def _segments_block(con: duckdb.DuckDBPyConnection, listed: int) -> dict[str, Any]:
    """Clients per strategy (marts.portfolio_segments) and the clients that changed
    strategy since last week (marts.client_strategy_changes), docs/domain.md §6."""
    counts = {
        key: (strategy, clients)
        for key, strategy, clients in con.execute(
            "SELECT strategy_key, strategy, clients FROM marts.portfolio_segments"
        ).fetchall()
    }
    parts = []
    for key in (*accepted_values("marts.client_segment", "strategy_key"), None):
        if key in counts:
            label = key.replace("_", " ") if key else "not enough data"
            parts.append(f"{label.capitalize()} {counts[key][1]}")
    changes = con.execute(
        "SELECT client_name, previous_strategy_key, strategy_key "
        "FROM marts.client_strategy_changes ORDER BY client_name"
    ).fetchall()
    lines = ["*Strategies* (clients; docs/domain.md §6): " + " · ".join(parts)]
    if changes:
        moved = [
            f"{escape_mrkdwn(name)} ({(before or 'no data').replace('_', ' ')} → "
            f"{(after or 'no data').replace('_', ' ')})"
            for name, before, after in changes[:listed]
        ]
        more = f" …and {len(changes) - listed} more" if len(changes) > listed else ""
        lines.append(f"Changed strategy since last week: {', '.join(moved)}{more}")
    else:
        lines.append("No client changed strategy since last week.")
    return _section("\n".join(lines))


def _chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """The chart's data (marts.portfolio_weekly), its PNG, alt text and text fallback."""
    data = ChartData(
        weeks=[w["iso_week"] for w in weeks],
        at_risk=[w["at_risk_clients"] for w in weeks],
        first_reply=[w["first_reply_compliance"] for w in weeks],
        next_reply=[w["next_reply_compliance"] for w in weeks],
        on_time=[w["on_time_rate"] for w in weeks],
    )
    return {
        "title": "Clients at risk and SLA compliance, by week",
        "alt_text": alt_text(data),
        "text_fallback": text_fallback(data),
        "data": data.as_dict(),
        "png": render_png(data),
    }


def compose_digest(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    timezone: str,
    period: str,
    settings: LeadershipDigest | None = None,
    playbook: Playbook | None = None,
) -> dict[str, Any]:
    """The digest message (`text` fallback plus `blocks`) and, when configured, its
    `chart` (PNG bytes with alt text and a text fallback), from the portfolio marts;
    factor names, evidence and actions in the playbook's words (the default one)."""
    settings = settings or LeadershipDigest()
    playbook = playbook or Playbook.load(Alerts().playbook)
    portfolio = _portfolio(con)
    week: ReportWeek = report_week(as_of, timezone)
    sla = portfolio_sla_week(con, week)
    weeks = _portfolio_weeks(con, settings.chart_weeks)
    this = weeks[-1] if weeks else None
    changes = {
        "first_reply": this["first_reply_change_1w"] if this else None,
        "next_reply": this["next_reply_change_1w"] if this else None,
    }
    local = as_of.astimezone(ZoneInfo(timezone))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"ClientPulse weekly digest · {period}"},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "(±N) = change since last week"}],
        },
        _headline_block(this, portfolio),
        _playbook_block(con),
    ]
    # the month's feedback once a month, on its first digest (it covers the month before)
    feedback = _feedback_block(con) if is_first_week_of_month(as_of, timezone) else None
    if feedback:
        blocks.append(feedback)
    blocks += [
        _sla_block(sla, changes),
        {"type": "divider"},
        _movers_block(con, settings.movers_listed, playbook),
        _at_risk_block(con, portfolio["active_clients"], settings.at_risk_listed, playbook),
    ]
    lost = _lost_block(con)
    if lost:
        blocks.append(lost)
    blocks += [
        {"type": "divider"},
        _managers_block(con, week.label, settings.managers_listed),
        _segments_block(con, settings.strategy_changes_listed),
    ]
    chart = _chart(weeks) if settings.chart and weeks else None
    footer = f"As of {local:%Y-%m-%d %H:%M} {escape_mrkdwn(timezone)} · SLA clocks: business hours"
    footer += _threshold_note(portfolio)
    if chart:
        footer += f" · chart of the last {len(weeks)} weeks posted below"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    first_reply = sla.figures["first_reply"].compliance
    compliance = percent(first_reply) if first_reply is not None else "no data"
    at_risk = this["at_risk_clients"] if this else portfolio["at_risk"]
    text = (
        f"ClientPulse weekly digest {period}: {at_risk} of {portfolio['active_clients']} "
        f"active clients at risk{_since(this['at_risk_change_1w'] if this else None)}, "
        f"{this['lost_this_month'] if this else 0} lost this month; first replies on time "
        f"in {week.label}: {compliance}{_points(changes['first_reply'])}."
    )
    return {"text": text, "blocks": fit_blocks(blocks), "chart": chart}
