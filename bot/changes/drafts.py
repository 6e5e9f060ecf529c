"""From what someone asked to a checked draft: the exact diff against the cluster as it is now, its risk,
warnings and impact. Anything aws-node would refuse, or that cannot work, is refused here, before anything
is posted for approval.

Just over 500 lines: one builder per kind of request (env, ENIConfig, custom networking, rollback), sharing
the refusal checks."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.changes.containers import edits_by_container
from bot.changes.eks_managed import auto_mode_refusal
from bot.changes.impact import Fleet, estimate_or_error, max_pods_table, read_fleet, vpc_of, warm_pool_estimate
from bot.changes.state import AwsNodeState, ClusterState, installed_version, read_state, writer_for
from bot.config import ClusterConfig
from bot.domain.change_records import ChangeRecord
from bot.domain.changes import (
    IN_EFFECT,
    BaseRevision,
    ChangeKind,
    ChangeSpec,
    EniConfigEdit,
    EniConfigState,
    Target,
    rollback_plan,
)
from bot.domain.cni_settings import effective_settings
from bot.domain.eniconfig import check_eniconfig, resolve_eniconfig_name
from bot.domain.facts import EniConfigFact, NodeFact, SubnetFact
from bot.domain.fleet_checks import FleetCheck, check_fleet, needs_fleet
from bot.domain.knob_catalogue import KNOBS
from bot.domain.knobs import INIT_CONTAINER, Risk
from bot.domain.settings_change import ChangeCheck, EnvChange, validate_change
from bot.domain.shapes import aws_node_runs_on, node_shape
from bot.errors import UpstreamError, UserError
from bot.gateways.connections import ClusterConnection
from bot.gateways.kube_write import NODE_ROLLOUT, PATCH_AWS_NODE, WRITE_ENICONFIGS, Permission

CUSTOM_NETWORK_KNOB = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"
LABEL_DEF_KNOB = "ENI_CONFIG_LABEL_DEF"
ZONE_LABEL = "topology.kubernetes.io/zone"
_ZONE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")


class ChangeRefused(UserError):
    """The change cannot be requested; ``problems`` says why, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Draft:
    kind: ChangeKind
    spec: ChangeSpec
    risk: Risk
    summary: str
    base: BaseRevision
    target: Target
    detail: dict[str, Any] = field(default_factory=dict)
    duration: timedelta | None = None
    rollback_of: int | None = None


# --- aws-node env ----------------------------------------------------------------------------------------


def draft_env(conn: ClusterConnection, updates: Mapping[str, str | None], *, duration: timedelta | None) -> Draft:
    state = read_state(conn, eniconfigs=False)
    node = require_aws_node(state, conn)
    refuse_without_served_nodes(conn)
    updates = _for_target(node, updates)
    _refuse_value_from(node, updates)
    check = validate_change(node.env, updates)
    if check.errors:
        raise ChangeRefused(check.errors)
    spec = ChangeSpec(env=check.diff)
    after = _env_after(node.env, check.diff)
    fleet_warnings: list[str] = []
    with_eniconfigs: ClusterState | None = None
    if needs_fleet(node.env, after):
        with_eniconfigs = read_state(conn, aws_node=False)
        fleet = _check_fleet(conn, node.env, after, with_eniconfigs)
        if fleet.errors:
            raise ChangeRefused(fleet.errors)
        fleet_warnings = list(fleet.warnings)
    if with_eniconfigs is None and _estimate_needs_eniconfigs(node):
        with_eniconfigs = read_state(conn, aws_node=False)
    state_for_estimate = with_eniconfigs or state
    estimate = estimate_or_error(
        lambda: warm_pool_estimate(read_fleet(conn), node.env, after, state_for_estimate.eniconfig_states())
    )
    draft = Draft(
        kind=ChangeKind.SET,
        spec=spec,
        risk=check.risk,
        summary=_env_summary(check.diff),
        base=state.revision(spec),
        target=node.target,
        detail=_check_detail(check, [*fleet_warnings, *state.notes], estimate),
        duration=duration,
    )
    draft.detail["warnings"] = [*draft.detail.get("warnings", []), *_copies_left(node, check.diff)]
    return draft


