from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.digests.content import (
    ApprovedSettings,
    Digest,
    DigestInputs,
    DigestSummary,
    PendingChange,
    build_digest,
)
from bot.digests.outlook import Level
from bot.digests.recommend import CUSTOM_NETWORKING, PREFIX_DELEGATION, SUBNET_DISCOVERY, WARM_POOL
from bot.digests.render import digest_doc
from bot.domain.capacity_samples import CapacitySample, FailedPod, SubnetHistory, SubnetSample, VpcSubnet
from bot.render.doc import render_text
from tests.unit.digests.factories import NOW, draining_history, node, sample

SUBNET_A = SubnetSample("subnet-a", "us-east-2a", 4091, 300, 120)
SUBNET_B = SubnetSample("subnet-b", "us-east-2b", 4091, 3000, 60)


def histories(samples: Sequence[CapacitySample]) -> list[SubnetHistory]:
    points: dict[str, list[tuple]] = defaultdict(list)
    meta = {}
    for s in samples:
        for sub in s.subnets:
            points[sub.subnet_id].append((s.taken_at, sub.free))
            meta[sub.subnet_id] = (sub.az, sub.usable)
    return [SubnetHistory(k, meta[k][0], meta[k][1], tuple(v)) for k, v in sorted(points.items())]


def digest_of(latest: CapacitySample, per_day: dict[str, float], **inputs: object) -> Digest:
    history = draining_history(latest, per_day, days=8)
    fields: dict[str, object] = {"cluster": "prod", "now": NOW, "latest": latest, "histories": histories(history)}
    fields.update(inputs)
    return build_digest(DigestInputs(**fields))  # type: ignore[arg-type]


def test_a_draining_subnet_puts_the_cluster_at_risk_with_its_forecast() -> None:
    digest = digest_of(sample([SUBNET_A, SUBNET_B]), {"subnet-a": 100})
    assert digest.level == Level.AT_RISK
    assert digest.headline == "prod is at risk: subnet-a (us-east-2a) runs out in about 3 days"
    a, b = digest.subnets
    assert (a.subnet_id, a.change_24h, a.change_7d, a.forecast.text) == ("subnet-a", -100, -700, "3.0")
    assert a.warm_share == pytest.approx(100 * 120 / (4091 - 300))
    assert (b.level, b.forecast.text, b.change_24h) == (Level.HEALTHY, "n/a", 0)


def test_a_flat_cluster_is_healthy() -> None:
    digest = digest_of(sample([SUBNET_A, SUBNET_B]), {})
    assert digest.level == Level.WATCH  # subnet-a is 93% used, even if it does not move
    healthy = digest_of(sample([SUBNET_B]), {})
    assert healthy.level == Level.HEALTHY
    assert healthy.headline == "prod is healthy: 3,000 free IPs in 1 subnets, none runs out within 30 days"


def test_failed_pods_put_the_cluster_at_risk_and_group_per_pod_and_cause() -> None:
    seen = NOW - timedelta(hours=2)
    failed = [
        FailedPod("shop", "web-1", "no-ip", "failed to assign an IP address to container", seen, count=3),
        FailedPod("shop", "web-1", "no-ip", "failed to assign an IP address to container", seen, count=5),
        FailedPod("shop", "web-2", "ipamd-unreachable", "Error received from AddNetwork gRPC call", seen),
    ]
    digest = digest_of(sample([SUBNET_B]), {}, failed_pods=failed, since=NOW - timedelta(days=1))
    assert digest.level == Level.AT_RISK
    assert digest.headline == "prod is at risk: 2 pods failed to get an IP"
    assert [(g.ref, g.causes, g.count) for g in digest.failed_pods] == [
        ("shop/web-2", ("ipamd-unreachable",), 1),
        ("shop/web-1", ("no-ip",), 5),
    ]


