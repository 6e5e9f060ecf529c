from __future__ import annotations

import pytest

from bot.domain.capacity import WarmSettings
from bot.domain.cni_settings import (
    WARM_TARGET_IGNORED,
    WARM_TARGET_MISCONFIG,
    effective_settings,
    startup_errors,
    warm_pool_problems,
)
from bot.domain.cni_version import cni_version_from_image, version_at_least
from bot.domain.knob_catalogue import KNOBS
from bot.domain.knobs import INIT_CONTAINER, Effect, KnobType, Risk, Severity, parse_go_bool, parse_go_int
from bot.domain.settings_change import EnvChange, validate_change

# The aws-node env of the shipped manifest (config/master/aws-k8s-cni.yaml), downward-API entries included.
STOCK_ENV = {
    "ADDITIONAL_ENI_TAGS": "{}",
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
    "ENABLE_IMDS_ONLY_MODE": "false",
    "ENABLE_IPv4": "true",
    "ENABLE_IPv6": "false",
    "ENABLE_MULTI_NIC": "false",
    "ENABLE_POD_ENI": "false",
    "ENABLE_PREFIX_DELEGATION": "false",
    "ENABLE_SUBNET_DISCOVERY": "true",
    "NETWORK_POLICY_ENFORCING_MODE": "standard",
    "VPC_CNI_VERSION": "v1.23.1",
    "WARM_ENI_TARGET": "1",
    "WARM_PREFIX_TARGET": "1",
    "MY_NODE_NAME": "",
    "MY_POD_NAME": "",
}


def env(**overrides: str | None) -> dict[str, str]:
    result = dict(STOCK_ENV)
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


# --- catalogue ------------------------------------------------------------------------------------------

REFERENCE_SECTION_1 = [
    "WARM_ENI_TARGET",
    "WARM_IP_TARGET",
    "MINIMUM_IP_TARGET",
    "WARM_PREFIX_TARGET",
    "MAX_ENI",
    "IP_COOLDOWN_PERIOD",
    "AWS_MANAGE_ENIS_NON_SCHEDULABLE",
    "ENABLE_PREFIX_DELEGATION",
    "ENABLE_SUBNET_DISCOVERY",
    "DISABLE_NETWORK_RESOURCE_PROVISIONING",
    "ENABLE_IMDS_ONLY_MODE",
    "DISABLE_LEAKED_ENI_CLEANUP",
    "MANAGE_UNTAGGED_ENI",
    "ENABLE_MULTI_NIC",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
    "ENI_CONFIG_LABEL_DEF",
    "ENI_CONFIG_ANNOTATION_DEF",
    "ENABLE_POD_ENI",
    "POD_SECURITY_GROUP_ENFORCING_MODE",
    "DISABLE_TCP_EARLY_DEMUX",
    "AWS_VPC_K8S_CNI_EXTERNALSNAT",
    "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
    "AWS_VPC_K8S_CNI_RANDOMIZESNAT",
    "AWS_EXTERNAL_SERVICE_CIDRS",
    "AWS_VPC_ENI_MTU",
    "POD_MTU",
    "ENABLE_IPv4",
    "ENABLE_IPv6",
    "CLUSTER_NAME",
    "ADDITIONAL_ENI_TAGS",
    "ANNOTATE_POD_IP",
    "AWS_EC2_ENDPOINT",
    "HTTP_TIMEOUT",
    "INTROSPECTION_BIND_ADDRESS",
    "DISABLE_INTROSPECTION",
    "DISABLE_METRICS",
    "AWS_VPC_K8S_CNI_LOGLEVEL",
    "AWS_VPC_K8S_PLUGIN_LOG_LEVEL",
    "AWS_VPC_K8S_CNI_LOG_FILE",
    "AWS_VPC_K8S_PLUGIN_LOG_FILE",
    "CLUSTER_ENDPOINT",
    "NETWORK_POLICY_ENFORCING_MODE",
    "ENABLE_V6_EGRESS",
    "ENABLE_V4_EGRESS",
    "DISABLE_POD_V6",
    "ENABLE_BANDWIDTH_PLUGIN",
    "ENABLE_NFTABLES",
    "AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER",
    "AWS_VPC_CNI_NODE_PORT_SUPPORT",
    "AWS_VPC_K8S_CNI_VETHPREFIX",
]


