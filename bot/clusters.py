"""Which cluster a command is about: --cluster, else the channel's default, else the configured default."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import yaml

from bot.config import ClusterConfig, Settings
from bot.errors import UserError

IMPLICIT_CLUSTER = "default"
# `aws eks update-kubeconfig` names clusters by ARN; eksctl as <name>.<region>.eksctl.io.
_EKS_ARN = re.compile(r"^arn:aws[\w-]*:eks:([a-z0-9-]+):\d+:cluster/([\w.-]+)$")
_EKSCTL = re.compile(r"^([\w-]+)\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.eksctl\.io$")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or IMPLICIT_CLUSTER


def implicit_cluster(kubeconfig: str | None = None) -> ClusterConfig:
    """Zero configuration: the current kubeconfig context, named (with region) after its EKS cluster.

    Reads the kubeconfig file itself (first file of $KUBECONFIG, else ~/.kube/config): cheap, and it must
    not fail the start when there is none.
    """
    path = kubeconfig or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0] or str(Path.home() / ".kube/config")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        current = data.get("current-context") or ""
        context = next((c.get("context") or {} for c in data.get("contexts") or [] if c.get("name") == current), {})
        cluster_ref = str(context.get("cluster") or current)
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return ClusterConfig(name=IMPLICIT_CLUSTER)
    for pattern, region_group, name_group in ((_EKS_ARN, 1, 2), (_EKSCTL, 2, 1)):
        m = pattern.match(cluster_ref)
        if m:
            eks = m.group(name_group)
            return ClusterConfig(name=_slug(eks), region=m.group(region_group), eks_name=eks)
    return ClusterConfig(name=_slug(current) if current else IMPLICIT_CLUSTER)


class ClusterDirectory:
    def __init__(self, settings: Settings) -> None:
        # Zero configuration: one cluster reached through the current kubeconfig context and the AWS env.
        self._clusters = list(settings.clusters) or [implicit_cluster()]
        self._default = settings.default_cluster or self._clusters[0].name
        self._by_channel = {ch: c.name for c in self._clusters for ch in c.channels}

    @property
    def configs(self) -> list[ClusterConfig]:
        return list(self._clusters)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._clusters]

    def get(self, name: str) -> ClusterConfig | None:
        return next((c for c in self._clusters if c.name == name), None)

    def resolve(self, requested: str | None, channel_id: str | None = None) -> ClusterConfig:
        if requested:
            found = self.get(requested)
            if found is None:
                close = difflib.get_close_matches(requested, self.names, n=1)
                hint = f" Did you mean `{close[0]}`?" if close else ""
                raise UserError(f"No cluster named `{requested[:64]}`.{hint} Known: {', '.join(self.names)}.")
            return found
        name = self._by_channel.get(channel_id or "", self._default)
        cluster = self.get(name)
        assert cluster is not None
        return cluster
