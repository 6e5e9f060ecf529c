"""/cni config: the effective aws-node settings, their drift from the approved values, and the ENIConfigs."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.cni_settings import Problem, startup_errors, warm_pool_problems
from bot.domain.eniconfig import check_eniconfig
from bot.domain.facts import NodeFact
from bot.domain.knob_catalogue import KNOBS, knob_env, knobs_in
from bot.domain.knobs import KnobGroup
from bot.domain.settings_change import EnvChange, settings_drift
from bot.domain.snapshot import ManagedAddon
from bot.domain.state import NodeMigration, StateModel
from bot.domain.subnet_view import cluster_azs

# --- config -----------------------------------------------------------------------------------------------

IP_KNOBS = knobs_in(KnobGroup.IP_ALLOCATION)  # shown by /cni config even at their defaults


@dataclass(frozen=True)
class SettingRow:
    name: str
    value: str
    default: str
    non_default: bool
    set_in_env: bool
    description: str


@dataclass(frozen=True)
class EniConfigRow:
    name: str
    subnet_id: str | None
    az: str | None
    free_ips: int | None
    security_groups: tuple[str, ...]
    nodes: int  # nodes resolving to it
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Drift:
    """Differences between the running aws-node env and the last approved one."""

    approved_at: datetime | None
    changes: tuple[EnvChange, ...]


@dataclass(frozen=True)
class ConfigView:
    image: str | None
    cni_version: str | None
    rollout: tuple[int, int, int] | None  # (desired, updated, ready) aws-node pods
    addon: ManagedAddon | None
    addon_checked: bool
    settings: tuple[SettingRow, ...]
    notes: tuple[str, ...]  # unparsable values, as aws-node would log them
    unrecognised: tuple[str, ...]
    env_from_refs: tuple[str, ...]
    startup_errors: tuple[str, ...]
    problems: tuple[Problem, ...]  # warm-pool settings that starve or throttle
    custom_networking: bool
    eniconfigs: tuple[EniConfigRow, ...]
    migration: tuple[NodeMigration, ...]  # every node, custom networking only
    drift: Drift | None  # None = no approved baseline to compare with (yet)


def show_value(value: object) -> str:
    if value is None:
        return "unset"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def config_view(
    model: StateModel,
    *,
    approved_env: Mapping[str, str] | None = None,
    approved_at: datetime | None = None,
) -> ConfigView:
    """The effective aws-node settings and the custom-networking picture.

    ``approved_env``: the env of the last approved change, once approvals exist (the drift seam); None = drift is
    not tracked.
    """
    snapshot = model.snapshot
    ds = snapshot.daemonset
    env = ds.env if ds else {}
    settings = model.settings
    rows = tuple(
        SettingRow(
            name=name,
            value=show_value(settings[name]),
            default=show_value(knob.default),
            non_default=name in settings.non_defaults,
            set_in_env=name in env,
            description=knob.description,
        )
        for name, knob in KNOBS.items()
    )
    migration: tuple[NodeMigration, ...] = ()
    if settings.custom_networking:
        migration = tuple(model.migration(state) for state in model.nodes.values())
    drift = None
    if approved_env is not None and ds is not None:
        # Compare like with like: approvals record the init container's knobs too.
        drift = Drift(approved_at, settings_drift(knob_env(ds.env, ds.init_env), approved_env))
    pods_per_node = [n.pods_with_ip for n in model.nodes.values()]
    return ConfigView(
        image=ds.image if ds else None,
        cni_version=ds.cni_version if ds else None,
        rollout=(ds.desired, ds.updated, ds.ready) if ds else None,
        addon=snapshot.addon,
        addon_checked=snapshot.addon_checked,
        settings=rows,
        notes=settings.notes,
        unrecognised=settings.unrecognised,
        env_from_refs=ds.env_from_refs if ds else (),
        startup_errors=tuple(startup_errors(env)) if ds else (),
        problems=tuple(
            warm_pool_problems(
                settings, pods_per_node=round(statistics.median(pods_per_node)) if pods_per_node else None
            )
        )
        if ds
        else (),
        custom_networking=settings.custom_networking,
        eniconfigs=_eniconfig_rows(model),
        migration=migration,
        drift=drift,
    )


def _eniconfig_rows(model: StateModel) -> tuple[EniConfigRow, ...]:
    snapshot = model.snapshot
    subnets = snapshot.subnets or {}
    users: dict[str, list[NodeFact]] = defaultdict(list)
    if model.settings.custom_networking:
        for state in model.nodes.values():
            if state.eniconfig is not None:
                users[state.eniconfig.name].append(state.node)
    rows = []
    for config in snapshot.eniconfigs or []:
        subnet = subnets.get(config.subnet or "")
        node_azs = Counter(n.az for n in users.get(config.name, []) if n.az)
        # The AZ its nodes are in; with no nodes yet, the name when it is a zone of the cluster, else the subnet's.
        if node_azs:
            az = node_azs.most_common(1)[0][0]
        elif config.name in cluster_azs(model):
            az = config.name
        else:
            az = subnet.az if subnet else ""
        problems: tuple[Problem, ...] = ()
        if snapshot.subnets is not None and snapshot.vpc_id:
            problems = tuple(check_eniconfig(config, subnets, az, snapshot.vpc_id, snapshot.existing_security_groups))
        rows.append(
            EniConfigRow(
                name=config.name,
                subnet_id=config.subnet,
                az=subnet.az if subnet else None,
                free_ips=subnet.available_ips if subnet else None,
                security_groups=config.security_groups,
                nodes=len(users.get(config.name, [])),
                problems=problems,
            )
        )
    return tuple(sorted(rows, key=lambda r: r.name))
