"""Custom networking: which ENIConfig a node uses, and whether that ENIConfig can work (cni-reference 2)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.domain.cni_settings import EffectiveSettings, Problem
from bot.domain.knobs import Severity

EXTERNAL_ENICONFIG_LABEL = "vpc.amazonaws.com/externalEniConfig"
DEFAULT_ENICONFIG_NAME = "default"

ENICONFIG_NO_SUBNET = "ENICONFIG_NO_SUBNET"
ENICONFIG_SUBNET_NOT_FOUND = "ENICONFIG_SUBNET_NOT_FOUND"
ENICONFIG_SUBNET_WRONG_AZ = "ENICONFIG_SUBNET_WRONG_AZ"
ENICONFIG_SUBNET_WRONG_VPC = "ENICONFIG_SUBNET_WRONG_VPC"
ENICONFIG_SUBNET_FULL = "ENICONFIG_SUBNET_FULL"
ENICONFIG_SG_NOT_FOUND = "ENICONFIG_SG_NOT_FOUND"


class NameSource(StrEnum):
    EXTERNAL_LABEL = "external-label"  # vpc.amazonaws.com/externalEniConfig
    ANNOTATION = "annotation"  # ENI_CONFIG_ANNOTATION_DEF
    LABEL = "label"  # ENI_CONFIG_LABEL_DEF
    DEFAULT = "default"  # nothing on the node: the ENIConfig literally named "default"


@dataclass(frozen=True)
class Resolution:
    name: str
    source: NameSource
    key: str | None = None  # the label or annotation key that supplied the name


def resolve_eniconfig_name(
    node_labels: Mapping[str, str],
    node_annotations: Mapping[str, str],
    settings: EffectiveSettings,
) -> Resolution:
    """The ENIConfig name ipamd picks for a node (``GetNodeSpecificENIConfigName``).

    Presence decides, not content: an empty label value is used as the (empty) name, as upstream does.
    """
    if EXTERNAL_ENICONFIG_LABEL in node_labels:
        return Resolution(node_labels[EXTERNAL_ENICONFIG_LABEL], NameSource.EXTERNAL_LABEL, EXTERNAL_ENICONFIG_LABEL)
    annotation_key = str(settings["ENI_CONFIG_ANNOTATION_DEF"])
    if annotation_key in node_annotations:
        return Resolution(node_annotations[annotation_key], NameSource.ANNOTATION, annotation_key)
    label_key = str(settings["ENI_CONFIG_LABEL_DEF"])
    if label_key in node_labels:
        return Resolution(node_labels[label_key], NameSource.LABEL, label_key)
    return Resolution(DEFAULT_ENICONFIG_NAME, NameSource.DEFAULT)


class EniConfigLike(Protocol):
    """What check_eniconfig reads of an ENIConfig (spec.subnet, spec.securityGroups)."""

    @property
    def name(self) -> str: ...

    @property
    def subnet(self) -> str | None: ...

    @property
    def security_groups(self) -> Sequence[str]: ...


class SubnetLike(Protocol):
    """What check_eniconfig reads of a DescribeSubnets result."""

    @property
    def subnet_id(self) -> str: ...

    @property
    def vpc_id(self) -> str: ...

    @property
    def az(self) -> str: ...

    @property
    def available_ips(self) -> int: ...


def check_eniconfig(
    eniconfig: EniConfigLike,
    subnets: Mapping[str, SubnetLike],
    node_az: str,
    vpc_id: str,
    known_security_group_ids: Collection[str] | None,
) -> list[Problem]:
    """Why ENIs created from this ENIConfig for a node in ``node_az`` would fail or misbehave.

    ``subnets`` maps subnet id to what EC2 returned (a missing id = not found); ``known_security_group_ids``
    is None when the security groups could not be looked up (then they are not judged).
    """
    name = eniconfig.name
    problems: list[Problem] = []
    if not eniconfig.subnet:
        return [
            Problem(
                ENICONFIG_NO_SUBNET,
                Severity.ERROR,
                f"ENIConfig {name} has no spec.subnet, so ipamd cannot create pod ENIs for nodes using it.",
                f"Set spec.subnet of ENIConfig {name} to a subnet in {node_az}.",
            )
        ]
    subnet = subnets.get(eniconfig.subnet)
    if subnet is None:
        problems.append(
            Problem(
                ENICONFIG_SUBNET_NOT_FOUND,
                Severity.ERROR,
                f"ENIConfig {name} points at subnet {eniconfig.subnet}, which EC2 does not know.",
                f"Point ENIConfig {name} at an existing subnet of VPC {vpc_id} in {node_az}.",
            )
        )
    else:
        problems += _subnet_problems(name, subnet, node_az, vpc_id)
    if known_security_group_ids is not None:
        missing = [sg for sg in eniconfig.security_groups if sg not in known_security_group_ids]
        if missing:
            problems.append(
                Problem(
                    ENICONFIG_SG_NOT_FOUND,
                    Severity.ERROR,
                    f"ENIConfig {name} lists security groups that do not exist: {', '.join(missing)}.",
                    f"Remove or replace {', '.join(missing)} in ENIConfig {name}.",
                )
            )
    return problems


def _subnet_problems(name: str, subnet: SubnetLike, node_az: str, vpc_id: str) -> list[Problem]:
    problems: list[Problem] = []
    if subnet.vpc_id != vpc_id:
        problems.append(
            Problem(
                ENICONFIG_SUBNET_WRONG_VPC,
                Severity.ERROR,
                f"ENIConfig {name} uses subnet {subnet.subnet_id} of VPC {subnet.vpc_id}, not the cluster VPC "
                f"{vpc_id}.",
                f"Use a subnet of VPC {vpc_id} (a secondary CIDR such as 100.64.0.0/16 is fine).",
            )
        )
    if subnet.az != node_az:
        problems.append(
            Problem(
                ENICONFIG_SUBNET_WRONG_AZ,
                Severity.ERROR,
                f"ENIConfig {name} uses subnet {subnet.subnet_id} in {subnet.az}, but the node is in {node_az}: "
                "an ENI cannot be attached across zones.",
                f"Give nodes in {node_az} an ENIConfig whose subnet is in {node_az}.",
            )
        )
    if subnet.available_ips == 0:
        problems.append(
            Problem(
                ENICONFIG_SUBNET_FULL,
                Severity.WARNING,
                f"Subnet {subnet.subnet_id} of ENIConfig {name} has no free IPs left.",
                "Free addresses in it or point the ENIConfig at a larger subnet.",
            )
        )
    return problems


# --- turning custom networking on ------------------------------------------------------------------------

CUSTOM_NETWORKING_INIT_FAILURE = "Failed to attach any ENIs for custom networking"  # ipamd.go handlePreScaling


class NodeLike(Protocol):
    """What custom_networking_gaps reads of a node."""

    @property
    def name(self) -> str: ...

    @property
    def az(self) -> str | None: ...

    @property
    def labels(self) -> dict[str, str]: ...

    @property
    def annotations(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class EniConfigGap:
    """Nodes of one zone whose ENIConfig (as resolved under the new settings) does not exist."""

    zone: str
    name: str  # the ENIConfig name they resolve
    source: NameSource
    key: str | None
    nodes: tuple[str, ...]

    def message(self) -> str:
        how = {
            NameSource.EXTERNAL_LABEL: f"label {self.key}",
            NameSource.ANNOTATION: f"annotation {self.key}",
            NameSource.LABEL: f"label {self.key}",
            NameSource.DEFAULT: "no label or annotation, so the name `default`",
        }[self.source]
        shown = ", ".join(self.nodes[:3]) + (f" and {len(self.nodes) - 3} more" if len(self.nodes) > 3 else "")
        return (
            f"Custom networking on: {len(self.nodes)} node(s) in {self.zone} ({shown}) resolve ENIConfig "
            f"`{self.name}` by {how}, and no ENIConfig has that name. ipamd there cannot create pod ENIs, and "
            f'where it has no pod IPs yet (every new node) it stops at start with "{CUSTOM_NETWORKING_INIT_FAILURE}" '
            "(ipamd.go nodeInit), so aws-node never becomes ready. Create the ENIConfig first "
            f"(`/cni eniconfig set {self.name} --subnet subnet-...`), or use `/cni custom-networking enable`."
        )


def custom_networking_gaps(
    nodes: Sequence[NodeLike], eniconfig_names: Collection[str], settings: EffectiveSettings
) -> list[EniConfigGap]:
    """Per zone with nodes, the ENIConfig names ipamd would look up under ``settings`` and cannot find
    (eniconfig.go GetNodeSpecificENIConfigName, then MyENIConfig's Get)."""
    if not settings.custom_networking:
        return []
    missing: dict[tuple[str, str], tuple[Resolution, list[str]]] = {}
    for node in nodes:
        resolution = resolve_eniconfig_name(node.labels, node.annotations, settings)
        if resolution.name in eniconfig_names:
            continue
        _, names = missing.setdefault((node.az or "unknown zone", resolution.name), (resolution, []))
        names.append(node.name)
    return [
        EniConfigGap(zone, name, resolution.source, resolution.key, tuple(sorted(names)))
        for (zone, name), (resolution, names) in sorted(missing.items())
    ]
