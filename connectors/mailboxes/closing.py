"""Is a message a pure closer ("Thanks, got it")? Decided from its opening text only.

The writer's own words are the lines before the first quote (`>` lines, "On … wrote:",
Outlook's "-----Original Message-----" / "From:" block) or signature ("-- "). They
count as a closer only when, after dropping a greeting line and a sign-off with a
name, every clause is a thanks or an acknowledgement from a fixed list (en, uk, ru):
no question mark, no other word, nothing written between quoted lines, and short.
Anything else, or text that runs past the bytes read, is not a closer: a false closer
hides a late reply, so this errs on "reply needed".

Verdicts are stored with the rule that decided them, never with the text.
"""

from __future__ import annotations

import re
from typing import Literal

from connectors.mailboxes.body_text import BodyText, first_text

Verdict = Literal["closer", "not_closer", "unknown"]
MAX_OWN_CHARS = 120

_THANKS = {
    "en": r"(?:many |big )?thanks?(?: you| u)?(?: (?:so|very) much| a lot| a million| again| all)*"
    r"|thx|ty|cheers|much appreciated|appreciate it",
    "uk": r"(?:щиро |дуже |велике )?дяку(?:ю|ємо)(?: вам| тобі)?(?: (?:дуже|щиро|ще раз|велике))*"
    r"|спасибі(?: вам)?",
    "ru": r"(?:большое |огромное )?спасибо(?: вам| тебе)?(?: (?:большое|огромное|ещё раз|еще раз))*"
    r"|благодар(?:ю|им)(?: вас)?",
}
_ACK = {
    "en": r"got it|received|ok(?:ay)?|noted|great|perfect|all good|sounds good|awesome"
    r"|wonderful|excellent|brilliant|fine|understood|well received",
    "uk": r"отримал?(?:и|а|в)|ок(?:ей)?|добре|супер|чудово|зрозуміло|прийнято|відмінно|гаразд",
    "ru": r"получил?(?:и|а)?|ок(?:ей)?|хорошо|отлично|супер|понятно|принято|договорились",
}
# One alternative per (language, kind), named "<language>_<kind>", thanks first: a
# fullmatch picks the first alternative that matches the whole clause.
_CLAUSE = re.compile(
    "|".join(
        rf"(?P<{language}_{kind}>(?:{pattern})(?: (?:{pattern}))*)"
        for kind, table in (("thanks", _THANKS), ("ack", _ACK))
        for language, pattern in table.items()
    ),
    re.I,
)
# Every letter a thanks or an acknowledgement can hold (for the compiled shortcut).
VOCABULARY_LETTERS = "".join(
    sorted({c.lower() for p in (*_THANKS.values(), *_ACK.values()) for c in p if c.isalpha()})
)
_CLAUSE_SPLIT = re.compile(r"[\s]*[,.!;:…\-–—)(]+[\s]*|\s*\n\s*")
_GREETING = re.compile(
    r"(?i)^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|добрий день|доброго дня"
    r"|вітаю|привіт|добрый день|здравствуйте|привет|доброе утро)\b"
    r"[,!]?(?:\s+[\w'’.-]+){0,3}\s*[,!.]?$"  # then a name at most, never a sentence
)
_SIGN_OFF = re.compile(
    r"(?i)^(?:best(?: regards| wishes)?|kind regards|regards|br|cheers|sincerely|yours"
    r"|з повагою|з найкращими побажаннями|с уважением|всего доброго|всего хорошего),?$"
)
_NAME = re.compile(r"^(?:[A-ZА-ЯІЇЄҐЁ][\w'’.-]*)(?: [A-ZА-ЯІЇЄҐЁ][\w'’.-]*){0,2}$")
_QUOTE_INTRO = re.compile(
    r"(?i)(?:\bwrote|пише|пишет|написал\(а\)|написала?|написав\(ла\)|написав|написала)\s*:\s*$"
    r"|^-{2,}\s*(?:original message|forwarded message|пересланное сообщение|оригінальне)"
    r"|^_{10,}$|^(?:from|від|от)\s*:\s*\S|^on .*\d.*(?:<[^<>\s]+@|wrote)"
)


def closing_verdict(
    content_type: str | None, transfer_encoding: str | None, prefix: bytes, whole: bool
) -> tuple[Verdict, str]:
    """(verdict, rule) for a body whose first bytes are `prefix` (all of it if `whole`)."""
    found = first_text(content_type, transfer_encoding, prefix, whole)
    if isinstance(found, str):
        return "unknown", found
    return text_verdict(found)


def plain_text_verdict(text: str, complete: bool) -> tuple[Verdict, str]:
    """`text_verdict` of a text/plain part already decoded (the compiled reader's call)."""
    return _verdict(text.replace("\r\n", "\n"), complete)


def text_verdict(body: BodyText) -> tuple[Verdict, str]:
    """(verdict, rule) for decoded opening text.

    The writer's own words are judged first; what follows them (the rest of the part,
    the lines after the quote) is looked at only for would-be closers.
    """
    return _verdict(body.text, body.complete)


def _verdict(part: str, complete: bool) -> tuple[Verdict, str]:
    lines = part.split("\n")
    cut = _quote_start(lines)
    own = [line.strip() for line in lines[:cut] if line.strip()]
    if own and _GREETING.match(own[0]):
        own = own[1:]
    if len(own) > 1 and _NAME.match(own[-1]):
        own = own[:-1]
    if len(own) > 1 and _SIGN_OFF.match(own[-1]):
        own = own[:-1]
    text = " ".join(own)
    if not text:
        return "not_closer", "no_text"
    if "?" in text:
        return "not_closer", "question"
    if len(text) > MAX_OWN_CHARS:
        return "not_closer", "long"
    kinds: set[tuple[str, str]] = set()
    for clause in filter(None, _CLAUSE_SPLIT.split(text)):
        kind = _clause_kind(clause.strip())
        if kind is None:
            return "not_closer", "other_words"
        kinds.add(kind)
    if not kinds:
        return "not_closer", "no_words"
    if cut == len(lines) and not complete:
        return "not_closer", "runs_past_prefix"
    if cut < len(lines) and lines[cut].rstrip() != "--" and _writes_between_quotes(lines[cut:]):
        return "not_closer", "inline_reply"
    language, kind = min(kinds, key=lambda k: (k[1] != "thanks", k))
    return "closer", f"{language}_{kind}"


def _clause_kind(clause: str) -> tuple[str, str] | None:
    found = _CLAUSE.fullmatch(" ".join(clause.split()))
    if found is None:
        return None
    language, _, kind = found.lastgroup.partition("_")
    return language, kind


def _quote_intro(stripped: str) -> bool:
    """`_QUOTE_INTRO.search(stripped)`, skipping the regex on lines it cannot match: each
    of its forms has a colon, starts with "-" or "_", or starts with "on"."""
    if ":" in stripped or stripped.startswith(("-", "_")) or stripped[:2].lower() == "on":
        return _QUOTE_INTRO.search(stripped) is not None
    return False


def _quote_start(lines: list[str]) -> int:
    """Index of the first line of quote, quote intro or signature (len(lines) if none)."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") or line.rstrip() == "--" or _quote_intro(stripped):
            return index
    return len(lines)


def _writes_between_quotes(lines: list[str]) -> bool:
    """True when own text follows a `>` block (an answer written inside the quote)."""
    quoted = False
    for line in lines:
        stripped = line.strip()
        if line.rstrip() == "--" or (_quote_intro(stripped) and stripped[:1] != ">"):
            if quoted:
                return False
            continue
        if stripped.startswith(">"):
            quoted = True
        elif stripped and quoted:
            return True
    return False
