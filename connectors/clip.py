"""Cutting external text to the length where it goes (a Slack block, an email subject)."""

from __future__ import annotations

import re

_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")  # an escape cut in half: `&am`
MAX_SUBJECT_CHARS = 200  # an email subject past this is cut (RFC 5322 folds at 78)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never inside an escape."""
    if len(text) <= limit:
        return text
    return _ENTITY_TAIL.sub("", text[: limit - 1]) + "…"
