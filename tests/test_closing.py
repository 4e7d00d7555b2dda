"""Closing verdicts from a body's first bytes: a table of real-shaped bodies.

Each case is a whole MIME body as it sits after the header block, with the message's
Content-Type and Content-Transfer-Encoding; the connector reads only its first
`BODY_PREFIX_BYTES`. Cases that must not count as closers are as important as the
ones that must: a false closer hides a late reply.
"""

from __future__ import annotations

import base64
import quopri

import pytest

from connectors.mailboxes.body_text import BODY_PREFIX_BYTES
from connectors.mailboxes.closing import closing_verdict

PLAIN = 'text/plain; charset="utf-8"'
GMAIL_QUOTE = (
    "On Tue, 4 Nov 2026 at 10:12, Anna Koval <anna@agency.example> wrote:\n"
    "> Hi Ivan,\n>\n> The draft is attached. Could you approve it by Friday?\n>\n> Anna\n"
)


def b64(text: str, charset: str = "utf-8") -> bytes:
    return base64.encodebytes(text.encode(charset))


def qp(text: str, charset: str = "utf-8") -> bytes:
    return quopri.encodestring(text.encode(charset))


def multipart(
    subtype: str, parts: list[tuple[str, bytes]], newline: str = "\n", preamble: str = ""
) -> tuple[str, None, bytes]:
    """(Content-Type, no transfer encoding, body) of a multipart of (part headers, content)."""
    boundary = f"----=_Part_{subtype}_0012_01DB2F"
    body = preamble.encode()
    for head, content in parts:
        body += f"--{boundary}{newline}{head}{newline}{newline}".encode() + content + b"\n"
    return f'multipart/{subtype};\n boundary="{boundary}"', None, body + f"--{boundary}--".encode()


def alternative(plain: bytes, html: bytes, plain_encoding: str) -> tuple[str, None, bytes]:
    plain_head = (
        f'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: {plain_encoding}'
    )
    html_head = 'Content-Type: text/html; charset="UTF-8"'
    return multipart("alternative", [(plain_head, plain), (html_head, html)], "\r\n")


def mixed(inner_type: str, inner: bytes) -> tuple[str, None, bytes]:
    attachment = ("Content-Type: application/pdf; name=a.pdf", b"JVBERi0x")
    preamble = "This is a multi-part message in MIME format.\n\n"
    return multipart("mixed", [(f"Content-Type: {inner_type}", inner), attachment], "\n", preamble)


HTML_ONLY = (
    b'<html><head><style>p{margin:0}</style></head><body><div dir="ltr">Thanks, got it!'
    b'</div><br><div class="gmail_quote"><div>On Tue, Anna wrote:</div><blockquote>'
    b"Could you approve?</blockquote></div></body></html>"
)
SIGNATURE = "\n\n-- \nIvan Petrov\nMarketing Director, Client One\n+380 44 123 45 67\n"
OUTLOOK = (
    "\n\n________________________________\nFrom: Anna Koval <anna@agency.example>\n"
    "Sent: Tuesday, November 4, 2026 10:12\nSubject: Draft\n\nCould you approve it?\n"
)

