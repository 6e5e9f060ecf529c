from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.cni_settings import effective_settings
from bot.domain.eniconfig import (
    ENICONFIG_NO_SUBNET,
    ENICONFIG_SG_NOT_FOUND,
    ENICONFIG_SUBNET_FULL,
    ENICONFIG_SUBNET_NOT_FOUND,
    ENICONFIG_SUBNET_WRONG_AZ,
    ENICONFIG_SUBNET_WRONG_VPC,
    NameSource,
    Resolution,
    check_eniconfig,
    custom_networking_gaps,
    resolve_eniconfig_name,
)
from bot.domain.fleet_checks import check_fleet, needs_fleet
from bot.domain.knobs import Severity

ZONE_LABEL = "topology.kubernetes.io/zone"
DEFAULT_KEY = "k8s.amazonaws.com/eniConfig"
EXTERNAL = "vpc.amazonaws.com/externalEniConfig"


@pytest.mark.parametrize(
    ("env", "labels", "annotations", "expected"),
    [
        ({}, {}, {}, Resolution("default", NameSource.DEFAULT)),
        ({}, {DEFAULT_KEY: "pods-a"}, {}, Resolution("pods-a", NameSource.LABEL, DEFAULT_KEY)),
        ({}, {DEFAULT_KEY: "lbl"}, {DEFAULT_KEY: "ann"}, Resolution("ann", NameSource.ANNOTATION, DEFAULT_KEY)),
        (
            {},
            {EXTERNAL: "ext", DEFAULT_KEY: "lbl"},
            {DEFAULT_KEY: "ann"},
            Resolution("ext", NameSource.EXTERNAL_LABEL, EXTERNAL),
        ),
        (
            {"ENI_CONFIG_LABEL_DEF": ZONE_LABEL},
            {ZONE_LABEL: "us-east-2a", DEFAULT_KEY: "ignored"},
            {},
            Resolution("us-east-2a", NameSource.LABEL, ZONE_LABEL),
        ),
        # The custom label key applies only to labels: the default annotation still wins.
        (
            {"ENI_CONFIG_LABEL_DEF": ZONE_LABEL},
            {ZONE_LABEL: "us-east-2a"},
            {DEFAULT_KEY: "pinned"},
            Resolution("pinned", NameSource.ANNOTATION, DEFAULT_KEY),
        ),
        (
            {"ENI_CONFIG_ANNOTATION_DEF": "example.com/eni"},
            {},
            {"example.com/eni": "custom", DEFAULT_KEY: "ignored"},
            Resolution("custom", NameSource.ANNOTATION, "example.com/eni"),
        ),
        # An empty ENI_CONFIG_LABEL_DEF falls back to the default key, as upstream.
        (
            {"ENI_CONFIG_LABEL_DEF": ""},
            {DEFAULT_KEY: "pods-a"},
            {},
            Resolution("pods-a", NameSource.LABEL, DEFAULT_KEY),
        ),
        # Presence decides: an empty label value is used as the name.
        ({}, {DEFAULT_KEY: ""}, {}, Resolution("", NameSource.LABEL, DEFAULT_KEY)),
    ],
)
def test_resolution_order(
    env: dict[str, str], labels: dict[str, str], annotations: dict[str, str], expected: Resolution
) -> None:
    assert resolve_eniconfig_name(labels, annotations, effective_settings(env)) == expected


@dataclass(frozen=True)
class EniConfig:
    name: str
    subnet: str | None
    security_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    az: str
    available_ips: int = 100


VPC = "vpc-1"
SUBNETS = {
    "subnet-a": Subnet("subnet-a", VPC, "us-east-2a"),
    "subnet-b": Subnet("subnet-b", VPC, "us-east-2b"),
    "subnet-other-vpc": Subnet("subnet-other-vpc", "vpc-9", "us-east-2a"),
    "subnet-full": Subnet("subnet-full", VPC, "us-east-2a", available_ips=0),
}
KNOWN_SGS = {"sg-1", "sg-2"}


