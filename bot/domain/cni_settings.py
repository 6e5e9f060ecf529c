"""The aws-node knob catalogue: parsing as upstream does, effective settings, start-up checks and
validation of proposed changes (cni-reference section 1).

Parsing follows the Go code of aws/amazon-vpc-cni-k8s: booleans with ``strconv.ParseBool``, integers with
``strconv.Atoi`` and each knob's own fallback, so that what this module reports is what aws-node would do.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from bot.domain.capacity import WarmSettings

AWS_NODE = "aws-node"
INIT_CONTAINER = "aws-vpc-cni-init"

SettingValue = bool | int | str | tuple[str, ...] | dict[str, str] | None


class KnobType(StrEnum):
    BOOL = "bool"
    INT = "int"
    STR = "str"
    ENUM = "enum"
    CIDR_LIST = "cidr-list"
    JSON = "json"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


class Effect(StrEnum):
    ROLLOUT = "rollout"  # effective once aws-node has rolled out
    MAX_PODS = "max-pods"  # also needs kubelet max-pods changed (new launch template / node group)
    NEW_ENIS = "new-enis"  # only ENIs created afterwards follow it
    REPLACE_NODES = "replace-nodes"  # existing nodes keep the old behaviour until replaced


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Knob:
    name: str
    kind: KnobType
    code_default: SettingValue  # what aws-node uses when the variable is absent
    manifest_default: str | None  # what the shipped manifest sets (None = not set there)
    description: str
    risk: Risk = Risk.LOW
    effect: Effect = Effect.ROLLOUT
    container: str = AWS_NODE
    minimum: int | None = None
    maximum: int | None = None
    allowed: tuple[str, ...] = ()
    case_sensitive: bool = True
    empty_is_default: bool = False  # an empty value means "use the default" (string knobs)
    since: str | None = None
    also_in_init: bool = False  # the manifest sets it on aws-vpc-cni-init too (ENABLE_IPv6)
    unset_at_or_below: int | None = None  # values up to this mean "unset" upstream (MAX_ENI: getMaxENI)
    bad_int_exits: bool = False  # an Atoi error makes aws-node exit (validateEnvVars) instead of a fallback
    modelled: bool = True  # False: a real aws-node setting the bot passes through without modelling it

    @property
    def containers(self) -> tuple[str, ...]:
        """Containers whose env carries the knob; a change must patch all of them."""
        return (self.container, INIT_CONTAINER) if self.also_in_init else (self.container,)

    @property
    def default(self) -> SettingValue:
        """The value a stock install runs with: the manifest's when it sets one, else the code default."""
        if self.manifest_default is None:
            return self.code_default
        value, _ = parse_value(self, self.manifest_default)
        return value


def _bool(
    name: str,
    default: bool,
    manifest: str | None,
    description: str,
    *,
    risk: Risk = Risk.LOW,
    effect: Effect = Effect.ROLLOUT,
    container: str = AWS_NODE,
    since: str | None = None,
    also_in_init: bool = False,
) -> Knob:
    return Knob(
        name,
        KnobType.BOOL,
        default,
        manifest,
        description,
        risk=risk,
        effect=effect,
        container=container,
        since=since,
        also_in_init=also_in_init,
    )


def _int(
    name: str,
    default: int | None,
    manifest: str | None,
    description: str,
    *,
    minimum: int,
    maximum: int | None = None,
    risk: Risk = Risk.LOW,
    effect: Effect = Effect.ROLLOUT,
    since: str | None = None,
) -> Knob:
    return Knob(
        name,
        KnobType.INT,
        default,
        manifest,
        description,
        risk=risk,
        effect=effect,
        minimum=minimum,
        maximum=maximum,
        since=since,
    )


def _str(
    name: str,
    default: str,
    manifest: str | None,
    description: str,
    *,
    empty_is_default: bool = False,
    risk: Risk = Risk.LOW,
    effect: Effect = Effect.ROLLOUT,
    since: str | None = None,
) -> Knob:
    return Knob(
        name,
        KnobType.STR,
        default,
        manifest,
        description,
        risk=risk,
        effect=effect,
        empty_is_default=empty_is_default,
        since=since,
    )


def _enum(
    name: str,
    default: str,
    manifest: str | None,
    allowed: tuple[str, ...],
    description: str,
    *,
    case_sensitive: bool = True,
    risk: Risk = Risk.LOW,
    effect: Effect = Effect.ROLLOUT,
    since: str | None = None,
) -> Knob:
    return Knob(
        name,
        KnobType.ENUM,
        default,
        manifest,
        description,
        risk=risk,
        effect=effect,
        allowed=allowed,
        case_sensitive=case_sensitive,
        since=since,
    )


_LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_HIGH, _MEDIUM = Risk.HIGH, Risk.MEDIUM