CASES = [
    # (id, content type, transfer encoding, body, verdict, rule)
    ("en-plain", PLAIN, None, b"Thanks, got it\n", "closer", "en_thanks"),
    ("en-quoted", PLAIN, None, f"Thank you!\n\n{GMAIL_QUOTE}".encode(), "closer", "en_thanks"),
    (
        "en-greeting-signoff",
        PLAIN,
        None,
        b"Hi Anna,\n\nGreat, thanks.\n\nBest regards,\nIvan Petrov\n\n" + GMAIL_QUOTE.encode(),
        "closer",
        "en_thanks",
    ),
    (
        "en-signature",
        PLAIN,
        None,
        f"Received, thank you very much.{SIGNATURE}".encode(),
        "closer",
        "en_thanks",
    ),
    ("en-ok", PLAIN, None, b"OK\r\n", "closer", "en_ack"),
    ("en-outlook-quote", PLAIN, None, f"Noted, thanks!{OUTLOOK}".encode(), "closer", "en_thanks"),
    (
        "html-only",
        'text/html; charset="utf-8"',
        "quoted-printable",
        quopri.encodestring(HTML_ONLY),
        "closer",
        "en_thanks",
    ),
    (
        "alternative-b64",
        *alternative(b64("Got it, thanks!\n"), b"<p>Got it, thanks!</p>", "base64"),
        "closer",
        "en_thanks",
    ),
    (
        "mixed-alternative",
        *mixed(
            'multipart/alternative; boundary="inner"',
            b'--inner\nContent-Type: text/plain; charset="utf-8"\n\nThanks a lot!\n--inner--\n',
        ),
        "closer",
        "en_thanks",
    ),
    (
        "uk-b64",
        PLAIN,
        "base64",
        b64("Дякую, отримали.\n\nЗ повагою,\nОксана\n"),
        "closer",
        "uk_thanks",
    ),
    ("uk-qp", PLAIN, "quoted-printable", qp("Супер, дякую!\n"), "closer", "uk_thanks"),
    (
        "ru-koi8",
        'text/plain; charset="koi8-r"',
        "8bit",
        "Спасибо, получили.\n\n".encode("koi8-r")
        + "Анна Коваль пишет:\n> Счёт во вложении?\n".encode("koi8-r"),
        "closer",
        "ru_thanks",
    ),
    (
        "ru-cp1251-qp",
        "text/plain; charset=windows-1251",
        "quoted-printable",
        qp("Отлично, спасибо!\n", "cp1251"),
        "closer",
        "ru_thanks",
    ),
    ("ru-ack", "text/plain; charset=utf-8", None, "Принято.\n".encode(), "closer", "ru_ack"),
    # --- must not count ---
    (
        "request-in-greeting-line",
        PLAIN,
        None,
        b"Hi Anna, please resend the file.\nThanks\n",
        "not_closer",
        "other_words",
    ),
    (
        "en-also-asks",
        PLAIN,
        None,
        b"Thanks! Could you also send the invoice?\n",
        "not_closer",
        "question",
    ),
    (
        "en-also-no-mark",
        PLAIN,
        None,
        b"Thanks! Could you also resize the banner.\n",
        "not_closer",
        "other_words",
    ),
    ("ru-but", PLAIN, None, "Спасибо, но макет не тот.\n".encode(), "not_closer", "other_words"),
    (
        "uk-request",
        PLAIN,
        "base64",
        b64("Дякую! Надішліть, будь ласка, рахунок.\n"),
        "not_closer",
        "other_words",
    ),
    (
        "inline-answer",
        PLAIN,
        None,
        b"Thanks!\n\n" + GMAIL_QUOTE.encode() + b"\nNo, the logo must be bigger.\n> Anna\n",
        "not_closer",
        "inline_reply",
    ),
    (
        "en-request",
        PLAIN,
        None,
        b"Hi Anna,\n\nPlease find our comments below.\n\nBest regards,\nIvan Petrov\n",
        "not_closer",
        "other_words",
    ),
    ("long-thanks", PLAIN, None, ("Thanks " * 40).encode(), "not_closer", "long"),
    (
        "html-asks",
        'text/html; charset="utf-8"',
        None,
        b"<div>Thanks, but is the price final?</div>",
        "not_closer",
        "question",
    ),
    (
        "cp1251-but",
        "text/plain; charset=windows-1251",
        "8bit",
        "Спасибо, но сроки сдвигаются\n".encode("cp1251"),
        "not_closer",
        "other_words",
    ),
    ("attachment-only", *mixed("application/octet-stream", b"AAAA\n"), "unknown", "no_text_part"),
    (
        "unknown-charset",
        "text/plain; charset=x-unheard-of",
        None,
        b"Thanks\n",
        "unknown",
        "unknown_charset",
    ),
    (
        "past-the-prefix",
        PLAIN,
        None,
        b"Thanks!\n" + b"\n" * BODY_PREFIX_BYTES + b"Also, resize the banner.",
        "not_closer",
        "runs_past_prefix",
    ),
]


