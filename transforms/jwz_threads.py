"""Conversations from Message-ID / In-Reply-To / References, after Jamie Zawinski's
threading algorithm (https://www.jwz.org/doc/threading.html).

Only the reference links build threads: JWZ's last step (gathering roots by subject) is
left out on purpose, because unrelated mail often shares a subject ("Invoice"), and a
subject changed mid-thread stays in its thread anyway. A provider's thread id (Gmail's
X-GM-THRID) is a hint only: it places a reply that lost its reference headers (its
subject starts with a reply prefix) in the one thread the provider put it with.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|відп|отв|ответ)\s*(\[\d+\])?\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class ThreadMessage:
    key: str
    message_id: str | None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str | None = None
    provider_thread_id: str | None = None


@dataclass(eq=False)
class _Container:
    ident: str
    keys: list[str] = field(default_factory=list)
    parent: _Container | None = None

    def root(self) -> _Container:
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def has_ancestor(self, other: _Container) -> bool:
        node: _Container | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False


def thread_messages(messages: Iterable[ThreadMessage]) -> dict[str, str]:
    """Message key → conversation id (the Message-ID at the root of its thread).

    The root's id is stable: it stays the same when a missing ancestor arrives later,
    because a referenced but unseen message already holds its place.
    """
    messages = list(messages)
    containers: dict[str, _Container] = {}

    def container(ident: str) -> _Container:
        if ident not in containers:
            containers[ident] = _Container(ident)
        return containers[ident]

    def link(parent: _Container, child: _Container, *, override: bool) -> None:
        if parent is child or parent.has_ancestor(child):
            return  # would make a loop
        if child.parent is None or override:
            child.parent = parent

    own: dict[str, _Container] = {}
    for message in messages:
        ident = message.message_id or f"<{message.key}>"
        if containers.get(ident) is not None and containers[ident].keys:
            ident = f"{ident}#{message.key}"  # a duplicated Message-ID: keep them apart
        this = container(ident)
        this.keys.append(message.key)
        own[message.key] = this
        chain = _reference_chain(message, ident)
        for parent_id, child_id in pairwise(chain):
            link(container(parent_id), container(child_id), override=False)
        if chain:
            link(container(chain[-1]), this, override=True)

    threads = {key: c.root().ident for key, c in own.items()}
    _attach_by_provider_hint(messages, threads)
    return threads


def _reference_chain(message: ThreadMessage, own_id: str) -> list[str]:
    chain = list(dict.fromkeys(r for r in message.references if r))
    if message.in_reply_to and message.in_reply_to not in chain:
        chain.append(message.in_reply_to)
    return [r for r in chain if r != own_id]


def _attach_by_provider_hint(messages: list[ThreadMessage], threads: dict[str, str]) -> None:
    """A reply with no reference headers joins the single thread its provider id points
    to, together with the replies to it."""
    orphans = [
        m
        for m in messages
        if not m.references
        and not m.in_reply_to
        and m.provider_thread_id
        and _REPLY_PREFIX.match(m.subject or "")
    ]
    orphan_keys = {m.key for m in orphans}
    roots_by_hint: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        if m.provider_thread_id and m.key not in orphan_keys:
            roots_by_hint[m.provider_thread_id].add(threads[m.key])
    moved = {}
    for m in orphans:
        roots = roots_by_hint.get(m.provider_thread_id or "", set())
        if len(roots) == 1:
            moved[threads[m.key]] = next(iter(roots))  # the orphan's replies move with it
    for key, root in threads.items():
        threads[key] = moved.get(root, root)
