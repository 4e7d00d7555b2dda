"""A client's fate over the year: one of six churn stories, the healthy look-alike of one
of them, or an ordinary life; as factors on its activity day by day.

Churn stories (`story`, with `decline` the day the decline starts and `left` the day
the relationship is over):
- fade: contact thins, replies slow, tasks dwindle, steadily from `decline`;
- delivery: tasks slip and pile up, complaints in subjects; mail falls only at the end;
- champion: the main contact leaves unannounced (mail to them bounces), the rest go quiet;
- budget: the retainer renewal is lost on `decline`, work goes on, then stops;
- conflict: an angry thread with an executive copied on `decline`, then near silence;
- sudden: nothing visible before `left` (`decline` = `left`).
Look-alikes (`lookalike`, with an `episode` from `decline` to `episode_end`):
- fade: the client's own quiet month, then back to normal;
- delivery: a bad month of late tasks and complaints that the agency fixes;
- champion: the main contact leaves and introduces a successor who writes as often;
- budget: an upsell proposal lost, the retainer renewed;
- conflict: a busy launch week with a long thread that ends well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

STORIES = ("fade", "delivery", "champion", "budget", "conflict", "sudden")
DECLINING = STORIES[:5]


@dataclass(frozen=True)
class Fate:
    story: str | None = None
    lookalike: str | None = None
    decline: date | None = None
    left: date | None = None
    episode_end: date | None = None
    dip: tuple[date, date, float] | None = None  # an ordinary client's own quieter weeks

    def active(self, day: date) -> bool:
        return self.left is None or day < self.left

    def progress(self, day: date) -> float:
        """0 before the decline, rising to 1 on the day the client leaves."""
        if self.story is None or self.decline is None or day < self.decline:
            return 0.0
        span = max((self.left - self.decline).days, 1)
        return min((day - self.decline).days / span, 1.0)

    def in_episode(self, day: date, story: str) -> bool:
        return self.lookalike == story and self.decline <= day < self.episode_end

    def mail(self, day: date) -> float:
        """Factor on how often the client writes and is written to."""
        f = self.progress(day)
        own = self.dip[2] if self.dip and self.dip[0] <= day < self.dip[1] else 1.0
        if self.in_episode(day, "fade"):
            return 0.3
        if self.in_episode(day, "conflict") and (day - self.decline).days < 7:
            return 2.0
        if f == 0.0:
            return own
        return {
            "fade": 1.0 - 0.85 * f,
            "delivery": 1.0 if f < 0.6 else 1.0 - 1.5 * (f - 0.6),
            "champion": 0.6 * (1.0 - f) + 0.05,
            "budget": 1.0 if (self.left - day).days > 21 else 0.35,
            "conflict": 0.3 * (1.0 - f) + 0.05,
            "sudden": 1.0,
        }[self.story]

    def tasks(self, day: date) -> float:
        """Factor on how many tasks the client's projects get."""
        f = self.progress(day)
        if self.in_episode(day, "fade"):
            return 0.4
        if f == 0.0:
            return 1.0
        return {
            "fade": 1.0 - 0.8 * f,
            "delivery": 1.0 if f < 0.7 else 0.5,
            "champion": 1.0 - 0.7 * f,
            "budget": 1.0 if (self.left - day).days > 21 else 0.3,
            "conflict": 0.5 * (1.0 - f) + 0.1,
            "sudden": 1.0,
        }[self.story]

    def on_time(self, day: date, base: float) -> float:
        """Share of the tasks created that day finished by their due date."""
        if self.in_episode(day, "delivery"):
            return 0.3
        if self.story == "delivery" and self.progress(day) > 0:
            return 0.2
        return base

    def complaints(self, day: date) -> float:
        """Chance that a thread the client starts is a complaint."""
        if self.in_episode(day, "delivery"):
            return 0.35
        if self.story == "delivery" and self.progress(day) > 0:
            return 0.3 + 0.3 * self.progress(day)
        return 0.01

    def replies(self, day: date) -> float:
        """Factor on the chance that the client answers the agency."""
        f = self.progress(day)
        if self.story in ("fade", "conflict", "champion"):
            return 1.0 - 0.6 * f
        return 1.0

    def slowness(self, day: date) -> float:
        """Factor on how long the client takes to answer."""
        if self.story == "fade":
            return 1.0 + 4.0 * self.progress(day)
        if self.in_episode(day, "fade"):
            return 2.0
        return 1.0