@pytest.mark.parametrize(
    ("content_type", "encoding", "body", "verdict", "rule"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_closing_verdicts(content_type, encoding, body, verdict, rule) -> None:
    prefix = body[:BODY_PREFIX_BYTES]
    assert closing_verdict(content_type, encoding, prefix, len(body) <= BODY_PREFIX_BYTES) == (
        verdict,
        rule,
    )


# -- the compiled shortcut against the Python rules ----------------------------------------

_PIECES = [
    "Hi Anna,",
    "Привіт, Олено!",
    "Could you send the invoice?",
    "Можете уточнити дату?",
    "Thanks, got it",
    "Спасибо, получили.",
    "The new homepage draft looks fine to us, but the pricing table needs another pass.",
    "Добрий день! Надсилаємо оновлений звіт за жовтень, перевірте, будь ласка, цифри.",
    "From the last call: we agreed on the new deadline.",
    "On Tue, 4 Nov 2026 at 10:12, Anna <anna@agency.example> wrote:",
    "Anna Koval пише:",
    "ON MONDAY we meet",
    "> quoted line?",
    "-- ",
    "--",
    "-----Original Message-----",
    "__________",
    "From: Anna",
    "від: Олена",
    "\u1c82т: Олена",  # folds to "от" case-insensitively
    "From the call: notes",
    "FROM : Anna",
    "From\u00a0: Anna",
    "on 5 May Anna <anna@agency.example> wrote",
    "Дякую, отримали.",
    "\u00a0> quoted after a no-break space",
    "\u2003 indented with an em space?",
    "",
    "   ",
    "Best regards,",
    "Ivan",
    "x" * 130,
    "bad \xff byte",
]


def _shortcut_cases(count: int, seed: int):
    import random

    rng = random.Random(seed)
    for _ in range(count):
        text = "\n".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12)))
        newline = rng.choice(["\n", "\r\n"])
        data = text.replace("\n", newline).encode("utf-8", "surrogateescape")
        data = data.replace("\xff".encode(), b"\xff")
        shape = rng.random()
        if shape < 0.5:
            content_type, encoding, body = PLAIN, rng.choice([None, "8bit", "7bit"]), data
        elif shape < 0.8:
            head = rng.choice(
                [
                    'Content-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: 8bit',
                    "Content-Type: text/plain",
                    "content-type: TEXT/PLAIN; charset=us-ascii",
                    "Content-Type: text/html; charset=utf-8",
                    "Content-Type: text/plain; charset=koi8-r",
                    "Content-Type: text/plain;\n charset=utf-8",
                    "Content-Transfer-Encoding: base64",
                ]
            )
            content_type, encoding, body = multipart("alternative", [(head, data)])
        else:
            content_type = rng.choice(["text/plain", "text/plain; charset=cp1251", None])
            encoding, body = rng.choice([None, "quoted-printable", " 8BIT "]), data
        cut = rng.choice([len(body), rng.randint(0, len(body))])
        yield content_type, encoding, body[:cut], cut == len(body)