def _copies_left(node: AwsNodeState, diff: Sequence[EnvChange]) -> list[str]:
    """Say when a key also sits on a container that does not read it: the change leaves that copy alone."""
    notes = []
    for change in diff:
        readers = edits_by_container({change.key: change.new})
        if INIT_CONTAINER not in readers and change.key in node.daemonset.init_env:
            notes.append(
                f"`{change.key}` is also set on the {INIT_CONTAINER} container, which does not read it (as "
                f"`kubectl set env` without `-c` writes every container): this change "
                f"{'removes' if change.new is None else 'sets'} it on {', '.join(readers)} only and leaves "
                "that copy as it is."
            )
    return notes


def _check_fleet(
    conn: ClusterConnection, before: Mapping[str, str], after: Mapping[str, str], state: ClusterState
) -> FleetCheck:
    """The nodes and ENIConfigs the new env meets: what would make aws-node fail on some of them."""
    # aws-node runs only where its nodeAffinity lets it: Fargate, Auto Mode, Hybrid and Windows nodes meet no env.
    nodes = [n for n in conn.kube.nodes() if aws_node_runs_on(n.labels)]
    types = {n.name: n.instance_type for n in nodes if n.instance_type}
    notes: list[str] = []
    try:
        aws = conn.aws(next((n.az for n in nodes if n.az), None))
        limits = aws.instance_limits(sorted(set(types.values())))
    except UpstreamError as exc:
        limits = None
        notes.append(f"Could not read the instance types in EC2 ({exc.api}: {exc.reason}); approvers, check them.")
    check = check_fleet(before, after, nodes, types, set(state.eniconfigs), limits)
    return FleetCheck(check.errors, (*check.warnings, *notes))


def refuse_without_served_nodes(conn: ClusterConnection) -> None:
    """A cluster whose every node is one aws-node does not run on (EKS Auto Mode, Fargate, Hybrid, Windows): an
    aws-node change would change nothing there, and EKS or another CNI gives its pods their addresses."""
    try:
        nodes = conn.kube.nodes()
    except UpstreamError:
        return  # the fleet checks that need the nodes say so themselves
    if not nodes or any(aws_node_runs_on(n.labels) for n in nodes):
        return
    shapes = Counter(node_shape(n.labels).value for n in nodes)
    which = ", ".join(f"{count} {shape}" for shape, count in sorted(shapes.items()))
    managed = " EKS Auto Mode manages their pod networking." if "auto" in shapes else ""
    raise ChangeRefused(
        [
            f"aws-node runs on none of the cluster's {len(nodes)} nodes ({which}), so this change would change nothing."
            + managed
        ]
    )


def require_aws_node(state: ClusterState, conn: ClusterConnection) -> AwsNodeState:
    if state.aws_node is None:
        if (refusal := auto_mode_refusal(conn, daemonset_present=False)) is not None:
            raise ChangeRefused([refusal])
        raise ChangeRefused(["There is no aws-node DaemonSet in kube-system, so there is no VPC CNI to change."])
    return state.aws_node


def _for_target(node: AwsNodeState, updates: Mapping[str, str | None]) -> dict[str, str | None]:
    """On the managed add-on, removing a value brings back the add-on's default: say so in the diff."""
    if node.target is not Target.ADDON:
        return dict(updates)
    out: dict[str, str | None] = {}
    for key, value in updates.items():
        knob = KNOBS.get(key)
        out[key] = knob.manifest_default if value is None and knob and knob.manifest_default is not None else value
    return out


