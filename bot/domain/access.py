"""Who may ask what about a cluster: the one decision for Slack, the MCP server and the CLI acting for a Slack user.

A rule names places (channels) and people (users, user groups). A caller passes when both match, where an
empty list matches anyone: channels only = anyone in those channels; people only = those people anywhere;
both = those people in those channels or in a DM with the bot. A DM is a place only for named people, so a
rule that names channels and no people refuses DMs. Workspaces (team ids) and Enterprise Grid orgs
(enterprise ids) are checked first when the rules name any.

Pure: no I/O. Group membership arrives already resolved, with whether it came from a stale cache because Slack
could not be asked; reads then use it and say so, requests fail closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

ChannelKind = Literal["public", "private", "dm", "none"]


class Action(StrEnum):
    READ = "reads"
    REQUEST = "requests"
    DIGEST = "digests"


@dataclass(frozen=True)
class Rule:
    channels: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    usergroups: frozenset[str] = frozenset()

    @property
    def names_people(self) -> bool:
        return bool(self.users or self.usergroups)


@dataclass(frozen=True)
class AccessRules:
    """A cluster's rules. `open` (no rules configured) keeps the behaviour before access rules: anyone, anywhere."""

    reads: Rule = Rule()
    requests: Rule | None = None  # None: as reads
    digests: Rule | None = None  # None: as reads
    teams: frozenset[str] = frozenset()
    enterprises: frozenset[str] = frozenset()
    # Who can grant access (user ids, user group ids), named in refusals.
    admins: tuple[str, ...] = ()
    open: bool = False

    def rule(self, action: Action) -> Rule:
        chosen = {Action.READ: self.reads, Action.REQUEST: self.requests, Action.DIGEST: self.digests}[action]
        return chosen if chosen is not None else self.reads

    def rule_name(self, action: Action) -> str:
        """The config key that decided: `access.requests` only when it is set, else the reads it falls back to."""
        own = {Action.READ: self.reads, Action.REQUEST: self.requests, Action.DIGEST: self.digests}[action]
        return f"access.{action.value if own is not None else Action.READ.value}"


OPEN = AccessRules(open=True)


@dataclass(frozen=True)
class Caller:
    user_id: str
    channel_id: str | None
    channel_kind: ChannelKind
    team_id: str | None = None
    enterprise_id: str | None = None
    # The rule's groups the user is in, as far as known.
    groups: frozenset[str] = frozenset()
    # Membership came from a cache Slack could not refresh (or is unknown: Slack never answered).
    groups_stale: bool = False


@dataclass(frozen=True)
class Allowed:
    # Said with the answer, e.g. that group membership came from a cache.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    rule: str  # the config key that refused: access.reads.channels, access.teams, ...
    reason: str  # short, for the person refused; holds ids only (rendered as mentions), never typed text
    admins: tuple[str, ...] = field(default=())


Decision = Allowed | Refused


def decide(rules: AccessRules, action: Action, caller: Caller) -> Decision:
    if rules.open:
        return Allowed()
    if rules.enterprises and caller.enterprise_id not in rules.enterprises:
        return Refused("access.enterprises", "commands from this Enterprise Grid org are not accepted", rules.admins)
    if rules.teams and caller.team_id not in rules.teams:
        return Refused("access.teams", "commands from this workspace are not accepted", rules.admins)
    rule, name = rules.rule(action), rules.rule_name(action)
    place = _place(rule, caller)
    if place is not None:
        return Refused(f"{name}.channels", place, rules.admins)
    return _person(rule, name, action, caller, rules.admins)


def _place(rule: Rule, caller: Caller) -> str | None:
    """Why the place does not pass (None: it does)."""
    if caller.channel_kind in ("dm", "none"):
        if rule.channels and not rule.names_people:
            return "it answers only in " + ", ".join(f"<#{c}>" for c in sorted(rule.channels))
        return None
    if rule.channels and caller.channel_id not in rule.channels:
        return "it answers only in " + ", ".join(f"<#{c}>" for c in sorted(rule.channels))
    return None


def _person(rule: Rule, name: str, action: Action, caller: Caller, admins: tuple[str, ...]) -> Decision:
    if not rule.names_people or caller.user_id in rule.users:
        return Allowed()
    matched = caller.groups & rule.usergroups
    if matched and caller.groups_stale:
        if action is not Action.READ:
            reason = "Slack could not be asked who is in the allowed user groups, and requests fail closed"
            return Refused(f"{name}.usergroups", reason, admins)
        return Allowed(("group membership is from cnibot's cache: Slack could not be asked just now",))
    if matched:
        return Allowed()
    who = [f"<@{u}>" for u in sorted(rule.users)] + [f"<!subteam^{g}>" for g in sorted(rule.usergroups)]
    # The key that refused: users or usergroups when only one is set, the whole rule when both are.
    key = name if rule.users and rule.usergroups else f"{name}.{'users' if rule.users else 'usergroups'}"
    unknown = " (Slack could not be asked who is in its groups)" if caller.groups_stale and rule.usergroups else ""
    return Refused(key, "it answers only " + ", ".join(who) + unknown, admins)


def allows_channel(rules: AccessRules, action: Action, channel_id: str) -> bool:
    """Whether a channel is a place this action's rule accepts (for a digest's target channel)."""
    if rules.open:
        return True
    rule = rules.rule(action)
    return not rule.channels or channel_id in rule.channels


def channel_kind(channel_id: str | None, channel_name: str | None = None) -> ChannelKind:
    """From a slash command's channel fields: Slack sends `directmessage` (and D ids) for DMs, `privategroup`
    for private channels (and G ids for older ones), `mpdm-...` for group DMs."""
    if not channel_id:
        return "none"
    if channel_id.startswith("D") or channel_name == "directmessage":
        return "dm"
    # A group DM has other people in it: a place like a private channel, accepted only when listed.
    if channel_id.startswith("G") or channel_name == "privategroup" or (channel_name or "").startswith("mpdm"):
        return "private"
    return "public"