_CATALOGUE: tuple[Knob, ...] = (
    # 1.1 warm pool and capacity
    _int("WARM_ENI_TARGET", 1, "1", "Whole ENIs of free IPs to keep warm (secondary-IP mode).", minimum=0),
    _int("WARM_IP_TARGET", 0, None, "Free IPs to keep warm; overrides WARM_ENI/WARM_PREFIX_TARGET.", minimum=0),
    _int("MINIMUM_IP_TARGET", 0, None, "Floor on IPs attached to each node (pre-scaling).", minimum=0, since="1.6.0"),
    _int("WARM_PREFIX_TARGET", 0, "1", "Free /28 prefixes to keep warm (prefix delegation).", minimum=0, since="1.9.0"),
    Knob(
        "MAX_ENI",
        KnobType.INT,
        None,
        None,
        "Cap on ENIs per node (0 or below: unset).",
        risk=_HIGH,
        effect=Effect.MAX_PODS,
        minimum=1,
        unset_at_or_below=0,
    ),
    Knob(
        "IP_COOLDOWN_PERIOD",
        KnobType.INT,
        30,
        None,
        "Seconds a released pod IP waits before reuse.",
        minimum=0,
        since="1.15.0",
        bad_int_exits=True,
    ),
    _bool("AWS_MANAGE_ENIS_NON_SCHEDULABLE", False, None, "Grow/shrink the pool on cordoned nodes.", since="1.12.6"),
    _bool(
        "ENABLE_PREFIX_DELEGATION",
        False,
        "false",
        "Assign /28 prefixes instead of single secondary IPs.",
        risk=_HIGH,
        effect=Effect.MAX_PODS,
        since="1.9.0",
    ),
    _bool(
        "ENABLE_SUBNET_DISCOVERY",
        True,
        "true",
        "Put new ENIs in the subnet with most free IPs (tag kubernetes.io/role/cni).",
        effect=Effect.NEW_ENIS,
        since="1.18.0",
    ),
    _bool(
        "DISABLE_NETWORK_RESOURCE_PROVISIONING",
        False,
        "false",
        "No ENI/IP EC2 calls; only what is attached is used.",
        risk=_HIGH,
        since="1.9.1",
    ),
    _bool("ENABLE_IMDS_ONLY_MODE", False, "false", "No EC2 calls at all.", risk=_HIGH, since="1.19.6"),
    _bool("DISABLE_LEAKED_ENI_CLEANUP", False, None, "Turn off the hourly leaked-ENI sweep.", since="1.13.0"),
    _bool("MANAGE_UNTAGGED_ENI", True, None, "Manage ENIs lacking this node's instance_id tag.", risk=_MEDIUM),
    _bool("ENABLE_MULTI_NIC", False, "false", "Manage ENIs on network cards > 0.", risk=_MEDIUM, since="1.20.0"),
    # 1.2 custom networking
    _bool(
        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
        False,
        "false",
        "Secondary ENIs use the node's ENIConfig subnet and security groups.",
        risk=_HIGH,
        effect=Effect.REPLACE_NODES,
    ),
    _str(
        "ENI_CONFIG_LABEL_DEF",
        "k8s.amazonaws.com/eniConfig",
        None,
        "Node label whose value names the ENIConfig.",
        empty_is_default=True,
        risk=_MEDIUM,
        effect=Effect.NEW_ENIS,
    ),
    _str(
        "ENI_CONFIG_ANNOTATION_DEF",
        "k8s.amazonaws.com/eniConfig",
        None,
        "Node annotation whose value names the ENIConfig (wins over the label).",
        empty_is_default=True,
        risk=_MEDIUM,
        effect=Effect.NEW_ENIS,
    ),
    # 1.3 security groups for pods
    _bool(
        "ENABLE_POD_ENI",
        False,
        "false",
        "Security groups for pods: a trunk ENI plus branch ENIs.",
        risk=_HIGH,
        effect=Effect.MAX_PODS,
        since="1.7.0",
    ),
    _enum(
        "POD_SECURITY_GROUP_ENFORCING_MODE",
        "strict",
        None,
        ("strict", "standard"),
        "How SG-for-pods traffic is enforced.",
        risk=_MEDIUM,
        effect=Effect.REPLACE_NODES,
        since="1.11.0",
    ),
    _bool(
        "DISABLE_TCP_EARLY_DEMUX",
        False,
        "false",
        "Lets kubelet TCP probes reach branch-ENI pods in strict mode.",
        container=INIT_CONTAINER,
        since="1.7.3",
    ),
    # 1.4 SNAT / routing
    _bool("AWS_VPC_K8S_CNI_EXTERNALSNAT", False, "false", "Leave SNAT to an external NAT gateway."),
    Knob(
        "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
        KnobType.CIDR_LIST,
        (),
        None,
        "Comma-separated IPv4 CIDRs that are not SNATed.",
        since="1.6.0",
    ),
    _enum(
        "AWS_VPC_K8S_CNI_RANDOMIZESNAT",
        "prng",
        "prng",
        ("hashrandom", "prng", "none"),
        "Source-port randomisation of the SNAT rule.",
    ),
    Knob(
        "AWS_EXTERNAL_SERVICE_CIDRS",
        KnobType.CIDR_LIST,
        (),
        None,
        "CIDRs forced through the main routing table.",
        since="1.12.6",
    ),
    Knob(
        "AWS_VPC_ENI_MTU",
        KnobType.INT,
        9001,
        "9001",
        "MTU of attached ENIs.",
        risk=_MEDIUM,
        minimum=576,
        maximum=9001,
        bad_int_exits=True,
    ),
    Knob(
        "POD_MTU",
        KnobType.INT,
        9001,
        None,
        "MTU of pod interfaces.",
        risk=_MEDIUM,
        minimum=576,
        maximum=9001,
        since="1.16.4",
        bad_int_exits=True,
    ),
    _bool("AWS_VPC_CNI_NODE_PORT_SUPPORT", True, "true", "iptables rules for NodePort on the primary ENI."),
    _bool("AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER", True, None, "No-op since v1.12.1 (deprecated)."),
    _str(
        "AWS_VPC_K8S_CNI_VETHPREFIX",
        "eni",
        "eni",
        "Prefix of host-side veth names (at most 4 characters).",
        risk=_HIGH,
        effect=Effect.REPLACE_NODES,
    ),
    # 1.5 identity, IP family, misc
    _bool(
        "ENABLE_IPv4",
        False,
        "true",
        "IPv4 pod addressing (never remove it: aws-node exits).",
        risk=_HIGH,
        effect=Effect.REPLACE_NODES,
        since="1.10.0",
    ),
    Knob(
        "ENABLE_IPv6",
        KnobType.BOOL,
        False,
        "false",
        "IPv6 pod addressing (chosen at cluster creation).",
        risk=_HIGH,
        effect=Effect.REPLACE_NODES,
        since="1.10.0",
        also_in_init=True,
    ),
    _str("CLUSTER_NAME", "", None, "Cluster tag on ENIs; scopes the leaked-ENI sweep."),
    Knob(
        "ADDITIONAL_ENI_TAGS",
        KnobType.JSON,
        {},
        "{}",
        "Extra tags (a JSON map) on ENIs ipamd creates.",
        effect=Effect.NEW_ENIS,
        since="1.6.0",
    ),
    _bool("ANNOTATE_POD_IP", False, None, "Annotate pods with vpc.amazonaws.com/pod-ips.", since="1.9.3"),
    _str("AWS_EC2_ENDPOINT", "", None, "Custom EC2 endpoint.", risk=_MEDIUM, since="1.13.0"),
    _int("HTTP_TIMEOUT", 10, None, "AWS SDK request timeout in seconds (values < 10 ignored).", minimum=10),
    _str("INTROSPECTION_BIND_ADDRESS", "127.0.0.1:61679", None, "Bind address of the introspection server."),
    _bool("DISABLE_INTROSPECTION", False, "false", "Turn off the introspection server (:61679)."),
    _bool("DISABLE_METRICS", False, "false", "Turn off the metrics server (:61678)."),
    _enum("AWS_VPC_K8S_CNI_LOGLEVEL", "DEBUG", "DEBUG", _LOG_LEVELS, "ipamd log level.", case_sensitive=False),
    _enum("AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "DEBUG", "DEBUG", _LOG_LEVELS, "CNI plugin log level.", case_sensitive=False),
    _str(
        "AWS_VPC_K8S_CNI_LOG_FILE",
        "/host/var/log/aws-routed-eni/ipamd.log",
        "/host/var/log/aws-routed-eni/ipamd.log",
        "ipamd log destination: stdout, stderr or a path.",
    ),
    _str(
        "AWS_VPC_K8S_PLUGIN_LOG_FILE",
        "/var/log/aws-routed-eni/plugin.log",
        "/var/log/aws-routed-eni/plugin.log",
        "CNI plugin log destination: stderr or a path, never stdout.",
    ),
    _str("CLUSTER_ENDPOINT", "", None, "API server endpoint used before kube-proxy is up.", since="1.12.1"),
    _enum(
        "NETWORK_POLICY_ENFORCING_MODE",
        "standard",
        "standard",
        ("none", "strict", "standard"),
        "Network policy mode; strict denies by default until policies apply.",
        case_sensitive=False,
        risk=_HIGH,
        since="1.17.1",
    ),
    _bool(
        "ENABLE_V6_EGRESS",
        False,
        None,
        "IPv6 egress for IPv4 pods (read by aws-node and, for its sysctls, by cmd/aws-vpc-cni-init).",
        risk=_MEDIUM,
        effect=Effect.REPLACE_NODES,
        since="1.13.0",
        also_in_init=True,
    ),
    _bool(
        "ENABLE_V4_EGRESS",
        True,
        None,
        "IPv4 egress for IPv6 pods.",
        risk=_MEDIUM,
        effect=Effect.REPLACE_NODES,
        since="1.15.1",
    ),
    _bool("DISABLE_POD_V6", False, None, "Disable IPv6 inside pod network namespaces.", since="1.15.0"),
    _bool("ENABLE_BANDWIDTH_PLUGIN", False, None, "Chain the bandwidth CNI plugin.", since="1.10.0"),
    _bool("ENABLE_NFTABLES", False, None, "Deprecated since v1.13.2.", since="1.12.1"),
    _str(
        "AWS_VPC_K8S_CNI_BACKING_STORE",
        "/var/run/aws-node/ipam.json",
        None,
        "Path of ipamd's IP state file.",
        empty_is_default=True,
        risk=_HIGH,
    ),
)

KNOBS: dict[str, Knob] = {knob.name: knob for knob in _CATALOGUE}


def _unmodelled(name: str, default: str, description: str, *, also_in_init: bool = False) -> Knob:
    return Knob(
        name,
        KnobType.STR,
        default,
        None,
        description,
        risk=Risk.MEDIUM,
        also_in_init=also_in_init,
        modelled=False,
    )


# Real aws-node settings (read by upstream code, see each description) that the catalogue does not model:
# accepted as written, with a note that the bot cannot judge their value or effect.
UNMODELLED_KNOBS: dict[str, Knob] = {
    knob.name: knob
    for knob in (
        _unmodelled(
            "HOST_CNI_BIN_PATH",
            "/host/opt/cni/bin",
            "Where the CNI binaries are installed, inside the container (cmd/aws-vpc-cni and "
            "cmd/aws-vpc-cni-init); needs a matching hostPath mount.",
            also_in_init=True,
        ),
        _unmodelled(
            "HOST_CNI_CONFDIR_PATH",
            "/host/etc/cni/net.d",
            "Where 10-aws.conflist is written, inside the container (cmd/aws-vpc-cni _main); needs a matching "
            "hostPath mount.",
        ),
        _unmodelled(
            "AWS_VPC_K8S_CNI_CONNMARK",
            "0x80",
            "Connection mark of the SNAT rules (pkg/networkutils getConnmark: strconv.ParseInt base 0; "
            "unparsable, 0 or below, or above 2^32-1 -> the default 0x80, with a log line).",
        ),
        _unmodelled(
            "AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE",
            "/var/log/aws-routed-eni/egress-v4-plugin.log",
            "egress-cni plugin log file in IPv6 clusters (cmd/aws-vpc-cni generateJSON); its level follows "
            "AWS_VPC_K8S_PLUGIN_LOG_LEVEL.",
        ),
        _unmodelled(
            "AWS_VPC_K8S_EGRESS_V6_PLUGIN_LOG_FILE",
            "/var/log/aws-routed-eni/egress-v6-plugin.log",
            "egress-cni plugin log file in IPv4 clusters (cmd/aws-vpc-cni generateJSON); its level follows "
            "AWS_VPC_K8S_PLUGIN_LOG_LEVEL.",
        ),
    )
}


def knob_for(name: str) -> Knob | None:
    """The catalogue's knob, else a real but unmodelled aws-node setting, else None (unknown)."""
    return KNOBS.get(name) or UNMODELLED_KNOBS.get(name)


# Set by the manifest from the downward API or for information: present in the env, never tunables.
MANIFEST_OWNED_ENV = frozenset({"MY_NODE_NAME", "MY_POD_NAME", "VPC_CNI_VERSION"})

# Which knobs change the pod IP capacity of a node (and so kubelet max-pods).
_CAPACITY_KNOBS = frozenset(
    {"ENABLE_PREFIX_DELEGATION", "MAX_ENI", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "ENABLE_POD_ENI"}
)


# --- parsing as upstream ----------------------------------------------------------------------------

_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_GO_INT = re.compile(r"[+-]?[0-9]+")


def parse_go_bool(raw: str) -> bool | None:
    """Go ``strconv.ParseBool``: None when the text is not one of its accepted forms."""
    if raw in _GO_TRUE:
        return True
    if raw in _GO_FALSE:
        return False
    return None


GO_INT64 = (-(2**63), 2**63 - 1)  # strconv.Atoi's range on the 64-bit builds aws-node ships


def parse_go_int(raw: str) -> int | None:
    """Go ``strconv.Atoi``: optional sign and decimal digits only (no spaces, no underscores), within int64
    (beyond it Atoi returns "value out of range")."""
    if not _GO_INT.fullmatch(raw):
        return None
    number = int(raw)
    return number if GO_INT64[0] <= number <= GO_INT64[1] else None


_GO_LEGACY_OCTAL = re.compile(r"[+-]?0[0-7_]+")


def parse_connmark(raw: str) -> int | None:
    """pkg/networkutils getConnmark: strconv.ParseInt(raw, 0, 64) within 1..2^32-1, else None (the default)."""
    try:
        mark = int(raw, 8) if _GO_LEGACY_OCTAL.fullmatch(raw) else int(raw, 0)
    except ValueError:
        return None
    return mark if 0 < mark <= 2**32 - 1 else None


def beyond_int64(raw: str) -> bool:
    """Digits Go's strconv.Atoi refuses only for their size."""
    return bool(_GO_INT.fullmatch(raw)) and parse_go_int(raw) is None


def parse_value(knob: Knob, raw: str) -> tuple[SettingValue, str | None]:
    """(effective value, note) for a raw env value; unusable values fall back to the code default."""
    default = knob.code_default
    if raw == "" and knob.empty_is_default:
        return default, None
    match knob.kind:
        case KnobType.BOOL:
            flag = parse_go_bool(raw)
            if flag is None:
                return default, f"Failed to parse variable {knob.name} with value {raw} as boolean; using {default}"
            return flag, None
        case KnobType.INT:
            number = parse_go_int(raw)
            if number is None:
                return default, f"{knob.name}={raw!r} is not an integer; aws-node uses {_show(default)}"
            if knob.unset_at_or_below is not None and number <= knob.unset_at_or_below:
                return default, unset_note(knob, number)
            if not _in_range(knob, number):
                return (
                    default,
                    f"{knob.name}={number} is out of range ({_range_text(knob)}); aws-node uses {_show(default)}",
                )
            return number, None
        case KnobType.ENUM:
            if _enum_match(knob, raw) is None:
                return default, f"{knob.name}={raw!r} is not one of {', '.join(knob.allowed)}"
            return raw, None
        case KnobType.CIDR_LIST:
            return _parse_cidrs(knob, raw)
        case KnobType.JSON:
            return _parse_tags(knob, raw)
        case _:
            return raw, None


def unset_note(knob: Knob, number: int) -> str:
    """What a value that upstream treats as unset means (MAX_ENI <= 0: ipamd.go getMaxENI ignores it)."""
    return (
        f"{knob.name}={number} means unset: ipamd ignores {knob.unset_at_or_below} or below (getMaxENI), so the "
        "instance type's ENI limit applies"
    )


def _show(value: SettingValue) -> str:
    return "unset" if value is None else str(value)


def _in_range(knob: Knob, number: int) -> bool:
    return (knob.minimum is None or number >= knob.minimum) and (knob.maximum is None or number <= knob.maximum)


def _range_text(knob: Knob) -> str:
    if knob.maximum is None:
        return f">= {knob.minimum}"
    return f"{knob.minimum}-{knob.maximum}"


def _enum_match(knob: Knob, raw: str) -> str | None:
    for allowed in knob.allowed:
        if raw == allowed or (not knob.case_sensitive and raw.lower() == allowed.lower()):
            return allowed
    return None


def _parse_cidrs(knob: Knob, raw: str) -> tuple[tuple[str, ...], str | None]:
    good: list[str] = []
    bad: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            good.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            bad.append(item)
    note = f"{knob.name}: skipped invalid CIDRs {', '.join(bad)}" if bad else None
    return tuple(good), note


def _parse_tags(knob: Knob, raw: str) -> tuple[dict[str, str], str | None]:
    try:
        loaded = json.loads(raw)
    except json.JSONDecodeError:
        return {}, f"{knob.name} is not valid JSON; no extra tags are added"
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        return {}, f"{knob.name} must be a JSON object of string values; no extra tags are added"
    reserved = sorted(key for key in loaded if "k8s.amazonaws.com" in key)
    tags = {key: value for key, value in loaded.items() if key not in reserved}
    note = f"{knob.name}: keys containing k8s.amazonaws.com are ignored ({', '.join(reserved)})" if reserved else None
    return tags, note


def knob_env(container_env: Mapping[str, str], init_env: Mapping[str, str]) -> dict[str, str]:
    """The aws-node env as the knobs see it: the aws-node container's, plus the knobs that live only on the
    init container (DISABLE_TCP_EARLY_DEMUX)."""
    env = dict(container_env)
    for name, value in init_env.items():
        knob = KNOBS.get(name)
        if knob is not None and knob.container == INIT_CONTAINER:
            env[name] = value
    return env


# --- effective settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveSettings:
    """Typed values of every knob for one aws-node env, defaults filled in."""

    values: Mapping[str, SettingValue]
    non_defaults: tuple[str, ...]  # knobs whose value differs from a stock install's
    notes: tuple[str, ...]  # unparsable or ignored values, as aws-node would log them
    unrecognised: tuple[str, ...] = ()  # env names that are neither knobs nor manifest-owned

    def __getitem__(self, name: str) -> SettingValue:
        return self.values[name]

    def flag(self, name: str) -> bool:
        return bool(self.values[name])

    def number(self, name: str) -> int:
        value = self.values[name]
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def prefix_delegation(self) -> bool:
        return self.flag("ENABLE_PREFIX_DELEGATION")

    @property
    def custom_networking(self) -> bool:
        return self.flag("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG")

    @property
    def pod_eni(self) -> bool:
        return self.flag("ENABLE_POD_ENI")

    @property
    def ipv6(self) -> bool:
        return self.flag("ENABLE_IPv6")

    @property
    def max_eni(self) -> int | None:
        value = self.values["MAX_ENI"]
        return value if isinstance(value, int) else None

    def warm(self) -> WarmSettings:
        return WarmSettings(
            warm_eni_target=self.number("WARM_ENI_TARGET"),
            warm_ip_target=self.number("WARM_IP_TARGET"),
            minimum_ip_target=self.number("MINIMUM_IP_TARGET"),
            warm_prefix_target=self.number("WARM_PREFIX_TARGET"),
            prefix_delegation=self.prefix_delegation,
            custom_networking=self.custom_networking,
            max_eni=self.max_eni,
            sgp_trunk=self.pod_eni,
        )


def effective_settings(env: Mapping[str, str]) -> EffectiveSettings:
    """What aws-node runs with for this container env (present-but-empty counts as set, as in Go)."""
    values: dict[str, SettingValue] = {}
    notes: list[str] = []
    for name, knob in KNOBS.items():
        if name in env:
            value, note = parse_value(knob, env[name])
            if note:
                notes.append(note)
        else:
            value = knob.code_default
        values[name] = value
    if "POD_MTU" not in env:
        values["POD_MTU"] = values["AWS_VPC_ENI_MTU"]  # main.go: GetEnv(POD_MTU, eniMTU)

    non_defaults = tuple(name for name, knob in KNOBS.items() if values[name] != _stock_value(knob, values))
    unrecognised = tuple(sorted(name for name in env if knob_for(name) is None and name not in MANIFEST_OWNED_ENV))
    return EffectiveSettings(values, non_defaults, tuple(notes), unrecognised)


def _stock_value(knob: Knob, values: Mapping[str, SettingValue]) -> SettingValue:
    if knob.name == "POD_MTU":
        return values["AWS_VPC_ENI_MTU"]
    return knob.default


# --- start-up failures --------------------------------------------------------------------------------

_RESERVED_VETH_PREFIXES = frozenset({"eth", "vlan", "lo"})
_MTU_RANGES = {False: (576, "IPv4"), True: (1280, "IPv6")}
_MAX_MTU = 9001


def startup_errors(env: Mapping[str, str]) -> list[str]:
    """Every env combination that makes aws-node exit at start, with the exact upstream message.

    The entrypoint (cmd/aws-vpc-cni) and ipamd each stop at their first failure; all are listed here.
    """
    errors: list[str] = []

    def go_bool(name: str, default: bool) -> bool:
        flag = parse_go_bool(env[name]) if name in env else None
        return default if flag is None else flag

    if env.get("AWS_VPC_K8S_PLUGIN_LOG_FILE") == "stdout":
        errors.append("AWS_VPC_K8S_PLUGIN_LOG_FILE cannot be set to stdout")
    veth_prefix = env.get("AWS_VPC_K8S_CNI_VETHPREFIX", "eni")
    if len(veth_prefix) > 4:
        errors.append("AWS_VPC_K8S_CNI_VETHPREFIX cannot be longer than 4 characters")
    if veth_prefix in _RESERVED_VETH_PREFIXES:
        errors.append("AWS_VPC_K8S_CNI_VETHPREFIX cannot be set to reserved values 'eth', 'vlan', or 'lo'")
    if go_bool("ENABLE_POD_ENI", False) and env.get("POD_SECURITY_GROUP_ENFORCING_MODE", "strict") not in (
        "strict",
        "standard",
    ):
        errors.append("POD_SECURITY_GROUP_ENFORCING_MODE must be set to either 'strict' or 'standard'")
    if "IP_COOLDOWN_PERIOD" in env:
        raw = env["IP_COOLDOWN_PERIOD"]
        cooldown = parse_go_int(raw)
        if cooldown is None or cooldown < 0:
            errors.append(f"IP_COOLDOWN_PERIOD MUST be a valid positive integer. {raw} is invalid")
    ipv6 = go_bool("ENABLE_IPv6", False)
    errors += [message for name in ("AWS_VPC_ENI_MTU", "POD_MTU") if (message := _mtu_error(env, name, ipv6))]
    if go_bool("ENABLE_PREFIX_DELEGATION", False) and all(
        # Upstream compares the raw strings with "0" (Go string order); reproduced on purpose.
        env.get(name, "0") <= "0"
        for name in ("WARM_IP_TARGET", "WARM_PREFIX_TARGET", "MINIMUM_IP_TARGET")
    ):
        errors.append(
            "Setting WARM_PREFIX_TARGET = 0 is not supported while WARM_IP_TARGET/MINIMUM_IP_TARGET is not set. "
            "Please configure either one of the WARM_{PREFIX/IP}_TARGET or MINIMUM_IP_TARGET env variables"
        )

    # ipamd (cmd/aws-k8s-agent -> ipamd.New)
    mode = env.get("NETWORK_POLICY_ENFORCING_MODE")
    if mode is not None and mode.lower() not in ("none", "strict", "standard"):
        errors.append("Initialization failure: invalid Network policy mode, supported modes: none, strict, standard")
    ipv4 = go_bool("ENABLE_IPv4", False)
    if ipv4 and ipv6:
        errors.append("IPv4 and IPv6 are both enabled. VPC CNI currently does not support dual stack mode")
    elif not ipv4 and not ipv6:
        errors.append("IPv4 and IPv6 are both disabled. One of them have to be enabled")
    elif ipv6 and (_custom_networking(env) or not go_bool("ENABLE_PREFIX_DELEGATION", False)):
        errors.append(
            "IPv6 is supported only in Prefix Delegation mode. Custom Networking is not supported in IPv6 mode. "
            "Please set the env variables accordingly."
        )
    return errors


def instance_startup_errors(env: Mapping[str, str], instance_type: str, supports_prefix_delegation: bool) -> list[str]:
    """What makes ipamd exit on one instance type (ipamd.go isConfigValid): IPv6 needs prefix delegation, which
    exists on Nitro and bare-metal types only (elsewhere it falls back in IPv4, but is fatal in IPv6)."""
    settings = effective_settings(env)
    if settings.ipv6 and settings.prefix_delegation and not supports_prefix_delegation:
        return [
            f"Prefix Delegation is not supported on non-nitro instance {instance_type}. IPv6 is only supported in "
            "Prefix delegation Mode. "
        ]
    return []


def _custom_networking(env: Mapping[str, str]) -> bool:
    # ipamd's parseBoolEnvVar: empty or unparsable -> false.
    return parse_go_bool(env.get("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "")) is True


def _mtu_error(env: Mapping[str, str], name: str, ipv6: bool) -> str | None:
    if name not in env:
        return None
    raw = env[name]
    mtu = parse_go_int(raw)
    if mtu is None:
        return f"{name} MUST be a valid integer. {raw} is invalid"
    minimum, family = _MTU_RANGES[ipv6]
    if not minimum <= mtu <= _MAX_MTU:
        return f"{name} cannot be less than {minimum} or greater than {_MAX_MTU} in {family}. {raw} is invalid"
    return None


# --- warm-pool problems (cni-reference 3.2 #10) --------------------------------------------------------

WARM_TARGET_MISCONFIG = "WARM_TARGET_MISCONFIG"
WARM_TARGET_IGNORED = "WARM_TARGET_IGNORED"
TINY_WARM_IP_TARGET = 2  # at or below this, every pod start/stop tends to trigger EC2 calls


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    fix: str = ""
    suggested: tuple[tuple[str, str], ...] = ()  # env values that would fix it

    @property
    def suggested_env(self) -> dict[str, str]:
        return dict(self.suggested)


def warm_pool_problems(settings: EffectiveSettings, *, pods_per_node: int | None = None) -> list[Problem]:
    """Warm-target settings that starve pods, slow them down or multiply EC2 calls.

    ``pods_per_node`` (typical pods on a node) makes the suggested MINIMUM_IP_TARGET concrete.
    """
    if settings.ipv6:
        return []  # warm targets are ignored in IPv6 mode (one /80 per node)
    warm_ip = settings.number("WARM_IP_TARGET")
    minimum = settings.number("MINIMUM_IP_TARGET")
    floor = str(pods_per_node if pods_per_node else max(minimum, 10))
    problems: list[Problem] = []
    if minimum > 0 and warm_ip == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.ERROR,
                f"MINIMUM_IP_TARGET={minimum} without WARM_IP_TARGET freezes each node's pool at {minimum} IPs: "
                "pods beyond that get no IP (failed to assign an IP address to container).",
                "Set WARM_IP_TARGET as well (README pairing: MINIMUM_IP_TARGET near the usual pod count, "
                "WARM_IP_TARGET=2).",
                (("WARM_IP_TARGET", "2"),),
            )
        )
    elif 0 < warm_ip <= TINY_WARM_IP_TARGET and minimum == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.WARNING,
                f"WARM_IP_TARGET={warm_ip} without MINIMUM_IP_TARGET: nearly every pod start or stop makes ipamd "
                "call EC2 (Assign/UnassignPrivateIpAddresses), which throttles the account under churn.",
                "Add MINIMUM_IP_TARGET near the usual pods per node so the pool is pre-scaled.",
                (("MINIMUM_IP_TARGET", floor),),
            )
        )
    elif warm_ip > 0 and minimum == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.INFO,
                f"WARM_IP_TARGET={warm_ip} is set without MINIMUM_IP_TARGET; the README strongly suggests both.",
                "Add MINIMUM_IP_TARGET near the usual pods per node.",
                (("MINIMUM_IP_TARGET", floor),),
            )
        )
    ip_targets = warm_ip > 0 or minimum > 0
    if not ip_targets and not settings.prefix_delegation and settings.number("WARM_ENI_TARGET") == 0:
        problems.append(
            Problem(
                WARM_TARGET_MISCONFIG,
                Severity.WARNING,
                "WARM_ENI_TARGET=0 with no IP targets: a node's pool grows only once it is empty, so the next pod "
                "waits for EC2 (a new ENI takes up to ~10 s).",
                "Keep one ENI warm, or use WARM_IP_TARGET with MINIMUM_IP_TARGET for finer control.",
                (("WARM_ENI_TARGET", "1"),),
            )
        )
    problems += _ignored_targets(settings, ip_targets)
    return problems


