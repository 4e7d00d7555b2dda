"""The opening text of a message's first text part, from the first bytes of its body.

Connectors read only `BODY_PREFIX_BYTES` of a body (an mbox slice, an IMAP partial
fetch). This finds the first text part inside them (walking multipart boundaries),
undoes its transfer encoding and charset, and turns HTML into plain lines. Nothing
here is stored: the caller keeps only a verdict about the text.
"""

from __future__ import annotations

import binascii
import codecs
import html
import re
from dataclasses import dataclass

# Enough for a short reply, its greeting and signature, and a multipart preamble.
BODY_PREFIX_BYTES = 1536

_PARAM = r"""(?i:;\s*{name}\s*=\s*(?:"([^"]*)"|([^\s;"]+)))"""
_BOUNDARY = re.compile(_PARAM.format(name="boundary"))
_CHARSET = re.compile(_PARAM.format(name="charset"))
_PART_HEADER = re.compile(
    rb"(?im)^(content-type|content-transfer-encoding):[ \t]*(.*(?:\r?\n[ \t].*)*)"
)
_FOLD = re.compile(rb"\r?\n[ \t]+")
_HTML_DROP = re.compile(r"(?is)<(head|style|script|title)\b.*?(?:</\1\s*>|\Z)")
_HTML_QUOTE = re.compile(
    r"(?is)<blockquote\b|<div[^>]*\b(?:gmail_quote|divRplyFwdMsg|appendonsend)\b"
)
_HTML_BREAK = re.compile(r"(?i)<\s*(?:br|/p|/div|/li|/tr|/h\d)\b[^>]*>")
_HTML_TAG = re.compile(r"(?s)<[^>]*>|<[^>]*\Z")


@dataclass(frozen=True, slots=True)
class BodyText:
    """Decoded opening text; `complete` is False when the part goes on past the prefix."""

    text: str
    complete: bool


def first_text(
    content_type: str | None, transfer_encoding: str | None, prefix: bytes, whole: bool
) -> BodyText | str:
    """The first text part of a body whose first bytes are `prefix` (all of it if `whole`).

    Returns a `BodyText`, or a short reason when there is no readable text part in
    the prefix (the caller's verdict is then "unknown").
    """
    for _ in range(4):  # nested multiparts: mixed > alternative > text
        mime = (content_type or "text/plain").partition(";")[0].strip().lower()
        if not mime.startswith("multipart/"):
            break
        found = _BOUNDARY.search(content_type or "")
        if not found:
            return "no_boundary"
        part = _first_part(prefix, (found[1] or found[2]).encode("ascii", "replace"), whole)
        if part is None:
            return "no_part_in_prefix"
        content_type, transfer_encoding, prefix, whole = part
    else:
        return "nested_too_deep"
    if mime not in ("text/plain", "text/html"):
        return "no_text_part"
    data, whole = _transfer_decode((transfer_encoding or "").strip().lower(), prefix, whole)
    if data is None:
        return "bad_transfer_encoding"
    charset = _CHARSET.search(content_type or "")
    name = (charset[1] or charset[2]).strip() if charset else "us-ascii"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return "unknown_charset"
    text = data.decode("utf-8" if codec == "ascii" else codec, "replace")
    if not whole:  # the last character may be cut
        text = text[:-1]
    if mime == "text/html":
        return _html_text(text, whole)
    return BodyText(text.replace("\r\n", "\n"), whole)


def _first_part(
    body: bytes, boundary: bytes, whole: bool
) -> tuple[str | None, str | None, bytes, bool] | None:
    """(Content-Type, transfer encoding, content, complete) of the first part."""
    delimiter = b"--" + boundary
    start = 0 if body.startswith(delimiter) else body.find(b"\n" + delimiter) + 1
    line_end = body.find(b"\n", start) if start or body.startswith(delimiter) else -1
    found = ((body.find(b"\n\n", line_end), 2), (body.find(b"\n\r\n", line_end), 3))
    blanks = [at + length for at, length in found if at != -1]
    if line_end == -1 or not blanks:
        return None
    head_end = min(blanks)
    head = body[line_end + 1 : head_end]
    fields = {name.lower(): value for name, value in _PART_HEADER.findall(head)}
    close = body.find(b"\n" + delimiter, head_end - 1)
    content = body[head_end:] if close == -1 else body[head_end : close + 1]
    values = [
        _FOLD.sub(b" ", fields[key]).decode("ascii", "replace").strip() if key in fields else None
        for key in (b"content-type", b"content-transfer-encoding")
    ]
    return values[0], values[1], content, close != -1 or whole


def _transfer_decode(encoding: str, data: bytes, whole: bool) -> tuple[bytes | None, bool]:
    if encoding == "base64":
        compact = b"".join(data.split())
        usable = len(compact) if whole else len(compact) // 4 * 4
        try:
            return binascii.a2b_base64(compact[:usable]), whole and usable == len(compact)
        except binascii.Error:
            return None, whole
    if encoding == "quoted-printable":
        if not whole:  # a soft break or an escape may be cut at the end
            cut = max(data.rfind(b"="), data.rfind(b"\n"))
            data = data[:cut] if cut > len(data) - 4 else data
        return binascii.a2b_qp(data), whole
    return data, whole


def _html_text(markup: str, whole: bool) -> BodyText:
    """Visible text of HTML up to its first quoted block, one line per block element."""
    quote = _HTML_QUOTE.search(markup)
    if quote:
        markup, whole = markup[: quote.start()], True
    markup = _HTML_DROP.sub("", markup)
    markup = _HTML_BREAK.sub("\n", markup.replace("\r", "").replace("\n", " "))
    text = html.unescape(_HTML_TAG.sub("", markup)).replace("\xa0", " ")
    return BodyText(text, whole)
