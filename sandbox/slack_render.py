"""Plain-text rendering of captured Slack messages, for the demo's text output.

Block Kit structure becomes lines (header underlined, section text and fields,
context on one line, dividers as rules); a shared file is one line naming it, its alt
text and where the fake Slack saved it. mrkdwn stays as written, except that
Slack's three escapes (&lt; &gt; &amp;) are turned back into characters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RULE = "-" * 40


def load_capture(path: Path) -> list[dict[str, Any]]:
    """Messages captured by the fake Slack (one JSON object a line); [] before any post."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as capture:
        return [json.loads(line) for line in capture if line.strip()]


def render_text(messages: list[dict[str, Any]]) -> str:
    """All messages, each under a `#channel [time]` line, separated by blank lines."""
    return "\n\n".join(_render_message(message) for message in messages)


def unescape_mrkdwn(text: str) -> str:
    """Undo Slack's escaping; `&amp;` last so an escaped `&lt;` stays literal."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _render_message(message: dict[str, Any]) -> str:
    name = message["channel_name"]
    where = f"DM @{name.removeprefix('dm-')}" if name.startswith("dm-") else f"#{name}"
    title = f"{where} [{message['posted_at']}]"
    body = [line for block in message.get("blocks") or [] for line in _render_block(block)]
    if not body:
        body = message.get("text", "").splitlines()
    body += [
        f"[file {f.get('name', '')}: {f.get('alt_txt', '')}] {f.get('path', '')}".rstrip()
        for f in message.get("files") or []
    ]
    return "\n".join([title, *(unescape_mrkdwn(line) for line in body)])


def _text(element: Any) -> str:
    value = element.get("text") if isinstance(element, dict) else None
    if isinstance(value, dict):  # a button's or field's nested text object
        value = value.get("text")
    return value if isinstance(value, str) else ""


def _render_block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block)
        return [title, "=" * len(title)]
    if kind == "section":
        lines = _text(block).splitlines()
        for field in block.get("fields") or []:
            lines += [f"  {line}" for line in _text(field).splitlines()]
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "image":
            lines.append(f"  [image: {accessory.get('alt_text', '')}]")
        return lines
    if kind == "divider":
        return [RULE]
    if kind == "context":
        parts = [
            _text(element) or f"[image: {element.get('alt_text', '')}]"
            for element in block.get("elements", [])
        ]
        return [" | ".join(parts)]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}] {block.get('image_url', '')}".rstrip()]
    if kind == "actions":
        return ["[" + " | ".join(_text(e) for e in block.get("elements", [])) + "]"]
    return [f"[{kind} block]"]
