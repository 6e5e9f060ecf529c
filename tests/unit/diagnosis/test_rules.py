"""Every cause code, table-driven on hand-built evidence: the code, the numbers that prove it, the remedy and
the proposed change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bot.domain.diagnosis import CauseCode, Diagnosis, ProposedChange, diagnose
from bot.domain.evidence import PodEvidence
from bot.domain.facts import EniConfigFact, Unchecked
from bot.domain.ipamd_metrics import IpamdMetrics
from tests import factories as f


@dataclass
class Case:
    build: Callable[[], PodEvidence]
    code: CauseCode
    says: tuple[str, ...] = ()  # substrings of the summary + evidence
    remedy: tuple[str, ...] = ()  # substrings of the remedy steps
    change: dict[str, object] | None = None  # expected ProposedChange.as_dict(), if any
    also: tuple[CauseCode, ...] = ()  # other codes that must be listed
    contributing: tuple[CauseCode, ...] = field(default=())


def _not_found() -> PodEvidence:
    ev = f.evidence()
    ev.pod = None
    ev.name = "web"
    ev.similar_names = ["web-7d9f-abcde"]
    ev.same_name_elsewhere = ["staging/web"]
    return ev


def _host_network() -> PodEvidence:
    return f.with_pod(f.evidence(), host_network=True)


def _has_ip() -> PodEvidence:
    waiting = f.ContainerState("web", False, 3, waiting_reason="ImagePullBackOff", waiting_message="pull denied")
    return f.with_pod(f.evidence(), pod_ip="10.0.32.77", containers=(waiting,))


def _cpu() -> PodEvidence:
    return f.unscheduled(
        "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )


def _too_many_pods() -> PodEvidence:
    return f.unscheduled(
        "0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims.",
        nodes=[f.node(name=f"n{i}") for i in range(3)],
        limits_by_type={"m5.large": f.M5_LARGE},
    )


def _pod_eni_unscheduled() -> PodEvidence:
    return f.unscheduled(
        "0/2 nodes are available: 2 Insufficient vpc.amazonaws.com/pod-eni.",
        nodes=[f.node(name="n1", pod_eni=9), f.node(name="n2", instance_type="t3.large")],
        limits_by_type={"m5.large": f.M5_LARGE},
    )


def _aws_node_crash() -> PodEvidence:
    env = {"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "0"}
    ev = f.evidence(
        env=env,
        the_metrics=None,
        events=[
            f.event("FailedCreatePodSandBox", "add cmd: Error received from AddNetwork gRPC call: rpc error", count=6)
        ],
    )
    ev.aws_node_pod = f.aws_node(
        ready=False,
        restarts=7,
        waiting="CrashLoopBackOff",
        last_message="Setting WARM_PREFIX_TARGET = 0 is not supported",
    )
    ev.metrics = None
    return ev


def _subnet_exhausted() -> PodEvidence:
    addresses = f.ips("10.0.32.", 20, 18)
    other_node = f.ips("10.0.33.", 0, 18)
    sweep = [
        f.eni("eni-0", 0, secondary=addresses[:9], primary="10.0.32.10", cni=False),
        f.eni("eni-1", 1, secondary=addresses[9:], primary="10.0.32.11"),
        f.eni("eni-o0", 0, secondary=other_node[:9], primary="10.0.33.100", cni=False, instance="i-other"),
        f.eni("eni-o1", 1, secondary=other_node[9:], primary="10.0.33.101", instance="i-other"),
        f.eni(
            "eni-leak",
            None,
            secondary=f.ips("10.0.34.", 0, 9),
            primary="10.0.34.200",
            status="available",
            instance="i-gone",
        ),
    ]
    other_pods = [f.pod(f"other-{i}", "shop", node="other", ip=other_node[i], phase="Running") for i in range(2)]
    ev = f.evidence(
        subnets=[
            f.subnet("subnet-node", "10.0.32.0/20", free=3),
            f.subnet("subnet-x", "10.0.48.0/20", az="us-east-2a"),
        ],
        the_metrics=f.metrics(
            18, 18, api_errors={("AssignPrivateIpAddresses", "InsufficientFreeAddressesInSubnet"): 5}
        ),
        subnet_enis={"subnet-node": sweep},
    )
    ev.all_pods = [*(ev.node_pods or []), *other_pods]
    return ev


def _fragmented() -> PodEvidence:
    # /24 with every other address used: 120 free IPs, no free aligned /28.
    used = tuple(f"10.0.40.{i}" for i in range(4, 255, 2))
    env = {"ENABLE_PREFIX_DELEGATION": "true"}
    node_enis = [
        f.eni("eni-0", 0, "subnet-frag", primary="10.0.40.4", cni=False),
        f.eni("eni-1", 1, "subnet-frag", primary="10.0.40.6", prefixes=("10.0.41.0/28",)),
    ]
    sweep = [f.eni("eni-scatter", 1, "subnet-frag", secondary=used, instance="i-other")]
    return f.evidence(
        env=env,
        node_enis=node_enis,
        subnets=[f.subnet("subnet-frag", "10.0.40.0/24", free=120)],
        the_metrics=f.metrics(16, 16, api_errors={("AssignPrivateIpAddresses", "InsufficientCidrBlocks"): 2}),
        subnet_enis={"subnet-frag": sweep},
    )


def _fragmented_seen_only_by_ec2() -> PodEvidence:
    """No subnet sweep to analyse; ipamd's new ENI (createENI with Ipv4PrefixCount) was refused by EC2 with
    InvalidParameterValue "There aren't sufficient free Ipv4 addresses or prefixes" (awscni_aws_api_error_count)."""
    ev = _fragmented()
    ev.subnet_enis = {}
    ev.metrics = f.metrics(16, 16, api_errors={("CreateNetworkInterface", "InvalidParameterValue"): 3})
    return ev


def _custom_networking_env() -> dict[str, str]:
    return {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}


def _eniconfigs(*zones: str, subnet_of: dict[str, str] | None = None) -> list[EniConfigFact]:
    subnet_of = subnet_of or {}
    default = {"us-east-2a": "subnet-pods-a", "us-east-2b": "subnet-pods-b", "us-east-2c": "subnet-pods-c"}
    return [EniConfigFact(z, subnet_of.get(z, default[z]), ("sg-pods",)) for z in zones]


def _node_capacity_custom_networking() -> PodEvidence:
    pod_ips = f.ips("100.64.32.", 10, 18)
    node_enis = [
        f.eni("eni-0", 0, primary="10.0.32.10", cni=False),
        f.eni("eni-1", 1, "subnet-pods-b", secondary=pod_ips[:9], primary="100.64.32.4"),
        f.eni("eni-2", 2, "subnet-pods-b", secondary=pod_ips[9:], primary="100.64.32.5"),
    ]
    return f.evidence(
        env=_custom_networking_env(), node_enis=node_enis, eniconfigs=_eniconfigs("us-east-2a", "us-east-2b"), waiting=5
    )


def _attachment_limit() -> PodEvidence:
    return f.evidence(
        the_metrics=f.metrics(18, 18, api_errors={("AttachNetworkInterface", "AttachmentLimitExceeded"): 3})
    )


def _iam() -> PodEvidence:
    message = (
        "Unauthorized operation: failed to call ec2:AssignPrivateIpAddresses due to missing permissions. Please refer "
        "https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/iam-policy.md to attach relevant policy to IAM role"
    )
    return f.evidence(aws_node_events=[f.event("MissingIAMPermissions", message, count=3, source="aws-node")])


def _throttled() -> PodEvidence:
    return f.evidence(
        the_metrics=f.metrics(
            18,
            18,
            api_errors={("CreateNetworkInterface", "RequestLimitExceeded"): 12},
            action_in_progress={"increaseDatastorePool": 1},
        )
    )


def _eniconfig_missing() -> PodEvidence:
    ev = f.evidence(env=_custom_networking_env(), eniconfigs=_eniconfigs("us-east-2a"), the_metrics=None)
    ev.aws_node_pod = f.aws_node(
        ready=False,
        restarts=4,
        waiting="CrashLoopBackOff",
        last_message="Failed to attach any ENIs for custom networking",
    )
    return ev


def _eniconfig_label_def() -> PodEvidence:
    env = {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"}
    return f.evidence(env=env, eniconfigs=_eniconfigs("us-east-2a", "us-east-2b"))


def _eniconfig_wrong_az() -> PodEvidence:
    return f.evidence(
        env=_custom_networking_env(),
        eniconfigs=_eniconfigs("us-east-2a", "us-east-2b", subnet_of={"us-east-2b": "subnet-pods-a"}),
    )


def _subnet_excluded() -> PodEvidence:
    return f.evidence(subnets=[f.subnet("subnet-node", "10.0.32.0/20", **{"kubernetes.io__role__cni": "0"})])


def _warm_frozen() -> PodEvidence:
    addresses = f.ips("10.0.32.", 20, 11)
    node_enis = [
        f.eni("eni-0", 0, secondary=addresses[:9], primary="10.0.32.10", cni=False),
        f.eni("eni-1", 1, secondary=addresses[9:], primary="10.0.32.11"),
    ]
    return f.evidence(
        env={"MINIMUM_IP_TARGET": "11"}, node_enis=node_enis, pods_with_ip=11, the_metrics=f.metrics(11, 11), waiting=2
    )


def _cooldown() -> PodEvidence:
    return f.evidence(pods_with_ip=15, the_metrics=f.metrics(18, 15, del_requests=40, no_available_ip_addresses=6))


def _cordoned() -> PodEvidence:
    return f.evidence(the_node=f.node(unschedulable=True))


def _policy_agent() -> PodEvidence:
    message = 'plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to setup network policy'
    return f.evidence(events=[f.event("FailedCreatePodSandBox", message, count=2)], the_metrics=f.metrics(18, 10))


def _nothing_matches() -> PodEvidence:
    return f.evidence(
        pods_with_ip=10, the_metrics=None, events=[f.event("FailedCreatePodSandBox", "add cmd: weird", count=1)]
    )


CASES: dict[str, Case] = {
    "pod-not-found": Case(_not_found, CauseCode.POD_NOT_FOUND, ("0 pods named web", "web-7d9f-abcde", "staging/web")),
    "host-network": Case(_host_network, CauseCode.HOST_NETWORK, ("hostNetwork", "10.0.32.10")),
    "has-ip": Case(_has_ip, CauseCode.POD_HAS_IP, ("10.0.32.77", "ImagePullBackOff")),
    "not-scheduled": Case(_cpu, CauseCode.NOT_SCHEDULED, ("2 Insufficient cpu", "0 of 3 nodes fit"), ("requests",)),
    "max-pods": Case(
        _too_many_pods,
        CauseCode.MAX_PODS_REACHED,
        ("3 of 3 nodes", "max-pods 29"),
        ("Add nodes", "m5.large 29 -> 110"),
    ),
    "sgp-unscheduled": Case(
        _pod_eni_unscheduled,
        CauseCode.SGP_BRANCH_CAPACITY,
        ("2 of 2 nodes", "9 branch ENIs", "1 node of t3.large"),
        ("trunking-capable",),
    ),
    "aws-node-crash": Case(
        _aws_node_crash,
        CauseCode.AWS_NODE_NOT_READY,
        ("7 restarts", "CrashLoopBackOff", "WARM_PREFIX_TARGET = 0"),
        ("WARM_PREFIX_TARGET=1",),
        {"kind": "aws-node-env", "env": {"WARM_PREFIX_TARGET": "1"}},
    ),
    "subnet-exhausted": Case(
        _subnet_exhausted,
        CauseCode.SUBNET_EXHAUSTED,
        (
            "subnet-node (us-east-2b) 3 free of 4,091",
            "a new ENI needs 10",
            "InsufficientFreeAddressesInSubnet 5",
            "2 nodes hold 36",
        ),
        ("WARM_IP_TARGET=2", "would free about"),
        {"kind": "aws-node-env", "env": {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "10"}},
        contributing=(CauseCode.LEAKED_ENIS,),
    ),
    "fragmented": Case(
        _fragmented,
        CauseCode.PREFIX_FRAGMENTATION,
        ("120 free", "0 of 14 aligned /28 blocks free", "InsufficientCidrBlocks 2"),
        ("create-subnet-cidr-reservation",),
    ),
    "fragmented-new-eni-refused": Case(
        _fragmented_seen_only_by_ec2,
        CauseCode.PREFIX_FRAGMENTATION,
        (
            "120 free",
            "CreateNetworkInterface InvalidParameterValue 3 times",
            "There aren't sufficient free Ipv4 addresses or prefixes",
        ),
        ("create-subnet-cidr-reservation",),
    ),
    "node-ip-capacity": Case(
        _node_capacity_custom_networking,
        CauseCode.NODE_IP_CAPACITY,
        ("ENIs 3/3 on m5.large", "pod IPs 18/18", "max-pods 29", "primary ENI serves no pods (-9 IPs)"),
        ("max-pods to 20", "prefix delegation"),
    ),
    "attachment-limit": Case(
        _attachment_limit,
        CauseCode.ATTACHMENT_LIMIT,
        ("AttachmentLimitExceeded", "3 times", "EC2 allows 3 ENIs on m5.large"),
        ("Upgrade the VPC CNI (running 1.19.2)",),
    ),
    "iam": Case(
        _iam,
        CauseCode.IAM_PERMISSION_MISSING,
        ("ec2:AssignPrivateIpAddresses (3 times)",),
        ("AmazonEKS_CNI_Policy",),
    ),
    "throttled": Case(
        _throttled,
        CauseCode.EC2_THROTTLED,
        ("RequestLimitExceeded CreateNetworkInterface 12", "increaseDatastorePool}=1"),
        ("backs off",),
    ),
    "eniconfig-missing": Case(
        _eniconfig_missing,
        CauseCode.ENICONFIG_MISSING,
        ("'us-east-2b'", "label topology.kubernetes.io/zone=us-east-2b", "1 ENIConfig exist", "4 restarts"),
        ("Create ENIConfig 'us-east-2b' with subnet subnet-pods-b",),
        {
            "kind": "eniconfig",
            "eniconfig": {"name": "us-east-2b", "subnet": "subnet-pods-b", "securityGroups": ["sg-pods"]},
        },
        contributing=(CauseCode.AWS_NODE_NOT_READY,),
    ),
    "eniconfig-label-def": Case(
        _eniconfig_label_def,
        CauseCode.ENICONFIG_MISSING,
        ("'default'", "2 ENIConfigs exist"),
        ("ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone",),
        {"kind": "aws-node-env", "env": {"ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}},
    ),
    "eniconfig-wrong-az": Case(
        _eniconfig_wrong_az,
        CauseCode.ENICONFIG_INVALID,
        ("subnet-pods-a in us-east-2a", "node is in us-east-2b"),
        ("Point ENIConfig us-east-2b at subnet subnet-pods-b",),
        {
            "kind": "eniconfig",
            "eniconfig": {"name": "us-east-2b", "subnet": "subnet-pods-b", "securityGroups": ["sg-pods"]},
        },
    ),
    "subnet-excluded": Case(
        _subnet_excluded,
        CauseCode.SUBNET_EXCLUDED,
        ("kubernetes.io/role/cni=0", "2 ENIs in it (18 IPs)", "0 subnets in us-east-2b tagged"),
        ("kubernetes.io/role/cni=1",),
    ),
    "warm-frozen": Case(
        _warm_frozen,
        CauseCode.WARM_TARGET_MISCONFIG,
        ("MINIMUM_IP_TARGET=11", "IPs 11/11 assigned", "3 pods on the node wait"),
        ("WARM_IP_TARGET=2",),
        {"kind": "aws-node-env", "env": {"WARM_IP_TARGET": "2"}},
    ),
    "cooldown": Case(
        _cooldown,
        CauseCode.IP_COOLDOWN,
        ("3 unassigned IPs", "IP_COOLDOWN_PERIOD=30s", "40 IP releases"),
        ("WARM_ENI_TARGET=2",),
        {"kind": "aws-node-env", "env": {"WARM_ENI_TARGET": "2"}},
    ),
    "cordoned": Case(
        _cordoned,
        CauseCode.NODE_CORDONED,
        ("spec.unschedulable=true", "AWS_MANAGE_ENIS_NON_SCHEDULABLE=false", "IPs 18/18 assigned"),
        ("kubectl uncordon",),
        {"kind": "aws-node-env", "env": {"AWS_MANAGE_ENIS_NON_SCHEDULABLE": "true"}},
    ),
    "network-policy": Case(
        _policy_agent,
        CauseCode.NETWORK_POLICY_AGENT,
        ("failed to setup network policy' 2 times", "0 restarts"),
        ("aws-eks-nodeagent",),
    ),
    "unknown": Case(
        _nothing_matches,
        CauseCode.UNKNOWN,
        ("failed 1 time: an error not from", "ENIs 2/3 on m5.large", "IPs 10/18 assigned"),
        ("ipamd.log",),
    ),
}


def _run(case: Case) -> Diagnosis:
    return diagnose(case.build(), now=f.NOW)


@pytest.mark.parametrize("name", list(CASES))
def test_cause_code_numbers_and_remedy(name: str) -> None:
    case = CASES[name]
    result = _run(case)
    primary = result.primary
    assert primary.code is case.code, [(c.code, c.confidence, c.summary) for c in result.causes]
    assert not primary.contributing
    text = "\n".join((primary.summary, *primary.evidence))
    for needle in case.says:
        assert needle in text, f"{needle!r} not in:\n{text}"
    remedy = "\n".join(primary.remedy)
    for needle in case.remedy:
        assert needle in remedy, f"{needle!r} not in:\n{remedy}"
    if case.change is not None:
        assert primary.change is not None and primary.change.as_dict() == case.change
        assert result.change == primary.change
    for code in case.contributing:
        found = [c for c in result.causes if c.code is code]
        assert found and found[0].contributing, result.codes


@pytest.mark.parametrize("name", list(CASES))
def test_every_claim_carries_a_number(name: str) -> None:
    for cause in _run(CASES[name]).causes:
        assert 0.0 <= cause.confidence <= 1.0
        assert cause.summary and cause.remedy
        for line in cause.evidence:
            assert any(ch.isdigit() for ch in line), f"{cause.code}: no number in {line!r}"


def test_healthy_pool_with_no_failures_is_still_starting() -> None:
    ev = f.evidence(pods_with_ip=10, the_metrics=f.metrics(18, 10), events=[])
    result = diagnose(ev, now=f.NOW)
    assert result.codes == ["UNKNOWN"]
    assert "may still be starting" in result.primary.summary


def test_partial_evidence_still_diagnoses_and_keeps_what_failed() -> None:
    ev = _subnet_exhausted()
    ev.metrics = None
    ev.could_not_check = [Unchecked("ipamd metrics", "kube:GET pods/proxy", "forbidden (RBAC)")]
    result = diagnose(ev, now=f.NOW)
    assert result.primary.code is CauseCode.SUBNET_EXHAUSTED
    assert "EC2 ENIs and the pods on the node" in "\n".join(result.primary.evidence)
    assert result.could_not_check[0].api == "kube:GET pods/proxy"


def test_unreadable_pod_is_unknown_not_missing() -> None:
    ev = f.evidence()
    ev.pod = None
    ev.could_not_check = [Unchecked("pod", "kube:GET pods", "forbidden (RBAC)")]
    assert diagnose(ev, now=f.NOW).codes == ["UNKNOWN"]


def test_unscheduled_mix_ranks_the_biggest_group_first() -> None:
    ev = f.unscheduled("0/5 nodes are available: 4 Too many pods, 1 Insufficient memory.")
    result = diagnose(ev, now=f.NOW)
    assert result.codes == ["MAX_PODS_REACHED", "NOT_SCHEDULED"]
    assert result.causes[0].confidence > result.causes[1].confidence


def test_subnet_in_another_vpc_and_missing_security_group() -> None:
    ev = _eniconfig_wrong_az()
    ev.eniconfigs = [EniConfigFact("us-east-2b", "subnet-pods-b", ("sg-pods", "sg-gone"))]
    ev.eniconfig = ev.eniconfigs[0]
    ev.existing_security_groups = {"sg-pods"}
    result = diagnose(ev, now=f.NOW)
    assert result.primary.code is CauseCode.ENICONFIG_INVALID
    assert "sg-gone" in result.primary.summary
    assert result.primary.change == ProposedChange.eniconfig_spec("us-east-2b", "subnet-pods-b", ("sg-pods",))


def test_non_nitro_prefix_delegation_shrinks_capacity() -> None:
    env = {"ENABLE_PREFIX_DELEGATION": "true"}
    addresses = f.ips("10.0.32.", 20, 18)
    node_enis = [
        f.eni("eni-0", 0, secondary=addresses[:9], primary="10.0.32.10", cni=False),
        f.eni("eni-1", 1, secondary=addresses[9:], primary="10.0.32.11"),
    ]
    ev = f.evidence(
        env=env, instance=f.M4_LARGE, node_enis=node_enis, the_node=f.node(capacity_pods=110, instance_type="m4.large")
    )
    result = diagnose(ev, now=f.NOW)
    assert result.primary.code is CauseCode.NODE_IP_CAPACITY
    text = "\n".join(result.primary.evidence)
    assert "not Nitro (xen)" in text and "max-pods 110" in text


def test_node_capacity_from_ipamd_gauges_when_ec2_could_not_be_read() -> None:
    ev = f.evidence(
        the_node=f.node(capacity_pods=35),
        pods_with_ip=27,
        the_metrics=IpamdMetrics(eni_max=3, ip_max=27, eni_allocated=3, total_ips=27, assigned_ips=27),
    )
    ev.node_enis = None
    ev.could_not_check = [Unchecked("the node's ENIs", "ec2:DescribeNetworkInterfaces", "throttled")]
    result = diagnose(ev, now=f.NOW)
    assert result.primary.code is CauseCode.NODE_IP_CAPACITY
    assert "ENIs 3/3 on m5.large (ipamd metrics)" in result.primary.evidence[0]


def test_minimum_ip_target_freezes_whole_prefixes_with_prefix_delegation() -> None:
    node_enis = [
        f.eni("eni-0", 0, primary="10.0.32.10", cni=False, prefixes=("10.0.33.0/28",)),
        f.eni("eni-1", 1, primary="10.0.32.11"),
    ]
    env = {"ENABLE_PREFIX_DELEGATION": "true", "MINIMUM_IP_TARGET": "10", "WARM_PREFIX_TARGET": "0"}
    ev = f.evidence(env=env, node_enis=node_enis, pods_with_ip=16, the_metrics=f.metrics(16, 16))
    result = diagnose(ev, now=f.NOW)
    assert result.primary.code is CauseCode.WARM_TARGET_MISCONFIG
    assert result.primary.change == ProposedChange.aws_node(WARM_IP_TARGET="2")


def test_a_crash_with_its_own_cause_is_not_blamed_on_the_missing_eniconfig() -> None:
    env = {**_custom_networking_env(), "IP_COOLDOWN_PERIOD": "-5"}
    ev = f.evidence(env=env, eniconfigs=_eniconfigs("us-east-2a"), the_metrics=None)
    ev.aws_node_pod = f.aws_node(
        ready=False, restarts=3, waiting="CrashLoopBackOff", last_message="IP_COOLDOWN_PERIOD MUST be a valid ..."
    )
    result = diagnose(ev, now=f.NOW)
    by_code = {c.code: c for c in result.causes}
    crash = by_code[CauseCode.AWS_NODE_NOT_READY]
    assert not crash.contributing and crash.change == ProposedChange.aws_node(IP_COOLDOWN_PERIOD="30")
    assert CauseCode.ENICONFIG_MISSING in by_code


def test_a_bad_env_not_yet_rolled_out_only_contributes() -> None:
    ev = f.evidence(env={"IP_COOLDOWN_PERIOD": "-5"})  # aws-node on the node is the old, ready one
    result = diagnose(ev, now=f.NOW)
    latent = next(c for c in result.causes if c.code is CauseCode.AWS_NODE_NOT_READY)
    assert latent.contributing and "any restart or new node will not" in latent.summary
    assert result.primary.code is not CauseCode.AWS_NODE_NOT_READY


def test_ipamd_unreachable_during_a_restart_is_transient() -> None:
    message = "add cmd: Error received from AddNetwork gRPC call: rpc error: code = Unavailable"
    ev = f.evidence(
        pods_with_ip=10,
        the_metrics=f.metrics(18, 10),
        events=[f.event("FailedCreatePodSandBox", message, count=3)],
        aws_node_pod=f.aws_node(ready=True, restarts=1),
    )
    result = diagnose(ev, now=f.NOW)
    assert result.primary.code is CauseCode.AWS_NODE_NOT_READY
    assert result.primary.confidence < 0.5 and "3 pod sandbox attempts" in result.primary.summary


def test_proposed_change_commands() -> None:
    env = ProposedChange.aws_node(WARM_IP_TARGET="2", MINIMUM_IP_TARGET="18")
    assert env.command(reason="why-pending shop/web", cluster="prod") == (
        "/cni set WARM_IP_TARGET=2 MINIMUM_IP_TARGET=18 --cluster prod --reason 'why-pending shop/web'"
    )
    spec = ProposedChange.eniconfig_spec("us-east-2b", "subnet-1", ("sg-1", "sg-2"))
    assert spec.command(reason="fix") == (
        "/cni eniconfig set us-east-2b --subnet subnet-1 --security-groups sg-1,sg-2 --reason fix"
    )