def _ignored_targets(settings: EffectiveSettings, ip_targets: bool) -> list[Problem]:
    ignored: list[tuple[str, str]] = []
    if "WARM_ENI_TARGET" in settings.non_defaults and (ip_targets or settings.prefix_delegation):
        why = "WARM_IP_TARGET/MINIMUM_IP_TARGET" if ip_targets else "prefix delegation (WARM_PREFIX_TARGET)"
        ignored.append(("WARM_ENI_TARGET", why))
    if settings.prefix_delegation and ip_targets and settings.number("WARM_PREFIX_TARGET") > 0:
        ignored.append(("WARM_PREFIX_TARGET", "WARM_IP_TARGET/MINIMUM_IP_TARGET"))
    return [
        Problem(WARM_TARGET_IGNORED, Severity.INFO, f"{name} is ignored: {why} takes precedence.")
        for name, why in ignored
    ]


# --- change validation --------------------------------------------------------------------------------


class EnvChange(NamedTuple):
    key: str
    old: str | None
    new: str | None  # None = unset


@dataclass(frozen=True)
class ChangeCheck:
    diff: tuple[EnvChange, ...]
    errors: tuple[str, ...]  # the change is refused when any
    warnings: tuple[str, ...]
    risk: Risk
    needs_node_replacement: bool
    needs_max_pods: bool
    impact: str  # plain-language sentence on what applying it takes
    containers: tuple[str, ...] = ()  # containers whose env the diff touches

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_change(current_env: Mapping[str, str], changes: Mapping[str, str | None]) -> ChangeCheck:
    """Check a proposed aws-node env change (``None`` = unset the variable) before anyone approves it."""
    diff, errors, warnings = _diff(current_env, changes)
    new_env = _apply(current_env, diff)
    before_errors = set(startup_errors(current_env))
    for message in startup_errors(new_env):
        if message in before_errors:
            warnings.append(f"aws-node already fails to start with the current settings: {message}")
        else:
            errors.append(f"aws-node would exit at start: {message}")

    before, after = effective_settings(current_env), effective_settings(new_env)
    warnings += _new_warm_pool_warnings(before, after)
    warnings += _change_warnings(diff, before, after)

    changed = [knob for change in diff if (knob := knob_for(change.key)) is not None]
    # An unmodelled setting's effect cannot be told apart from a no-op: count it as a change.
    effective = [knob for knob in changed if not knob.modelled or before[knob.name] != after[knob.name]]
    needs_max_pods = any(knob.name in _CAPACITY_KNOBS for knob in effective)
    needs_replacement = _needs_node_replacement(effective, before, after)
    return ChangeCheck(
        diff=tuple(diff),
        errors=tuple(errors),
        warnings=tuple(warnings),
        # Rewording a value without changing its meaning ("True" -> "true") only rolls aws-node out.
        risk=max((knob.risk for knob in effective), key=lambda risk: risk.rank, default=Risk.LOW),
        needs_node_replacement=needs_replacement,
        needs_max_pods=needs_max_pods,
        impact=_impact_sentence(changed, effective, needs_replacement, needs_max_pods),
        containers=tuple(sorted({name for knob in changed for name in knob.containers})),
    )