def test_a_diagnosed_pod_shows_its_root_cause_first() -> None:
    seen = NOW - timedelta(hours=2)
    failed = [
        FailedPod("shop", "web-1", "no-ip", "failed to assign an IP address to container", seen, count=4),
        FailedPod("shop", "web-1", "SUBNET_EXHAUSTED", "", seen + timedelta(minutes=5), source="diagnosis"),
    ]
    (group,) = digest_of(sample([SUBNET_B]), {}, failed_pods=failed).failed_pods
    assert (group.causes, group.count, group.sources) == (("SUBNET_EXHAUSTED", "no-ip"), 4, ("diagnosis", "event"))
    assert group.message == "failed to assign an IP address to container"


def test_nodes_at_or_near_their_limits_fullest_first() -> None:
    nodes = [node("roomy", assigned=5), node("full", assigned=27, held=27, enis=3), node("near", assigned=25)]
    digest = digest_of(sample([SUBNET_B], nodes=nodes), {})
    assert [(n.node.name, n.reason) for n in digest.nodes_at_limit] == [
        ("full", "3 of 3 ENIs, 27 of 27 pod IPs; 29 of 29 max-pods"),
        ("near", "2 of 3 ENIs, 25 of 27 pod IPs; 27 of 29 max-pods"),
    ]


def test_drift_from_the_last_approved_change_and_pending_requests() -> None:
    approved = ApprovedSettings({"WARM_IP_TARGET": "5", "WARM_ENI_TARGET": "1"}, change_id="12")
    pending = [PendingChange("14", "MINIMUM_IP_TARGET=20", "U0BOB")]
    digest = digest_of(sample([SUBNET_B]), {}, approved=approved, pending=pending)
    assert [(c.key, c.old, c.new) for c in digest.drift or ()] == [("WARM_IP_TARGET", "5", None)]
    text = render_text(digest_doc(digest))
    assert "`WARM_IP_TARGET`: running unset, approved 5" in text
    assert "#14 MINIMUM_IP_TARGET=20, asked by <@U0BOB>" in text
    assert digest_of(sample([SUBNET_B]), {}).drift is None  # nothing approved yet: nothing to compare


def test_nothing_changed_since_the_last_digest_makes_one_line() -> None:
    first = digest_of(sample([SUBNET_B]), {})
    again = digest_of(sample([SUBNET_B]), {}, previous=first.summary, since=NOW - timedelta(days=1))
    assert again.unchanged
    doc = digest_doc(again)
    assert doc.elements == [] and doc.summary.endswith(
        "No change since the last digest (posted 24 h ago); figures from just now."
    )
    assert digest_doc(again, one_line_when_unchanged=False).elements
    moved = DigestSummary.from_json({**first.summary.to_json(), "free": {"subnet-b": 2500}})
    assert not digest_of(sample([SUBNET_B]), {}, previous=moved).unchanged


def test_recommendations_come_in_best_practices_order_with_computed_effects() -> None:
    spare = VpcSubnet("subnet-spare", "us-east-2a", "10.0.64.0/20", 4091, 4000, None, "spare-2a")
    vpc = [
        VpcSubnet("subnet-a", "us-east-2a", "10.0.0.0/20", 4091, 300, None, used_by_cluster=True),
        VpcSubnet("subnet-b", "us-east-2b", "10.0.16.0/20", 4091, 3000, None, used_by_cluster=True),
        spare,
    ]
    nodes = [node("n1"), node("n2"), node("n3"), node("full", assigned=27, held=27, enis=3)]
    digest = digest_of(sample([SUBNET_A, SUBNET_B], nodes=nodes, vpc_subnets=vpc), {"subnet-a": 100})
    recs = {r.code: r for r in digest.recommendations}
    assert [r.code for r in digest.recommendations] == [
        SUBNET_DISCOVERY,
        CUSTOM_NETWORKING,
        PREFIX_DELEGATION,
        WARM_POOL,
    ]
    assert (
        "Tag spare-2a subnet-spare (us-east-2a, 4,000 free) with kubernetes.io/role/cni=1"
        in recs[SUBNET_DISCOVERY].action
    )
    assert recs[SUBNET_DISCOVERY].effect.startswith(
        "us-east-2a: +4,000 addresses (about 6 weeks more at today's drain)"
    )
    assert "us-east-2a: +16,379 pod addresses" in recs[CUSTOM_NETWORKING].effect
    assert "max-pods m5.large 29 -> 20" in recs[CUSTOM_NETWORKING].effect
    assert recs[PREFIX_DELEGATION].effect == (
        "m5.large (1 at their limit): max-pods 29 -> 110 (max-pods-calculator.sh). Up to 81 more pods on the nodes "
        "that are full today."
    )
    # Three nodes with 10 pod IPs each: WARM_ENI_TARGET=1 holds 3 ENIs (30 addresses), the IP targets 2 (14).
    assert recs[WARM_POOL].effect.startswith("Frees about 48 addresses (subnet-a: 48 (about 12 hours more))")
    assert "MINIMUM_IP_TARGET=10" in recs[WARM_POOL].action


