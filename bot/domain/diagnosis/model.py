"""What a why-pending diagnosis says: stable cause codes, ranked causes with their evidence, and the change
that would fix it (plain data; renderers and the command turn it into Slack, text or JSON)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from bot.domain.facts import Unchecked
from bot.domain.knob_catalogue import KNOBS

_ENV_VALUE = re.compile(r"^[A-Za-z0-9_./:,=+-]{0,256}$")
_ENICONFIG_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")


class CauseCode(StrEnum):
    """Stable codes: scripts and dashboards match on them, so never rename one."""

    POD_HAS_IP = "POD_HAS_IP"
    HOST_NETWORK = "HOST_NETWORK"
    POD_NOT_FOUND = "POD_NOT_FOUND"
    NOT_SCHEDULED = "NOT_SCHEDULED"
    MAX_PODS_REACHED = "MAX_PODS_REACHED"
    SGP_BRANCH_CAPACITY = "SGP_BRANCH_CAPACITY"
    AWS_NODE_NOT_READY = "AWS_NODE_NOT_READY"
    SUBNET_EXHAUSTED = "SUBNET_EXHAUSTED"
    PREFIX_FRAGMENTATION = "PREFIX_FRAGMENTATION"
    NODE_IP_CAPACITY = "NODE_IP_CAPACITY"
    ATTACHMENT_LIMIT = "ATTACHMENT_LIMIT"
    IAM_PERMISSION_MISSING = "IAM_PERMISSION_MISSING"
    EC2_THROTTLED = "EC2_THROTTLED"
    ENICONFIG_MISSING = "ENICONFIG_MISSING"
    ENICONFIG_INVALID = "ENICONFIG_INVALID"
    SUBNET_EXCLUDED = "SUBNET_EXCLUDED"
    WARM_TARGET_MISCONFIG = "WARM_TARGET_MISCONFIG"
    IP_COOLDOWN = "IP_COOLDOWN"
    NODE_CORDONED = "NODE_CORDONED"
    LEAKED_ENIS = "LEAKED_ENIS"
    NETWORK_POLICY_AGENT = "NETWORK_POLICY_AGENT"
    MULTI_NIC_DISABLED = "MULTI_NIC_DISABLED"
    # Nodes aws-node does not serve: their own verdicts, never an ipamd one.
    FARGATE_POD = "FARGATE_POD"
    AUTO_MODE_NODE = "AUTO_MODE_NODE"
    HYBRID_NODE = "HYBRID_NODE"
    WINDOWS_NODE = "WINDOWS_NODE"
    IPV6_PREFIX_MISSING = "IPV6_PREFIX_MISSING"
    EGRESS_V4_PLUGIN = "EGRESS_V4_PLUGIN"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class EniConfigSpec:
    """An ENIConfig to create or replace (cluster-scoped, crd.k8s.amazonaws.com/v1alpha1)."""

    name: str
    subnet: str
    security_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProposedChange:
    """The configuration change that fixes a cause: aws-node env values, or an ENIConfig."""

    kind: Literal["aws-node-env", "eniconfig"]
    env: Mapping[str, str] = field(default_factory=dict)
    eniconfig: EniConfigSpec | None = None

    @classmethod
    def aws_node(cls, **env: str) -> ProposedChange:
        return cls("aws-node-env", env=dict(env))

    @classmethod
    def eniconfig_spec(cls, name: str, subnet: str, security_groups: tuple[str, ...] = ()) -> ProposedChange:
        return cls("eniconfig", eniconfig=EniConfigSpec(name, subnet, security_groups))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProposedChange:
        """Read back what as_dict() wrote (e.g. from a Slack button); ValueError on anything else."""
        kind = data.get("kind")
        if kind == "aws-node-env":
            env = data.get("env")
            if not isinstance(env, dict) or not env:
                raise ValueError("an aws-node change needs env values")
            for key, value in env.items():
                if key not in KNOBS or not isinstance(value, str) or not _ENV_VALUE.match(value):
                    raise ValueError(f"not an aws-node setting: {str(key)[:64]}")
            return cls.aws_node(**env)
        if kind == "eniconfig":
            spec = data.get("eniconfig")
            if not isinstance(spec, dict):
                raise ValueError("an ENIConfig change needs a spec")
            name, subnet, groups = spec.get("name"), spec.get("subnet"), spec.get("securityGroups") or []
            if not isinstance(name, str) or not _ENICONFIG_NAME.match(name):
                raise ValueError("not an ENIConfig name")
            if not isinstance(subnet, str) or not _SUBNET_ID.match(subnet):
                raise ValueError("not a subnet id")
            if not isinstance(groups, list) or not all(isinstance(g, str) and _GROUP_ID.match(g) for g in groups):
                raise ValueError("not security group ids")
            return cls.eniconfig_spec(name, subnet, tuple(groups))
        raise ValueError(f"unknown change kind {str(kind)[:32]!r}")

    def as_dict(self) -> dict[str, Any]:
        if self.eniconfig is not None:
            spec = self.eniconfig
            return {
                "kind": self.kind,
                "eniconfig": {"name": spec.name, "subnet": spec.subnet, "securityGroups": list(spec.security_groups)},
            }
        return {"kind": self.kind, "env": dict(self.env)}

    def command(self, *, reason: str, cluster: str | None = None) -> str:
        """The /cni command that requests this change through the approval flow."""
        if self.eniconfig is not None:
            spec = self.eniconfig
            words = ["/cni", "eniconfig", "set", spec.name, "--subnet", spec.subnet]
            if spec.security_groups:
                words += ["--security-groups", ",".join(spec.security_groups)]
        else:
            words = ["/cni", "set", *(f"{key}={value}" for key, value in self.env.items())]
        if cluster:
            words += ["--cluster", cluster]
        words += ["--reason", reason]
        return " ".join(shlex.quote(word) for word in words)


@dataclass(frozen=True)
class Cause:
    code: CauseCode
    confidence: float  # 0..1: how strongly the facts read support it
    summary: str  # one sentence, with the numbers that prove it
    evidence: tuple[str, ...] = ()  # each line states something read, with its numbers
    remedy: tuple[str, ...] = ()  # steps, most effective first
    contributing: bool = False  # makes things worse, but is not by itself what blocks the pod
    change: ProposedChange | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "confidence": round(self.confidence, 2),
            "contributing": self.contributing,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "remedy": list(self.remedy),
            "change": self.change.as_dict() if self.change else None,
        }


@dataclass(frozen=True)
class Diagnosis:
    cluster: str
    pod: str  # namespace/name
    node: str | None
    causes: tuple[Cause, ...]  # ranked: the primary cause first, contributing ones last
    checked: tuple[str, ...] = ()
    could_not_check: tuple[Unchecked, ...] = ()

    @property
    def primary(self) -> Cause:
        return self.causes[0]

    @property
    def codes(self) -> list[str]:
        return [c.code.value for c in self.causes]

    @property
    def change(self) -> ProposedChange | None:
        """The change the top-ranked cause proposes, if any."""
        return next((c.change for c in self.causes if c.change is not None and not c.contributing), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "pod": self.pod,
            "node": self.node,
            "causes": [c.as_dict() for c in self.causes],
            "checked": list(self.checked),
            "could_not_check": [{"what": u.what, "api": u.api, "reason": u.reason} for u in self.could_not_check],
        }
