"""Posting a digest to Slack: chat.postMessage, then the chart through the files upload v2 flow
(files.getUploadURLExternal, the upload, files.completeUploadExternal) into the digest's thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("cnibot.digests.slack")


class PostError(Exception):
    """Slack refused the message: nothing was posted."""


@dataclass(frozen=True)
class Posted:
    channel_id: str  # Slack's id for the channel, also when it was addressed by #name
    ts: str


class DigestSender(Protocol):
    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> Posted: ...

    def attach_chart(self, posted: Posted, png: bytes, *, filename: str, title: str) -> None: ...


class SlackDigestSender:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        try:
            resp = self._client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        except SlackApiError as exc:
            raise PostError(str(exc.response.get("error") or exc)) from exc
        except Exception as exc:  # connection errors after the client's retries
            raise PostError(f"{type(exc).__name__}: {exc}") from exc
        return Posted(channel_id=str(resp.get("channel") or channel), ts=str(resp.get("ts") or ""))

    def attach_chart(self, posted: Posted, png: bytes, *, filename: str, title: str) -> None:
        self._client.files_upload_v2(
            channel=posted.channel_id,
            thread_ts=posted.ts,
            file=png,
            filename=filename,
            title=title,
            alt_txt=title,
        )
