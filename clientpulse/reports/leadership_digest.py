"""The Monday leadership digest, as Slack Block Kit, and its chart.

Read in a minute at any portfolio size: headline figures with their change since last
week, the biggest movers, the top at-risk clients (the rest counted), lost lately, one
line per manager, clients per strategy, and a chart of the last weeks. Every figure is
selected from a mart (marts.portfolio_weekly, client_risk_movers, client_risk_actions,
manager_portfolio, portfolio_segments, client_strategy_changes); this module formats.
Every word is the digest's language (leadership_digest.language) from the catalog in
clientpulse/reports/i18n.py, every figure written by Babel; factor names and actions
are the playbook's. Every string that comes from outside (client names, manager names,
reasons built from them) is escaped for mrkdwn, so a client called `<!channel>` pings
nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from clientpulse.config import Alerts, LeadershipDigest
from clientpulse.periods import ReportWeek, is_first_week_of_month, report_week
from clientpulse.reports import i18n
from clientpulse.reports.account_manager_alerts import Playbook
from clientpulse.reports.digest_chart import ChartData, alt_text, render_png, text_fallback
from clientpulse.reports.evidence import sentence, unit
from clientpulse.reports.i18n import STRINGS
from clientpulse.reports.sla_figures import SlaWeek, portfolio_sla_week
from connectors.slack import escape_mrkdwn, fit_blocks
from transforms.catalog import accepted_values

LOST_NAMED = 3  # lost lately: the newest by name, the rest counted
# the monthly feedback block (three lines at most): clients whose latest NPS answer is a
# detractor's, newest first, and managers with answers, lowest NPS first; the rest counted
FEEDBACK_NAMED = 3


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


def _percent(share: float | None, language: str) -> str:
    return "—" if share is None else i18n.percent(share, language)


def _hours(minutes: float | None, language: str) -> str:
    """Business minutes as hours with one decimal, or a dash."""
    return "—" if minutes is None else i18n.decimal(minutes / 60, language)


def _since(value: float | None, language: str) -> str:
    """` (+3)`, ` (−2)`, ` (±0)`: the change since last week; "" without one."""
    return "" if value is None else f" ({i18n.signed(value, language)})"


def _points(change: float | None, language: str) -> str:
    """A compliance change as percentage points: ` (+3 pts)`; "" without one."""
    if change is None:
        return ""
    return STRINGS[language]["digest_points"].format(
        change=i18n.signed(round(100 * change), language)
    )


def _threshold_note(portfolio: dict[str, Any], language: str) -> str:
    """Which at-risk threshold flagged this week, and whether the alarm budget set it."""
    threshold = portfolio["risk_threshold"]
    if threshold is None:
        return ""
    t = STRINGS[language]
    written = i18n.decimal(round(threshold), language)
    if portfolio["risk_threshold_calibrated"]:
        budget = float(portfolio["risk_false_alarm_budget"])
        return t["digest_threshold_calibrated"].format(
            threshold=written,
            budget=i18n.decimal(budget, language),
            budget_weeks=unit(language, "weeks", budget),
        )
    return t["digest_threshold_default"].format(threshold=written)


def _sla_block(week: SlaWeek, changes: dict[str, float | None], language: str) -> dict[str, Any]:
    """Last week's email SLA over all clients (marts.portfolio_sla_weekly), per metric,
    with its change against the week before (marts.portfolio_weekly)."""
    t = STRINGS[language]
    lines = [
        t["digest_sla_line"].format(
            label=t[metric],
            compliance=_percent(f.compliance, language),
            achieved=f.achieved,
            decided=f.decided,
            points=_points(changes.get(metric), language),
            median=_hours(f.median_minutes, language),
            p90=_hours(f.p90_minutes, language),
            breached=f.breached,
            pending=f.pending,
        )
        for metric, f in week.figures.items()
    ]
    heading = t["digest_sla_heading"].format(week=i18n.week(week.iso_week, language))
    return _section("\n".join([heading, *lines]))


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _portfolio_weeks(con: duckdb.DuckDBPyConnection, weeks: int) -> list[dict[str, Any]]:
    """The last `weeks` rows of marts.portfolio_weekly, oldest first."""
    relation = con.execute(
        "SELECT * FROM (SELECT * FROM marts.portfolio_weekly ORDER BY week_start DESC LIMIT ?) "
        "ORDER BY week_start",
        [weeks],
    )
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _headline_block(
    week: dict[str, Any] | None, portfolio: dict[str, Any], language: str
) -> dict[str, Any]:
    """Clients at risk, lost this month, on-time delivery and overdue tasks, with their
    change since last week (marts.portfolio_weekly, marts.portfolio_health)."""
    t = STRINGS[language]
    active = portfolio["active_clients"]
    if week is None:
        at_risk = t["digest_at_risk"].format(at_risk=portfolio["at_risk"], active=active, since="")
        lost = t["digest_lost"].format(
            lost=t["digest_no_history"], lost_clients=t["digest_no_history"], since=""
        )
        on_time = t["digest_on_time"].format(week="", on_time=t["digest_no_history"])
    else:
        at_risk = t["digest_at_risk"].format(
            at_risk=week["at_risk_clients"],
            active=week["active_clients"],
            since=_since(week["at_risk_change_1w"], language),
        )
        lost = t["digest_lost"].format(
            lost=week["lost_this_month"],
            lost_clients=i18n.counted(language, "digest_clients", week["lost_this_month"]),
            since=_since(week["lost_this_month_change_1w"], language),
        )
        share = (
            t["digest_no_dated_task"]
            if week["on_time_rate"] is None
            else t["digest_tasks_share"].format(
                share=i18n.percent(week["on_time_rate"], language),
                tasks=unit(language, "tasks", week["dated_completed_tasks"]),
            )
            + _points(week["on_time_change_1w"], language)
        )
        label = t["digest_on_time_week"].format(week=i18n.week(week["reported_iso_week"], language))
        on_time = t["digest_on_time"].format(week=label, on_time=share)
    overdue = portfolio["open_overdue_tasks"]
    fields = [
        at_risk,
        lost,
        on_time,
        t["digest_overdue_tasks"].format(count=overdue, overdue=unit(language, "overdue", overdue)),
    ]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]}


def _playbook_block(con: duckdb.DuckDBPyConnection, language: str) -> dict[str, Any]:
    """Overdue receivables per currency, clients with a recent detractor, open conflicts
    (marts.portfolio_playbook)."""
    t = STRINGS[language]
    conflicts, detractors, owing, overdue = con.execute(
        "SELECT open_conflicts, recent_detractor_clients, overdue_clients, overdue_by_currency "
        "FROM marts.portfolio_playbook"
    ).fetchone()
    amounts = " + ".join(i18n.money(o["overdue_amount"], o["currency"], language) for o in overdue)
    oldest = max((o["oldest_overdue_days"] for o in overdue), default=None)
    receivables = (
        t["digest_receivables"].format(
            amounts=amounts,
            clients=i18n.counted(language, "digest_clients", owing),
            owing=owing,
            days=unit(language, "days_overdue", oldest),
        )
        if overdue
        else t["digest_no_receivables"]
    )
    return _section(
        t["digest_playbook"].format(
            receivables=receivables,
            detractors=i18n.counted(language, "digest_clients", detractors),
            conflicts=conflicts,
        )
    )


def _named(items: list[str], listed: int, language: str) -> str:
    """The first `listed` items, the rest counted."""
    text = ", ".join(items[:listed])
    if len(items) > listed:
        text += " " + sentence("feedback_more", language, count=len(items) - listed)
    return text


def _feedback_headline(agency: dict[str, Any], language: str) -> str:
    """The month, its NPS with the change against the previous survey and the answers by
    group; or that nobody answered, with the last survey's NPS."""
    previous = agency["previous_month_start"]
    month = agency["month_start"].isoformat()
    heading = f"*{sentence('feedback_heading', language, month=month)}*"
    if not agency["answers"]:
        none = sentence("feedback_none", language)
        if previous is None:
            return f"{heading} · {none}"
        last = sentence(
            "feedback_last",
            language,
            previous=previous.isoformat(),
            previous_nps=agency["previous_nps"],
        )
        return f"{heading} · {none} ({last})"
    score = sentence("feedback_score", language, nps=agency["nps"])
    if agency["nps_change"] is not None:
        change = sentence(
            "feedback_change", language, change=agency["nps_change"], previous=previous.isoformat()
        )
        score += f" {change}"
    groups = ("answers", "promoters", "passives", "detractors")
    answers = sentence("feedback_answers", language, **{k: agency[k] for k in groups})
    return f"{heading} · {score} · {answers}"


