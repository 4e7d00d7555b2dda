"""The shared inbox of an independent world: threads between clients and the agency.

Each client starts threads at its own rate, the agency at another; a week's count is
Poisson around the rate times a gamma factor of shape `dispersion` (negative binomial
over the weeks), times the season, the day's calendar and the client's fate. A thread
goes back and forth while people keep answering; the account manager answers after a
log-normal delay in working hours. On the manager's holiday an out-of-office reply
answers each client contact once, a colleague takes some threads and the rest wait.
Mail to a contact who has left bounces.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .cast import AS_OF, START, WEEKS, Agency, Client, Contact, Manager, Person
from .draw import pick, weighted
from .render import Mail
from .texts import (
    ANGRY,
    BODY,
    COMPLAINTS,
    CONFLICT,
    GOODBYE,
    LAUNCH,
    OUT_OF_OFFICE,
    SUBJECTS,
    THANKS,
)
from .timing import after, delay_hours, morning, work_moment

MAILER_DAEMON = Person("Mail Delivery Subsystem", "mailer-daemon@googlemail.com")
AUTO_REPLY = (("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"))
BOUNCE = (("Auto-Submitted", "auto-replied"), ("Return-Path", "<>"))
CONTINUE = 0.45  # chance a thread goes on after the agency's answer
GRACE = {"champion": 28}  # days the agency keeps writing to a contact who has left


class _Thread:
    def __init__(self, writer: MailWriter, client: Client, subject: str, first: datetime) -> None:
        self.writer, self.client, self.subject = writer, client, subject
        self.id = (int(first.timestamp() * 1000) << 20) | int(writer.rng.integers(1 << 20))
        self.refs: tuple[str, ...] = ()

    def add(
        self,
        sender: Person,
        to: list[Person],
        when: datetime,
        line: str,
        *,
        inbound: bool,
        cc: list[Person] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        subject: str | None = None,
        tz: str | None = None,
    ) -> Mail:
        writer = self.writer
        template = BODY[self.client.language][0]
        body = template.format(name=to[0].name.split()[0], line=line, sender=sender.name)
        domain = sender.email.partition("@")[2]
        message_id = f"<{writer.rng.integers(1 << 62):x}.{len(writer.mails)}@{domain}>"
        prefix = "Re: " if self.refs else ""
        mail = Mail(
            sent_at=when.astimezone(ZoneInfo("UTC")),
            sender=sender,
            to=to,
            subject=subject or prefix + self.subject,
            body=body,
            message_id=message_id,
            thread=self.id,
            tz=tz or (self.client.timezone if inbound else writer.agency.timezone),
            cc=cc or [],
            references=self.refs,
            inbound=inbound,
            headers=headers,
            client_id=self.client.id,
        )
        if not headers:
            self.refs = (*self.refs, message_id)
        writer.mails.append(mail)
        return mail


class MailWriter:
    def __init__(self, agency: Agency, rng: np.random.Generator) -> None:
        self.agency, self.rng = agency, rng
        self.mails: list[Mail] = []
        self._out_of_office: set[tuple[str, str, date]] = set()

    # --- helpers -----------------------------------------------------------------

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.agency.timezone)).date()

    def open(self, client: Client, moment: datetime) -> bool:
        return moment < AS_OF and client.fate.active(self.local_day(moment))

    def _line(self, client: Client, angry: bool = False) -> str:
        lines = ANGRY[client.language] if angry else BODY[client.language][1:]
        return pick(self.rng, lines)

    def writer_contact(self, client: Client, day: date) -> Contact | None:
        people = [c for c in client.contacts if c.active(day) and c.weight > 0]
        if not people:
            return None
        return weighted(self.rng, people, [c.weight for c in people])

    def _known_contact(self, client: Client, day: date) -> Contact | None:
        """Whom the agency writes to: it learns of a departure only after a while."""
        grace = timedelta(days=GRACE.get(client.fate.story or "", 10))
        people = [
            c
            for c in client.contacts
            if c.active_from <= day
            and c.weight > 0
            and (c.active_until is None or day < c.active_until + grace)
        ]
        if not people:
            return None
        return weighted(self.rng, people, [c.weight for c in people])

    # --- the agency's side -----------------------------------------------------------

    def on_duty(self, manager: Manager, moment: datetime) -> Manager:
        """`manager`, or while they are away their cover (else anyone who is in)."""
        day = self.local_day(moment)
        if not manager.holiday(day):
            return manager
        cover = self.agency.manager(manager.cover)
        present = [m for m in self.agency.managers if not m.holiday(day)]
        return cover if not cover.holiday(day) else (present or [cover])[0]

    def _answer(self, thread: _Thread, contact: Contact, inbound: datetime) -> datetime | None:
        """The agency's answer to a client message at `inbound`; None if none comes."""
        agency, client = self.agency, thread.client
        manager = agency.manager(client.manager)
        responder, start = manager, inbound
        holiday = manager.holiday(self.local_day(inbound))
        if holiday:
            key = (manager.id, contact.person.email, holiday[0])
            if key not in self._out_of_office:
                self._out_of_office.add(key)
                self._auto_reply(thread, manager, contact, inbound, holiday)
            if self.rng.random() < 0.5:
                responder = agency.manager(manager.cover)
            else:
                start = morning(holiday[1], agency.timezone, self.rng)
        wait = delay_hours(self.rng, responder.reply_hours)
        when = after(start, wait, agency.calendar, agency.timezone, self.rng)
        if not self.open(client, when):
            return None
        thread.add(
            self.on_duty(responder, when).person,
            [contact.person],
            when,
            self._line(client),
            inbound=False,
            cc=[agency.team],
        )
        return when

    def _auto_reply(
        self,
        thread: _Thread,
        manager: Manager,
        contact: Contact,
        inbound: datetime,
        holiday: tuple[date, date],
    ) -> None:
        subject, text = OUT_OF_OFFICE[manager.language]
        cover = self.agency.manager(manager.cover).person.name
        line = text.format(back=holiday[1].isoformat(), cover=cover)
        thread.add(
            manager.person,
            [contact.person],
            inbound + timedelta(minutes=1),
            line,
            inbound=False,
            headers=AUTO_REPLY,
            subject=subject.format(subject=thread.subject),
        )

    # --- the client's side -------------------------------------------------------------

    def _client_reply(self, thread: _Thread, contact: Contact, since: datetime) -> datetime | None:
        client, fate = thread.client, thread.client.fate
        day = self.local_day(since)
        if self.rng.random() > client.reply_prob * fate.replies(day) or not contact.active(day):
            return None
        wait = delay_hours(self.rng, client.reply_hours * fate.slowness(day))
        when = after(since, wait, client.calendar, client.timezone, self.rng)
        if not self.open(client, when):
            return None
        manager = self.agency.manager(client.manager)
        thread.add(contact.person, [manager.person], when, self._line(client), inbound=True)
        return when

    def client_thread(self, client: Client, contact: Contact, when: datetime) -> None:
        day = self.local_day(when)
        pool = COMPLAINTS if self.rng.random() < client.fate.complaints(day) else SUBJECTS
        thread = _Thread(self, client, pick(self.rng, pool[client.language]), when)
        manager = self.agency.manager(client.manager)
        thread.add(contact.person, [manager.person], when, self._line(client), inbound=True)
        moment: datetime | None = when
        for _ in range(6):
            moment = self._answer(thread, contact, moment)
            if moment is None:
                return
            if self.rng.random() > CONTINUE:
                if self.rng.random() < 0.25:
                    self._thanks(thread, contact, moment)
                return
            moment = self._client_reply(thread, contact, moment)
            if moment is None:
                return

    def _thanks(self, thread: _Thread, contact: Contact, since: datetime) -> None:
        client = thread.client
        when = after(since, delay_hours(self.rng, 2.0), client.calendar, client.timezone, self.rng)
        if self.open(client, when) and contact.active(self.local_day(when)):
            manager = self.agency.manager(client.manager)
            thread.add(
                contact.person, [manager.person], when, THANKS[client.language], inbound=True
            )

    def agency_thread(self, client: Client, when: datetime) -> None:
        day = self.local_day(when)
        manager = self.agency.manager(client.manager)
        sender = manager
        if manager.holiday(day):
            if self.rng.random() > 0.3:
                return
            sender = self.agency.manager(manager.cover)
        contact = self._known_contact(client, day)
        if contact is None:
            return
        thread = _Thread(self, client, pick(self.rng, SUBJECTS[client.language]), when)
        thread.add(
            sender.person,
            [contact.person],
            when,
            self._line(client),
            inbound=False,
            cc=[self.agency.team],
        )
        if not contact.active(day):
            line = f"Address not found: {contact.person.email}"
            bounce_at = when + timedelta(minutes=1)
            thread.add(
                MAILER_DAEMON,
                [sender.person],
                bounce_at,
                line,
                inbound=True,
                headers=BOUNCE,
                subject="Delivery Status Notification (Failure)",
                tz="UTC",
            )
            return
        moment = self._client_reply(thread, contact, when)
        if moment is not None and self.rng.random() < 0.5:
            self._answer(thread, contact, moment)

    # --- the stories' set pieces --------------------------------------------------------

    def burst(self, client: Client, day: date, *, angry: bool) -> None:
        """A long thread over a few days: a conflict with an executive copied, or a busy
        launch that ends in thanks."""
        contact = client.contacts[0]
        boss = next((c for c in client.contacts if c.person.title == "CEO"), None)
        manager = self.agency.manager(client.manager)
        subject = (CONFLICT if angry else LAUNCH)[client.language]
        moment = work_moment(day, client.timezone, self.rng)
        thread = _Thread(self, client, subject, moment)
        turns = int(self.rng.integers(10, 15))
        for turn in range(turns):
            if not self.open(client, moment):
                return
            from_client = turn % 2 == 0
            copied = [boss.person] if angry and boss and turn >= 2 else []
            if from_client:
                line = self._line(client, angry=angry)
                if not angry and turn == turns - 1:
                    line = THANKS[client.language]
                thread.add(contact.person, [manager.person], moment, line, inbound=True, cc=copied)
            else:
                cc = [self.agency.team] + ([self.agency.director] if angry and turn >= 3 else [])
                line = self._line(client)
                thread.add(
                    self.on_duty(manager, moment).person,
                    [contact.person],
                    moment,
                    line,
                    inbound=False,
                    cc=cc + copied,
                )
            wait = float(self.rng.uniform(1.0, 6.0))
            moment = after(moment, wait, client.calendar, client.timezone, self.rng)

    def goodbye(self, client: Client, day: date) -> None:
        """The champion leaves and introduces the successor; the manager answers both."""
        leaver, successor = client.contacts[0], client.contacts[-1]
        manager = self.agency.manager(client.manager)
        subject, text = GOODBYE[client.language]
        moment = work_moment(day - timedelta(days=1), client.timezone, self.rng)
        thread = _Thread(self, client, subject, moment)
        line = text.format(successor=successor.person.name)
        thread.add(
            leaver.person, [manager.person], moment, line, inbound=True, cc=[successor.person]
        )
        reply_at = after(moment, 2.0, self.agency.calendar, self.agency.timezone, self.rng)
        thread.add(
            self.on_duty(manager, reply_at).person,
            [successor.person],
            reply_at,
            self._line(client),
            inbound=False,
            cc=[self.agency.team],
        )