def _refuse_value_from(node: AwsNodeState, updates: Mapping[str, str | None]) -> None:
    from_refs = sorted(set(updates) & set(node.daemonset.env_from_refs))
    if from_refs:
        raise ChangeRefused(
            [f"{', '.join(from_refs)} is set through valueFrom on aws-node; change its source instead."]
        )


def _estimate_needs_eniconfigs(node: AwsNodeState) -> bool:
    return effective_settings(node.env).custom_networking


def _env_after(env: Mapping[str, str], diff: Sequence[EnvChange]) -> dict[str, str]:
    after = dict(env)
    for change in diff:
        if change.new is None:
            after.pop(change.key, None)
        else:
            after[change.key] = change.new
    return after


def _env_summary(diff: Sequence[EnvChange]) -> str:
    sets = [f"{c.key}={c.new}" for c in diff if c.new is not None]
    unsets = [c.key for c in diff if c.new is None]
    parts = []
    if sets:
        parts.append("set " + ", ".join(f"`{s}`" for s in sets))
    if unsets:
        parts.append("unset " + ", ".join(f"`{u}`" for u in unsets))
    return "; ".join(parts)


def _check_detail(check: ChangeCheck, notes: Sequence[str], estimate: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "warnings": [*check.warnings, *notes],
        "effect": check.impact,
        "needs_node_replacement": check.needs_node_replacement,
        "needs_max_pods": check.needs_max_pods,
        "estimate": dict(estimate),
    }


# --- ENIConfigs -----------------------------------------------------------------------------------------


def draft_eniconfig(conn: ClusterConnection, name: str, wanted: EniConfigState | None) -> Draft:
    _check_eniconfig_input(name, wanted)
    state = read_state(conn)
    if state.aws_node is None and (refusal := auto_mode_refusal(conn, daemonset_present=False)) is not None:
        raise ChangeRefused([refusal])
    current = state.eniconfig_state(name)
    if name in state.eniconfigs and current is None:
        raise ChangeRefused([f"ENIConfig `{name}` has no spec.subnet; fix it with kubectl first."])
    if wanted is None and name not in state.eniconfigs:
        raise ChangeRefused([f"There is no ENIConfig named `{name}`."])
    if wanted == current:
        raise ChangeRefused([f"ENIConfig `{name}` already has {wanted.describe() if wanted else 'that'}."])
    env = state.aws_node.env if state.aws_node else {}
    settings = effective_settings(env)
    nodes = conn.kube.nodes()
    users = [n for n in nodes if resolve_eniconfig_name(n.labels, n.annotations, settings).name == name]
    warnings: list[str] = list(state.notes)
    detail: dict[str, Any] = {}
    if wanted is not None:
        zone = name if _ZONE.match(name) else next((n.az for n in users if n.az), None)
        detail["pod_subnets"], problems = _check_subnets(conn, {name: (zone, wanted)}, warnings)
        if problems:
            raise ChangeRefused(problems)
    in_use = settings.custom_networking and users
    if wanted is None and in_use:
        warnings.append(
            f"{len(users)} node(s) use ENIConfig `{name}` with custom networking on: their next ENIs fail "
            "(`Failed to get pod ENI config`) until another ENIConfig applies to them."
        )
    edit = EniConfigEdit(name, current, wanted)
    spec = ChangeSpec(eniconfigs=(edit,))
    detail.update(
        warnings=warnings,
        effect=_eniconfig_effect(settings.custom_networking, users),
        needs_node_replacement=False,
    )
    verb = {"create": "create", "update": "change", "delete": "delete"}[edit.verb]
    target_text = f" -> {wanted.subnet}" if wanted else ""
    return Draft(
        kind=ChangeKind.ENICONFIG,
        spec=spec,
        # With custom networking on, an ENIConfig decides where every new pod ENI of its nodes goes.
        risk=Risk.HIGH if settings.custom_networking else Risk.LOW,
        summary=f"{verb} ENIConfig `{name}`{target_text}",
        base=state.revision(spec),
        target=Target.NONE,
        detail=detail,
    )