def test_catalogue_covers_every_knob_of_the_reference() -> None:
    assert set(REFERENCE_SECTION_1) <= set(KNOBS)


@pytest.mark.parametrize(
    ("name", "kind", "code_default", "default", "risk", "effect"),
    [
        ("WARM_ENI_TARGET", KnobType.INT, 1, 1, Risk.LOW, Effect.ROLLOUT),
        ("WARM_PREFIX_TARGET", KnobType.INT, 0, 1, Risk.LOW, Effect.ROLLOUT),  # code 0, manifest "1"
        ("ENABLE_IPv4", KnobType.BOOL, False, True, Risk.HIGH, Effect.REPLACE_NODES),
        ("ENABLE_PREFIX_DELEGATION", KnobType.BOOL, False, False, Risk.HIGH, Effect.MAX_PODS),
        ("MAX_ENI", KnobType.INT, None, None, Risk.HIGH, Effect.MAX_PODS),
        ("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", KnobType.BOOL, False, False, Risk.HIGH, Effect.REPLACE_NODES),
        (
            "ENI_CONFIG_LABEL_DEF",
            KnobType.STR,
            "k8s.amazonaws.com/eniConfig",
            "k8s.amazonaws.com/eniConfig",
            Risk.MEDIUM,
            Effect.NEW_ENIS,
        ),
        ("ENABLE_SUBNET_DISCOVERY", KnobType.BOOL, True, True, Risk.LOW, Effect.NEW_ENIS),
        ("POD_SECURITY_GROUP_ENFORCING_MODE", KnobType.ENUM, "strict", "strict", Risk.MEDIUM, Effect.REPLACE_NODES),
        ("AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS", KnobType.CIDR_LIST, (), (), Risk.LOW, Effect.ROLLOUT),
        ("ADDITIONAL_ENI_TAGS", KnobType.JSON, {}, {}, Risk.LOW, Effect.NEW_ENIS),
    ],
)
def test_knob_facts(
    name: str, kind: KnobType, code_default: object, default: object, risk: Risk, effect: Effect
) -> None:
    knob = KNOBS[name]
    assert (knob.kind, knob.code_default, knob.default, knob.risk, knob.effect) == (
        kind,
        code_default,
        default,
        risk,
        effect,
    )


def test_init_container_knob() -> None:
    assert KNOBS["DISABLE_TCP_EARLY_DEMUX"].container == INIT_CONTAINER
    assert KNOBS["WARM_IP_TARGET"].container == "aws-node"


def test_every_knob_is_described() -> None:
    assert all(knob.description for knob in KNOBS.values())


# --- parsing as upstream ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(text, True) for text in ("1", "t", "T", "TRUE", "true", "True")],
        *[(text, False) for text in ("0", "f", "F", "FALSE", "false", "False")],
        *[(text, None) for text in ("yes", "no", "tRuE", " true", "", "2", "on")],
    ],
)
def test_parse_go_bool(raw: str, expected: bool | None) -> None:
    assert parse_go_bool(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), ("+3", 3), ("-1", -1), ("007", 7), (" 1", None), ("1_000", None), ("1.0", None), ("", None)],
)
def test_parse_go_int(raw: str, expected: int | None) -> None:
    assert parse_go_int(raw) == expected


def test_stock_manifest_has_no_non_defaults_and_no_notes() -> None:
    settings = effective_settings(STOCK_ENV)
    assert settings.non_defaults == ()
    assert settings.notes == ()
    assert settings.unrecognised == ()


def test_empty_env_runs_with_code_defaults() -> None:
    settings = effective_settings({})
    assert settings["ENABLE_IPv4"] is False  # the trap: code default differs from the manifest
    assert settings["WARM_PREFIX_TARGET"] == 0
    assert {"ENABLE_IPv4", "WARM_PREFIX_TARGET"} <= set(settings.non_defaults)
    assert "WARM_ENI_TARGET" not in settings.non_defaults


