"""Who the bot is in Slack (auth.test), asked in the background and kept: never on a request's path.

Bolt's default asks auth.test on each request until it first succeeds, so a Slack Web API outage failed
every slash command, though commands answer through response_url, which needs no Web API. Here a request
is authorised at once with the configured token; auth.test is asked on the first request (and by /readyz),
the identity (bot and user ids) is filled in once Slack answers, and /readyz says whether it has.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

log = logging.getLogger("cnibot.slack")

# The SDK logs each failed call with a traceback; the one warning below says it for an outage.
_SDK_LOG = logging.getLogger("cnibot.slack.auth_test")
_SDK_LOG.propagate = False
_SDK_LOG.addHandler(logging.NullHandler())

RETRY_SECONDS = 30.0
AUTH_TEST_TIMEOUT = 5


class SlackIdentity:
    def __init__(self, client: WebClient, token: str | None) -> None:
        # Its own client: a short timeout and no retries, so an outage costs one quiet thread.
        self._client = WebClient(
            token=token, base_url=client.base_url, timeout=AUTH_TEST_TIMEOUT, proxy=client.proxy, logger=_SDK_LOG
        )
        self._token = token
        self._identity: dict[str, Any] | None = None
        self._problem = "not asked yet"
        self._last_try = float("-inf")
        self._lock = threading.Lock()

    def refresh_in_background(self) -> None:
        """Ask auth.test on a thread unless known or asked within RETRY_SECONDS."""
        with self._lock:
            if self._identity is not None or time.monotonic() - self._last_try < RETRY_SECONDS:
                return
            self._last_try = time.monotonic()
        threading.Thread(target=self._ask, name="slack-auth-test", daemon=True).start()

    def _ask(self) -> None:
        try:
            resp = self._client.auth_test()
        except Exception as exc:
            problem = f"auth.test failed: {getattr(exc, 'response', {}).get('error') or type(exc).__name__}"
            with self._lock:
                first = self._problem != problem
                self._problem = problem
            if first:
                log.warning("Slack Web API: %s; slash commands are still answered", problem)
            return
        with self._lock:
            self._identity = dict(resp.data) if isinstance(resp.data, dict) else {}
            self._problem = ""

    def authorize(self, enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        """Bolt's authorize: the configured token at once, with the identity when known."""
        self.refresh_in_background()
        known = self._identity or {}
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or known.get("team_id"),
            user_id=user_id,
            bot_token=self._token,
            bot_id=known.get("bot_id"),
            bot_user_id=known.get("user_id"),
        )

    def status(self) -> str:
        with self._lock:
            return "ok" if self._identity is not None else f"unconfirmed ({self._problem})"
