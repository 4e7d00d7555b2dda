"""The language checks every reader's text must pass (tests/test_language.py on the small
agency, tests/test_e2e_demo.py on every message the demo sent).

A uk/ru text fails on a Latin word that is not a name (the caller passes the names:
clients, people, tasks, projects, deals, quoted mail), on a raw code (`at_risk`, a
factor key), on a count written `24.0`, or on a number without its unit. Addresses,
URLs, Slack emoji codes and quoted lines (`>` in mrkdwn: a draft's first lines) are
not the text's own words."""

from __future__ import annotations

import re
from typing import Any

from clientpulse.config import DEFAULT_RISK_FACTORS

PRODUCTS = {"ClientPulse", "Airflow", "NPS"}  # product names and NPS, written as they are
CODES = re.compile(
    r"\b(at_risk|healthy|watch|newly_at_risk|risk_up|still_at_risk|"
    r"testing|confirmed|refuted|tested|"  # a hypothesis's state in the monthly report
    + "|".join(DEFAULT_RISK_FACTORS)
    + r")\b"
)
FLOAT_COUNT = re.compile(r"(?<![\d.,])\d+[.,]0(?![\d])")
LATIN = re.compile(r"[A-Za-z]+")
EMOJI = re.compile(r":[a-z][a-z0-9_+-]*:")  # Slack shows a picture, not the word
ADDRESS = re.compile(r"(https?://\S+|[\w.+&;<>-]+@[\w.-]+)")
# a number's unit is the word or sign after it, or the label before it
NUMBER = re.compile(r"\d+(?:[\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")
LABELS = {
    "uk": {
        "nps",
        "бал",
        "ризик",
        "ризиком",
        "з",
        "вчасно",
        "→",
        "№",
        "запізненням",
        "відповідь",
        "ще",
    },
    "ru": {
        "nps",
        "балл",
        "риск",
        "риском",
        "из",
        "вовремя",
        "→",
        "№",
        "опозданием",
        "ответа",
        "ещё",
    },
}
SIGNS = "%€₴$×"
YEAR = re.compile(r"(19|20)\d\d")
JOINED = re.compile(r"(-\w|–)")  # an ordinal ("90-й") or a range of days ("9–15 лист.")
QUOTE = re.compile(r"^>.*$", re.MULTILINE)  # a quoted line in mrkdwn: someone else's words


def slack_text(message: dict[str, Any]) -> str:
    parts = [message["text"]]
    for block in message.get("blocks") or []:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []) + block.get("fields", []):
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "button"):
                text = element["text"]
                parts.append(text["text"] if isinstance(text, dict) else text)
    return "\n".join(parts)


def without_names(text: str, names: set[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        for form in (name, name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")):
            text = text.replace(form, " ")
    return ADDRESS.sub(" ", text)


def problems(text: str, language: str, names: set[str]) -> list[str]:
    codes = CODES.findall(text)
    # in English the band names are the words themselves; their codes have underscores
    found = [f"raw code {m}" for m in codes if language != "en" or "_" in m]
    found += [f"count {m}" for m in FLOAT_COUNT.findall(without_names(text, names))]
    if language == "en":
        return found
    plain = EMOJI.sub(" ", without_names(QUOTE.sub(" ", text), names | PRODUCTS))
    found += [f"latin {w}" for w in LATIN.findall(plain)]
    plain = re.sub(r"\d{1,2}[.:]\d{2}(?:[.:]\d{2,4})?", " ", plain)  # times and dates
    for match in NUMBER.finditer(plain):
        after = plain[match.end() :].lstrip("\u00a0\u202f ")
        before = plain[: match.start()].rstrip("\u00a0\u202f (").split()
        if after[:1].isalpha() or (after and after[0] in SIGNS) or JOINED.match(after):
            continue
        if plain[: match.start()].rstrip(" −+±").endswith(":"):
            continue  # a labelled figure: "Раунди правок: 0", "NPS: −20"
        if YEAR.fullmatch(match.group()) and before and before[-1].isalpha():
            continue  # the year of a date or month: "листопад 2026"
        if (
            plain[match.start() - 2 : match.start()].endswith(("(", "(+", "(−", "(±"))
            and after[:1] == ")"
        ):
            continue  # a count or a change in brackets after what it counts: "(3)", "(−2)"
        if before and before[-1].strip("*_:(«").lower() in LABELS[language]:
            continue
        context = plain[max(0, match.start() - 30) : match.end() + 10]
        found.append(f"number without unit {match.group()!r} in {context!r}")
    return found
