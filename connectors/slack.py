"""Slack connector: post Block Kit messages and upload files through slack_sdk's WebClient.

Files go up with `files_upload_v2` (files.getUploadURLExternal, a POST of the bytes to
the upload URL, files.completeUploadExternal), which shares them into a channel by id:
a channel given by name is looked up with conversations.list first.

slack_sdk's retry handlers do the waiting: a 429 is retried after exactly the
`Retry-After` Slack sent, a connection that failed before the request was sent is
retried once. One that broke after it was sent (reset, timeout, no answer) is never
retried: Slack may have posted the message, so it raises `SlackOutcomeUnknown`. What
else fails raises a `ConnectorError` naming the channel and Slack's error code.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from connectors.clip import clip
from connectors.errors import ConnectorError, DeliveryUncertain

SLACK_API_URL = "https://slack.com/api/"


class SlackPostError(ConnectorError):
    """Slack refused the message (`ok: false`); `error` is Slack's code, e.g. channel_not_found."""

    def __init__(
        self, channel: str, error: str, method: str = "chat.postMessage", detail: str = ""
    ) -> None:
        self.channel = channel
        self.error = error
        super().__init__(f"Slack {method} to {channel} failed: {error}{detail}")


class SlackUnreachable(ConnectorError):
    """Slack could not be reached; the request was not sent."""


class SlackOutcomeUnknown(SlackUnreachable, DeliveryUncertain):
    """The connection broke after the request was sent: Slack may have posted it."""


@dataclass(frozen=True)
class PostedMessage:
    channel_id: str
    ts: str


@dataclass(frozen=True)
class UploadedFile:
    channel_id: str
    file_id: str


_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,}")


# Block Kit's limits (Slack answers `invalid_blocks` past them; docs.slack.dev, "Blocks").
MAX_BLOCKS = 50
MAX_TEXT = {"header": 150, "section": 3000}
MAX_FIELD_TEXT = 2000
MAX_MESSAGE_TEXT = 40_000  # chat.postMessage `text`: longer is `msg_too_long`


