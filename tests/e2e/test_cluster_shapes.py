"""Mixed clusters and EKS Auto Mode end to end (issue 16): signed slash commands to the bot's HTTP endpoint, the
bot reading the simulated EKS, EC2 and Kubernetes APIs over HTTP, answers on the response_url; the JSON through
the runner `cnibot ask --json` uses."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_state_commands import blocks_text, run_json
from tests.support.simbot import SimBot


def _slash(sb: SimBot, text: str) -> dict[str, Any]:
    reply = sb.bot.slash(text)
    assert reply.status == 200
    return sb.bot.answer(reply)


def _shape_rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["label"]: row for row in data["by_shape"]}


def test_mixed_cluster_capacity_has_one_section_per_shape(make_sim: Any) -> None:
    sb = make_sim("mixed-cluster")
    sim = sb.sim
    subnet = {name: s.id for name, s in sim.cluster.subnets.items()}
    rows = _shape_rows(run_json(sb, "capacity").data)
    assert list(rows) == ["EC2 (aws-node, IPv4)", "EKS Auto Mode", "Fargate", "Windows"]
    ec2, auto, fargate, windows = rows.values()
    assert (ec2["nodes"], ec2["subnets"], ec2["address_family"]) == (2, [subnet["nodes-us-east-2a"]], "ipv4")
    # Auto Mode: max-pods 27 less its 6 pods (5 and kube-proxy), within the 245 free of its own subnet.
    assert (auto["nodes"], auto["more_pods_fit"], auto["binding_limit"]) == (1, 21, "max-pods")
    assert auto["subnets"] == [subnet["auto-us-east-2b"]] and auto["free_ipv4_for_pods"] == 245
    # Fargate: one address per pod in the profile's /26 (64 - 5 reserved - 3 pods).
    assert fargate["subnets"] == [subnet["fargate-us-east-2a"]]
    assert (fargate["free_ipv4_for_pods"], fargate["more_pods_fit"]) == (56, 56)
    assert any("Fargate's own capacity" in c for c in fargate["cannot_see"])
    assert (windows["more_pods_fit"], windows["binding_limit"]) == (6, "vpc.amazonaws.com/PrivateIPv4Address")

    answer = _slash(sb, "capacity")
    text = blocks_text(answer)
    assert answer["text"].startswith("Room for *34 more pods* in demo")  # aws-node's own headline stays
    assert "By node shape" in text and "Not visible to cnibot" in text
    assert "56 IPv4" in text and "EKS Auto Mode" in text


def test_mixed_cluster_subnets_list_the_fargate_profile_subnet_and_who_draws_on_each(make_sim: Any) -> None:
    sb = make_sim("mixed-cluster")
    fargate_subnet = sb.sim.cluster.subnets["fargate-us-east-2a"].id
    data = run_json(sb, "subnets").data
    by_id = {s["subnet_id"]: s for s in data["subnets"]}
    assert "fargate" in by_id[fargate_subnet]["roles"]
    assert _shape_rows(data)["Fargate"]["pod_addresses_from"] == "one ENI per pod in its Fargate profile's subnets"
    text = blocks_text(_slash(sb, "subnets"))
    assert fargate_subnet in text and "By node shape" in text and "the VPC resource controller" in text


def test_mixed_cluster_digest_marks_other_shapes_and_gives_them_no_ipamd_remedy(make_sim: Any) -> None:
    sb = make_sim("mixed-cluster")
    subnets = sb.sim.cluster.subnets
    text = blocks_text(_slash(sb, "digest now"))
    assert f"{subnets['fargate-us-east-2a'].id} F" in text
    assert f"{subnets['auto-us-east-2b'].id} A" in text and f"{subnets['windows-us-east-2b'].id} W" in text
    assert "F = Fargate" in text and "A = EKS Auto Mode" in text
    # The warm-pool advice counts aws-node's subnet only.
    assert f"({subnets['nodes-us-east-2a'].id}: " in text
    assert f"({subnets['fargate-us-east-2a'].id}: " not in text


def test_a_full_fargate_profile_subnet_gets_no_custom_networking_advice(make_sim: Any) -> None:
    sb = make_sim("cluster-shapes")
    full = sb.sim.cluster.subnets["fargate-us-east-2a"].id
    text = blocks_text(_slash(sb, "digest now"))
    assert f"{full} ! F" in text
    assert "custom networking" not in text.lower() and "secondary CIDR" not in text


def test_ipv6_cluster_shape_rows_never_count_ipv4_addresses_for_pods(make_sim: Any) -> None:
    sb = make_sim("ipv6")
    data = run_json(sb, "capacity").data
    assert data["ip_family"] == "ipv6"
    (row,) = data["by_shape"]
    assert row["label"] == "EC2 (aws-node, IPv6)" and row["free_ipv4_for_pods"] is None
    assert row["more_pods_fit"] == data["total"]["more_pods_fit"]
    assert "IPv6 (not counted)" in blocks_text(_slash(sb, "capacity"))


def test_auto_mode_cluster_says_eks_manages_the_cni_and_shows_what_it_can_read(make_sim: Any) -> None:
    sb = make_sim("auto-mode")
    sim = sb.sim
    full = sim.cluster.subnets["private-us-east-2b"].id

    capacity = _slash(sb, "capacity")
    assert capacity["text"].startswith("VPC CNI managed by EKS (Auto Mode) in demo. EKS Auto Mode: ")
    assert "Room for" not in capacity["text"]  # no ipamd headline for a cluster without aws-node
    data = run_json(sb, "capacity").data
    assert data["vpc_cni_managed_by_eks"] is True
    (auto,) = data["by_shape"]
    assert (auto["nodes"], auto["binding_limit"]) == (3, "max-pods")

    subnets = run_json(sb, "subnets").data
    assert {s["subnet_id"]: s["free_ips"] for s in subnets["subnets"]}[full] == 0
    assert "managed by EKS" in blocks_text(_slash(sb, "subnets"))

    config = _slash(sb, "config")
    assert config["text"].startswith("The VPC CNI of this cluster is managed by EKS")
    assert "WARM_ENI_TARGET" not in blocks_text(config)  # no aws-node defaults shown as if it ran
    assert run_json(sb, "config").data["aws_node"] is None

    node = sim.cluster.nodes[next(iter(sim.cluster.nodes))].name
    assert "aws-node does not run on this auto node" in blocks_text(_slash(sb, f"node {node}"))


def test_auto_mode_cluster_refuses_aws_node_and_eniconfig_changes_with_the_reason(make_sim: Any) -> None:
    sb = make_sim("auto-mode")
    before = sb.sim.counter.count("kube", "PATCH")
    for text in (
        'set WARM_IP_TARGET=2 --reason "tune"',
        'unset WARM_IP_TARGET --reason "tune"',
        f'eniconfig set us-east-2a subnet={sb.sim.cluster.subnets["private-us-east-2a"].id} --reason "pod subnets"',
        'custom-networking enable --reason "pod subnets"',
    ):
        answer = blocks_text(_slash(sb, text))
        assert "managed by EKS (Auto Mode" in answer, f"{text}: {answer}"
        assert "podSubnetSelectorTerms" in answer
    assert sb.sim.counter.count("kube", "PATCH") == before