@pytest.mark.parametrize(
    ("eniconfig", "known_sgs", "expected"),
    [
        (EniConfig("us-east-2a", "subnet-a", ("sg-1",)), KNOWN_SGS, []),
        (EniConfig("us-east-2a", None), KNOWN_SGS, [(ENICONFIG_NO_SUBNET, Severity.ERROR)]),
        (EniConfig("us-east-2a", "subnet-gone"), KNOWN_SGS, [(ENICONFIG_SUBNET_NOT_FOUND, Severity.ERROR)]),
        (EniConfig("us-east-2a", "subnet-b"), KNOWN_SGS, [(ENICONFIG_SUBNET_WRONG_AZ, Severity.ERROR)]),
        (EniConfig("us-east-2a", "subnet-other-vpc"), KNOWN_SGS, [(ENICONFIG_SUBNET_WRONG_VPC, Severity.ERROR)]),
        (EniConfig("us-east-2a", "subnet-full"), KNOWN_SGS, [(ENICONFIG_SUBNET_FULL, Severity.WARNING)]),
        (
            EniConfig("us-east-2a", "subnet-b", ("sg-1", "sg-404")),
            KNOWN_SGS,
            [(ENICONFIG_SUBNET_WRONG_AZ, Severity.ERROR), (ENICONFIG_SG_NOT_FOUND, Severity.ERROR)],
        ),
        # Security groups that could not be looked up are not judged.
        (EniConfig("us-east-2a", "subnet-a", ("sg-404",)), None, []),
    ],
)
def test_check_eniconfig(
    eniconfig: EniConfig, known_sgs: set[str] | None, expected: list[tuple[str, Severity]]
) -> None:
    problems = check_eniconfig(eniconfig, SUBNETS, "us-east-2a", VPC, known_sgs)
    assert [(problem.code, problem.severity) for problem in problems] == expected
    assert all(problem.message and problem.fix for problem in problems)


def test_wrong_az_message_names_both_zones_and_the_fix() -> None:
    [problem] = check_eniconfig(EniConfig("pods", "subnet-b"), SUBNETS, "us-east-2a", VPC, KNOWN_SGS)
    assert "us-east-2b" in problem.message and "us-east-2a" in problem.message
    assert "us-east-2a" in problem.fix


def test_missing_security_groups_are_listed() -> None:
    [problem] = check_eniconfig(
        EniConfig("pods", "subnet-a", ("sg-1", "sg-x", "sg-y")), SUBNETS, "us-east-2a", VPC, KNOWN_SGS
    )
    assert "sg-x, sg-y" in problem.message and "sg-1" not in problem.message


@dataclass(frozen=True)
class _Node:
    name: str
    az: str | None
    labels: dict[str, str]
    annotations: dict[str, str]


CN_ON = {"ENABLE_IPv4": "true", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": ZONE_LABEL}


def test_custom_networking_gaps_follow_the_name_ipamd_resolves() -> None:
    nodes = [
        _Node("a1", "us-east-2a", {ZONE_LABEL: "us-east-2a"}, {}),
        _Node("b1", "us-east-2b", {ZONE_LABEL: "us-east-2b"}, {}),
        # The annotation wins over the label: this node looks up `pods-b`, which exists.
        _Node("b2", "us-east-2b", {ZONE_LABEL: "us-east-2b"}, {DEFAULT_KEY: "pods-b"}),
        _Node("c1", "us-east-2c", {}, {}),  # no zone label: the ENIConfig named `default`
    ]
    gaps = custom_networking_gaps(nodes, {"us-east-2a", "pods-b"}, effective_settings(CN_ON))
    assert [(g.zone, g.name, g.source, g.nodes) for g in gaps] == [
        ("us-east-2b", "us-east-2b", NameSource.LABEL, ("b1",)),
        ("us-east-2c", "default", NameSource.DEFAULT, ("c1",)),
    ]
    assert "Failed to attach any ENIs for custom networking" in gaps[0].message()
    assert custom_networking_gaps(nodes, set(), effective_settings({"ENABLE_IPv4": "true"})) == []


def test_fleet_check_refuses_new_gaps_and_only_warns_about_old_ones() -> None:
    nodes = [_Node("c1", "us-east-2c", {ZONE_LABEL: "us-east-2c"}, {})]
    stock = {"ENABLE_IPv4": "true"}
    assert needs_fleet(stock, CN_ON) and not needs_fleet(CN_ON, {**CN_ON, "WARM_IP_TARGET": "2"})
    refused = check_fleet(stock, CN_ON, nodes, {}, {"us-east-2a"}, None)
    assert len(refused.errors) == 1 and refused.warnings == ()
    already = check_fleet(CN_ON, {**CN_ON, "WARM_IP_TARGET": "2"}, nodes, {}, {"us-east-2a"}, None)
    assert already.errors == () and len(already.warnings) == 1