def _diff(
    current_env: Mapping[str, str], changes: Mapping[str, str | None]
) -> tuple[list[EnvChange], list[str], list[str]]:
    """(diff, errors, warnings) of the requested keys: unknown keys and bad values refused, no-ops dropped."""
    diff: list[EnvChange] = []
    errors: list[str] = []
    warnings: list[str] = []
    for key, new in changes.items():
        knob = knob_for(key)
        if knob is None:
            errors.append(_unknown_key_message(key))
            continue
        old = current_env.get(key)
        if new == old:
            warnings.append(f"{key} is already {'unset' if new is None else new!r}; nothing to change.")
        elif new is not None and (problem := value_error(knob, new)):
            errors.append(problem)
        else:
            diff.append(EnvChange(key, old, new))
    if not diff and not errors:
        errors.append("Nothing to change.")
    return diff, errors, warnings


def _new_warm_pool_warnings(before: EffectiveSettings, after: EffectiveSettings) -> list[str]:
    known = {(problem.code, problem.message) for problem in warm_pool_problems(before)}
    return [
        f"{problem.message} {problem.fix}".strip()
        for problem in warm_pool_problems(after)
        if problem.severity != Severity.INFO and (problem.code, problem.message) not in known
    ]


def value_error(knob: Knob, raw: str) -> str | None:
    """Why ``raw`` is not a value the bot should write for ``knob`` (None = acceptable)."""
    match knob.kind:
        case KnobType.BOOL:
            if parse_go_bool(raw) is None:
                return f"{knob.name} must be true or false (got {raw!r})."
        case KnobType.INT:
            number = parse_go_int(raw)
            if number is None and beyond_int64(raw):
                then = "aws-node exits at start" if knob.bad_int_exits else f"aws-node uses {_show(knob.code_default)}"
                return (
                    f"{knob.name}={raw} is beyond Go's int64 range: aws-node's strconv.Atoi refuses it "
                    f"(value out of range) and {then}."
                )
            if number is None:
                return f"{knob.name} must be a whole number (got {raw!r})."
            if knob.unset_at_or_below is not None and number <= knob.unset_at_or_below:
                return None  # accepted: it means unset (validate_change says so)
            if not _in_range(knob, number):
                return f"{knob.name} must be {_range_text(knob)} (got {number})."
        case KnobType.ENUM:
            if _enum_match(knob, raw) is None:
                return f"{knob.name} must be one of {', '.join(knob.allowed)} (got {raw!r})."
        case KnobType.CIDR_LIST | KnobType.JSON:
            _, note = parse_value(knob, raw)
            if note:
                return f"{note}."
        case KnobType.STR:
            if raw == "" and knob.empty_is_default:
                return f"{knob.name} cannot be empty; unset it to use the default."
    return None


