"""Slack messages of the change flow: the request in the approvers channel, its thread, ephemeral refusals.

Slack failing never undoes or blocks a decision already stored: every method logs and returns None/False.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.config import Settings
from bot.render.block_limits import fit_modal
from bot.render.doc import Doc, render_blocks

log = logging.getLogger("cnibot.changes")


def _retries() -> list[Any]:
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def slack_client_from(settings: Settings) -> WebClient | None:
    """A Web API client for posting outside a request (approvers channel, jobs); None without a token."""
    if settings.slack_bot_token is None:
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=_retries(),
    )


class SlackNotifier:
    def __init__(self, client: WebClient | None, respond: Callable[[str, dict[str, Any]], bool] | None = None) -> None:
        self.client = client
        self._respond = respond

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def post(self, channel: str, doc: Doc, *, thread_ts: str | None = None) -> str | None:
        """Post a message; returns its ts."""
        return self._send("chat_postMessage", channel=channel, doc=doc, thread_ts=thread_ts, unfurl_links=False)

    def update(self, channel: str, ts: str, doc: Doc) -> bool:
        return self._send("chat_update", channel=channel, doc=doc, ts=ts) is not None

    def reply(self, channel: str, thread_ts: str, text: str) -> str | None:
        return self._send("chat_postMessage", channel=channel, doc=Doc(text), thread_ts=thread_ts, unfurl_links=False)

    def permalink(self, channel: str, ts: str) -> str | None:
        if self.client is None:
            return None
        try:
            link = self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except Exception as exc:
            log.info("no permalink for %s/%s: %s", channel, ts, type(exc).__name__)
            return None
        return str(link) if link else None

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        if self.client is None:
            return False
        try:
            self.client.views_open(trigger_id=trigger_id, view=fit_modal(view))
        except Exception:
            log.exception("could not open the change request form")
            return False
        return True

    def respond(self, response_url: str, text: str) -> bool:
        """An ephemeral answer to the person who clicked (through the interaction's response_url)."""
        if self._respond is not None:
            return self._respond(response_url, {"text": text, "response_type": "ephemeral"})
        proxy = self.client.proxy if self.client else None
        hook = WebhookClient(response_url, proxy=proxy, retry_handlers=_retries())
        try:
            resp = hook.send_dict({"text": text, "response_type": "ephemeral", "replace_original": False})
        except Exception:
            log.exception("could not answer the click")
            return False
        return resp.status_code == 200

    def ephemeral(self, channel: str, user: str, doc: Doc) -> bool:
        """A message only ``user`` sees in ``channel`` (falls back to a direct message)."""
        if self.client is None:
            return False
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=doc.summary, blocks=render_blocks(doc))
            return True
        except Exception as exc:
            log.info("ephemeral to %s in %s failed (%s); sending a direct message", user, channel, exc)
        return self._send("chat_postMessage", channel=user, doc=doc) is not None

    def _send(self, method: str, *, channel: str, doc: Doc, **extra: Any) -> str | None:
        if self.client is None:
            return None
        args = {k: v for k, v in extra.items() if v is not None}
        try:
            resp = getattr(self.client, method)(channel=channel, text=doc.summary, blocks=render_blocks(doc), **args)
        except Exception as exc:
            log.error("Slack %s to %s failed: %s", method, channel, exc)
            return None
        return str(resp.get("ts") or extra.get("ts") or "") or None
