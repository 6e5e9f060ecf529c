"""aws-node's view of its environment: defaults, parsing and start-up validation as upstream does, and the
Prometheus text ipamd serves on :61678/metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

CNI_VERSION = "v1.19.2"
CNI_IMAGE_TAG = f"{CNI_VERSION}-eksbuild.1"

# Env of the aws-node container as the shipped manifest sets it (CLUSTER_NAME is added per cluster).
MANIFEST_ENV: dict[str, str] = {
    "ADDITIONAL_ENI_TAGS": "{}",
    "ANNOTATE_POD_IP": "false",
    "AWS_VPC_CNI_NODE_PORT_SUPPORT": "true",
    "AWS_VPC_ENI_MTU": "9001",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false",
    "AWS_VPC_K8S_CNI_EXTERNALSNAT": "false",
    "AWS_VPC_K8S_CNI_LOGLEVEL": "DEBUG",
    "AWS_VPC_K8S_CNI_LOG_FILE": "/host/var/log/aws-routed-eni/ipamd.log",
    "AWS_VPC_K8S_CNI_RANDOMIZESNAT": "prng",
    "AWS_VPC_K8S_CNI_VETHPREFIX": "eni",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE": "/var/log/aws-routed-eni/plugin.log",
    "AWS_VPC_K8S_PLUGIN_LOG_LEVEL": "DEBUG",
    "DISABLE_INTROSPECTION": "false",
    "DISABLE_METRICS": "false",
    "DISABLE_NETWORK_RESOURCE_PROVISIONING": "false",
    "ENABLE_IPv4": "true",
    "ENABLE_IPv6": "false",
    "ENABLE_POD_ENI": "false",
    "ENABLE_PREFIX_DELEGATION": "false",
    "ENABLE_SUBNET_DISCOVERY": "true",
    "NETWORK_POLICY_ENFORCING_MODE": "standard",
    "VPC_CNI_VERSION": CNI_VERSION,
    "WARM_ENI_TARGET": "1",
    "WARM_PREFIX_TARGET": "1",
}

DEFAULT_ENI_CONFIG_KEY = "k8s.amazonaws.com/eniConfig"
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_INT64 = (-(2**63), 2**63 - 1)


def go_bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    """Go strconv.ParseBool; an unparsable value falls back to the default (as ipamd logs and does)."""
    value = env.get(key)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return default


def go_atoi(value: str) -> int | None:
    """Go strconv.Atoi on a 64-bit build: an optional sign and ASCII digits, within int64; None on error."""
    body = value[1:] if value[:1] in ("+", "-") else value
    if not body or not all("0" <= ch <= "9" for ch in body):
        return None
    number = int(value)
    return number if _INT64[0] <= number <= _INT64[1] else None


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    """An ipamd integer knob: absent or unparsable (strconv.Atoi error) means the default."""
    value = env.get(key)
    number = None if value is None else go_atoi(value)
    return default if number is None else number


@dataclass(frozen=True)
class AwsNodeConfig:
    """The knobs ipamd acts on, after parsing. `startup_error` is set when aws-node would fail at start:
    `entrypoint_exit` says the entrypoint itself exits (validateEnvVars); otherwise ipamd exits and the
    entrypoint keeps waiting for it (waitForIPAM loops forever)."""

    warm_eni_target: int = 1
    warm_ip_target: int = 0
    minimum_ip_target: int = 0
    warm_prefix_target: int = 0
    prefix_delegation: bool = False
    ipv6: bool = False
    custom_networking: bool = False
    eniconfig_label_key: str = DEFAULT_ENI_CONFIG_KEY
    eniconfig_annotation_key: str = DEFAULT_ENI_CONFIG_KEY
    max_eni: int = -1
    pod_eni: bool = False
    manage_enis_non_schedulable: bool = False
    subnet_discovery: bool = True
    ip_cooldown_period: int = 30
    cluster_name: str = ""
    manage_untagged_enis: bool = True
    multi_nic: bool = False  # ENABLE_MULTI_NIC: cards other than the default one are managed (v1.20.0+)
    leaked_eni_cleanup: bool = True  # the hourly sweep runs (ipamd.go disableLeakedENICleanup is false)
    additional_eni_tags: dict[str, str] = field(default_factory=dict)
    startup_error: str | None = None
    entrypoint_exit: bool = False

    @property
    def warm_ip_targets_defined(self) -> bool:
        return self.warm_ip_target > 0 or self.minimum_ip_target > 0


def _ipamd_bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    """ipamd's parseBoolEnvVar (custom networking, subnet discovery...): empty means the default too."""
    return go_bool(env, key, default) if env.get(key) else default