def _unknown_key_message(key: str) -> str:
    if key in MANIFEST_OWNED_ENV:
        return f"{key} is set by the aws-node manifest and is not a setting the bot changes."
    close = difflib.get_close_matches(key.upper(), KNOBS, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"Unknown aws-node setting {key}.{hint}"


def _apply(env: Mapping[str, str], diff: list[EnvChange]) -> dict[str, str]:
    result = dict(env)
    for change in diff:
        if change.new is None:
            result.pop(change.key, None)
        else:
            result[change.key] = change.new
    return result


def _change_warnings(diff: list[EnvChange], before: EffectiveSettings, after: EffectiveSettings) -> list[str]:
    warnings: list[str] = []
    keys = {change.key: change for change in diff}
    if "ENABLE_IPv4" in keys and keys["ENABLE_IPv4"].new is None:
        warnings.append("Never remove ENABLE_IPv4 from aws-node: without it ipamd treats IPv4 as disabled.")
    if "IP_COOLDOWN_PERIOD" in keys:
        old, new = before.number("IP_COOLDOWN_PERIOD"), after.number("IP_COOLDOWN_PERIOD")
        if new > old:
            warnings.append(f"A longer IP_COOLDOWN_PERIOD ({old}s -> {new}s) means more EC2 calls under pod churn.")
        elif new == 0:
            warnings.append(
                "IP_COOLDOWN_PERIOD=0 is supported but highly discouraged: kube-proxy may still route to a reused IP."
            )
    for change in diff:
        knob = knob_for(change.key)
        if knob is not None and not knob.modelled and change.new is not None:
            warnings.append(
                f"{change.key} is a real aws-node setting that cnibot does not model ({knob.description}) It is "
                "written as given: the bot cannot check the value or predict its effect."
            )
    connmark = keys.get("AWS_VPC_K8S_CNI_CONNMARK")
    if connmark is not None and connmark.new is not None and parse_connmark(connmark.new) is None:
        warnings.append(
            f"AWS_VPC_K8S_CNI_CONNMARK={connmark.new} is not a mark aws-node accepts (an integer 1 to 4294967295, "
            "decimal, 0x hex or 0 octal): it logs so and uses the default 0x80."
        )
    max_eni = keys.get("MAX_ENI")
    if max_eni is not None and max_eni.new is not None:
        number = parse_go_int(max_eni.new)
        if number is not None and number <= 0:
            warnings.append(unset_note(KNOBS["MAX_ENI"], number) + ".")
    if "MAX_ENI" in keys and (after.max_eni or 0) and after.max_eni != before.max_eni:
        warnings.append("MAX_ENI does not change kubelet max-pods: lower max-pods too or pods will starve for IPs.")
    if after.prefix_delegation and not before.prefix_delegation:
        warnings.append(
            "Prefix delegation needs free, aligned /28 blocks in the subnets and works on Nitro "
            "instances only (others fall back to secondary IPs)."
        )
    for change in diff:
        knob = knob_for(change.key)
        if knob is not None and knob.effect is Effect.NEW_ENIS:
            warnings.append(f"{change.key} applies to ENIs created from now on; existing ENIs keep the old one.")
    return warnings


def _needs_node_replacement(effective: list[Knob], before: EffectiveSettings, after: EffectiveSettings) -> bool:
    for knob in effective:
        if knob.effect is Effect.REPLACE_NODES:
            return True
        if knob.name == "ENABLE_POD_ENI" and before.pod_eni and not after.pod_eni:
            return True  # the trunk ENI stays attached until the instance is recycled
        if knob.name == "ENABLE_PREFIX_DELEGATION":
            return True  # EKS guidance: move to new node groups rather than mixing modes on a node
    return False


def _impact_sentence(changed: list[Knob], effective: list[Knob], needs_replacement: bool, needs_max_pods: bool) -> str:
    if not changed:
        return "No change."
    if not effective:
        return "aws-node rolls out (10% of nodes at a time), but its behaviour stays the same."
    names = ", ".join(knob.name for knob in effective)
    if needs_replacement:
        tail = " and set kubelet max-pods on the new nodes to the new IP capacity" if needs_max_pods else ""
        return (
            f"aws-node rolls out, then existing nodes must be replaced (cordon, drain, terminate) for {names} "
            f"to take effect everywhere{tail}."
        )
    if needs_max_pods:
        return (
            f"aws-node rolls out, and kubelet max-pods must change (new launch template or node group) to "
            f"match the IP capacity under {names}."
        )
    if all(knob.effect is Effect.NEW_ENIS for knob in effective):
        return f"aws-node rolls out; only ENIs created afterwards follow {names}."
    return (
        "aws-node rolls out (10% of nodes at a time); while a node's aws-node restarts, new pods there wait a "
        "few seconds for an IP."
    )


# --- versions -----------------------------------------------------------------------------------------

_IMAGE_TAG_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.\-]*)?$")


def cni_version_from_image(image: str) -> str | None:
    """``...amazon-k8s-cni:v1.19.2-eksbuild.1`` -> ``"1.19.2"``; None without a version tag."""
    reference = image.split("@", 1)[0]  # drop a digest
    last_part = reference.rsplit("/", 1)[-1]
    if ":" not in last_part:
        return None
    tag = last_part.rsplit(":", 1)[1]
    match = _IMAGE_TAG_VERSION.match(tag)
    return ".".join(match.groups()) if match else None


def parse_version(version: str) -> tuple[int, int, int] | None:
    match = _IMAGE_TAG_VERSION.match(version.strip())
    if not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def version_at_least(version: str, minimum: str) -> bool:
    """Compare release versions (``v`` prefix and ``-eksbuild.N`` suffix allowed); ValueError if unparsable."""
    have, want = parse_version(version), parse_version(minimum)
    if have is None or want is None:
        raise ValueError(f"cannot compare versions {version!r} and {minimum!r}")
    return have >= want