def test_no_recommendations_without_pressure_or_waste() -> None:
    nodes = [node("n1", assigned=9, held=9, enis=1)]
    assert digest_of(sample([SUBNET_B], nodes=nodes), {}).recommendations == ()


def test_custom_networking_already_on_suggests_neither_discovery_nor_secondary_cidr() -> None:
    env = {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENABLE_PREFIX_DELEGATION": "true"}
    digest = digest_of(sample([SUBNET_A], env=env), {"subnet-a": 100})
    assert [r.code for r in digest.recommendations] == []


def test_the_full_digest_renders_every_section() -> None:
    nodes = [node("full", assigned=27, held=27, enis=3)]
    failed = [FailedPod("shop", "web-1", "no-ip", "failed to assign an IP address to container", NOW)]
    digest = digest_of(sample([SUBNET_A, SUBNET_B], nodes=nodes), {"subnet-a": 100}, failed_pods=failed)
    text = render_text(digest_doc(digest))
    assert text.splitlines()[0].startswith("● prod is at risk: subnet-a (us-east-2a) runs out in about 3 days")
    assert "us-east-2a  subnet-a !    300   93%  -100  -700        3.0         3%" in text
    assert "us-east-2b  subnet-b    3,000   27%     0     0        n/a         5%" in text
    assert "Nodes at or near their ENI/IP limits (1 of 1)" in text
    assert "`shop/web-1`: no-ip, just now (failed to assign an IP address to container)" in text
    assert "Recommendations" in text and "1. Let ipamd use more subnets" not in text  # no spare subnet here
    assert "2. Give nodes /28 prefixes" in text


def test_a_nearly_empty_subnet_reads_below_one_percent_as_in_cni_subnets() -> None:
    roomy = SubnetSample("subnet-big", "us-east-2a", 8187, 8150, 10)
    text = render_text(digest_doc(digest_of(sample([roomy]), {})))
    row = next(line for line in text.splitlines() if "subnet-big" in line)
    assert "<1%" in row and " 0% " not in row


def test_an_ipv6_cluster_gets_no_ipv4_pod_remedies_and_says_what_its_figures_count() -> None:
    """IPv6 (ipamd.go isConfigValid): pods take addresses from each node's /80, so the IPv4 remedies (warm pools,
    prefix delegation, a secondary CIDR) do not apply, and the IPv4 figures are said to be nodes'."""
    spare = VpcSubnet("subnet-spare", "us-east-2a", "10.0.64.0/20", 4091, 4000, None, "spare-2a")
    vpc = [VpcSubnet("subnet-a", "us-east-2a", "10.0.0.0/20", 4091, 300, None, used_by_cluster=True), spare]
    nodes = [node("n1"), node("full", assigned=27, held=27, enis=3)]
    env = {"ENABLE_IPv6": "true", "ENABLE_IPv4": "false", "ENABLE_PREFIX_DELEGATION": "true"}
    ipv4 = digest_of(sample([SUBNET_A], nodes=nodes, vpc_subnets=vpc), {"subnet-a": 100})
    ipv6 = digest_of(sample([SUBNET_A], nodes=nodes, vpc_subnets=vpc, env=env), {"subnet-a": 100})
    assert ipv4.recommendations and not ipv4.ipv6
    assert ipv6.ipv6 and ipv6.recommendations == ()
    assert "for node and ENI addresses, not pods" in render_text(digest_doc(ipv6))