def fit_blocks(blocks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`blocks` with every text cut to Slack's limit for where it sits (and at most
    `MAX_BLOCKS` blocks), so one long external name cannot get a message refused."""
    fitted = []
    for block in blocks[:MAX_BLOCKS]:
        block = dict(block)
        limit = MAX_TEXT.get(block.get("type"), MAX_TEXT["section"])
        if isinstance(block.get("text"), dict):
            block["text"] = {**block["text"], "text": clip(block["text"]["text"], limit)}
        for key in ("fields", "elements"):
            if isinstance(block.get(key), list):
                block[key] = [
                    {**item, "text": clip(item["text"], MAX_FIELD_TEXT)}
                    if isinstance(item, dict) and isinstance(item.get("text"), str)
                    else item
                    for item in block[key]
                ]
        fitted.append(block)
    return fitted


def _refused_blocks(exc: SlackApiError, blocks: Sequence[dict[str, Any]] | None) -> str:
    """Which blocks Slack refused (its json-pointers) and how each begins, so the error
    names the client or manager in it."""
    errors = exc.response.get("errors") or []
    named = []
    for error in errors[:3]:
        found = re.search(r"/blocks/(\d+)", str(error))
        index = int(found.group(1)) if found else None
        text = ""
        if index is not None and blocks and index < len(blocks):
            inner = blocks[index].get("text")
            text = inner.get("text", "") if isinstance(inner, dict) else ""
        named.append(f"{error} (block {index}: {clip(text, 120)!r})" if text else str(error))
    return f" ({'; '.join(named)})" if named else ""


def escape_mrkdwn(text: str) -> str:
    """Escape `&`, `<` and `>` as Slack documents, so external text cannot form links,
    mentions or `<!channel>` pings; `&` first so existing entities stay literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, waiting exactly `Retry-After` through an injectable sleep."""

    def __init__(self, max_retry_count: int, sleep: Callable[[float], None]) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self._sleep(_retry_after_seconds(response))
        state.increment_current_attempt()


def _retry_after_seconds(response: HttpResponse | None) -> float:
    headers = response.headers if response is not None else {}
    for name, values in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(values[0]))
            except (ValueError, IndexError):
                break
    return 1.0


def retry_handlers(
    rate_limit_retries: int = 3,
    connection_retries: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RetryHandler]:
    """A dropped connection retried `connection_retries` times, a 429 after exactly its
    `Retry-After`, `rate_limit_retries` times."""
    return [
        # urllib wraps errors raised while connecting and sending in URLError; errors
        # while awaiting the answer come bare and are not retried: the post may have
        # gone out, and a retry could post it twice.
        ConnectionErrorRetryHandler(max_retry_count=connection_retries, error_types=[URLError]),
        RetryAfterHandler(rate_limit_retries, sleep),
    ]


class SlackPoster:
    """Posts messages through a slack_sdk `WebClient`: in Airflow the Slack provider's
    `SlackHook` builds it from the connection (plugins/clientpulse_connections.py)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    @classmethod
    def with_token(
        cls,
        token: str,
        base_url: str = SLACK_API_URL,
        *,
        rate_limit_retries: int = 3,
        connection_retries: int = 1,
        timeout: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SlackPoster:
        """A poster outside Airflow (tests, tools); `base_url` is Slack or a local fake."""
        handlers = retry_handlers(rate_limit_retries, connection_retries, sleep)
        return cls(
            WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers)
        )

    def open_dm(self, user_id: str) -> str:
        """The id of the direct message with `user_id` (conversations.open), for `post`."""
        try:
            response = self._client.conversations_open(users=user_id)
        except SlackApiError as exc:
            error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            raise SlackPostError(f"DM with {user_id}", error) from exc
        except OSError as exc:  # opening a DM posts nothing: safe to retry next run
            raise SlackUnreachable(f"Slack conversations.open for {user_id}: {exc}") from exc
        return response["channel"]["id"]

    def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]] | None = None
    ) -> PostedMessage:
        """Post to a channel (id, `name` or `#name`); `text` is the notification fallback."""
        try:
            response = self._client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=list(blocks) if blocks is not None else None,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            detail = _refused_blocks(exc, blocks)
            raise SlackPostError(channel, error, detail=detail) from exc
        except URLError as exc:  # connecting or sending failed: nothing was posted
            raise SlackUnreachable(f"Slack chat.postMessage to {channel}: {exc.reason}") from exc
        except OSError as exc:  # the request went out; the answer did not come back
            raise SlackOutcomeUnknown(
                f"Slack chat.postMessage to {channel}: {exc or type(exc).__name__} after the "
                "request was sent: Slack may have posted it; look in the channel before "
                "sending it again"
            ) from exc
        return PostedMessage(channel_id=response["channel"], ts=response["ts"])

    def channel_id(self, channel: str) -> str:
        """The id of a channel given by id, `name` or `#name` (conversations.list)."""
        if _CHANNEL_ID.fullmatch(channel):
            return channel
        wanted = channel.removeprefix("#").lower()
        cursor = None
        try:
            while True:
                page = self._client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
                for conversation in page["channels"]:
                    if conversation["name"] == wanted:
                        return conversation["id"]
                cursor = page.get("response_metadata", {}).get("next_cursor")
                if not cursor:
                    raise SlackPostError(channel, "channel_not_found", "conversations.list")
        except SlackApiError as exc:
            error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            raise SlackPostError(channel, error, "conversations.list") from exc
        except OSError as exc:  # a lookup posts nothing: safe to retry next run
            raise SlackUnreachable(f"Slack conversations.list: {exc}") from exc

    def upload(
        self,
        channel: str,
        content: bytes,
        *,
        filename: str,
        title: str,
        alt_text: str,
        initial_comment: str,
    ) -> UploadedFile:
        """Upload `content` as a file shared into `channel`, introduced by
        `initial_comment` (the image's text fallback), with `alt_text` for screen readers."""
        channel_id = self.channel_id(channel)
        where = f"{channel} ({channel_id})"
        try:
            response = self._client.files_upload_v2(
                content=content,
                filename=filename,
                title=title,
                alt_txt=alt_text,
                channel=channel_id,
                initial_comment=initial_comment,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            raise SlackPostError(where, error, "files_upload_v2") from exc
        except SlackRequestError as exc:  # the upload URL refused the bytes: nothing shared
            raise SlackPostError(where, str(exc), "files_upload_v2") from exc
        except URLError as exc:  # connecting or sending failed
            raise SlackUnreachable(f"Slack files_upload_v2 to {where}: {exc.reason}") from exc
        except OSError as exc:
            raise SlackOutcomeUnknown(
                f"Slack files_upload_v2 to {where}: {exc or type(exc).__name__} after a "
                "request was sent: the file may have been shared; look in the channel before "
                "sending it again"
            ) from exc
        return UploadedFile(channel_id=channel_id, file_id=response["file"]["id"])