def _poisson(rng: np.random.Generator, mean: float) -> int:
    return int(rng.poisson(max(mean, 0.0)))


def generate_mail(agency: Agency, rng: np.random.Generator) -> list[Mail]:
    """Every message of the world, oldest first."""
    writer = MailWriter(agency, rng)
    for client in agency.clients:
        fate = client.fate
        for week in range(WEEKS):
            gamma = rng.gamma(client.dispersion, 1.0 / client.dispersion)
            for offset in range(7):
                day = START + timedelta(days=7 * week + offset)
                if not fate.active(day):
                    continue
                common = gamma * agency.seasons.factor(day) * fate.mail(day) / 5
                client_day = client.calendar.day_factor(day)
                agency_day = agency.calendar.day_factor(day)
                for _ in range(_poisson(rng, client.rate * common * client_day)):
                    contact = writer.writer_contact(client, day)
                    if contact is not None:
                        moment = work_moment(day, client.timezone, rng)
                        if writer.open(client, moment):
                            writer.client_thread(client, contact, moment)
                for _ in range(_poisson(rng, client.agency_rate * common * agency_day)):
                    moment = work_moment(day, agency.timezone, rng)
                    if writer.open(client, moment):
                        writer.agency_thread(client, moment)
        if fate.story == "conflict" or fate.lookalike == "conflict":
            writer.burst(client, fate.decline, angry=fate.story == "conflict")
        if fate.lookalike == "champion":
            writer.goodbye(client, fate.decline)
    return sorted(writer.mails, key=lambda m: m.sent_at)
