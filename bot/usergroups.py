"""Members of Slack user groups for access rules (usergroups.users.list), cached, refreshed within bounds.

A group's members are kept for FRESH_SECONDS; after that the next lookup asks Slack again, with a short
timeout and no retries so that a Slack outage costs a command at most one quick failed call per group. When
Slack cannot be asked, the last members known are returned marked stale (for up to KEEP_SECONDS; after that,
or when never known, nobody is a member), and Slack is not asked again for RETRY_SECONDS. The access decision
uses stale membership for reads and says so; requests fail closed on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import metrics

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.config import Settings

log = logging.getLogger("cnibot.access")

FRESH_SECONDS = 60.0
RETRY_SECONDS = 15.0
KEEP_SECONDS = 6 * 3600.0
ASK_TIMEOUT = 3

_SDK_LOG = logging.getLogger("cnibot.slack.usergroups")
_SDK_LOG.propagate = False
_SDK_LOG.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Membership:
    groups: frozenset[str]  # the asked groups the user is in, as far as known
    stale: bool  # some group's members could not be refreshed from Slack


@dataclass
class _Entry:
    members: frozenset[str] | None  # None: never known
    fetched: float  # when Slack last answered
    failed: float  # when Slack last failed to answer


class UserGroups:
    def __init__(self, client: WebClient | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def membership(self, user_id: str, groups: Collection[str]) -> Membership:
        found, stale = set(), False
        for group in sorted(groups):
            members, fresh = self._members(group)
            stale = stale or not fresh
            if user_id in members:
                found.add(group)
        return Membership(frozenset(found), stale)

    def _members(self, group: str) -> tuple[frozenset[str], bool]:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(group) or _Entry(None, float("-inf"), float("-inf"))
            self._entries[group] = entry
            if entry.members is not None and now - entry.fetched < FRESH_SECONDS:
                return entry.members, True
            asked_lately = now - entry.failed < RETRY_SECONDS
        members = None if asked_lately else self._fetch(group)
        with self._lock:
            if members is not None:
                entry.members, entry.fetched = members, self._clock()
                return members, True
            if not asked_lately:
                entry.failed = self._clock()
            kept = entry.members if entry.members is not None and now - entry.fetched < KEEP_SECONDS else None
            return kept or frozenset(), False

    def _fetch(self, group: str) -> frozenset[str] | None:
        if self._client is None:
            return None
        try:
            resp = self._client.usergroups_users_list(usergroup=group)
        except Exception as exc:  # SlackApiError, a timeout, a refused connection: all "could not ask"
            error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
            log.warning("could not list members of user group %s: %s", group, error or type(exc).__name__)
            metrics.USERGROUP_LOOKUPS.labels("failed").inc()
            return None
        metrics.USERGROUP_LOOKUPS.labels("ok").inc()
        return frozenset(str(user) for user in resp.get("users") or [])


def _short_client(token: str | None, base_url: str) -> WebClient:
    from slack_sdk import WebClient

    return WebClient(token=token, base_url=base_url, timeout=ASK_TIMEOUT, logger=_SDK_LOG)


def from_settings(settings: Settings) -> UserGroups | None:
    """For the MCP server and `cnibot ask --as-user`: Slack is asked only when a bot token is configured."""
    if settings.slack_bot_token is None:
        return None
    return UserGroups(_short_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url))


def for_client(client: WebClient, clock: Callable[[], float] = time.monotonic) -> UserGroups:
    """The Slack edge's: its token and API URL, with its own client (a short timeout, so that an outage costs a
    command one quick failed call per group)."""
    return UserGroups(_short_client(client.token, client.base_url), clock)
