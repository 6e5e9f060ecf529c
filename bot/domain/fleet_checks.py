"""Checks of a proposed aws-node env against the nodes it will run on: what makes aws-node fail on some of
them although the env itself passes start-up validation (pure; the caller reads nodes and ENIConfigs)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.cni_settings import effective_settings, instance_startup_errors
from bot.domain.eniconfig import NodeLike, custom_networking_gaps
from bot.domain.instance_limits import InstanceLimits


@dataclass(frozen=True)
class FleetCheck:
    errors: tuple[str, ...]  # the change is refused
    warnings: tuple[str, ...]  # already so before the change


def needs_fleet(before_env: Mapping[str, str], after_env: Mapping[str, str]) -> bool:
    """Whether the change can newly fail on some nodes (so the nodes and ENIConfigs must be read)."""
    before, after = effective_settings(before_env), effective_settings(after_env)
    keys = ("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "ENI_CONFIG_LABEL_DEF", "ENI_CONFIG_ANNOTATION_DEF")
    custom_networking = after.custom_networking and any(before[k] != after[k] for k in keys)
    nitro = after.ipv6 and after.prefix_delegation and not (before.ipv6 and before.prefix_delegation)
    return custom_networking or nitro


def check_fleet(
    before_env: Mapping[str, str],
    after_env: Mapping[str, str],
    nodes: Sequence[NodeLike],
    instance_types: Mapping[str, str],  # node name -> instance type
    eniconfig_names: Collection[str] | None,  # None: could not be read
    limits: Mapping[str, InstanceLimits] | None,  # by instance type; None: could not be read
) -> FleetCheck:
    errors: list[str] = []
    warnings: list[str] = []
    before, after = effective_settings(before_env), effective_settings(after_env)
    if eniconfig_names is not None:
        known = {(g.zone, g.name) for g in custom_networking_gaps(nodes, eniconfig_names, before)}
        for gap in custom_networking_gaps(nodes, eniconfig_names, after):
            (warnings if (gap.zone, gap.name) in known else errors).append(gap.message())
    if limits is not None:
        per_type = Counter(instance_types[n.name] for n in nodes if n.name in instance_types)
        for itype, count in sorted(per_type.items()):
            found = limits.get(itype)
            if found is None:
                continue
            had = set(instance_startup_errors(before_env, itype, found.supports_prefix_delegation))
            for message in instance_startup_errors(after_env, itype, found.supports_prefix_delegation):
                line = f"aws-node would exit at start on {count} {itype} node(s) (ipamd.go isConfigValid): {message}"
                (warnings if message in had else errors).append(line.rstrip())
    return FleetCheck(tuple(errors), tuple(warnings))
