"""Conformance rows: what makes aws-node fail at start, and how it parses its settings, as upstream does it.

Each row cites the upstream file and function (aws/amazon-vpc-cni-k8s v1.23.1, commit b52188387), the env
(on top of the shipped manifest's) and the expected result; it runs against the bot's validation
(bot/domain/knobs, cni_settings, settings_change, fleet_checks) and the simulator's aws-node (simulator/awsnode,
simulator/ipamd, simulator/awsnode_logs).
The strings quoted were checked to be the same at v1.19.2 (the version the simulator runs) as at v1.23.1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import pytest

from bot.domain.cni_settings import effective_settings, instance_startup_errors, startup_errors
from bot.domain.diagnosis.signals import SandboxFailure, classify_sandbox
from bot.domain.eniconfig import CUSTOM_NETWORKING_INIT_FAILURE, custom_networking_gaps
from bot.domain.fleet_checks import check_fleet
from bot.domain.instance_limits import InstanceLimits
from bot.domain.knob_catalogue import KNOBS, MANIFEST_OWNED_ENV, knob_for
from bot.domain.settings_change import validate_change
from simulator import objects
from simulator.awsnode import MANIFEST_ENV, go_atoi, parse_env
from simulator.awsnode_logs import CHECKING_IPAM, COPIED_CONFIG, aws_node_log
from simulator.cluster import SimCluster
from simulator.cluster_layout import ENICONFIG_API
from simulator.instance_types import INSTANCE_TYPES
from simulator.ipamd import CUSTOM_NETWORKING_INIT_ERROR, NodeIpamd
from simulator.model import Ec2Model
from simulator.scenarios import load_scenario, parse_scenario

VALIDATE = "cmd/aws-vpc-cni/main.go: validateEnvVars"
VALIDATE_MTU = "cmd/aws-vpc-cni/main.go: validateMTU"
NEW = "pkg/ipamd/ipamd.go: New -> getNetworkPolicyMode"
CONFIG_VALID = "pkg/ipamd/ipamd.go: isConfigValid"
ENTRYPOINT, IPAMD = "entrypoint", "ipamd"
STARTED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class StartRow(NamedTuple):
    source: str
    env: dict[str, str]  # over the manifest's env
    expected: str | None  # the message aws-node fails with (None: it starts)
    stage: str = ENTRYPOINT  # which process stops: the entrypoint exits 1, or ipamd exits and waitForIPAM loops


START_ROWS = (
    StartRow(
        VALIDATE, {"AWS_VPC_K8S_PLUGIN_LOG_FILE": "stdout"}, "AWS_VPC_K8S_PLUGIN_LOG_FILE cannot be set to stdout"
    ),
    StartRow(
        VALIDATE,
        {"AWS_VPC_K8S_CNI_VETHPREFIX": "abcde"},
        "AWS_VPC_K8S_CNI_VETHPREFIX cannot be longer than 4 characters",
    ),
    StartRow(
        VALIDATE,
        {"AWS_VPC_K8S_CNI_VETHPREFIX": "vlan"},
        "AWS_VPC_K8S_CNI_VETHPREFIX cannot be set to reserved values 'eth', 'vlan', or 'lo'",
    ),
    StartRow(
        VALIDATE,
        {"ENABLE_POD_ENI": "true", "POD_SECURITY_GROUP_ENFORCING_MODE": "loose"},
        "POD_SECURITY_GROUP_ENFORCING_MODE must be set to either 'strict' or 'standard'",
    ),
    # The enforcing mode is validated only under ENABLE_POD_ENI.
    StartRow(VALIDATE, {"POD_SECURITY_GROUP_ENFORCING_MODE": "loose"}, None),
    StartRow(
        VALIDATE, {"IP_COOLDOWN_PERIOD": "-1"}, "IP_COOLDOWN_PERIOD MUST be a valid positive integer. -1 is invalid"
    ),
    # strconv.Atoi: beyond int64 is an error ("value out of range"), so the entrypoint exits.
    StartRow(
        VALIDATE,
        {"IP_COOLDOWN_PERIOD": "9223372036854775808"},
        "IP_COOLDOWN_PERIOD MUST be a valid positive integer. 9223372036854775808 is invalid",
    ),
    StartRow(VALIDATE_MTU, {"AWS_VPC_ENI_MTU": "abc"}, "AWS_VPC_ENI_MTU MUST be a valid integer. abc is invalid"),
    StartRow(
        VALIDATE_MTU,
        {"POD_MTU": "100"},
        "POD_MTU cannot be less than 576 or greater than 9001 in IPv4. 100 is invalid",
    ),
    StartRow(
        VALIDATE,
        {"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "0"},
        "Setting WARM_PREFIX_TARGET = 0 is not supported while WARM_IP_TARGET/MINIMUM_IP_TARGET is not set. "
        "Please configure either one of the WARM_{PREFIX/IP}_TARGET or MINIMUM_IP_TARGET env variables",
    ),
    # ipamd's int knobs fall back to their default on an Atoi error: no start-up failure.
    StartRow("pkg/ipamd/ipamd.go: getWarmIPTarget", {"WARM_IP_TARGET": "9223372036854775808"}, None),
    StartRow("pkg/ipamd/ipamd.go: getMaxENI", {"MAX_ENI": "0"}, None),
    StartRow(
        NEW,
        {"NETWORK_POLICY_ENFORCING_MODE": "audit"},
        "invalid Network policy mode, supported modes: none, strict, standard",
        IPAMD,
    ),
    StartRow(
        CONFIG_VALID,
        {"ENABLE_IPv6": "true"},
        "IPv4 and IPv6 are both enabled. VPC CNI currently does not support dual stack mode",
        IPAMD,
    ),
    StartRow(
        CONFIG_VALID, {"ENABLE_IPv4": "false"}, "IPv4 and IPv6 are both disabled. One of them have to be enabled", IPAMD
    ),
    StartRow(
        CONFIG_VALID,
        {"ENABLE_IPv4": "false", "ENABLE_IPv6": "true"},
        "IPv6 is supported only in Prefix Delegation mode. Custom Networking is not supported in IPv6 mode. "
        "Please set the env variables accordingly.",
        IPAMD,
    ),
    StartRow(
        CONFIG_VALID,
        {
            "ENABLE_IPv4": "false",
            "ENABLE_IPv6": "true",
            "ENABLE_PREFIX_DELEGATION": "true",
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
        },
        "IPv6 is supported only in Prefix Delegation mode. Custom Networking is not supported in IPv6 mode. "
        "Please set the env variables accordingly.",
        IPAMD,
    ),
)


def _ids(row: StartRow) -> str:
    return ",".join(f"{k}={v[:12]}" for k, v in row.env.items())


@pytest.mark.parametrize("row", START_ROWS, ids=_ids)
def test_startup_verdict_of_the_bot_and_the_simulator(row: StartRow) -> None:
    env = {**MANIFEST_ENV, **row.env}
    config = parse_env(env)
    bot = startup_errors(env)
    if row.expected is None:
        assert config.startup_error is None and bot == [], row.source
        return
    assert config.startup_error == row.expected, row.source
    assert config.entrypoint_exit is (row.stage == ENTRYPOINT)
    assert any(row.expected in message for message in bot), (row.source, bot)


@pytest.mark.parametrize("row", [r for r in START_ROWS if r.expected], ids=_ids)
def test_startup_logs_are_upstreams_lines_only(row: StartRow) -> None:
    """cmd/aws-vpc-cni/main.go: _main and waitForIPAM; the entrypoint logs with logrus, ipamd to its file."""
    env = {**MANIFEST_ENV, **row.env}
    config = parse_env(env)
    ipamd = NodeIpamd(Ec2Model(), "i-0123456789abcdef0", "ip-10-0-1-5.us-east-2.compute.internal")
    ipamd.startup_error = config.startup_error
    lines = aws_node_log(ipamd, env, STARTED, entrypoint_exit=config.entrypoint_exit).splitlines()
    text = "\n".join(lines)
    for invented in ("Validating env variables", "Install CNI binaries", "Timed out waiting for IPAM daemon"):
        assert invented not in text
    if row.stage == ENTRYPOINT:
        assert lines[-1] == f'time="2026-12-01T12:00:00Z" level=error msg="{row.expected}"'
        # utils.GetIntFromStringEnvVar: an Atoi failure is logged first, then validateEnvVars' reason.
        bad = [(k, v) for k, v in row.env.items() if k.endswith(("MTU", "COOLDOWN_PERIOD")) and go_atoi(v) is None]
        assert lines[:-1] == [
            f'time="2026-12-01T12:00:00Z" level=error msg="Failed to parse variable {k} with value {v} as integer"'
            for k, v in bad
        ]
    else:
        # ipamd exits; waitForIPAM loops on the health probe forever, so the entrypoint says nothing more.
        assert lines[-1].endswith(f'msg="{CHECKING_IPAM}"') and COPIED_CONFIG not in text
        on_stdout = aws_node_log(
            ipamd, {**env, "AWS_VPC_K8S_CNI_LOG_FILE": "stdout"}, STARTED, entrypoint_exit=False
        ).splitlines()
        assert '"msg":"Initialization failure: ' in on_stdout[-1]


@pytest.mark.parametrize("stage", [ENTRYPOINT, IPAMD])
def test_a_failing_aws_node_has_no_termination_message(stage: str) -> None:
    """The manifest sets no terminationMessagePolicy and aws-node writes no /dev/termination-log."""
    container = {"name": "aws-node", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1"}
    code = objects.ENTRYPOINT_EXIT_CODE if stage == ENTRYPOINT else objects.LIVENESS_KILL_EXIT_CODE
    status = objects.crashloop_status(container, "aws-node-abcde", "uid", 5, STARTED, code)
    assert "message" not in status["lastState"]["terminated"]
    assert status["lastState"]["terminated"]["exitCode"] == code


# --- item 5: the instance type decides whether IPv6 can start ---------------------------------------------

IPV6_PD = {"ENABLE_IPv4": "false", "ENABLE_IPv6": "true", "ENABLE_PREFIX_DELEGATION": "true"}
NON_NITRO = (
    "Prefix Delegation is not supported on non-nitro instance {}. IPv6 is only supported in Prefix delegation Mode. "
)


def _limits(name: str) -> InstanceLimits:
    t = INSTANCE_TYPES[name]
    return InstanceLimits(name, t.default_card_enis, t.ipv4_per_eni, t.hypervisor, t.bare_metal, t.vcpus)


@pytest.mark.parametrize(("instance_type", "fails"), [("t2.medium", True), ("m4.4xlarge", True), ("m5.large", False)])
def test_ipv6_needs_prefix_delegation_which_needs_nitro(instance_type: str, fails: bool) -> None:
    """pkg/ipamd/ipamd.go: isConfigValid (prefix delegation unsupported + IPv6 -> fatal)."""
    env = {**MANIFEST_ENV, **IPV6_PD, "WARM_PREFIX_TARGET": "1"}
    expected = [NON_NITRO.format(instance_type)] if fails else []
    # The simulator's ipamd on a node of that type ...
    scenario = parse_scenario(
        {
            "name": "ipv6-nitro",
            "subnets": [
                {"name": "a", "cidr": "10.0.0.0/19", "az": "us-east-2a", "ipv6_cidr": "2600:1f14:abc:1000::/64"}
            ],
            "aws_node_env": IPV6_PD,
            "node_groups": [{"name": "ng", "instance_type": instance_type, "subnet": "a", "count": 1}],
        }
    )
    cluster = SimCluster(scenario)
    cluster.build()
    (node,) = cluster.nodes.values()
    assert (node.ipamd.startup_error is not None and node.ipamd.startup_error in expected) is fails
    assert node.ipamd.ready is not fails
    # ... and the bot, for that type and for a `/cni set` meeting such a node.
    limits = _limits(instance_type)
    assert instance_startup_errors(env, instance_type, limits.supports_prefix_delegation) == expected
    check = check_fleet(MANIFEST_ENV, env, [], {}, None, None)
    assert check.errors == ()
    fleet = check_fleet(
        {**MANIFEST_ENV, "WARM_PREFIX_TARGET": "1"},
        env,
        [_Node("n1", "us-east-2a")],
        {"n1": instance_type},
        None,
        {instance_type: limits},
    )
    assert bool(fleet.errors) is fails
    assert all(expected[0].strip() in error for error in fleet.errors)


class _Node(NamedTuple):
    name: str
    az: str | None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


# --- item 5: custom networking without the node's ENIConfig --------------------------------------------------


def test_custom_networking_without_the_nodes_eniconfig_stops_ipamd_in_both() -> None:
    """pkg/ipamd/ipamd.go: nodeInit/handlePreScaling; pkg/eniconfig/eniconfig.go: GetNodeSpecificENIConfigName."""
    cluster = SimCluster(load_scenario("eniconfig-missing"))
    cluster.build()
    names = {obj["metadata"]["name"] for obj in cluster.store.list(ENICONFIG_API, "ENIConfig", copy=False)}
    nodes = [_Node(n.name, n.instance.az, dict(n.labels), dict(n.annotations)) for n in cluster.nodes.values()]
    crashed = {n.name for n in cluster.nodes.values() if n.ipamd.startup_error == CUSTOM_NETWORKING_INIT_ERROR}
    assert CUSTOM_NETWORKING_INIT_ERROR == CUSTOM_NETWORKING_INIT_FAILURE
    gaps = custom_networking_gaps(nodes, names, effective_settings(cluster.env))
    assert crashed and {node for gap in gaps for node in gap.nodes} == crashed
    assert [(gap.zone, gap.name) for gap in gaps] == [("us-east-2c", "us-east-2c")]
    # cmd/aws-vpc-cni/main.go _main: the conflist is copied only after waitForIPAM, which never returns here,
    # so the new node has no CNI config: its pods meet "network is not ready", not an ipamd gRPC error.
    for name in crashed:
        assert not cluster.nodes[name].cni_config_written
    pod = cluster.pods["shop/web-5"]
    assert pod.reason == "NetworkNotReady" and classify_sandbox(pod.message) is SandboxFailure.NETWORK_NOT_READY
    assert f'"{CUSTOM_NETWORKING_INIT_FAILURE}"' in gaps[0].message()
    # Through `/cni set` from a stock aws-node, the bot refuses what would do that.
    before = {k: v for k, v in cluster.env.items() if k not in ("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",)}
    fleet = check_fleet(before, cluster.env, nodes, {}, names, None)
    assert len(fleet.errors) == 1 and CUSTOM_NETWORKING_INIT_FAILURE in fleet.errors[0]


def test_default_eniconfig_key_is_upstreams() -> None:
    """pkg/eniconfig/eniconfig.go: defaultEniConfigLabelDef / defaultEniConfigAnnotationDef; the annotation
    wins over the label, the external label over both (GetNodeSpecificENIConfigName)."""
    settings = effective_settings(MANIFEST_ENV)
    assert settings["ENI_CONFIG_LABEL_DEF"] == "k8s.amazonaws.com/eniConfig"
    assert settings["ENI_CONFIG_ANNOTATION_DEF"] == "k8s.amazonaws.com/eniConfig"
    config = parse_env(MANIFEST_ENV)
    assert config.eniconfig_label_key == config.eniconfig_annotation_key == "k8s.amazonaws.com/eniConfig"


# --- item 5: parsing as aws-node parses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("42", 42), ("+7", 7), ("-3", -3), ("007", 7), (" 5", None), ("1_000", None), ("0x10", None), ("", None)]
    + [("9223372036854775807", 2**63 - 1), ("9223372036854775808", None), ("-9223372036854775809", None)],
)
def test_strconv_atoi(raw: str, value: int | None) -> None:
    """Go strconv.Atoi on 64-bit: what ipamd's and the entrypoint's integer knobs go through."""
    assert go_atoi(raw) == value
    assert effective_settings({**MANIFEST_ENV, "WARM_IP_TARGET": raw})["WARM_IP_TARGET"] == (
        value if value is not None and value >= 0 else 0
    )
    assert parse_env({**MANIFEST_ENV, "WARM_IP_TARGET": raw}).warm_ip_target == (
        value if value is not None and value >= 0 else 0
    )


@pytest.mark.parametrize(("raw", "effective"), [("0", None), ("-2", None), ("2", 2)])
def test_max_eni_zero_or_below_is_unset(raw: str, effective: int | None) -> None:
    """pkg/ipamd/ipamd.go: getMaxENI ignores values below 1 (the instance type's limit applies)."""
    assert effective_settings({**MANIFEST_ENV, "MAX_ENI": raw}).max_eni == effective
    assert parse_env({**MANIFEST_ENV, "MAX_ENI": raw}).max_eni == (effective or -1)
    assert validate_change(MANIFEST_ENV, {"MAX_ENI": raw}).ok


# Every env name aws-node's code reads (os.Getenv / LookupEnv / utils.GetEnv / GetBoolAsStringEnvVar /
# GetIntFromStringEnvVar in cmd/aws-vpc-cni, cmd/aws-vpc-cni-init, cmd/aws-k8s-agent, pkg/, utils/).
UPSTREAM_ENV = (
    "ADDITIONAL_ENI_TAGS",
    "ANNOTATE_POD_IP",
    "AWS_EC2_ENDPOINT",
    "AWS_EXTERNAL_SERVICE_CIDRS",
    "AWS_MANAGE_ENIS_NON_SCHEDULABLE",
    "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_ENI_MTU",
    "AWS_VPC_K8S_CNI_BACKING_STORE",
    "AWS_VPC_K8S_CNI_CONNMARK",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
    "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
    "AWS_VPC_K8S_CNI_EXTERNALSNAT",
    "AWS_VPC_K8S_CNI_LOGLEVEL",
    "AWS_VPC_K8S_CNI_LOG_FILE",
    "AWS_VPC_K8S_CNI_RANDOMIZESNAT",
    "AWS_VPC_K8S_CNI_VETHPREFIX",
    "AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE",
    "AWS_VPC_K8S_EGRESS_V6_PLUGIN_LOG_FILE",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE",
    "AWS_VPC_K8S_PLUGIN_LOG_LEVEL",
    "CLUSTER_ENDPOINT",
    "CLUSTER_NAME",
    "DISABLE_INTROSPECTION",
    "DISABLE_LEAKED_ENI_CLEANUP",
    "DISABLE_METRICS",
    "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "DISABLE_POD_V6",
    "DISABLE_TCP_EARLY_DEMUX",
    "ENABLE_BANDWIDTH_PLUGIN",
    "ENABLE_IMDS_ONLY_MODE",
    "ENABLE_IPv4",
    "ENABLE_IPv6",
    "ENABLE_MULTI_NIC",
    "ENABLE_POD_ENI",
    "ENABLE_PREFIX_DELEGATION",
    "ENABLE_SUBNET_DISCOVERY",
    "ENABLE_V4_EGRESS",
    "ENABLE_V6_EGRESS",
    "ENI_CONFIG_ANNOTATION_DEF",
    "ENI_CONFIG_LABEL_DEF",
    "HOST_CNI_BIN_PATH",
    "HOST_CNI_CONFDIR_PATH",
    "HTTP_TIMEOUT",
    "INTROSPECTION_BIND_ADDRESS",
    "IP_COOLDOWN_PERIOD",
    "MANAGE_UNTAGGED_ENI",
    "MAX_ENI",
    "MINIMUM_IP_TARGET",
    "MY_NODE_NAME",
    "MY_POD_NAME",
    "NETWORK_POLICY_ENFORCING_MODE",
    "POD_MTU",
    "POD_SECURITY_GROUP_ENFORCING_MODE",
    "VPC_CNI_VERSION",
    "WARM_ENI_TARGET",
    "WARM_IP_TARGET",
    "WARM_PREFIX_TARGET",
)


@pytest.mark.parametrize("name", UPSTREAM_ENV)
def test_every_real_knob_is_known_to_the_bot(name: str) -> None:
    """A real aws-node setting is never refused as unknown: catalogued, unmodelled (noted) or manifest-owned."""
    assert knob_for(name) is not None or name in MANIFEST_OWNED_ENV
    if name not in MANIFEST_OWNED_ENV:
        assert not any("Unknown aws-node setting" in e for e in validate_change(MANIFEST_ENV, {name: "1"}).errors)
    knob = knob_for(name)
    assert knob is None or knob.modelled is (name in KNOBS)


def test_a_stock_manifest_env_starts_in_both() -> None:
    """config/master/aws-k8s-cni.yaml: the shipped env passes the entrypoint's and ipamd's checks."""
    assert parse_env(MANIFEST_ENV).startup_error is None and startup_errors(MANIFEST_ENV) == []