@pytest.mark.parametrize(
    ("name", "raw", "value", "note_fragment"),
    [
        ("WARM_ENI_TARGET", "-1", 1, "out of range"),
        ("WARM_ENI_TARGET", "abc", 1, "not an integer"),
        ("WARM_ENI_TARGET", "0", 0, None),
        ("WARM_IP_TARGET", "-5", 0, "out of range"),
        ("WARM_PREFIX_TARGET", "x", 0, "not an integer"),  # code default 0, not the manifest's 1
        ("MAX_ENI", "0", None, "means unset"),
        ("MAX_ENI", "-1", None, "means unset"),
        ("WARM_IP_TARGET", "9223372036854775808", 0, "not an integer"),
        ("MAX_ENI", "4", 4, None),
        ("HTTP_TIMEOUT", "5", 10, "out of range"),
        ("ENABLE_PREFIX_DELEGATION", "yes", False, "Failed to parse variable ENABLE_PREFIX_DELEGATION"),
        ("ENABLE_PREFIX_DELEGATION", "T", True, None),
        ("ENI_CONFIG_LABEL_DEF", "", "k8s.amazonaws.com/eniConfig", None),
        ("ENI_CONFIG_LABEL_DEF", "topology.kubernetes.io/zone", "topology.kubernetes.io/zone", None),
        ("NETWORK_POLICY_ENFORCING_MODE", "STRICT", "STRICT", None),
        ("AWS_VPC_K8S_CNI_RANDOMIZESNAT", "random", "prng", "not one of"),
        (
            "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
            "10.0.0.0/8, bad,192.168.0.0/16",
            ("10.0.0.0/8", "192.168.0.0/16"),
            "bad",
        ),
        ("ADDITIONAL_ENI_TAGS", '{"team": "net", "k8s.amazonaws.com/x": "y"}', {"team": "net"}, "ignored"),
        ("ADDITIONAL_ENI_TAGS", "{not json", {}, "not valid JSON"),
    ],
)
def test_values_parse_with_upstream_fallbacks(name: str, raw: str, value: object, note_fragment: str | None) -> None:
    settings = effective_settings(env(**{name: raw}))
    assert settings[name] == value
    if note_fragment is None:
        assert settings.notes == ()
    else:
        assert len(settings.notes) == 1 and note_fragment in settings.notes[0]


def test_pod_mtu_follows_eni_mtu_when_unset() -> None:
    assert effective_settings(env(AWS_VPC_ENI_MTU="1500"))["POD_MTU"] == 1500
    assert "POD_MTU" not in effective_settings(env(AWS_VPC_ENI_MTU="1500")).non_defaults
    assert effective_settings(env(AWS_VPC_ENI_MTU="1500", POD_MTU="1400"))["POD_MTU"] == 1400


def test_unrecognised_names_are_listed() -> None:
    assert effective_settings(env(WARM_IP_TARGT="5")).unrecognised == ("WARM_IP_TARGT",)


def test_warm_settings_from_env() -> None:
    settings = effective_settings(
        env(
            WARM_IP_TARGET="5",
            MINIMUM_IP_TARGET="20",
            ENABLE_PREFIX_DELEGATION="true",
            MAX_ENI="3",
            ENABLE_POD_ENI="true",
            AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="true",
        )
    )
    assert settings.warm() == WarmSettings(
        warm_eni_target=1,
        warm_ip_target=5,
        minimum_ip_target=20,
        warm_prefix_target=1,
        prefix_delegation=True,
        custom_networking=True,
        max_eni=3,
        sgp_trunk=True,
    )


# --- start-up failures --------------------------------------------------------------------------------