def _feedback_block(con: duckdb.DuckDBPyConnection, language: str) -> dict[str, Any] | None:
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
    lines = [_feedback_headline(agency, language)]
    detractors = [
        sentence(
            "feedback_detractor",
            language,
            name=f"*{escape_mrkdwn(c['client_name'])}*",
            score=c["score"],
            on=c["answered_on"].isoformat(),
        )
        for c in agency["detractor_clients"]
    ]
    if detractors:
        named = _named(detractors, FEEDBACK_NAMED, language)
        lines.append(f"{sentence('feedback_detractors', language)}: {named}")
    if managers:
        by_manager = [
            sentence(
                "feedback_manager",
                language,
                name=escape_mrkdwn(m["account_manager_name"]),
                nps=m["nps"],
                answers=m["answers"],
            )
            for m in managers
        ]
        named = _named(by_manager, FEEDBACK_NAMED, language)
        lines.append(f"{sentence('feedback_managers', language)}: {named}")
    return _section("\n".join(lines))


def _movers_block(
    con: duckdb.DuckDBPyConnection, listed: int, playbook: Playbook, language: str
) -> dict[str, Any]:
    """The clients whose risk score rose or fell most since last week, with the factor
    that moved them (marts.client_risk_movers)."""
    t = STRINGS[language]
    rows = con.execute(
        "SELECT direction, client_name, previous_score, score, score_change_1w, factor "
        "FROM marts.client_risk_movers WHERE mover_rank <= ? ORDER BY direction DESC, mover_rank",
        [listed],
    ).fetchall()
    if not rows:
        return _section(t["digest_movers"] + "\n" + t["digest_no_movers"])
    lines = [t["digest_movers"]]
    for direction, name, before, score, change, factor in rows:
        lines.append(
            t["digest_mover"].format(
                arrow=":small_red_triangle:"
                if direction == "rose"
                else ":small_red_triangle_down:",
                name=escape_mrkdwn(name),
                before="—" if before is None else i18n.decimal(before, language),
                score=i18n.decimal(score, language),
                change=i18n.signed(change, language),
                why=f": {escape_mrkdwn(playbook.factor(language, factor))}" if factor else "",
            )
        )
    return _section("\n".join(lines))