def _raw(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


@pytest.mark.parametrize(
    ("content_type", "encoding", "body"),
    [case[1:4] for case in CASES],
    ids=[case[0] for case in CASES],
)
@pytest.mark.compiled_mail
def test_compiled_shortcut_agrees_on_the_table(content_type, encoding, body) -> None:
    from connectors.mailboxes.headers import _native

    prefix, whole = body[:BODY_PREFIX_BYTES], len(body) <= BODY_PREFIX_BYTES
    quick = _native.quick_verdict(_raw(content_type), _raw(encoding), prefix, whole)
    assert quick is None or quick == closing_verdict(content_type, encoding, prefix, whole)


@pytest.mark.compiled_mail
def test_compiled_shortcut_agrees_on_generated_bodies_and_settles_many() -> None:
    from connectors.mailboxes.headers import _native

    settled = 0
    for content_type, encoding, prefix, whole in _shortcut_cases(20_000, seed=5):
        quick = _native.quick_verdict(_raw(content_type), _raw(encoding), prefix, whole)
        if quick is not None:
            settled += 1
            expected = closing_verdict(content_type, encoding, prefix, whole)
            assert quick == expected, (content_type, encoding, prefix, whole)
    assert settled > 1_000  # a shortcut, on bodies built to trip it: it still takes a share


def test_the_quote_intro_prefilter_agrees_with_the_pattern() -> None:
    from connectors.mailboxes.closing import _QUOTE_INTRO, _quote_intro

    lines = [piece.strip() for piece in _PIECES] + [
        line.strip()
        for case in _shortcut_cases(2_000, seed=3)
        for line in case[2].decode("utf-8", "replace").splitlines()
    ]
    assert [_quote_intro(line) for line in lines] == [
        _QUOTE_INTRO.search(line) is not None for line in lines
    ]


_OWN_WORDS = [
    *("thanks", "Thanks", "THANK YOU", "got it", "ok", "OK", "Okay", "noted", "great"),
    *("спасибо", "Спасибо большое", "Дякую", "дякуємо", "ок", "Добре", "отримали", "Принято"),
    *("Hi Anna", "Hello", "Dear team", "Good morning", "Добрый день", "Привіт", "вітаю"),
    *("Anna", "Anna Koval", "Олена", "Ivan Petrov Jr", "Regards", "Best regards", "Cheers"),
    *("Kind regards", "С уважением", "з повагою", "Sincerely", "br", "Yours"),
    *("quick", "jazz", "2024", "it's", "обновлённый", "Щиро", "фото", "ї", "Q", "Z"),
    *("\u212a", "\u017fincerely", "\u1c80ітаю", "\u0130", "o\u0301k", "x@y", "#5"),
]
_OWN_GLUE = [" ", " ", ", ", "! ", ". ", "\t", "\u00a0", " \u2026 ", " \u2014 ", "", ": "]


def _own_text_cases(count: int, seed: int):
    """Short own words built from thanks, greetings, names, sign-offs and other words."""
    import random

    rng = random.Random(seed)
    for _ in range(count):
        lines = []
        for _ in range(rng.randint(1, 5)):
            words = [rng.choice(_OWN_WORDS) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
            line = "".join(word + rng.choice(_OWN_GLUE) for word in words)
            lines.append(rng.choice(["", " ", "  "]) + line.rstrip(rng.choice(["", " ", ",."])))
        tail = rng.choice(["", "\n", "\n> Could you?\n", "\n-- \nAnna\n", "\n\n> quoted\nmore\n"])
        data = ("\n".join(lines) + tail).encode()
        whole = rng.random() < 0.8
        yield PLAIN, None, data if whole else data[: rng.randint(1, len(data))], whole


@pytest.mark.compiled_mail
def test_compiled_shortcut_agrees_on_short_own_words_and_settles_other_words() -> None:
    from connectors.mailboxes.headers import _native

    other_words = 0
    for content_type, encoding, prefix, whole in _own_text_cases(20_000, seed=11):
        quick = _native.quick_verdict(_raw(content_type), _raw(encoding), prefix, whole)
        if quick is not None:
            expected = closing_verdict(content_type, encoding, prefix, whole)
            assert quick == expected, (prefix, whole)
            other_words += quick[1] == "other_words"
    assert other_words > 2_000


def test_the_vocabulary_letters_are_all_a_clause_can_hold() -> None:
    """The shortcut's other-words rule: thanks and acknowledgements are letters and
    spaces, and no ASCII or Cyrillic-block character outside VOCABULARY_LETTERS matches
    one of their letters case-insensitively."""
    import re

    from connectors.mailboxes.closing import _ACK, _THANKS, VOCABULARY_LETTERS

    letters = set(VOCABULARY_LETTERS)
    for pattern in (*_THANKS.values(), *_ACK.values()):
        assert set(pattern) <= letters | {c.upper() for c in letters} | set(" ()?:|*")
    any_letter = re.compile(f"[{VOCABULARY_LETTERS}]", re.I)
    outside = [
        chr(c)
        for c in (*range(128), *range(0x400, 0x460))
        if chr(c).lower() not in letters and any_letter.fullmatch(chr(c))
    ]
    assert outside == []