PD_ZERO = (
    "Setting WARM_PREFIX_TARGET = 0 is not supported while WARM_IP_TARGET/MINIMUM_IP_TARGET is not set. "
    "Please configure either one of the WARM_{PREFIX/IP}_TARGET or MINIMUM_IP_TARGET env variables"
)
IPV6_PD = (
    "IPv6 is supported only in Prefix Delegation mode. Custom Networking is not supported in IPv6 mode. "
    "Please set the env variables accordingly."
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "0"}, [PD_ZERO]),
        ({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": None}, [PD_ZERO]),
        ({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "0", "WARM_IP_TARGET": "-1"}, [PD_ZERO]),
        ({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "0", "MINIMUM_IP_TARGET": "10"}, []),
        # Upstream compares strings with "0": "abc" > "0", so this one starts (with 0 warm prefixes).
        ({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "abc"}, []),
        ({"IP_COOLDOWN_PERIOD": "-1"}, ["IP_COOLDOWN_PERIOD MUST be a valid positive integer. -1 is invalid"]),
        ({"IP_COOLDOWN_PERIOD": "30s"}, ["IP_COOLDOWN_PERIOD MUST be a valid positive integer. 30s is invalid"]),
        ({"IP_COOLDOWN_PERIOD": "0"}, []),
        ({"ENABLE_IPv4": None}, ["IPv4 and IPv6 are both disabled. One of them have to be enabled"]),
        ({"ENABLE_IPv4": "false"}, ["IPv4 and IPv6 are both disabled. One of them have to be enabled"]),
        ({"ENABLE_IPv4": "yes"}, ["IPv4 and IPv6 are both disabled. One of them have to be enabled"]),
        (
            {"ENABLE_IPv6": "true", "ENABLE_PREFIX_DELEGATION": "true"},
            ["IPv4 and IPv6 are both enabled. VPC CNI currently does not support dual stack mode"],
        ),
        ({"ENABLE_IPv4": "false", "ENABLE_IPv6": "true"}, [IPV6_PD]),
        (
            {
                "ENABLE_IPv4": "false",
                "ENABLE_IPv6": "true",
                "ENABLE_PREFIX_DELEGATION": "true",
                "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
            },
            [IPV6_PD],
        ),
        ({"ENABLE_IPv4": "false", "ENABLE_IPv6": "true", "ENABLE_PREFIX_DELEGATION": "true"}, []),
        ({"AWS_VPC_K8S_CNI_VETHPREFIX": "abcde"}, ["AWS_VPC_K8S_CNI_VETHPREFIX cannot be longer than 4 characters"]),
        (
            {"AWS_VPC_K8S_CNI_VETHPREFIX": "vlan"},
            ["AWS_VPC_K8S_CNI_VETHPREFIX cannot be set to reserved values 'eth', 'vlan', or 'lo'"],
        ),
        (
            {"AWS_VPC_ENI_MTU": "500"},
            ["AWS_VPC_ENI_MTU cannot be less than 576 or greater than 9001 in IPv4. 500 is invalid"],
        ),
        ({"POD_MTU": "jumbo"}, ["POD_MTU MUST be a valid integer. jumbo is invalid"]),
        (
            {"ENABLE_IPv4": "false", "ENABLE_IPv6": "true", "ENABLE_PREFIX_DELEGATION": "true", "POD_MTU": "1000"},
            ["POD_MTU cannot be less than 1280 or greater than 9001 in IPv6. 1000 is invalid"],
        ),
        (
            {"ENABLE_POD_ENI": "true", "POD_SECURITY_GROUP_ENFORCING_MODE": "loose"},
            ["POD_SECURITY_GROUP_ENFORCING_MODE must be set to either 'strict' or 'standard'"],
        ),
        ({"POD_SECURITY_GROUP_ENFORCING_MODE": "loose"}, []),  # only checked with ENABLE_POD_ENI
        (
            {"NETWORK_POLICY_ENFORCING_MODE": "deny"},
            ["Initialization failure: invalid Network policy mode, supported modes: none, strict, standard"],
        ),
        ({"NETWORK_POLICY_ENFORCING_MODE": "STRICT"}, []),
        ({"AWS_VPC_K8S_PLUGIN_LOG_FILE": "stdout"}, ["AWS_VPC_K8S_PLUGIN_LOG_FILE cannot be set to stdout"]),
    ],
)
def test_startup_errors(overrides: dict[str, str | None], expected: list[str]) -> None:
    assert startup_errors(env(**overrides)) == expected


# --- warm-pool problems --------------------------------------------------------------------------------


