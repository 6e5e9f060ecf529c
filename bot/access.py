"""The access gate: a cluster's configured rules, the caller's Slack user groups, and the decision, before any read.

Every path that acts for a Slack user comes here (slash commands, the request form, the MCP server's configured
identity, `cnibot ask --as-user`); bot.domain.access decides. A refusal is raised as AccessRefused, answered
privately by the runner, recorded in history and counted in cnibot_access_refusals_total.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from bot import metrics
from bot.config import AccessRuleConfig, ClusterConfig
from bot.domain.access import OPEN, AccessRules, Action, Allowed, Caller, Refused, Rule, allows_channel, decide
from bot.render.doc import Context, Doc, Para

if TYPE_CHECKING:
    from bot.usergroups import UserGroups
    from commands.base import CommandContext

log = logging.getLogger("cnibot.access")


def _rule(config: AccessRuleConfig) -> Rule:
    return Rule(frozenset(config.channels), frozenset(config.users), frozenset(config.usergroups))


def rules_of(cluster: ClusterConfig) -> AccessRules:
    access = cluster.access
    if access is None or access.empty:
        return OPEN
    return AccessRules(
        reads=_rule(access.reads),
        requests=_rule(access.requests) if access.requests is not None else None,
        digests=_rule(access.digests) if access.digests is not None else None,
        teams=frozenset(access.teams),
        enterprises=frozenset(access.enterprises),
        admins=access.admins,
    )


def caller_of(ctx: CommandContext) -> Caller | None:
    """The Slack identity a command acts for; None for a local operator (`cnibot ask` with their own kubeconfig)."""
    if ctx.slack_user is None:
        return None
    return Caller(
        user_id=ctx.slack_user,
        channel_id=ctx.channel_id,
        channel_kind=ctx.channel_kind,
        team_id=ctx.team_id,
        enterprise_id=ctx.enterprise_id,
    )


class AccessRefused(Exception):
    def __init__(self, cluster: str, action: Action, refused: Refused) -> None:
        super().__init__(f"{refused.rule}: {refused.reason}")
        self.cluster = cluster
        self.action = action
        self.refused = refused


class AccessGate:
    def __init__(self, groups: UserGroups | None = None) -> None:
        self._groups = groups

    def decide(self, cluster: ClusterConfig, action: Action, caller: Caller) -> Allowed | Refused:
        rules = rules_of(cluster)
        if rules.open:
            return Allowed()
        rule = rules.rule(action)
        if rule.usergroups and caller.user_id not in rule.users:
            if self._groups is None:
                caller = replace(caller, groups_stale=True)
            else:
                membership = self._groups.membership(caller.user_id, rule.usergroups)
                caller = replace(caller, groups=membership.groups, groups_stale=membership.stale)
        return decide(rules, action, caller)

    def require(self, cluster: ClusterConfig, action: Action, caller: Caller | None) -> Allowed:
        """Allowed (with any notes to say), or AccessRefused. A local operator (no caller) is not subject to rules."""
        if caller is None:
            return Allowed()
        decision = self.decide(cluster, action, caller)
        if isinstance(decision, Refused):
            metrics.ACCESS_REFUSALS.labels(cluster.name, action.value, decision.rule).inc()
            log.info("refused %s on %s for %s: %s", action.value, cluster.name, caller.user_id, decision.rule)
            raise AccessRefused(cluster.name, action, decision)
        return decision

    def require_channel(self, cluster: ClusterConfig, action: Action, channel_id: str) -> None:
        """A place named in a command (a digest's target channel) must be one the rule accepts."""
        rules = rules_of(cluster)
        if allows_channel(rules, action, channel_id):
            return
        rule = rules.rule(action)
        reason = "it posts only in " + ", ".join(f"<#{c}>" for c in sorted(rule.channels))
        refused = Refused(f"{rules.rule_name(action)}.channels", reason, rules.admins)
        metrics.ACCESS_REFUSALS.labels(cluster.name, action.value, refused.rule).inc()
        raise AccessRefused(cluster.name, action, refused)


def readable_clusters(ctx: CommandContext) -> set[str] | None:
    """The clusters whose records (history rows, change requests) the caller may see: those whose reads rule lets
    them in from here. None: no filter (a local operator)."""
    caller = caller_of(ctx)
    if caller is None:
        return None
    gate = ctx.services.access
    return {c.name for c in ctx.services.clusters.configs if isinstance(gate.decide(c, Action.READ, caller), Allowed)}


def require_read(ctx: CommandContext, cluster_name: str) -> None:
    """A stored record of a cluster (a change request) is shown only to those who may read the cluster."""
    cluster = ctx.services.clusters.get(cluster_name)
    if cluster is not None:
        ctx.services.access.require(cluster, Action.READ, caller_of(ctx))


_VERB = {Action.READ: "answered", Action.REQUEST: "requested", Action.DIGEST: "subscribed"}


def refusal_doc(exc: AccessRefused) -> Doc:
    """Short and private: which rule, and who can grant access. Holds only configured ids and the cluster name."""
    refused = exc.refused
    doc = Doc(
        f":no_entry: Not {_VERB[exc.action]}: cluster `{exc.cluster}` is restricted by `{refused.rule}`: "
        f"{refused.reason}."
    )
    if refused.admins:
        who = ", ".join(f"<!subteam^{a}>" if a.startswith("S") else f"<@{a}>" for a in refused.admins)
        doc.add(Para(f"To get access, ask {who}."))
    else:
        key = refused.rule.rsplit(".", 1)[0] if refused.rule.count(".") > 1 else refused.rule
        doc.add(
            Para(f"To get access, ask whoever runs cnibot to add you (or this channel) to `{key}` of `{exc.cluster}`.")
        )
    doc.add(Context("Nothing was read from the cluster."))
    return doc
