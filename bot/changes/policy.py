"""The approval policy of a cluster, and who belongs to the approver user groups (asked of Slack)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ClusterConfig
from bot.domain.changes import ApprovalRules

log = logging.getLogger("cnibot.changes")

GROUP_TTL_SECONDS = 60.0


def rules_for(cluster: ClusterConfig) -> ApprovalRules:
    policy = cluster.approvals
    return ApprovalRules(
        users=frozenset(policy.users),
        usergroups=frozenset(policy.usergroups),
        allow_self_approval=policy.allow_self_approval,
        high_risk_approvals=policy.high_risk_approvals,
        expire_after=timedelta(hours=policy.expire_hours),
        original_approvers_may_roll_back=policy.original_approvers_may_roll_back,
    )


class GroupDirectory:
    """Members of Slack user groups, cached for a minute. When Slack cannot be asked, nobody is a member:
    approval by group fails closed."""

    def __init__(self, client: WebClient | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def groups_of(self, user_id: str, groups: Collection[str]) -> frozenset[str]:
        return frozenset(group for group in groups if user_id in self._members_of(group))

    def _members_of(self, group: str) -> frozenset[str]:
        with self._lock:
            cached = self._members.get(group)
            if cached and self._clock() - cached[0] < GROUP_TTL_SECONDS:
                return cached[1]
        members = self._fetch(group)
        with self._lock:
            self._members[group] = (self._clock(), members)
        return members

    def _fetch(self, group: str) -> frozenset[str]:
        if self._client is None:
            return frozenset()
        try:
            resp = self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            log.warning("could not list members of user group %s: %s", group, exc.response.get("error"))
            return frozenset()
        except Exception as exc:  # Slack unreachable: fail closed
            log.warning("could not list members of user group %s: %s", group, type(exc).__name__)
            return frozenset()
        return frozenset(str(user) for user in resp.get("users") or [])
