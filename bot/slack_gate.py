"""The door in front of Bolt: what an unauthenticated request may cost before it is known to come from Slack.

The body is read up to a cap (Slack's payloads are a few kB), the signature is checked before anything is
parsed or logged, and a signed body that is not what Slack sends (not UTF-8, broken JSON, a JSON array) is a
400, not a traceback from deep inside Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

MAX_BODY_BYTES = 1_000_000
# Slack's own rule: a request older (or newer) than five minutes is refused as a possible replay.
TIMESTAMP_TOLERANCE = 300


class Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class SlackRequest:
    body: bytes
    fields: dict[str, Any]  # the slash command's form, or the interaction's payload


async def read_capped(headers: Mapping[str, str], stream: AsyncIterator[bytes], limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused (413) as soon as it is known to be over `limit`: by Content-Length, or while reading."""
    length = headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit()):
        raise Refused(400, "bad Content-Length")
    if length is not None and int(length) > limit:
        raise Refused(413, "request too large")
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise Refused(413, "request too large")
        chunks.append(chunk)
    return b"".join(chunks)


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Slack's v0 signature over the timestamp and the raw body; 401 when missing, stale or wrong."""
    if not secret:
        raise Refused(401, "invalid request")
    ts = headers.get("x-slack-request-timestamp", "")
    if not (ts.isascii() and ts.isdigit() and 0 < len(ts) <= 12):
        raise Refused(401, "invalid request")
    if abs((time.time() if now is None else now) - int(ts)) > TIMESTAMP_TOLERANCE:
        raise Refused(401, "invalid request")
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    expected = f"v0={digest}".encode()
    given = headers.get("x-slack-signature", "").encode("latin-1", "replace")
    if not hmac.compare_digest(expected, given):
        raise Refused(401, "invalid request")


def parse(headers: Mapping[str, str], body: bytes) -> SlackRequest:
    """What a signed body carries; 400 when it is not something Slack sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if "json" in headers.get("content-type", ""):
        return SlackRequest(body, _json_object(text))
    form = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        return SlackRequest(body, _json_object(form["payload"]))
    return SlackRequest(body, form)


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise Refused(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "body is not a JSON object")
    return data


def replay_key(request: SlackRequest) -> str:
    """The same for Slack's retries of one request: its trigger_id (slash commands, clicks, view submissions),
    event_id (Events API), or else the body itself."""
    for name in ("trigger_id", "event_id"):
        value = request.fields.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    return "body:" + hashlib.sha256(request.body).hexdigest()
