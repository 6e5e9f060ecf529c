"""The aws-node knob catalogue: every setting the bot models, with its upstream default and behaviour,
and the real settings it passes through unmodelled. One entry per knob (cni-reference section 1).

Just over 500 lines: a catalogue, one entry per knob; splitting it would only scatter the entries.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.knobs import AWS_NODE, INIT_CONTAINER, Effect, Knob, KnobGroup, KnobType, Risk


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
    groups: frozenset[KnobGroup] = frozenset(),
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
        groups=groups,
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
    groups: frozenset[KnobGroup] = frozenset(),
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
        groups=groups,
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
    groups: frozenset[KnobGroup] = frozenset(),
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
        groups=groups,
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
    groups: frozenset[KnobGroup] = frozenset(),
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
        groups=groups,
    )


_LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_HIGH, _MEDIUM = Risk.HIGH, Risk.MEDIUM

_CATALOGUE: tuple[Knob, ...] = (
    # 1.1 warm pool and capacity
    _int(
        "WARM_ENI_TARGET",
        1,
        "1",
        "Whole ENIs of free IPs to keep warm (secondary-IP mode).",
        minimum=0,
        groups=frozenset({KnobGroup.WARM_POOL, KnobGroup.IP_ALLOCATION}),
    ),
    _int(
        "WARM_IP_TARGET",
        0,
        None,
        "Free IPs to keep warm; overrides WARM_ENI/WARM_PREFIX_TARGET.",
        minimum=0,
        groups=frozenset({KnobGroup.WARM_POOL, KnobGroup.IP_ALLOCATION}),
    ),
    _int(
        "MINIMUM_IP_TARGET",
        0,
        None,
        "Floor on IPs attached to each node (pre-scaling).",
        minimum=0,
        since="1.6.0",
        groups=frozenset({KnobGroup.WARM_POOL, KnobGroup.IP_ALLOCATION}),
    ),
    _int(
        "WARM_PREFIX_TARGET",
        0,
        "1",
        "Free /28 prefixes to keep warm (prefix delegation).",
        minimum=0,
        since="1.9.0",
        groups=frozenset({KnobGroup.WARM_POOL, KnobGroup.IP_ALLOCATION}),
    ),
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
        groups=frozenset({KnobGroup.NODE_CAPACITY, KnobGroup.IP_ALLOCATION}),
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
        groups=frozenset({KnobGroup.IP_ALLOCATION}),
    ),
    _bool(
        "AWS_MANAGE_ENIS_NON_SCHEDULABLE",
        False,
        None,
        "Grow/shrink the pool on cordoned nodes.",
        since="1.12.6",
        groups=frozenset({KnobGroup.IP_ALLOCATION}),
    ),
    _bool(
        "ENABLE_PREFIX_DELEGATION",
        False,
        "false",
        "Assign /28 prefixes instead of single secondary IPs.",
        risk=_HIGH,
        effect=Effect.MAX_PODS,
        since="1.9.0",
        groups=frozenset({KnobGroup.NODE_CAPACITY, KnobGroup.IP_ALLOCATION}),
    ),
    _bool(
        "ENABLE_SUBNET_DISCOVERY",
        True,
        "true",
        "Put new ENIs in the subnet with most free IPs (tag kubernetes.io/role/cni).",
        effect=Effect.NEW_ENIS,
        since="1.18.0",
        groups=frozenset({KnobGroup.IP_ALLOCATION}),
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
        groups=frozenset({KnobGroup.NODE_CAPACITY, KnobGroup.IP_ALLOCATION}),
    ),
    _str(
        "ENI_CONFIG_LABEL_DEF",
        "k8s.amazonaws.com/eniConfig",
        None,
        "Node label whose value names the ENIConfig.",
        empty_is_default=True,
        risk=_MEDIUM,
        effect=Effect.NEW_ENIS,
        groups=frozenset({KnobGroup.IP_ALLOCATION}),
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
        groups=frozenset({KnobGroup.NODE_CAPACITY, KnobGroup.IP_ALLOCATION}),
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


def knob_env(container_env: Mapping[str, str], init_env: Mapping[str, str]) -> dict[str, str]:
    """The aws-node env as the knobs see it: the aws-node container's, plus the knobs that live only on the
    init container (DISABLE_TCP_EARLY_DEMUX)."""
    env = dict(container_env)
    for name, value in init_env.items():
        knob = KNOBS.get(name)
        if knob is not None and knob.container == INIT_CONTAINER:
            env[name] = value
    return env


def knobs_in(group: KnobGroup) -> tuple[str, ...]:
    """The names of the catalogue's knobs in ``group``, in catalogue order."""
    return tuple(name for name, knob in KNOBS.items() if group in knob.groups)
