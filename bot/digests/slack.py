"""Posting a digest to Slack: chat.postMessage, then the chart through the files upload v2 flow
(files.getUploadURLExternal, the upload, files.completeUploadExternal) into the digest's thread."""

from __future__ import annotations

import logging
import urllib.request
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
        return Posted(channel_id=str(resp.get("channel") or channel), ts=str(resp.get("ts") or ""))

    def attach_chart(self, posted: Posted, png: bytes, *, filename: str, title: str) -> None:
        """The three steps spelled out, so that the upload says what it carries (image/png) and no files.info
        round trip follows."""
        ticket = self._client.files_getUploadURLExternal(filename=filename, length=len(png), alt_txt=title)
        request = urllib.request.Request(
            str(ticket["upload_url"]), data=png, method="POST", headers={"Content-Type": "image/png"}
        )
        with urllib.request.urlopen(request, timeout=self._client.timeout, context=self._client.ssl) as resp:
            if resp.status != 200:
                raise OSError(f"chart upload answered HTTP {resp.status}")
        self._client.files_completeUploadExternal(
            files=[{"id": str(ticket["file_id"]), "title": title}],
            channel_id=posted.channel_id,
            thread_ts=posted.ts,
        )