def parse_env(env: Mapping[str, str]) -> AwsNodeConfig:
    """Parse the aws-node container env as ipamd and the aws-vpc-cni entrypoint do (ipamd.go getWarmENITarget,
    getWarmIPTarget, getMinimumIPTarget, getWarmPrefixTarget, getMaxENI; datastore getCooldownPeriod)."""
    warm_eni = _int(env, "WARM_ENI_TARGET", 1)
    max_eni = _int(env, "MAX_ENI", -1)
    config = AwsNodeConfig(
        warm_eni_target=warm_eni if warm_eni >= 0 else 1,
        warm_ip_target=max(_int(env, "WARM_IP_TARGET", 0), 0),
        minimum_ip_target=max(_int(env, "MINIMUM_IP_TARGET", 0), 0),
        warm_prefix_target=max(_int(env, "WARM_PREFIX_TARGET", 0), 0),
        prefix_delegation=go_bool(env, "ENABLE_PREFIX_DELEGATION", False),
        ipv6=go_bool(env, "ENABLE_IPv6", False),
        custom_networking=_ipamd_bool(env, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", False),
        eniconfig_label_key=env.get("ENI_CONFIG_LABEL_DEF") or DEFAULT_ENI_CONFIG_KEY,
        eniconfig_annotation_key=env.get("ENI_CONFIG_ANNOTATION_DEF") or DEFAULT_ENI_CONFIG_KEY,
        max_eni=max_eni if max_eni >= 1 else -1,  # getMaxENI: 0 or below is ignored
        pod_eni=go_bool(env, "ENABLE_POD_ENI", False),
        manage_enis_non_schedulable=_ipamd_bool(env, "AWS_MANAGE_ENIS_NON_SCHEDULABLE", False),
        subnet_discovery=_ipamd_bool(env, "ENABLE_SUBNET_DISCOVERY", True),
        ip_cooldown_period=max(_int(env, "IP_COOLDOWN_PERIOD", 30), 0),
        cluster_name=env.get("CLUSTER_NAME", ""),
        manage_untagged_enis=go_bool(env, "MANAGE_UNTAGGED_ENI", True),
        multi_nic=go_bool(env, "ENABLE_MULTI_NIC", False),
        leaked_eni_cleanup=not (
            go_bool(env, "ENABLE_IPv6", False)
            or go_bool(env, "DISABLE_NETWORK_RESOURCE_PROVISIONING", False)
            or go_bool(env, "ENABLE_IMDS_ONLY_MODE", False)
            or go_bool(env, "DISABLE_LEAKED_ENI_CLEANUP", False)
        ),
        additional_eni_tags=_additional_tags(env.get("ADDITIONAL_ENI_TAGS", "{}")),
    )
    entrypoint = entrypoint_error(env)
    error = entrypoint or ipamd_config_error(env)
    if error:
        return AwsNodeConfig(**{**config.__dict__, "startup_error": error, "entrypoint_exit": bool(entrypoint)})
    return config


def startup_error(env: Mapping[str, str]) -> str | None:
    """The first message aws-node fails with for this env, or None: the entrypoint's checks, then ipamd's."""
    return entrypoint_error(env) or ipamd_config_error(env)


def entrypoint_error(env: Mapping[str, str]) -> str | None:
    """cmd/aws-vpc-cni/main.go validateEnvVars, in its order: the entrypoint logs this and exits 1."""
    if env.get("AWS_VPC_K8S_PLUGIN_LOG_FILE", "/var/log/aws-routed-eni/plugin.log") == "stdout":
        return "AWS_VPC_K8S_PLUGIN_LOG_FILE cannot be set to stdout"
    veth = env.get("AWS_VPC_K8S_CNI_VETHPREFIX", "eni")
    if len(veth) > 4:
        return "AWS_VPC_K8S_CNI_VETHPREFIX cannot be longer than 4 characters"
    if veth in ("eth", "lo", "vlan"):
        return "AWS_VPC_K8S_CNI_VETHPREFIX cannot be set to reserved values 'eth', 'vlan', or 'lo'"
    # The enforcing mode is checked only when security groups for pods are on.
    pod_eni = go_bool(env, "ENABLE_POD_ENI", False)
    if pod_eni and env.get("POD_SECURITY_GROUP_ENFORCING_MODE", "strict") not in ("strict", "standard"):
        return "POD_SECURITY_GROUP_ENFORCING_MODE must be set to either 'strict' or 'standard'"
    if "IP_COOLDOWN_PERIOD" in env:
        cooldown = go_atoi(env["IP_COOLDOWN_PERIOD"])
        if cooldown is None or cooldown < 0:
            return f"IP_COOLDOWN_PERIOD MUST be a valid positive integer. {env['IP_COOLDOWN_PERIOD']} is invalid"
    ipv6 = go_bool(env, "ENABLE_IPv6", False)
    for key in ("AWS_VPC_ENI_MTU", "POD_MTU"):  # validateMTU
        if key not in env:
            continue
        mtu = go_atoi(env[key])
        if mtu is None:
            return f"{key} MUST be a valid integer. {env[key]} is invalid"
        low, family = (1280, "IPv6") if ipv6 else (576, "IPv4")
        if not low <= mtu <= 9001:
            return f"{key} cannot be less than {low} or greater than 9001 in {family}. {env[key]} is invalid"
    # Upstream compares the raw strings with "0" (Go string order), not numbers.
    targets = [env.get(name, "0") for name in ("WARM_IP_TARGET", "WARM_PREFIX_TARGET", "MINIMUM_IP_TARGET")]
    if go_bool(env, "ENABLE_PREFIX_DELEGATION", False) and all(value <= "0" for value in targets):
        return (
            "Setting WARM_PREFIX_TARGET = 0 is not supported while WARM_IP_TARGET/MINIMUM_IP_TARGET is not set. "
            "Please configure either one of the WARM_{PREFIX/IP}_TARGET or MINIMUM_IP_TARGET env variables"
        )
    return None


IPAMD_INIT_FAILURE = "Initialization failure: "  # cmd/aws-k8s-agent/main.go, before the error ipamd.New returns
IPAMD_CONFIG_INVALID = "ipamd: failed to validate configuration"


def ipamd_config_error(env: Mapping[str, str]) -> str | None:
    """What ipamd.New refuses from the env alone (getNetworkPolicyMode, then isConfigValid), as ipamd logs it.

    The prefix-delegation-on-non-Nitro check of isConfigValid needs the instance type: see nitro_ipv6_error.
    """
    mode = env.get("NETWORK_POLICY_ENFORCING_MODE")
    if mode is not None and mode.lower() not in ("none", "strict", "standard"):
        return "invalid Network policy mode, supported modes: none, strict, standard"
    ipv4 = go_bool(env, "ENABLE_IPv4", False)  # code default is false: removing the variable disables IPv4
    ipv6 = go_bool(env, "ENABLE_IPv6", False)
    if ipv4 and ipv6:
        return "IPv4 and IPv6 are both enabled. VPC CNI currently does not support dual stack mode"
    if not ipv4 and not ipv6:
        return "IPv4 and IPv6 are both disabled. One of them have to be enabled"
    custom_networking = _ipamd_bool(env, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", False)
    if ipv6 and (custom_networking or not go_bool(env, "ENABLE_PREFIX_DELEGATION", False)):
        return (
            "IPv6 is supported only in Prefix Delegation mode. Custom Networking is not supported in IPv6 mode. "
            "Please set the env variables accordingly."
        )
    return None


def nitro_ipv6_error(config: AwsNodeConfig, instance_type: str, supports_prefix_delegation: bool) -> str | None:
    """isConfigValid on the instance: prefix delegation is needed for IPv6 and exists on Nitro/bare metal only."""
    if config.ipv6 and config.prefix_delegation and not supports_prefix_delegation:
        return (
            f"Prefix Delegation is not supported on non-nitro instance {instance_type}. IPv6 is only supported in "
            "Prefix delegation Mode. "
        )
    return None


def _additional_tags(text: str) -> dict[str, str]:
    try:
        tags = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(tags, dict):
        return {}
    # ipamd ignores keys in its own namespace.
    return {str(k): str(v) for k, v in tags.items() if "k8s.amazonaws.com" not in str(k)}


@dataclass
class IpamdMetrics:
    """Counters and gauges one node's ipamd exposes (awscni_*)."""

    eni_max: int = 0
    ip_max: int = 0
    eni_allocated: int = 0
    total_ip_addresses: int = 0
    assigned_ip_addresses: int = 0
    total_ipv4_prefixes: int = 0
    no_available_ip_addresses: int = 0
    add_ip_req_count: int = 0
    del_ip_req_count: int = 0
    aws_api_errors: dict[tuple[str, str], int] = field(default_factory=dict)
    ipamd_errors: dict[str, int] = field(default_factory=dict)
    action_inprogress: dict[str, int] = field(default_factory=dict)
    ec2_requests: dict[str, int] = field(default_factory=dict)

    def count_api_error(self, api: str, code: str) -> None:
        self.aws_api_errors[(api, code)] = self.aws_api_errors.get((api, code), 0) + 1

    def count_ipamd_error(self, fn: str) -> None:
        self.ipamd_errors[fn] = self.ipamd_errors.get(fn, 0) + 1

    def count_ec2_request(self, api: str) -> None:
        self.ec2_requests[api] = self.ec2_requests.get(api, 0) + 1


def render_metrics(metrics: IpamdMetrics, version: str = CNI_VERSION) -> str:
    """Prometheus text exposition format, as ipamd's /metrics serves it."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            out.append(f"{name}{labels} {value:g}")

    def labelled(pairs: dict[str, str]) -> str:
        return "{" + ",".join(f'{k}="{v}"' for k, v in pairs.items()) + "}"

    family(
        "awscni_add_ip_req_count",
        "counter",
        "The number of add IP address requests",
        [("", metrics.add_ip_req_count)],
    )
    family(
        "awscni_assigned_ip_addresses",
        "gauge",
        "The number of IP addresses assigned to pods",
        [("", metrics.assigned_ip_addresses)],
    )
    family(
        "awscni_aws_api_error_count",
        "counter",
        "The number of times AWS API returns an error",
        [(labelled({"api": api, "error": code}), n) for (api, code), n in sorted(metrics.aws_api_errors.items())],
    )
    family(
        "awscni_build_info",
        "gauge",
        "A metric with a constant '1' value labeled by version, revision, and goversion from which amazon-vpc-cni "
        "was built.",
        [(labelled({"goversion": "go1.23.6", "version": version}), 1)],
    )
    family(
        "awscni_del_ip_req_count",
        "counter",
        "The number of delete IP address requests",
        [(labelled({"reason": "PodDeleted"}), metrics.del_ip_req_count)] if metrics.del_ip_req_count else [],
    )
    family(
        "awscni_ec2api_req_count",
        "counter",
        "The number of requests made to EC2 APIs by CNI",
        [(labelled({"fn": api}), n) for api, n in sorted(metrics.ec2_requests.items())],
    )
    family("awscni_eni_allocated", "gauge", "The number of ENIs allocated", [("", metrics.eni_allocated)])
    family(
        "awscni_eni_max",
        "gauge",
        "The maximum number of ENIs that can be attached to the instance, accounting for unmanaged ENIs",
        [("", metrics.eni_max)],
    )
    family(
        "awscni_ip_max",
        "gauge",
        "The maximum number of IP addresses that can be allocated to the instance",
        [("", metrics.ip_max)],
    )
    family(
        "awscni_ipamd_action_inprogress",
        "gauge",
        "The number of ipamd actions in progress",
        [(labelled({"fn": fn}), n) for fn, n in sorted(metrics.action_inprogress.items())],
    )
    family(
        "awscni_ipamd_error_count",
        "counter",
        "The number of errors encountered in ipamd",
        [(labelled({"fn": fn}), n) for fn, n in sorted(metrics.ipamd_errors.items())],
    )
    family(
        "awscni_no_available_ip_addresses",
        "counter",
        "The number of pod IP assignments that fail due to no available IP addresses",
        [("", metrics.no_available_ip_addresses)],
    )
    family(
        "awscni_total_ip_addresses",
        "gauge",
        "The total number of IP addresses",
        [("", metrics.total_ip_addresses)],
    )
    family(
        "awscni_total_ipv4_prefixes",
        "gauge",
        "The total number of IPv4 prefixes",
        [("", metrics.total_ipv4_prefixes)],
    )
    return "\n".join(out) + "\n"