def problems(**overrides: str | None) -> list[tuple[str, Severity, dict[str, str]]]:
    found = warm_pool_problems(effective_settings(env(**overrides)), pods_per_node=30)
    return [(p.code, p.severity, p.suggested_env) for p in found]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"MINIMUM_IP_TARGET": "11"}, [(WARM_TARGET_MISCONFIG, Severity.ERROR, {"WARM_IP_TARGET": "2"})]),
        (
            {"MINIMUM_IP_TARGET": "11", "WARM_IP_TARGET": "0"},
            [(WARM_TARGET_MISCONFIG, Severity.ERROR, {"WARM_IP_TARGET": "2"})],
        ),
        ({"WARM_IP_TARGET": "1"}, [(WARM_TARGET_MISCONFIG, Severity.WARNING, {"MINIMUM_IP_TARGET": "30"})]),
        ({"WARM_IP_TARGET": "10"}, [(WARM_TARGET_MISCONFIG, Severity.INFO, {"MINIMUM_IP_TARGET": "30"})]),
        ({"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "30"}, []),
        ({"WARM_ENI_TARGET": "0"}, [(WARM_TARGET_MISCONFIG, Severity.WARNING, {"WARM_ENI_TARGET": "1"})]),
        ({"WARM_ENI_TARGET": "0", "ENABLE_PREFIX_DELEGATION": "true"}, [(WARM_TARGET_IGNORED, Severity.INFO, {})]),
        (
            {"WARM_ENI_TARGET": "2", "WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "5"},
            [(WARM_TARGET_IGNORED, Severity.INFO, {})],
        ),
        (
            {"ENABLE_PREFIX_DELEGATION": "true", "WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "5"},
            [(WARM_TARGET_IGNORED, Severity.INFO, {})],
        ),  # WARM_PREFIX_TARGET=1 is overridden
        ({"ENABLE_IPv4": "false", "ENABLE_IPv6": "true", "MINIMUM_IP_TARGET": "11"}, []),
    ],
)
def test_warm_pool_problems(
    overrides: dict[str, str | None], expected: list[tuple[str, Severity, dict[str, str]]]
) -> None:
    assert problems(**overrides) == expected


def test_freeze_message_names_the_floor() -> None:
    [problem] = warm_pool_problems(effective_settings(env(MINIMUM_IP_TARGET="11")))
    assert "11" in problem.message and problem.fix


# --- change validation --------------------------------------------------------------------------------


def test_unknown_key_gets_a_suggestion() -> None:
    check = validate_change(STOCK_ENV, {"WARM_IP_TARGT": "5"})
    assert not check.ok
    assert "Unknown aws-node setting WARM_IP_TARGT. Did you mean WARM_IP_TARGET?" in check.errors


def test_manifest_owned_names_are_refused() -> None:
    check = validate_change(STOCK_ENV, {"MY_NODE_NAME": "x"})
    assert check.errors == ("MY_NODE_NAME is set by the aws-node manifest and is not a setting the bot changes.",)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"WARM_IP_TARGET": "abc"}, "WARM_IP_TARGET must be a whole number (got 'abc')."),
        ({"WARM_IP_TARGET": "-1"}, "WARM_IP_TARGET must be >= 0 (got -1)."),
        (
            {"WARM_IP_TARGET": "9223372036854775808"},
            "WARM_IP_TARGET=9223372036854775808 is beyond Go's int64 range: aws-node's strconv.Atoi refuses it "
            "(value out of range) and aws-node uses 0.",
        ),
        (
            {"IP_COOLDOWN_PERIOD": "-9223372036854775809"},
            "IP_COOLDOWN_PERIOD=-9223372036854775809 is beyond Go's int64 range: aws-node's strconv.Atoi refuses it "
            "(value out of range) and aws-node exits at start.",
        ),
        ({"AWS_VPC_ENI_MTU": "10000"}, "AWS_VPC_ENI_MTU must be 576-9001 (got 10000)."),
        ({"ENABLE_POD_ENI": "yes"}, "ENABLE_POD_ENI must be true or false (got 'yes')."),
        (
            {"POD_SECURITY_GROUP_ENFORCING_MODE": "loose"},
            "POD_SECURITY_GROUP_ENFORCING_MODE must be one of strict, standard (got 'loose').",
        ),
        ({"ENI_CONFIG_LABEL_DEF": ""}, "ENI_CONFIG_LABEL_DEF cannot be empty; unset it to use the default."),
    ],
)
def test_type_and_range_errors(changes: dict[str, str | None], error: str) -> None:
    check = validate_change(STOCK_ENV, changes)
    assert check.errors == (error,)
    assert check.diff == ()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_max_eni_of_zero_or_below_is_accepted_and_means_unset(value: str) -> None:
    """ipamd.go getMaxENI: 0 or below is ignored, the instance type's ENI limit applies."""
    check = validate_change(STOCK_ENV, {"MAX_ENI": value})
    assert check.ok and check.diff == (EnvChange("MAX_ENI", None, value),)
    assert any(f"MAX_ENI={value} means unset" in w and "instance type's ENI limit" in w for w in check.warnings)
    assert not check.needs_max_pods and "behaviour stays the same" in check.impact


