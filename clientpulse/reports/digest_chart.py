"""The digest's chart: clients at risk and SLA compliance over the last weeks, as a PNG.

Rendered headless with matplotlib's Agg backend (no display, no browser). The series
come from `marts.portfolio_weekly` as selected by the digest; this module only draws
them and words the alt text and the text fallback for readers who cannot see images.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SERIES_LABELS = {
    "first_reply": "First replies on time",
    "next_reply": "Next replies on time",
    "on_time": "Tasks delivered on time",
}


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


def chart_figure(data: ChartData) -> Figure:
    """Two panels sharing the weeks: clients at risk above, compliance (%) below."""
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(1, 1.3))
    x = list(range(len(data.weeks)))
    top.plot(x, data.at_risk, marker="o", color="#c0392b", label="Clients at risk")
    top.set_ylabel("at risk")
    top.set_ylim(bottom=0)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))  # clients come whole
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    top.set_title("ClientPulse: clients at risk and SLA compliance, by week")
    colors = {"first_reply": "#2471a3", "next_reply": "#7fb3d5", "on_time": "#27ae60"}
    for key, label in SERIES_LABELS.items():
        bottom.plot(x, _percent(getattr(data, key)), marker=".", color=colors[key], label=label)
    bottom.set_ylabel("% on time")
    bottom.set_ylim(0, 100)
    bottom.grid(alpha=0.3)
    bottom.legend(loc="lower left", fontsize=8)
    bottom.set_xticks(x, [w.split("-")[-1] for w in data.weeks], fontsize=8)
    return figure


def render_png(data: ChartData) -> bytes:
    """The chart as PNG bytes."""
    buffer = io.BytesIO()
    chart_figure(data).savefig(buffer, format="png")
    return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def alt_text(data: ChartData) -> str:
    """A sentence saying what the chart shows, for screen readers and Slack's alt text."""
    if not data.weeks:
        return "Chart of clients at risk and SLA compliance: no weeks of history yet."
    span = f"{len(data.weeks)} weeks, {data.weeks[0]} to {data.weeks[-1]}"
    return (
        f"Two line charts over {span}. Clients at risk: {data.at_risk[0]} to "
        f"{data.at_risk[-1]} (highest {max(data.at_risk)}). First replies on time: "
        f"{_pct(data.first_reply[0])} to {_pct(data.first_reply[-1])}; next replies "
        f"{_pct(data.next_reply[0])} to {_pct(data.next_reply[-1])}; tasks on time "
        f"{_pct(data.on_time[0])} to {_pct(data.on_time[-1])}."
    )


def text_fallback(data: ChartData) -> str:
    """The chart's numbers as text, posted with the image (and readable without it)."""
    weeks = [w.split("-")[-1] for w in data.weeks]
    return "\n".join(
        [
            f"Last {len(weeks)} weeks ({', '.join(weeks)}):",
            "• at risk: " + ", ".join(str(n) for n in data.at_risk),
            "• first replies on time: " + ", ".join(_pct(v) for v in data.first_reply),
            "• next replies on time: " + ", ".join(_pct(v) for v in data.next_reply),
            "• tasks on time: " + ", ".join(_pct(v) for v in data.on_time),
        ]
    )
