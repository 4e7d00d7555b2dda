"""Simulated shared-inbox mail: client conversations, internal threads, automated mail.

Everything here is mail the shared mailbox sees: client mail is addressed or CC'd to it,
agency staff CC it, and status mail is sent from it. Reply speed and whether the client
writes back follow the client's health, so struggling clients get slow first replies,
SLA breaches and unanswered messages.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .mail_render import Mail, message_id, render, thread_id
from .sim_cast import Cast, ClientProfile, Contact, Person
from .sim_newsletters import newsletters
from .sim_text import (
    AGENCY_AUTO_REPLY,
    AGENCY_LINES,
    AGENCY_SUBJECTS,
    CLIENT_LINES,
    CLIENT_SUBJECTS,
    GREETING,
    GREETING_TEAM,
    INTERNAL_SUBJECTS,
    OUT_OF_OFFICE,
    QUOTE_INTRO,
    SIGN_OFF,
    TEAM_SUBJECTS,
    THANKS,
    fill,
)
from .sim_time import DAY, MINUTE, WEEK, lognormal_minutes, poisson, weeks

# Threads per client per week at full activity: (client request, agency update,
# status mail from the shared inbox, internal thread about the client).
CUSTOMER_RATES = (2.6, 1.3, 0.6, 0.5)
PROSPECT_RATES = (3.2, 2.5, 0.2, 0.8)
PREMIUM_FACTOR = 1.35
QUIRKY_MESSAGES = 6  # per quirk: missing Message-ID, naive Date, garbled Date
# A written quarrel (docs/domain.md §5, §8): its subject, and how its turns follow each
# other (minutes after the message before, client and agency in turn).
CONFLICT_SUBJECTS = {
    "en": "Complaint: the deadline was missed again",
    "uk": "Скарга: знову зірвано термін",
    "ru": "Жалоба: снова сорван срок",
}
CONFLICT_TURNS = ((20, 45), (15, 40), (10, 30), (20, 50), (30, 90))
SENIOR_TITLE = re.compile(r"(?i)director|head|ceo|founder|owner|директор|керівник|руководитель")


@dataclass(frozen=True)
class GeneratedMail:
    mails: list[Mail]
    messages: list[bytes]


def generate_mail(cast: Cast, seed: int) -> GeneratedMail:
    mails: list[Mail] = []
    for profile in cast.profiles:
        rng = random.Random(f"{seed}/mail/{profile.client.id}")
        client_mail = _ClientMail(cast, profile, rng)
        mails.extend(client_mail.generate())
        mails.extend(
            client_mail.conflict(random.Random(f"{seed}/mail-conflict/{profile.client.id}"))
        )
    mails.extend(newsletters(cast, random.Random(f"{seed}/mail/newsletters")))
    _add_quirks(mails, random.Random(f"{seed}/mail/quirks"))
    mails.sort(key=lambda m: (m.sent_at, m.message_id or ""))
    render_rng = random.Random(f"{seed}/mail/render")
    return GeneratedMail(mails, [render(m, render_rng) for m in mails])


class _ClientMail:
    """All mail about one client, generated week by week in time order."""

    def __init__(self, cast: Cast, profile: ClientProfile, rng: random.Random) -> None:
        self.cast = cast
        self.profile = profile
        self.rng = rng
        self.language = profile.language
        self.cutoff = min(profile.end, cast.as_of)
        self.agency_tz = cast.agency_calendar.tz
        self.bounced: set[str] = set()
        self.out: list[Mail] = []

    # -- scheduling -------------------------------------------------------------------

    def generate(self) -> list[Mail]:
        profile = self.profile
        rates = PROSPECT_RATES if profile.is_prospect else CUSTOMER_RATES
        factor = PREMIUM_FACTOR if profile.client.tier == "premium" else 1.0
        kinds = (self._client_request, self._agency_update, self._team_update, self._internal)
        for week in weeks(profile.start, self.cutoff):
            activity = profile.activity(min(week + WEEK / 2, self.cutoff - MINUTE))
            for kind, rate in zip(kinds, rates, strict=True):
                for _ in range(poisson(self.rng, rate * factor * activity)):
                    kind(week)
        return self.out

    def conflict(self, rng: random.Random) -> list[Mail]:
        """A written quarrel, drawn from its own stream (the rest of the mail stays as it
        was): a churning client's about two months before it leaves, for half the clients
        at risk in the last week, and for half the clients with a rough patch, in it. A
        burst of client mail answered within minutes, a senior person copied in on the
        second round; the agency has the last word."""
        profile = self.profile
        if profile.fate == "churned" and profile.decline_from is not None:
            start = profile.end - DAY * rng.randint(50, 70)
        elif profile.fate == "at_risk" and rng.random() < 0.5:
            start = self.cast.as_of - DAY * rng.randint(1, 2)  # still going on today
        elif profile.storm is not None and rng.random() < 0.5:
            start = profile.storm[0] + DAY * rng.randint(3, 10)
        else:
            return []
        moment = self.cast.agency_calendar.working_moment(
            rng, start.astimezone(self.agency_tz).date()
        )
        if not profile.start <= moment < self.cutoff:
            return []
        self.rng, kept, self.out = rng, self.rng, []
        try:
            self._quarrel(moment, rng)
            return self.out
        finally:
            self.rng = kept

    def _quarrel(self, moment: datetime, rng: random.Random) -> None:
        contacts = self.profile.reachable_contacts(moment)
        client = contacts[0].person
        senior = next((c.person for c in contacts[1:] if SENIOR_TITLE.search(c.person.title)), None)
        manager = self.profile.manager
        subject = CONFLICT_SUBJECTS[self.language]
        team = self.cast.team  # the shared inbox is on every message, as in every thread
        last = self._mail(
            moment, client, [manager], [team], subject, self._text(client, manager, CLIENT_LINES)
        )
        for turn, (low, high) in enumerate(CONFLICT_TURNS):
            moment = last.sent_at + MINUTE * rng.randint(low, high)
            sender = manager if turn % 2 == 0 else client
            to = [client] if sender is manager else [manager]
            cc = [team, *([senior] if senior is not None and turn >= 1 else [])]
            lines = AGENCY_LINES if sender is manager else CLIENT_LINES
            if moment >= self.cutoff:
                return
            last = self._reply(
                last, moment, sender, to, cc, kind="human", body=self._text(sender, to[0], lines)
            )

    def _when(self, week: datetime, client_side: bool) -> datetime | None:
        calendar = self.profile.calendar if client_side else self.cast.agency_calendar
        days = calendar.business_days(week, week + WEEK - DAY)
        if self.rng.random() < 0.04 or not days:
            day = (week + DAY * self.rng.randrange(7)).astimezone(calendar.tz).date()
        else:
            day = self.rng.choice(days)
        moment = calendar.working_moment(self.rng, day, evening_chance=0.08)
        return moment if self.profile.start <= moment < self.cutoff else None

    # -- thread kinds -----------------------------------------------------------------

    def _client_request(self, week: datetime) -> None:
        moment = self._when(week, client_side=True)
        if moment is None:
            return
        contacts = self.profile.reachable_contacts(moment)
        sender = self.rng.choice(contacts)
        team = self.cast.team
        to = [team] if self.rng.random() < 0.4 else [self.profile.manager]
        cc = [] if to == [team] else [team]
        others = [c.person for c in contacts if c is not sender]
        if others and self.rng.random() < 0.3:
            cc.append(self.rng.choice(others))
        subject = fill(
            self.rng, self.rng.choice(CLIENT_SUBJECTS[self.language]), self.language, moment.month
        )
        first = self._mail(
            moment, sender.person, to, cc, subject, self._text(sender.person, to[0], CLIENT_LINES)
        )
        if to == [team] and not self.cast.agency_calendar.is_business_day(
            moment.astimezone(self.agency_tz).date()
        ):
            self._agency_auto_reply(first)
        self._converse(first)

    def _agency_update(self, week: datetime) -> None:
        moment = self._when(week, client_side=False)
        if moment is None:
            return
        sender = self._agency_responder(moment, allow_team=False)
        contact = self.rng.choice(self.profile.reachable_contacts(moment))
        subject = fill(
            self.rng, self.rng.choice(AGENCY_SUBJECTS[self.language]), self.language, moment.month
        )
        first = self._mail(
            moment,
            sender,
            [contact.person],
            [self.cast.team],
            subject,
            self._text(sender, contact.person, AGENCY_LINES),
        )
        self._converse(first)

    def _team_update(self, week: datetime) -> None:
        """Status and invoice mail sent from the shared inbox itself (label Sent)."""
        moment = self._when(week, client_side=False)
        if moment is None:
            return
        team = self.cast.team
        candidates = [c for c in self.profile.contacts if c.person.email not in self.bounced]
        recipients = self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 3)))
        subject = fill(
            self.rng,
            self.rng.choice(TEAM_SUBJECTS[self.language]),
            self.language,
            moment.month,
            client=self.profile.client.name,
        )
        first = self._mail(
            moment,
            team,
            [c.person for c in recipients],
            [],
            subject,
            self._text(team, recipients[0].person, AGENCY_LINES),
        )
        automatic = [self._automatic_answer(first, c) for c in recipients]
        if not any(automatic):
            self._converse(first, client_chance=0.3)

    def _internal(self, week: datetime) -> None:
        moment = self._when(week, client_side=False)
        if moment is None:
            return
        manager, colleague = self.profile.manager, self.profile.backup
        subject = self.rng.choice(INTERNAL_SUBJECTS).format(client=self.profile.client.name)
        mail = self._mail(
            moment,
            manager,
            [colleague],
            [self.cast.team],
            subject,
            self._text(manager, colleague, AGENCY_LINES, language="uk"),
            kind="internal",
        )
        for _ in range(self.rng.randint(0, 3)):
            moment = self.cast.agency_calendar.add_business_minutes(
                mail.sent_at, lognormal_minutes(self.rng, 40, 1.0)
            )
            if moment >= self.cutoff:
                return
            sender, to = (mail.to[0], mail.sender)
            mail = self._reply(
                mail, moment, sender, [to], [self.cast.team], kind="internal", language="uk"
            )

    # -- conversation -----------------------------------------------------------------

    def _converse(self, first: Mail, client_chance: float | None = None) -> None:
        """Alternate client and agency turns until someone stops or the cutoff comes.

        The agency answers every client message it does not drop, so a thread ends on
        the agency's word, a client's thanks, or an inbound message left unanswered.
        """
        rng, profile = self.rng, self.profile
        last: Mail | None = first
        turns = 2 + min(6, int(rng.expovariate(0.6)))
        while last is not None:
            health = profile.health(last.sent_at)
            if self._is_client(last.sender):
                if last.kind == "thanks" or rng.random() < 0.02 + 0.3 * (1 - health) ** 2:
                    return  # closing message, or the agency never answers
                moment = self._agency_reply_time(last, health)
                last = self._reply_all(last, moment, self._agency_responder(moment, True))
                continue
            turns -= 2
            chance = client_chance if client_chance is not None else 0.35 + 0.4 * health
            client_chance = None
            if turns < 0 or rng.random() >= chance:
                return
            moment = profile.calendar.add_business_minutes(
                last.sent_at, lognormal_minutes(rng, 120, 1.2)
            )
            replier = next((p for p in last.to if self._is_client(p)), None)
            if replier is None or self._contact(replier).is_away(moment):
                return
            last = self._reply_all(last, moment, replier, thanks=rng.random() < 0.3)

    def _agency_reply_time(self, inbound: Mail, health: float) -> datetime:
        median = 30 * (1 + 50 * (1 - health) ** 2)
        if self.profile.is_prospect:
            median *= 0.4
        elif self.profile.client.tier == "premium":
            median *= 0.7
        minutes = lognormal_minutes(self.rng, median, 1.1)
        return self.profile.calendar.add_business_minutes(inbound.sent_at, minutes)

    def _agency_responder(self, moment: datetime, allow_team: bool) -> Person:
        manager = self.profile.manager
        if allow_team and self.rng.random() < 0.08:
            return self.cast.team
        if self.cast.is_away(manager, moment) or self.rng.random() < 0.15:
            return self.profile.backup
        return manager

    def _reply_all(
        self, parent: Mail, moment: datetime, sender: Person, thanks: bool = False
    ) -> Mail | None:
        if moment >= self.cutoff:
            return None
        team = self.cast.team
        everyone = [parent.sender, *parent.to, *parent.cc]
        to = [parent.sender]
        cc = [p for p in dict.fromkeys(everyone) if p not in (sender, parent.sender, team)]
        if sender is not team:
            cc.append(team)
        if not self._is_client(sender):
            cc = [p for p in cc if p.email not in self.bounced]
        if thanks:
            body = self.rng.choice(THANKS[self.language])
        else:
            lines = CLIENT_LINES if self._is_client(sender) else AGENCY_LINES
            body = self._text(sender, parent.sender, lines)
        return self._reply(
            parent, moment, sender, to, cc, kind="thanks" if thanks else "human", body=body
        )

    # -- automatic mail ---------------------------------------------------------------

    def _agency_auto_reply(self, inbound: Mail) -> None:
        team = self.cast.team
        self._reply(
            inbound,
            inbound.sent_at + MINUTE,
            team,
            [inbound.sender],
            [],
            kind="auto_reply",
            body=AGENCY_AUTO_REPLY,
            subject=f"Re: {inbound.subject}",
            extra=(("Auto-Submitted", "auto-replied"),),
        )

    def _automatic_answer(self, mail: Mail, contact: Contact) -> bool:
        """A bounce if the contact has left, an out-of-office if away; False when neither."""
        moment = mail.sent_at + MINUTE * self.rng.randint(1, 3)
        if moment >= self.cutoff:
            return False
        if contact.has_left(mail.sent_at):
            self.bounced.add(contact.person.email)
            daemon = Person.plain(
                "Mail Delivery Subsystem", f"mailer-daemon@{self.cast.team.domain}"
            )
            body = (
                f"** Address not found **\n\nYour message wasn't delivered to "
                f"{contact.person.email} because the address couldn't be found, or is "
                f"unable to receive mail.\n\n550 5.1.1 The email account that you tried "
                f"to reach does not exist."
            )
            self._reply(
                mail,
                moment,
                daemon,
                [mail.sender],
                [],
                kind="bounce",
                body=body,
                subject="Delivery Status Notification (Failure)",
                extra=(("Return-Path", "<>"), ("Auto-Submitted", "auto-replied")),
            )
            return True
        if contact.is_away(mail.sent_at):
            back = next(end for start, end in contact.away if start <= mail.sent_at < end)
            subject_template, text = OUT_OF_OFFICE[self.language]
            extra = [("Auto-Submitted", "auto-replied")]
            if self.rng.random() < 0.5:
                extra.append(("X-Autoreply", "yes"))
            self._reply(
                mail,
                moment,
                contact.person,
                [mail.sender],
                [],
                kind="auto_reply",
                body=text.format(date=back.date().isoformat()),
                subject=subject_template.format(subject=mail.subject),
                extra=tuple(extra),
            )
            return True
        return False

    # -- building messages ------------------------------------------------------------

    def _is_client(self, person: Person) -> bool:
        return person.domain not in self.cast.config.agency.internal_domains

    def _contact(self, person: Person) -> Contact:
        return next(c for c in self.profile.contacts if c.person is person)

    def _tz(self, sender: Person) -> ZoneInfo:
        return self.profile.calendar.tz if self._is_client(sender) else self.agency_tz

    def _text(
        self,
        sender: Person,
        addressee: Person,
        lines: dict[str, list[str]],
        language: str | None = None,
    ) -> str:
        language = language or self.language
        if addressee is self.cast.team:
            greeting = GREETING_TEAM[language]
        else:
            greeting = GREETING[language].format(name=addressee.name.first)
        return (
            f"{greeting}\n\n{self.rng.choice(lines[language])}\n\n"
            f"{SIGN_OFF[language]}\n{sender.display}"
        )

    def _labels(self, sender: Person, kind: str, moment: datetime) -> str:
        if sender is self.cast.team:
            return "Sent"
        recent = self.cast.as_of - moment < timedelta(days=3)
        seen = "Unread" if recent and self.rng.random() < 0.5 else "Opened"
        if kind in ("auto_reply", "bounce"):
            return f"Inbox,Category Updates,{seen}"
        place = "Inbox" if recent or self.rng.random() < 0.6 else "Archived"
        important = ",Important" if self._is_client(sender) and self.rng.random() < 0.5 else ""
        return f"{place}{important},Category Personal,{seen}"

    def _mail(
        self,
        moment: datetime,
        sender: Person,
        to: list[Person],
        cc: list[Person],
        subject: str,
        body: str,
        kind: str = "human",
        parent: Mail | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Mail:
        mail = Mail(
            sent_at=moment,
            sender=sender,
            to=to,
            cc=cc,
            subject=subject,
            body=body,
            thread_id=parent.thread_id if parent else thread_id(self.rng, moment),
            labels=self._labels(sender, kind, moment),
            tz=self._tz(sender),
            message_id=message_id(self.rng, sender, moment),
            in_reply_to=parent.message_id if parent else None,
            references=(*parent.references, parent.message_id)[-10:] if parent else (),
            extra_headers=extra,
            client_id=self.profile.client.id,
            from_client=self._is_client(sender),
            kind=kind,
            received=sender is not self.cast.team,
        )
        self.out.append(mail)
        return mail

    def _reply(
        self,
        parent: Mail,
        moment: datetime,
        sender: Person,
        to: list[Person],
        cc: list[Person],
        kind: str,
        body: str | None = None,
        subject: str | None = None,
        language: str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Mail:
        language = language or self.language
        if body is None:
            body = self._text(sender, to[0], AGENCY_LINES, language)
        if kind in ("human", "internal"):
            intro = QUOTE_INTRO[language].format(
                date=parent.sent_at.astimezone(self._tz(sender)).strftime("%d.%m.%Y %H:%M"),
                name=parent.sender.display,
            )
            quoted = "\n".join(f"> {line}" for line in parent.body.splitlines()[:3])
            body = f"{body}\n\n{intro}\n{quoted}"
        if subject is None:
            base = parent.subject.removeprefix("Re: ").removeprefix("RE: ")
            subject = ("RE: " if sender.mailer == "outlook" else "Re: ") + base
        return self._mail(moment, sender, to, cc, subject, body, kind, parent, extra)


def _add_quirks(mails: list[Mail], rng: random.Random) -> None:
    """A few client messages nobody replied to lose their Message-ID or get a broken Date."""
    referenced = {m.in_reply_to for m in mails if m.in_reply_to}
    candidates = [
        m for m in mails if m.from_client and m.kind == "human" and m.message_id not in referenced
    ]
    chosen = rng.sample(candidates, min(len(candidates), 3 * QUIRKY_MESSAGES))
    for mail in chosen[:QUIRKY_MESSAGES]:
        mail.message_id = None
    for mail in chosen[QUIRKY_MESSAGES : 2 * QUIRKY_MESSAGES]:
        mail.date_style = "naive"
    for mail in chosen[2 * QUIRKY_MESSAGES :]:
        mail.date_style = "garbled"