@pytest.mark.parametrize(
    "key",
    [
        "HOST_CNI_BIN_PATH",
        "HOST_CNI_CONFDIR_PATH",
        "AWS_VPC_K8S_CNI_CONNMARK",
        "AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE",
        "AWS_VPC_K8S_EGRESS_V6_PLUGIN_LOG_FILE",
    ],
)
def test_real_knobs_outside_the_catalogue_are_accepted_with_a_note(key: str) -> None:
    check = validate_change(STOCK_ENV, {key: "0x40" if key.endswith("CONNMARK") else "/host/custom"})
    assert check.ok, check.errors
    assert any(f"{key} is a real aws-node setting that cnibot does not model" in w for w in check.warnings)
    assert effective_settings({**STOCK_ENV, key: "x"}).unrecognised == ()


def test_host_cni_bin_path_is_written_on_both_containers_that_read_it() -> None:
    assert validate_change(STOCK_ENV, {"HOST_CNI_BIN_PATH": "/host/bin"}).containers == (
        "aws-node",
        "aws-vpc-cni-init",
    )


@pytest.mark.parametrize(("value", "accepted"), [("0x80", True), ("010", True), ("0", False), ("4294967296", False)])
def test_connmark_as_getconnmark_parses_it(value: str, accepted: bool) -> None:
    check = validate_change(STOCK_ENV, {"AWS_VPC_K8S_CNI_CONNMARK": value})
    assert check.ok
    assert any("uses the default 0x80" in w for w in check.warnings) is not accepted


def test_bad_cidr_and_json_are_refused() -> None:
    check = validate_change(
        STOCK_ENV, {"AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS": "10.0.0.0/33", "ADDITIONAL_ENI_TAGS": "[1]"}
    )
    assert len(check.errors) == 2
    assert "10.0.0.0/33" in check.errors[0] and "JSON object" in check.errors[1]


def test_startup_breaking_combination_is_refused_with_the_upstream_message() -> None:
    current = env(ENABLE_PREFIX_DELEGATION="true")
    check = validate_change(current, {"WARM_PREFIX_TARGET": "0"})
    assert check.errors == (f"aws-node would exit at start: {PD_ZERO}",)


def test_dropping_enable_ipv4_is_refused_and_warned() -> None:
    check = validate_change(STOCK_ENV, {"ENABLE_IPv4": None})
    assert check.errors == (
        "aws-node would exit at start: IPv4 and IPv6 are both disabled. One of them have to be enabled",
    )
    assert any("Never remove ENABLE_IPv4" in warning for warning in check.warnings)
    assert check.diff == (("ENABLE_IPv4", "true", None),)


def test_existing_breakage_does_not_block_an_unrelated_fix() -> None:
    broken = env(IP_COOLDOWN_PERIOD="-1")
    check = validate_change(broken, {"WARM_IP_TARGET": "5", "MINIMUM_IP_TARGET": "20"})
    assert check.ok
    assert any("already fails to start" in warning for warning in check.warnings)


def test_minimum_without_warm_is_allowed_with_a_warning() -> None:
    check = validate_change(STOCK_ENV, {"MINIMUM_IP_TARGET": "10"})
    assert check.ok
    assert any("freezes each node's pool at 10 IPs" in warning for warning in check.warnings)


def test_warm_target_change_is_low_risk_rollout() -> None:
    check = validate_change(STOCK_ENV, {"WARM_IP_TARGET": "5", "MINIMUM_IP_TARGET": "20"})
    assert check.ok and check.warnings == ()
    assert check.risk is Risk.LOW
    assert not check.needs_node_replacement and not check.needs_max_pods
    assert check.diff == (("WARM_IP_TARGET", None, "5"), ("MINIMUM_IP_TARGET", None, "20"))
    assert "rolls out" in check.impact
    key, old, new = check.diff[0]
    assert (key, old, new) == ("WARM_IP_TARGET", None, "5")