def _at_risk_block(
    con: duckdb.DuckDBPyConnection, active: int, listed: int, playbook: Playbook, language: str
) -> dict[str, Any]:
    """The top `listed` at-risk clients by score with owner, score, the top two factors
    by name (the evidence is in the manager's DM: a line here is read at a glance) and the
    playbook's action for the first (marts.client_risk_actions); the rest as a count."""
    t = STRINGS[language]
    rows = con.execute(
        "SELECT client_name, account_manager_name, score, top_factor, second_factor "
        "FROM marts.client_risk_actions ORDER BY risk_rank"
    ).fetchall()
    if not rows:
        return _section(t["digest_at_risk_none"])
    lines = [t["digest_at_risk_heading"].format(count=len(rows), active=active)]
    for name, manager, score, first, second in rows[:listed]:
        reasons = "; ".join(
            escape_mrkdwn(playbook.factor(language, f)) for f in (first, second) if f
        )
        # the playbook's action says what is wrong, then what to do ("Spend is falling:
        # review…"); the factors are named just before, so the line keeps the advice
        action = playbook.action(language, first).split(": ", 1)[-1]
        lines.append(
            t["digest_at_risk_line"].format(
                name=escape_mrkdwn(name),
                manager=escape_mrkdwn(manager),
                score=i18n.decimal(round(score), language),
                reasons=reasons,
                action=escape_mrkdwn(action),
            )
        )
    if len(rows) > listed:
        lines.append(t["digest_at_risk_more"].format(count=len(rows) - listed))
    return _section("\n".join(lines))


