"""The digest's chart: clients at risk and SLA compliance over the last weeks, as a PNG.

Rendered headless with matplotlib's Agg backend (no display, no browser). The series
come from `marts.portfolio_weekly` as selected by the digest; this module only draws
them and words the title, axes, legend, alt text and the text fallback for readers who
cannot see images, in the digest's language (clientpulse/reports/i18n.py).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clientpulse.reports import i18n
from clientpulse.reports.evidence import unit
from clientpulse.reports.i18n import STRINGS

SERIES = ("first_reply", "next_reply", "on_time")
COLORS = {"first_reply": "#2471a3", "next_reply": "#7fb3d5", "on_time": "#27ae60"}


@dataclass(frozen=True)
class ChartData:
    """One value per week, oldest first; a compliance is 0–1 or None (no data that week)."""

    weeks: list[str]  # ISO labels of the digest weeks, e.g. 2026-W47
    at_risk: list[int]
    first_reply: list[float | None]
    next_reply: list[float | None]
    on_time: list[float | None]

    def as_dict(self) -> dict[str, list]:
        return {
            "weeks": self.weeks,
            "at_risk": self.at_risk,
            "first_reply": self.first_reply,
            "next_reply": self.next_reply,
            "on_time": self.on_time,
        }


def _percent(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else round(100 * v, 1) for v in values]


def _tick(iso_week: str, language: str) -> str:
    """A week's short label on the axis: `W47`, `тиж. 47`."""
    return STRINGS[language]["chart_tick"].format(week=int(iso_week.split("-W")[-1]))


def chart_figure(data: ChartData, language: str) -> Figure:
    """Two panels sharing the weeks: clients at risk above, compliance (%) below."""
    t = STRINGS[language]
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(1, 1.3))
    x = list(range(len(data.weeks)))
    top.plot(x, data.at_risk, marker="o", color="#c0392b", label=t["chart_at_risk"])
    top.set_ylabel(t["chart_at_risk_axis"])
    top.set_ylim(bottom=0)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))  # clients come whole
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    top.set_title(t["chart_heading"])
    for key in SERIES:
        bottom.plot(
            x, _percent(getattr(data, key)), marker=".", color=COLORS[key], label=t[f"chart_{key}"]
        )
    bottom.set_ylabel(t["chart_on_time_axis"])
    bottom.set_ylim(0, 100)
    bottom.grid(alpha=0.3)
    bottom.legend(loc="lower left", fontsize=8)
    bottom.set_xticks(x, [_tick(w, language) for w in data.weeks], fontsize=8)
    return figure


def render_png(data: ChartData, language: str) -> bytes:
    """The chart as PNG bytes."""
    buffer = io.BytesIO()
    chart_figure(data, language).savefig(buffer, format="png")
    return buffer.getvalue()


def _pct(value: float | None, language: str) -> str:
    return "—" if value is None else i18n.percent(value, language)


def alt_text(data: ChartData, language: str) -> str:
    """A sentence saying what the chart shows, for screen readers and Slack's alt text."""
    t = STRINGS[language]
    if not data.weeks:
        return t["chart_no_weeks"]
    ends = {
        f"{key}_{end}": _pct(getattr(data, key)[i], language)
        for key in SERIES
        for end, i in (("first", 0), ("last", -1))
    }
    return t["chart_alt"].format(
        weeks=unit(language, "weeks", len(data.weeks)),
        first=i18n.week(data.weeks[0], language),
        last=i18n.week(data.weeks[-1], language),
        at_risk_first=data.at_risk[0],
        at_risk_last=data.at_risk[-1],
        at_risk_max=max(data.at_risk),
        **ends,
    )


def text_fallback(data: ChartData, language: str) -> str:
    """The chart's numbers as text, a line per week, posted with the image (and readable
    without it)."""
    t = STRINGS[language]
    heading = t["chart_fallback_heading"].format(
        weeks=unit(language, "weeks", len(data.weeks)),
        ticks=", ".join(_tick(w, language) for w in data.weeks),
    )
    lines = [
        t["chart_fallback_week"].format(
            week=i18n.week(week, language),
            at_risk=data.at_risk[i],
            **{key: _pct(getattr(data, key)[i], language) for key in SERIES},
        )
        for i, week in enumerate(data.weeks)
    ]
    return "\n".join([heading, *lines])