@pytest.mark.parametrize(
    ("current", "changes", "risk", "replace", "max_pods"),
    [
        (STOCK_ENV, {"ENABLE_PREFIX_DELEGATION": "true"}, Risk.HIGH, True, True),
        (STOCK_ENV, {"MAX_ENI": "2"}, Risk.HIGH, False, True),
        (STOCK_ENV, {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"}, Risk.HIGH, True, True),
        (STOCK_ENV, {"ENABLE_POD_ENI": "true"}, Risk.HIGH, False, True),
        (env(ENABLE_POD_ENI="true"), {"ENABLE_POD_ENI": "false"}, Risk.HIGH, True, True),
        (STOCK_ENV, {"ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}, Risk.MEDIUM, False, False),
        (STOCK_ENV, {"WARM_ENI_TARGET": "2", "AWS_VPC_ENI_MTU": "1500"}, Risk.MEDIUM, False, False),
        # "True" and "true" parse alike: a rollout without any change in behaviour.
        (env(ENABLE_PREFIX_DELEGATION="true"), {"ENABLE_PREFIX_DELEGATION": "True"}, Risk.LOW, False, False),
    ],
)
def test_risk_and_what_applying_takes(
    current: dict[str, str], changes: dict[str, str | None], risk: Risk, replace: bool, max_pods: bool
) -> None:
    check = validate_change(current, changes)
    assert check.ok, check.errors
    assert (check.risk, check.needs_node_replacement, check.needs_max_pods) == (risk, replace, max_pods)


def test_impact_sentences() -> None:
    assert "replaced" in validate_change(STOCK_ENV, {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"}).impact
    assert "max-pods must change" in validate_change(STOCK_ENV, {"MAX_ENI": "2"}).impact
    label = validate_change(STOCK_ENV, {"ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"})
    assert "only ENIs created afterwards" in label.impact
    assert any("ENIs created from now on" in warning for warning in label.warnings)
    same = validate_change(env(ENABLE_PREFIX_DELEGATION="true"), {"ENABLE_PREFIX_DELEGATION": "True"})
    assert "behaviour stays the same" in same.impact


def test_prefix_delegation_warns_about_fragmentation_and_nitro() -> None:
    check = validate_change(STOCK_ENV, {"ENABLE_PREFIX_DELEGATION": "true"})
    assert any("/28" in warning and "Nitro" in warning for warning in check.warnings)


def test_cooldown_changes_warn_about_ec2_calls() -> None:
    assert any("more EC2 calls" in w for w in validate_change(STOCK_ENV, {"IP_COOLDOWN_PERIOD": "60"}).warnings)
    assert any("discouraged" in w for w in validate_change(STOCK_ENV, {"IP_COOLDOWN_PERIOD": "0"}).warnings)


def test_no_op_change_is_refused() -> None:
    check = validate_change(STOCK_ENV, {"WARM_ENI_TARGET": "1"})
    assert check.errors == ("Nothing to change.",)
    assert check.warnings == ("WARM_ENI_TARGET is already '1'; nothing to change.",)


@pytest.mark.parametrize(
    ("changes", "containers"),
    [
        ({"DISABLE_TCP_EARLY_DEMUX": "true"}, (INIT_CONTAINER,)),
        ({"WARM_IP_TARGET": "5", "MINIMUM_IP_TARGET": "10"}, ("aws-node",)),
        (
            {"ENABLE_IPv6": "true", "ENABLE_IPv4": "false", "ENABLE_PREFIX_DELEGATION": "true"},
            ("aws-node", INIT_CONTAINER),
        ),
    ],
)
def test_change_names_the_containers_to_patch(changes: dict[str, str | None], containers: tuple[str, ...]) -> None:
    check = validate_change(STOCK_ENV, changes)
    assert check.ok, check.errors
    assert check.containers == containers


# --- versions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1", "1.19.2"),
        ("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.23.1", "1.23.1"),
        ("registry.local:5000/amazon-k8s-cni:1.18.0", "1.18.0"),
        ("amazon-k8s-cni:v1.19.2@sha256:" + "a" * 64, "1.19.2"),
        ("registry.local:5000/amazon-k8s-cni", None),
        ("amazon-k8s-cni@sha256:" + "a" * 64, None),
        ("amazon-k8s-cni:latest", None),
    ],
)
def test_cni_version_from_image(image: str, version: str | None) -> None:
    assert cni_version_from_image(image) == version


@pytest.mark.parametrize(
    ("version", "minimum", "expected"),
    [
        ("1.19.2", "1.18.0", True),
        ("v1.18.0-eksbuild.1", "1.18.0", True),
        ("1.9.10", "1.18.0", False),  # numeric, not lexical
        ("1.18.0", "1.18.1", False),
        ("2.0.0", "1.23.1", True),
    ],
)
def test_version_at_least(version: str, minimum: str, expected: bool) -> None:
    assert version_at_least(version, minimum) is expected


def test_version_at_least_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        version_at_least("latest", "1.18.0")