def _lost_block(con: duckdb.DuckDBPyConnection, language: str) -> dict[str, Any] | None:
    """Clients lost lately, newest first, as a count with the first few names."""
    t = STRINGS[language]
    rows = con.execute(
        """SELECT c.client_name, r.lost_on
            FROM marts.client_risk_weekly AS r JOIN staging.cfg_clients AS c USING (client_id)
            WHERE r.lost_recently
                AND r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
            ORDER BY r.lost_on DESC, c.client_name"""
    ).fetchall()
    if not rows:
        return None
    names = ", ".join(
        f"{escape_mrkdwn(name)} ({i18n.short_day(lost_on, language)})"
        for name, lost_on in rows[:LOST_NAMED]
    )
    text = t["digest_lost_lately"].format(
        count=len(rows), clients=i18n.counted(language, "digest_clients", len(rows)), names=names
    )
    if len(rows) > LOST_NAMED:
        text += t["digest_more"].format(count=len(rows) - LOST_NAMED)
    return _section(text)


def _managers_block(
    con: duckdb.DuckDBPyConnection, reported_week: str, listed: int, language: str
) -> dict[str, Any]:
    """One line per account manager: clients at risk of their active clients and their
    clients' SLA last week (marts.manager_portfolio, docs/domain.md §7)."""
    t = STRINGS[language]
    rows = con.execute(
        "SELECT account_manager_name, at_risk_clients, active_clients, first_reply_compliance, "
        "next_reply_compliance FROM marts.manager_portfolio WHERE active_clients > 0 "
        "ORDER BY at_risk_clients DESC, account_manager_name"
    ).fetchall()
    lines = [t["digest_managers"].format(week=i18n.week(reported_week, language))]
    for name, at_risk, active, first, next_ in rows[:listed]:
        lines.append(
            t["digest_manager"].format(
                name=escape_mrkdwn(name),
                at_risk=at_risk,
                active=active,
                first=_percent(first, language),
                next=_percent(next_, language),
            )
        )
    if len(rows) > listed:
        rest = rows[listed:]
        lines.append(
            t["digest_managers_more"].format(count=len(rest), at_risk=sum(r[1] for r in rest))
        )
    return _section("\n".join(lines))


def _strategy(key: str | None, language: str, missing: str = "no_data") -> str:
    return STRINGS[language][f"strategy:{key or missing}"]


def _segments_block(con: duckdb.DuckDBPyConnection, listed: int, language: str) -> dict[str, Any]:
    """Clients per strategy (marts.portfolio_segments) and the clients that changed
    strategy since last week (marts.client_strategy_changes), docs/domain.md §6."""
    t = STRINGS[language]
    counts = dict(
        con.execute("SELECT strategy_key, clients FROM marts.portfolio_segments").fetchall()
    )
    parts = [
        t["digest_strategy_count"].format(
            strategy=_strategy(key, language, "none").capitalize(), count=counts[key]
        )
        for key in (*accepted_values("marts.client_segment", "strategy_key"), None)
        if key in counts
    ]
    changes = con.execute(
        "SELECT client_name, previous_strategy_key, strategy_key "
        "FROM marts.client_strategy_changes ORDER BY client_name"
    ).fetchall()
    lines = [t["digest_strategies"].format(counts=" · ".join(parts))]
    if changes:
        moved = ", ".join(
            f"{escape_mrkdwn(name)} ({_strategy(before, language)} → {_strategy(after, language)})"
            for name, before, after in changes[:listed]
        )
        more = t["digest_more"].format(count=len(changes) - listed) if len(changes) > listed else ""
        lines.append(t["digest_strategy_changed"].format(moved=moved, more=more))
    else:
        lines.append(t["digest_strategy_unchanged"])
    return _section("\n".join(lines))


