"""Bulk mail in the shared inbox: newsletters the agency subscribes to (List-Id, bulk)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from .mail_render import Mail, encode_text, message_id, thread_id
from .sim_cast import Cast, Person
from .sim_time import DAY, weeks


@dataclass(frozen=True)
class Newsletter:
    name: str
    address: str
    list_id: str
    subject: str  # `{n}` is the issue number
    every_weeks: int


NEWSLETTERS = (
    Newsletter(
        "Marketing Weekly",
        "digest@marketing-weekly.test",
        "weekly.marketing-weekly.test",
        "This week in marketing: {n} links you should read",
        1,
    ),
    Newsletter(
        "Рекламний дайджест",
        "news@adnews-ua.test",
        "digest.adnews-ua.test",
        "Рекламний дайджест №{n}: головне за тиждень",
        1,
    ),
    Newsletter(
        "DesignOps Monthly",
        "hello@designops.test",
        "monthly.designops.test",
        "DesignOps Monthly #{n}",
        4,
    ),
)


def newsletters(cast: Cast, rng: random.Random) -> Iterator[Mail]:
    calendar = cast.agency_calendar
    for letter in NEWSLETTERS:
        sender = Person.plain(letter.name, letter.address)
        weekday = rng.randrange(5)
        for number, week in enumerate(weeks(cast.period_start, cast.as_of)):
            if number % letter.every_weeks:
                continue
            moment = calendar.working_moment(
                rng, (week + DAY * weekday).astimezone(calendar.tz).date()
            )
            if moment >= cast.as_of:
                break
            yield Mail(
                sent_at=moment,
                sender=sender,
                to=[cast.team],
                subject=letter.subject.format(n=100 + number // letter.every_weeks),
                body=f"{letter.name}\n\nRead this issue online: https://{sender.domain}/",
                thread_id=thread_id(rng, moment),
                labels="Inbox,Category Promotions," + rng.choice(("Opened", "Unread", "Unread")),
                tz=calendar.tz,
                message_id=message_id(rng, sender, moment),
                extra_headers=(
                    ("List-Id", f"{encode_text(letter.name, sender.mailer)} <{letter.list_id}>"),
                    ("List-Unsubscribe", f"<mailto:unsubscribe@{sender.domain}>"),
                    ("Precedence", "bulk"),
                ),
                kind="newsletter",
            )
