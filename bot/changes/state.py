"""What a change is computed against and applied to: aws-node (DaemonSet, and the managed add-on's
configuration when there is one) and the ENIConfigs, read fresh from the cluster."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.config import ClusterConfig
from bot.domain.changes import AwsNodeRevision, BaseRevision, ChangeSpec, EniConfigState, Target
from bot.domain.facts import DaemonSetFact
from bot.domain.knob_catalogue import knob_env, knob_for
from bot.domain.knobs import AWS_NODE, INIT_CONTAINER
from bot.domain.versions import CONTAINERS as _VERSION_CONTAINER_REPOS
from bot.domain.versions import image_tags
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection
from bot.gateways.kube_write import EniConfigObject, KubeWriter


def eks_name(cluster: ClusterConfig) -> str:
    return cluster.eks_name or cluster.name


def writer_for(conn: ClusterConnection) -> KubeWriter:
    return KubeWriter(conn.kube.api_client)


@dataclass(frozen=True)
class AwsNodeState:
    daemonset: DaemonSetFact
    addon_config: str | None  # the vpc-cni add-on's configuration values ("" = none); None = self-managed

    @property
    def env(self) -> dict[str, str]:
        """The aws-node env as a change sees it: the main container's, plus knobs that live only on the
        init container (DISABLE_TCP_EARLY_DEMUX)."""
        return knob_env(self.daemonset.env, self.daemonset.init_env)

    @property
    def target(self) -> Target:
        return Target.DAEMONSET if self.addon_config is None else Target.ADDON

    def revision(self) -> AwsNodeRevision:
        return AwsNodeRevision(
            generation=self.daemonset.generation,
            env=self.env,
            image=self.daemonset.image,
            addon_config=self.addon_config,
        )


@dataclass(frozen=True)
class ClusterState:
    aws_node: AwsNodeState | None
    eniconfigs: Mapping[str, EniConfigObject]
    notes: tuple[str, ...] = field(default=())  # what could not be told, said with the request

    def eniconfig_state(self, name: str) -> EniConfigState | None:
        found = self.eniconfigs.get(name)
        return found.state if found else None

    def eniconfig_states(self) -> dict[str, EniConfigState | None]:
        return {name: obj.state for name, obj in self.eniconfigs.items()}

    def revision(self, spec: ChangeSpec) -> BaseRevision:
        """The base revision of ``spec``: aws-node when it edits env, and each ENIConfig it edits."""
        aws_node = self.aws_node.revision() if spec.touches_aws_node and self.aws_node else None
        return BaseRevision(
            aws_node=aws_node,
            eniconfigs={edit.name: self.eniconfig_state(edit.name) for edit in spec.eniconfigs},
        )


def read_state(
    conn: ClusterConnection, *, aws_node: bool = True, eniconfigs: bool = True, fresh: bool = False
) -> ClusterState:
    """Read what changes are bound to. Kubernetes failures raise UpstreamError: without them nothing is safe
    to request or apply. The add-on lookup may fail (no EKS permission): the DaemonSet is then the target.
    ``fresh`` skips the add-on cache (before applying)."""
    notes: list[str] = []
    node_state: AwsNodeState | None = None
    if aws_node:
        daemonset = conn.kube.aws_node_daemonset()
        if daemonset is not None:
            addon_config, note = _addon_config(conn, fresh)
            if note:
                notes.append(note)
            node_state = AwsNodeState(daemonset, addon_config)
    objects = writer_for(conn).eniconfig_objects() if eniconfigs else {}
    return ClusterState(node_state, objects, tuple(notes))


def _addon_config(conn: ClusterConnection, fresh: bool) -> tuple[str | None, str | None]:
    try:
        aws = conn.aws()
        name = eks_name(conn.cluster)
        addon = aws.eks_addon_fresh(name) if fresh else aws.eks_addon(name)
    except UpstreamError as exc:
        return None, (
            f"Could not tell whether vpc-cni is an EKS managed add-on ({exc.api}: {exc.reason}); "
            "the change patches the aws-node DaemonSet."
        )
    if addon is None:
        return None, None
    return str(addon.get("configurationValues") or ""), None


# --- the managed add-on's configuration values ------------------------------------------------------------


class AddonConfigError(ValueError):
    pass


def parse_addon_config(text: str) -> dict[str, Any]:
    """configurationValues are JSON or YAML; an empty string is no configuration."""
    if not text.strip():
        return {}
    try:
        values = json.loads(text)
    except ValueError:
        try:
            values = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise AddonConfigError(f"the add-on's configuration values are neither JSON nor YAML: {exc}") from None
    if not isinstance(values, dict):
        raise AddonConfigError("the add-on's configuration values are not a mapping")
    return values


def addon_config_with(current: str, edits: Mapping[str, Mapping[str, str | None]]) -> str:
    """The configuration values with these env keys set (or removed when None), everything else kept. ``edits`` are
    per container (container_edits): the aws-node container's go under `env`, aws-vpc-cni-init's under `init.env`, as
    in the chart's values (charts/aws-vpc-cni/values.yaml) that the add-on's configuration follows."""
    values = parse_addon_config(current)
    for container, updates in edits.items():
        holder = values
        if container == INIT_CONTAINER:
            init = values.get("init")
            holder = dict(init) if isinstance(init, dict) else {}
        env = {str(k): str(v) for k, v in (holder.get("env") or {}).items()}
        for key, value in updates.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        if env:
            holder["env"] = env
        else:
            holder.pop("env", None)
        if container == INIT_CONTAINER:
            if holder:
                values["init"] = holder
            else:
                values.pop("init", None)
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def container_edits(spec: ChangeSpec) -> dict[str, dict[str, str | None]]:
    """The env edits per aws-node container (a knob set on both containers is patched on both)."""
    edits: dict[str, dict[str, str | None]] = {}
    for change in spec.env:
        knob = knob_for(change.key)
        for container in knob.containers if knob is not None else (AWS_NODE,):
            edits.setdefault(container, {})[change.key] = change.new
    return edits


def installed_version(conn: ClusterConnection, node: AwsNodeState) -> tuple[str, dict[str, str]] | None:
    """The installed version (the add-on's, else aws-node's image tag) and the images, as a rollback needs them."""
    images = {k: v for k, v in node.daemonset.images.items() if k in _VERSION_CONTAINER_REPOS}
    if node.target is Target.ADDON:
        addon = conn.aws().eks_addon_fresh(eks_name(conn.cluster))
        return (str(addon.get("addonVersion")), images) if addon else None
    tag = image_tags(images).get("aws-node")
    return (tag, images) if tag else None