def _chart(weeks: list[dict[str, Any]], period: str, language: str) -> dict[str, Any]:
    """The chart's data (marts.portfolio_weekly), its PNG, alt text and text fallback."""
    data = ChartData(
        weeks=[w["iso_week"] for w in weeks],
        at_risk=[w["at_risk_clients"] for w in weeks],
        first_reply=[w["first_reply_compliance"] for w in weeks],
        next_reply=[w["next_reply_compliance"] for w in weeks],
        on_time=[w["on_time_rate"] for w in weeks],
    )
    title = STRINGS[language]["chart_title"]
    return {
        "title": f"{title} ({i18n.week(period, language)})",
        "alt_text": alt_text(data, language),
        "text_fallback": text_fallback(data, language),
        "data": data.as_dict(),
        "png": render_png(data, language),
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
    `chart` (PNG bytes with alt text and a text fallback), from the portfolio marts, in
    the settings' language; factor names and actions in the playbook's words."""
    settings = settings or LeadershipDigest()
    playbook = playbook or Playbook.load(Alerts().playbook)
    language = settings.language
    t = STRINGS[language]
    portfolio = _portfolio(con)
    week: ReportWeek = report_week(as_of, timezone)
    sla = portfolio_sla_week(con, week)
    weeks = _portfolio_weeks(con, settings.chart_weeks)
    this = weeks[-1] if weeks else None
    changes = {
        "first_reply": this["first_reply_change_1w"] if this else None,
        "next_reply": this["next_reply_change_1w"] if this else None,
    }
    written_period = i18n.week(period, language)
    header = t["digest_header"].format(period=written_period)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t["digest_legend"]}]},
        _headline_block(this, portfolio, language),
        _playbook_block(con, language),
    ]
    # the month's feedback once a month, on its first digest (it covers the month before)
    feedback = _feedback_block(con, language) if is_first_week_of_month(as_of, timezone) else None
    if feedback:
        blocks.append(feedback)
    blocks += [
        _sla_block(sla, changes, language),
        {"type": "divider"},
        _movers_block(con, settings.movers_listed, playbook, language),
        _at_risk_block(
            con, portfolio["active_clients"], settings.at_risk_listed, playbook, language
        ),
    ]
    lost = _lost_block(con, language)
    if lost:
        blocks.append(lost)
    blocks += [
        {"type": "divider"},
        _managers_block(con, week.label, settings.managers_listed, language),
        _segments_block(con, settings.strategy_changes_listed, language),
    ]
    chart = _chart(weeks, period, language) if settings.chart and weeks else None
    local = as_of.astimezone(ZoneInfo(timezone))
    footer = t["digest_footer"].format(
        when=i18n.moment(local, language), timezone=escape_mrkdwn(timezone)
    )
    footer += _threshold_note(portfolio, language)
    if chart:
        footer += t["digest_chart_below"].format(weeks=unit(language, "weeks", len(weeks)))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    first_reply = sla.figures["first_reply"].compliance
    text = t["digest_summary"].format(
        period=written_period,
        at_risk=this["at_risk_clients"] if this else portfolio["at_risk"],
        active=portfolio["active_clients"],
        since=_since(this["at_risk_change_1w"] if this else None, language),
        lost=this["lost_this_month"] if this else 0,
        week=i18n.week(week.label, language),
        compliance=t["digest_no_data"] if first_reply is None else _percent(first_reply, language),
        points=_points(changes["first_reply"], language),
    )
    return {"text": text, "blocks": fit_blocks(blocks), "chart": chart}