def _check_eniconfig_input(name: str, wanted: EniConfigState | None) -> None:
    problems = []
    if not _DNS_NAME.match(name):
        problems.append(f"`{name[:64]}` is not a valid ENIConfig name (lowercase letters, digits, '-' and '.').")
    if wanted is not None:
        if not SUBNET_ID.match(wanted.subnet):
            problems.append(f"`{wanted.subnet[:40]}` is not a subnet id (subnet-...).")
        bad = [sg for sg in wanted.security_groups if not GROUP_ID.match(sg)]
        if bad:
            problems.append(f"Not security group ids (sg-...): {', '.join(b[:40] for b in bad)}.")
        if len(wanted.security_groups) > 5:
            problems.append("An ENI takes at most 5 security groups.")
    if problems:
        raise ChangeRefused(problems)


def _eniconfig_effect(custom_networking: bool, users: Sequence[NodeFact]) -> str:
    if not custom_networking:
        return "Takes effect only once custom networking is enabled; nothing changes for pods now."
    return (
        f"Only ENIs created afterwards follow it: {len(users)} node(s) use it today; their existing ENIs and pods "
        "keep their addresses until the nodes are replaced."
    )


def _check_subnets(
    conn: ClusterConnection,
    wanted: Mapping[str, tuple[str | None, EniConfigState]],
    warnings: list[str],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Check each ENIConfig's subnet and groups in EC2 (errors refuse); returns the pod-subnet rows."""
    try:
        aws = conn.aws()
        vpc = vpc_of(conn)
        subnets = {s.subnet_id: s for s in aws.vpc_subnets(vpc)}
        groups = [sg for _, state in wanted.values() for sg in state.security_groups]
        known = aws.existing_security_groups(groups) if groups else set()
    except UpstreamError as exc:
        warnings.append(f"Could not check the subnets in EC2 ({exc.api}: {exc.reason}); approvers, check them.")
        return [], []
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for name, (zone, state) in sorted(wanted.items()):
        subnet = subnets.get(state.subnet)
        fact = EniConfigFact(name, state.subnet, state.security_groups)
        node_az = zone or (subnet.az if subnet else "")
        for problem in check_eniconfig(fact, subnets, node_az, vpc, known):
            (problems if problem.severity == "error" else warnings).append(problem.message)
        if subnet is not None:
            rows.append(
                {"zone": subnet.az, "subnet": subnet.subnet_id, "cidr": subnet.cidr, "free": subnet.available_ips}
            )
    return rows, problems


# --- custom networking ----------------------------------------------------------------------------------


def draft_custom_networking(
    conn: ClusterConnection,
    *,
    subnets: Mapping[str, str],
    security_groups: tuple[str, ...],
) -> Draft:
    """The course's change as one request: the two env settings plus one ENIConfig per zone with nodes."""
    for sg in security_groups:
        if not GROUP_ID.match(sg):
            raise ChangeRefused([f"`{sg[:40]}` is not a security group id (sg-...)."])
    state = read_state(conn)
    node = require_aws_node(state, conn)
    refuse_without_served_nodes(conn)
    fleet = _fleet_or_refuse(conn)
    zones = sorted({n.az for n in fleet.nodes if n.az})
    if not zones:
        raise ChangeRefused(["No nodes with a zone label: nothing tells which ENIConfigs are needed."])
    unknown = sorted(set(subnets) - set(zones))
    if unknown:
        raise ChangeRefused([f"No nodes in {', '.join(unknown)}; zones with nodes: {', '.join(zones)}."])
    chosen, problems = _pod_subnets(conn, fleet, zones, subnets)
    if problems:
        raise ChangeRefused(problems)
    wanted = {zone: EniConfigState(subnet.subnet_id, security_groups) for zone, subnet in chosen.items()}
    warnings: list[str] = list(state.notes)
    rows, problems = _check_subnets(conn, {zone: (zone, s) for zone, s in wanted.items()}, warnings)
    if problems:
        raise ChangeRefused(problems)
    env_updates = {CUSTOM_NETWORK_KNOB: "true", LABEL_DEF_KNOB: ZONE_LABEL}
    env_updates = {k: v for k, v in env_updates.items() if node.env.get(k) != v}
    edits = tuple(
        EniConfigEdit(zone, state.eniconfig_state(zone), target)
        for zone, target in sorted(wanted.items())
        if state.eniconfig_state(zone) != target
    )
    if not env_updates and not edits:
        raise ChangeRefused(["Custom networking is already enabled with an ENIConfig for every zone with nodes."])
    check = validate_change(node.env, env_updates) if env_updates else None
    if check is not None and check.errors:
        raise ChangeRefused(check.errors)
    for edit in edits:
        if edit.old is not None:
            warnings.append(f"ENIConfig `{edit.name}` exists and is changed: {edit.old.describe()} -> ...")
    if check is not None:
        warnings += check.warnings
    spec = ChangeSpec(env=check.diff if check else (), eniconfigs=edits)
    detail: dict[str, Any] = {
        "warnings": warnings,
        "effect": (
            "aws-node rolls out with custom networking; only ENIs created afterwards use the ENIConfig subnets, "
            "so every existing node must be replaced (cordon, drain, terminate). The new nodes need kubelet "
            "max-pods lowered (the primary ENI no longer serves pods). cnibot lists the nodes to replace and "
            "tracks them until every node allocates from the new subnets."
        ),
        "needs_node_replacement": True,
        "needs_max_pods": True,
        "max_pods": max_pods_table(fleet, custom_networking_after=True),
        "pod_subnets": rows,
    }
    return Draft(
        kind=ChangeKind.CUSTOM_NETWORKING,
        spec=spec,
        risk=Risk.HIGH,
        summary=f"enable custom networking ({len(wanted)} zone(s): {', '.join(sorted(wanted))})",
        base=state.revision(spec),
        target=node.target if spec.touches_aws_node else Target.NONE,
        detail=detail,
    )


def _fleet_or_refuse(conn: ClusterConnection) -> Fleet:
    try:
        return read_fleet(conn)
    except UpstreamError as exc:
        raise ChangeRefused(
            [f"Could not read the nodes and subnets ({exc.api}: {exc.reason}); custom networking needs them."]
        ) from exc


def _pod_subnets(
    conn: ClusterConnection, fleet: Fleet, zones: Sequence[str], given: Mapping[str, str]
) -> tuple[dict[str, SubnetFact], list[str]]:
    """Per zone: the given subnet, else the subnet of a secondary VPC CIDR with most free addresses."""
    secondary = [ipaddress.IPv4Network(c) for c in _secondary_cidrs(conn, fleet.vpc_id)]
    chosen: dict[str, SubnetFact] = {}
    problems: list[str] = []
    for zone in zones:
        if zone in given:
            subnet = fleet.subnets.get(given[zone])
            if subnet is None:
                problems.append(f"Subnet {given[zone]} is not in VPC {fleet.vpc_id}.")
            else:
                chosen[zone] = subnet
            continue
        candidates = [
            s
            for s in fleet.subnets.values()
            if s.az == zone and any(ipaddress.IPv4Network(s.cidr).subnet_of(net) for net in secondary)
        ]
        if not candidates:
            where = ", ".join(str(n) for n in secondary) or "none"
            problems.append(
                f"Zone {zone} has nodes but no subnet in a secondary CIDR of {fleet.vpc_id} (secondary CIDRs: "
                f"{where}). Create one there, or name it with --subnet {zone}=subnet-..."
            )
            continue
        chosen[zone] = max(candidates, key=lambda s: (s.available_ips, s.subnet_id))
    return chosen, problems


def _secondary_cidrs(conn: ClusterConnection, vpc_id: str) -> list[str]:
    try:
        return conn.aws().vpc_secondary_cidrs(vpc_id)
    except UpstreamError as exc:
        raise ChangeRefused([f"Could not read the VPC's CIDR blocks ({exc.api}: {exc.reason})."]) from exc


# --- rollback and automatic revert ------------------------------------------------------------------------


def draft_rollback(conn: ClusterConnection, original: ChangeRecord, *, automatic: bool) -> Draft:
    """Restore what ``original`` replaced, diffed against the cluster as it is now. The automatic revert of a
    `--for` change refuses when someone changed the same settings since: it must not undo their work."""
    if original.status not in IN_EFFECT:
        raise ChangeRefused([f"Change #{original.id} is {original.status}; only applied changes can be rolled back."])
    state = read_state(conn, aws_node=original.spec.touches_aws_node, eniconfigs=bool(original.spec.eniconfigs))
    env_now = state.aws_node.env if state.aws_node else {}
    version_now = None
    if original.spec.version is not None:
        version_now = installed_version(conn, require_aws_node(state, conn))
    plan = rollback_plan(original.spec, env_now, state.eniconfig_states(), version_now)
    if automatic and plan.drift:
        raise ChangeRefused([f"Changed again since #{original.id} was applied: {'; '.join(plan.drift)}."])
    if plan.spec.empty:
        raise ChangeRefused([f"Nothing to roll back: what #{original.id} changed is already as it was before."])
    risk = original.risk
    warnings = [f"Changed again since #{original.id}: {d}; the rollback overwrites it." for d in plan.drift]
    detail: dict[str, Any] = {"warnings": [*warnings, *state.notes], "needs_node_replacement": False}
    if plan.spec.env:
        node = require_aws_node(state, conn)
        check = validate_change(env_now, plan.spec.env_updates())
        if check.errors:
            raise ChangeRefused(check.errors)
        env_after = _env_after(env_now, check.diff)
        if needs_fleet(env_now, env_after):
            fleet = _check_fleet(conn, env_now, env_after, read_state(conn, aws_node=False))
            if fleet.errors:
                raise ChangeRefused(fleet.errors)
            warnings += fleet.warnings
        detail.update(_check_detail(check, (), {}))
        detail["warnings"] = [*warnings, *check.warnings, *state.notes]
        risk = max(risk, check.risk, key=lambda r: r.rank)
        target = node.target
    elif plan.spec.version is not None:
        target = require_aws_node(state, conn).target
        detail["effect"] = f"The VPC CNI goes back: {plan.spec.version.old} -> {plan.spec.version.new}."
    else:
        target = Target.NONE
    kind = ChangeKind.REVERT if automatic else ChangeKind.ROLLBACK
    verb = "revert" if automatic else "roll back"
    return Draft(
        kind=kind,
        spec=plan.spec,
        risk=risk,
        summary=f"{verb} #{original.id} ({original.summary})",
        base=state.revision(plan.spec),
        target=target,
        detail=detail,
        rollback_of=original.id,
    )


# --- can the bot write at all? ----------------------------------------------------------------------------


def apply_blocker(cluster: ClusterConfig, conn: ClusterConnection, spec: ChangeSpec, target: Target) -> str | None:
    """Why this install cannot apply the change (None: it can, as far as RBAC says)."""
    if not cluster.write_enabled:
        return f"writes are off for cluster `{cluster.name}` (write_enabled: false)"
    needed: list[Permission] = []
    if spec.touches_aws_node and target is Target.DAEMONSET:
        needed.append(PATCH_AWS_NODE)
    if spec.eniconfigs:
        needed += WRITE_ENICONFIGS
    if spec.replace_nodes:
        needed += NODE_ROLLOUT
    if not needed:
        return None
    try:
        denied = writer_for(conn).denied(tuple(needed))
    except UpstreamError:
        return None  # unknown: the apply itself will say
    if denied:
        return "RBAC does not let cnibot " + ", ".join(str(p) for p in denied)
    return None
