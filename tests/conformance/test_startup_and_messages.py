"""Conformance rows: start-up, messages and limits as upstream has them, run against the bot and the simulator.

Each row cites the upstream file and function it was read from (aws/amazon-vpc-cni-k8s at v1.23.1, commit
b52188387; aws/amazon-vpc-resource-controller-k8s pkg/aws/vpc/limits.go at b8d4251), its input and the
expected result. Where both the bot and the simulator model a behaviour, the row runs against both: they may
not agree on anything this table has not pinned to upstream.
The strings quoted were checked to be the same at v1.19.2 (the version the simulator runs) as at v1.23.1.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import pytest

from bot.domain.diagnosis import CauseCode, diagnose
from bot.domain.diagnosis.rules_pool import ENI_PREFIX_ERROR, INSUFFICIENT_PREFIXES_TEXT
from bot.domain.diagnosis.signals import SandboxFailure, classify_sandbox, failing_plugin, plugin_error_text
from bot.domain.instance_limits import BRANCH_ENI_LIMITS, branch_eni_limit
from bot.domain.ipamd_metrics import parse_ipamd_metrics
from simulator.awsnode import IpamdMetrics, render_metrics
from simulator.cluster_state import GRPC_ERROR, NO_IP, sandbox_message
from simulator.instance_types import INSTANCE_TYPES
from simulator.model import Ec2Error, Ec2Model
from tests import factories

CNI_GO = "cmd/routed-eni-cni-plugin/cni.go: add"
EGRESS_GO = "cmd/egress-cni-plugin/main.go: add"
LIMITS_GO = "amazon-vpc-resource-controller-k8s pkg/aws/vpc/limits.go: Limits"


# --- item 7: sandbox messages, classified by the aws-cni plugin's own words --------------------------------


class SandboxRow(NamedTuple):
    source: str
    plugin: str  # the `plugin type=` libcni names
    text: str  # the plugin's error, as returned to libcni
    expected: SandboxFailure


SANDBOX_ROWS = (
    SandboxRow(CNI_GO, "aws-cni", NO_IP, SandboxFailure.NO_IP),
    SandboxRow(CNI_GO, "aws-cni", GRPC_ERROR, SandboxFailure.IPAMD_UNREACHABLE),
    SandboxRow(
        CNI_GO,
        "aws-cni",
        "add cmd: failed to connect to backend server: dial unix /var/run/aws-node/ipamd.sock: connect: "
        "no such file or directory",
        SandboxFailure.IPAMD_UNREACHABLE,
    ),
    SandboxRow(CNI_GO, "aws-cni", "add cmd: failed to setup network policy", SandboxFailure.NETWORK_POLICY),
    # errors.Wrap(err, "add command: failed to setup network"): the only veth/route failure, after the IP.
    SandboxRow(
        CNI_GO,
        "aws-cni",
        "add command: failed to setup network: setupNS network: failed to setup veth pair.: file exists",
        SandboxFailure.NETWORK_SETUP,
    ),
    SandboxRow(CNI_GO, "aws-cni", "add cmd: error loading config from args: bad json", SandboxFailure.OTHER),
    # libcni's own text when the plugin dies: containerd's wrapper says "failed to setup network" regardless.
    SandboxRow(
        "libcni invoke (no aws-cni text)",
        "aws-cni",
        "netplugin failed with no error message: signal: killed",
        SandboxFailure.OTHER,
    ),
    # Another plugin of the chain (10-aws.conflist: egress-cni, portmap) failing is not the VPC CNI's IP path.
    SandboxRow(
        EGRESS_GO,
        "egress-cni",
        "global unicast IPv6 not found in host primary interface which is mandatory to support IPv6 egress",
        SandboxFailure.OTHER,
    ),
)


@pytest.mark.parametrize("row", SANDBOX_ROWS, ids=lambda r: f"{r.plugin}:{r.text[:40]}")
def test_sandbox_message_as_the_simulator_emits_it_is_classified_by_the_plugins_words(row: SandboxRow) -> None:
    message = sandbox_message("shop/web-5", row.text, row.plugin)
    # The simulator's text is containerd's: the wrapper, libcni's plugin naming, then the plugin's words.
    assert message.startswith("Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network")
    assert f'plugin type="{row.plugin}" name="aws-cni" failed (add): {row.text}' in message
    assert failing_plugin(message) == row.plugin
    assert plugin_error_text(message) == row.text
    # The bot classifies by those words, whichever wrapper is around them.
    assert classify_sandbox(message) is row.expected
    assert classify_sandbox(row.text) is row.expected


# --- item 9: branch-ENI (and ENI/IP) limits as the VPC Resource Controller lists them -----------------------


class LimitRow(NamedTuple):
    instance_type: str
    interfaces: int  # Interface
    ipv4_per_eni: int  # IPv4PerInterface
    branch_enis: int  # BranchInterface (0 when IsTrunkingCompatible is false)
    hypervisor: str  # Hypervisor
    bare_metal: bool  # IsBareMetal
    cards: tuple[int, ...]  # NetworkCards[].MaximumNetworkInterfaces, by NetworkCardIndex


# Every type the bot's branch table or the simulator lists, as limits.go has it.
LIMIT_ROWS = tuple(
    LimitRow(*row)
    for row in (
        ("c5.12xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("c5.18xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("c5.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("c5.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("c5.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("c5.9xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("c5.large", 3, 10, 9, "nitro", False, (3,)),
        ("c5.metal", 15, 50, 107, "", True, (15,)),
        ("c5.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("c6i.12xlarge", 8, 30, 114, "nitro", False, (8,)),
        ("c6i.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("c6i.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("c6i.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("c6i.32xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("c6i.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("c6i.8xlarge", 8, 30, 84, "nitro", False, (8,)),
        ("c6i.large", 3, 10, 9, "nitro", False, (3,)),
        ("c6i.metal", 15, 50, 107, "", True, (15,)),
        ("c6i.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("m4.10xlarge", 8, 30, 0, "xen", False, (8,)),
        ("m4.16xlarge", 8, 30, 0, "xen", False, (8,)),
        ("m4.2xlarge", 4, 15, 0, "xen", False, (4,)),
        ("m4.4xlarge", 8, 30, 0, "xen", False, (8,)),
        ("m4.large", 2, 10, 0, "xen", False, (2,)),
        ("m4.xlarge", 4, 15, 0, "xen", False, (4,)),
        ("m5.12xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m5.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m5.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m5.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("m5.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m5.8xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m5.large", 3, 10, 9, "nitro", False, (3,)),
        ("m5.metal", 15, 50, 120, "", True, (15,)),
        ("m5.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("m5a.12xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m5a.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m5a.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m5a.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("m5a.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m5a.8xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m5a.large", 3, 10, 9, "nitro", False, (3,)),
        ("m5a.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("m6g.12xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m6g.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m6g.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("m6g.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m6g.8xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m6g.large", 3, 10, 9, "nitro", False, (3,)),
        ("m6g.medium", 2, 4, 4, "nitro", False, (2,)),
        ("m6g.metal", 15, 50, 107, "", True, (15,)),
        ("m6g.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("m6i.12xlarge", 8, 30, 114, "nitro", False, (8,)),
        ("m6i.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m6i.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m6i.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("m6i.32xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m6i.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m6i.8xlarge", 8, 30, 84, "nitro", False, (8,)),
        ("m6i.large", 3, 10, 9, "nitro", False, (3,)),
        ("m6i.metal", 15, 50, 107, "", True, (15,)),
        ("m6i.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("m7i.12xlarge", 8, 30, 114, "nitro", False, (8,)),
        ("m7i.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m7i.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m7i.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("m7i.48xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("m7i.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("m7i.8xlarge", 8, 30, 84, "nitro", False, (8,)),
        ("m7i.large", 3, 10, 9, "nitro", False, (3,)),
        ("m7i.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("p3dn.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("p5.48xlarge", 64, 50, 120, "nitro", False, (2,) * 32),
        ("r5.12xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("r5.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("r5.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("r5.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("r5.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("r5.8xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("r5.large", 3, 10, 9, "nitro", False, (3,)),
        ("r5.metal", 15, 50, 120, "", True, (15,)),
        ("r5.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("r6i.12xlarge", 8, 30, 114, "nitro", False, (8,)),
        ("r6i.16xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("r6i.24xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("r6i.2xlarge", 4, 15, 38, "nitro", False, (4,)),
        ("r6i.32xlarge", 15, 50, 107, "nitro", False, (15,)),
        ("r6i.4xlarge", 8, 30, 54, "nitro", False, (8,)),
        ("r6i.8xlarge", 8, 30, 84, "nitro", False, (8,)),
        ("r6i.large", 3, 10, 9, "nitro", False, (3,)),
        ("r6i.metal", 15, 50, 107, "", True, (15,)),
        ("r6i.xlarge", 4, 15, 18, "nitro", False, (4,)),
        ("t2.2xlarge", 3, 15, 0, "xen", False, (3,)),
        ("t2.large", 3, 12, 0, "xen", False, (3,)),
        ("t2.medium", 3, 6, 0, "xen", False, (3,)),
        ("t2.micro", 2, 2, 0, "xen", False, (2,)),
        ("t2.nano", 2, 2, 0, "xen", False, (2,)),
        ("t2.small", 3, 4, 0, "xen", False, (3,)),
        ("t2.xlarge", 3, 15, 0, "xen", False, (3,)),
        ("t3.2xlarge", 4, 15, 0, "nitro", False, (4,)),
        ("t3.large", 3, 12, 0, "nitro", False, (3,)),
        ("t3.medium", 3, 6, 0, "nitro", False, (3,)),
        ("t3.micro", 2, 2, 0, "nitro", False, (2,)),
        ("t3.nano", 2, 2, 0, "nitro", False, (2,)),
        ("t3.small", 3, 4, 0, "nitro", False, (3,)),
        ("t3.xlarge", 4, 15, 0, "nitro", False, (4,)),
        ("t3a.2xlarge", 4, 15, 0, "nitro", False, (4,)),
        ("t3a.large", 3, 12, 0, "nitro", False, (3,)),
        ("t3a.medium", 3, 6, 0, "nitro", False, (3,)),
        ("t3a.micro", 2, 2, 0, "nitro", False, (2,)),
        ("t3a.nano", 2, 2, 0, "nitro", False, (2,)),
        ("t3a.small", 2, 4, 0, "nitro", False, (2,)),
        ("t3a.xlarge", 4, 15, 0, "nitro", False, (4,)),
        ("t4g.2xlarge", 4, 15, 0, "nitro", False, (4,)),
        ("t4g.large", 3, 12, 0, "nitro", False, (3,)),
        ("t4g.medium", 3, 6, 0, "nitro", False, (3,)),
        ("t4g.micro", 2, 2, 0, "nitro", False, (2,)),
        ("t4g.nano", 2, 2, 0, "nitro", False, (2,)),
        ("t4g.small", 3, 4, 0, "nitro", False, (3,)),
        ("t4g.xlarge", 4, 15, 0, "nitro", False, (4,)),
    )
)


def test_the_table_covers_every_type_the_project_lists() -> None:
    listed = {row.instance_type for row in LIMIT_ROWS}
    assert set(BRANCH_ENI_LIMITS) <= listed and set(INSTANCE_TYPES) <= listed


@pytest.mark.parametrize("row", LIMIT_ROWS, ids=lambda r: r.instance_type)
def test_instance_limits_match_limits_go(row: LimitRow) -> None:
    if row.instance_type in BRANCH_ENI_LIMITS:
        assert branch_eni_limit(row.instance_type) == row.branch_enis, LIMITS_GO
    simulated = INSTANCE_TYPES.get(row.instance_type)
    if simulated is not None:
        assert simulated.branch_enis == row.branch_enis, LIMITS_GO
        assert simulated.max_enis == row.interfaces and simulated.card_enis == row.cards
        assert simulated.ipv4_per_eni == row.ipv4_per_eni
        assert simulated.hypervisor == row.hypervisor and simulated.bare_metal == row.bare_metal
    assert row.instance_type in BRANCH_ENI_LIMITS or simulated is not None


@pytest.mark.parametrize(("instance_type", "branch_enis"), [("m6i.8xlarge", 84), ("m6i.12xlarge", 114)])
def test_m6i_branch_limits_in_the_bot_and_the_simulator(instance_type: str, branch_enis: int) -> None:
    assert branch_eni_limit(instance_type) == branch_enis
    assert INSTANCE_TYPES[instance_type].branch_enis == branch_enis


# --- item 8: EC2's InvalidParameterValue for a new ENI's prefix is fragmentation evidence -------------------

CREATE_ENI_GO = "pkg/awsutils/awsutils.go: createENI / tryCreateNetworkInterface / awsAPIErrInc"


def _fragmented_subnet() -> tuple[Ec2Model, str]:
    """A /24 with one address taken in every aligned /28: 200+ free addresses, no free /28."""
    model = Ec2Model(region="us-east-2")
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, "10.0.40.0/24", "us-east-2a")
    for block in range(16):
        model.create_network_interface(subnet.id, private_ip=f"10.0.40.{block * 16 + 9}")
    return model, subnet.id


def test_new_eni_with_a_prefix_on_a_fragmented_subnet_is_prefix_fragmentation() -> None:
    model, subnet_id = _fragmented_subnet()
    # The simulator's EC2 refuses the ENI ipamd asks for with Ipv4PrefixCount=1, in EC2's words (issue #3105).
    with pytest.raises(Ec2Error) as refused:
        model.create_network_interface(subnet_id, prefix_count=1, description="aws-K8S-i-0123456789abcdef0")
    assert (refused.value.code, refused.value.message) == (ENI_PREFIX_ERROR[1], INSUFFICIENT_PREFIXES_TEXT)
    # ipamd counts it by API and error code only (awsAPIErrInc), as the simulator's /metrics serves it ...
    served = IpamdMetrics()
    served.count_api_error("CreateNetworkInterface", refused.value.code)
    parsed = parse_ipamd_metrics(render_metrics(served))
    assert parsed.api_errors == {ENI_PREFIX_ERROR: 1}, CREATE_ENI_GO
    # ... and the bot reads that count as fragmentation evidence when prefix delegation is on.
    ev = factories.evidence(
        env={"ENABLE_PREFIX_DELEGATION": "true"},
        node_enis=[
            factories.eni("eni-0", 0, "subnet-frag", primary="10.0.40.4", cni=False),
            factories.eni("eni-1", 1, "subnet-frag", primary="10.0.40.6", prefixes=("10.0.41.0/28",)),
        ],
        subnets=[factories.subnet("subnet-frag", "10.0.40.0/24", free=model.subnets[subnet_id].available_ip_count)],
        the_metrics=replace(parsed, total_ips=16, assigned_ips=16),
    )
    result = diagnose(ev, now=factories.NOW)
    assert result.primary.code is CauseCode.PREFIX_FRAGMENTATION
    assert any(INSUFFICIENT_PREFIXES_TEXT in line for line in result.primary.evidence)
