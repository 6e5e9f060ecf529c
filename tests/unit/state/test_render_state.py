"""The docs read well and cut long lists; the JSON has every row."""

from __future__ import annotations

import json

from bot.domain.capacity_view import capacity_view
from bot.domain.config_view import IP_KNOBS, config_view
from bot.domain.facts import Unchecked
from bot.domain.node_report import node_report
from bot.domain.state import StateModel
from bot.domain.subnet_view import subnet_views
from bot.render.capacity import capacity_data, capacity_doc
from bot.render.config import config_data, config_doc
from bot.render.doc import render_blocks, render_text
from bot.render.node import node_data, node_doc
from bot.render.subnets import subnets_data, subnets_doc
from tests.factories import (
    eniconfig,
    ips,
    placement,
    snapshot,
    snapshot_daemonset,
    snapshot_eni,
    snapshot_node,
    snapshot_subnet,
)

CN = {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"}


def _fleet(count: int, **env: str) -> StateModel:
    nodes, enis, pods = [], [], []
    for i in range(count):
        name, iid, net = f"ip-10-0-{i}-4.us-east-2.compute.internal", f"i-{i:04d}", f"10.0.{i}"
        nodes.append(snapshot_node(name, iid, max_pods=29))
        enis.append(
            snapshot_eni(f"eni-{i}", "subnet-a", instance=iid, device=0, primary=f"{net}.4", secondary=ips(net, 5, 9))
        )
        pods.append(placement(f"web-{i}", name, f"{net}.5"))
    return StateModel(
        snapshot(
            nodes=nodes,
            enis=enis,
            pods=pods,
            subnets={
                "subnet-a": snapshot_subnet("subnet-a", "10.0.0.0/16", free=60000),
                "subnet-p": snapshot_subnet("subnet-p", "100.64.0.0/16"),
            },
            daemonset=snapshot_daemonset(**env),
            eniconfigs=[eniconfig("us-east-2a", "subnet-p")],
        )
    )


def test_node_doc_leads_with_the_answer_and_flags_the_worst_problem() -> None:
    model = _fleet(1, **CN)
    report = node_report(model, "ip-10-0-0-4.us-east-2.compute.internal")
    text = render_text(node_doc(report, []))
    first = text.splitlines()[0]
    assert first.startswith("ip-10-0-0-4.us-east-2.compute.internal (m5.large, us-east-2a): 1 pods with an IP")
    assert "⚠" in first  # max-pods 29 above the 20 custom networking can address
    assert "eni-0" in text and "max-pods 29 (formula for this mode: 20)" in text
    assert "pod IP capacity 18 (custom networking: the primary ENI serves no pods)" in text
    data = node_data(report)
    assert data["pod_ip_capacity"] == 18 and data["enis"][0]["used_by_pods"] == 1
    assert {p["code"] for p in data["problems"]} >= {"MAX_PODS_ABOVE_IPS", "NODE_ON_PRIMARY_SUBNET"}
    json.dumps(data)


def test_unchecked_reads_are_said_plainly() -> None:
    model = _fleet(1)
    report = node_report(model, "ip-10-0-0-4.us-east-2.compute.internal")
    text = render_text(node_doc(report, [Unchecked("the node's ENIs", "ec2:DescribeNetworkInterfaces", "throttled")]))
    assert "Could not check the node's ENIs (ec2:DescribeNetworkInterfaces: throttled)" in text


def test_subnets_doc_has_free_ips_and_holders() -> None:
    views = subnet_views(_fleet(3))
    text = render_text(subnets_doc(views, None, []))
    assert text.startswith("2 subnets in use: ")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("subnet-a") and "10.0.0.0/16" in ln)
    assert line.split()[1:5] == ["us-east-2a", "10.0.0.0/16", "60,000", "8%"]
    assert subnets_data(views)["subnets"][0]["holders"] == {"pods": 3, "warm": 24, "nodes": 3, "leaked": 0, "other": 0}


def test_capacity_doc_and_data_agree() -> None:
    view = capacity_view(_fleet(3))  # each node: 1 pod of 27 addressable IPs, so 26 more
    text = render_text(capacity_doc(view, "prod", []))
    assert text.startswith("Room for 78 more pods in prod before the first limit: ENI/IP limits.")
    assert "What if WARM_IP_TARGET=2, MINIMUM_IP_TARGET=1 would free" in text
    data = capacity_data(view)
    assert data["total"]["more_pods_fit"] == 78 and data["what_if"]["suggested_by_bot"] is True
    json.dumps(data)


def test_config_doc_cuts_the_list_of_nodes_to_replace_with_a_hint() -> None:
    model = _fleet(20, **CN)
    view = config_view(model)
    doc = config_doc(view, show_all=False, ip_knobs=IP_KNOBS, unchecked=[])
    text = render_text(doc)
    assert "0 of 20 nodes take pod IPs from their ENIConfig subnet. 20 still allocate from the primary subnet" in text
    assert "and 12 more (`/cni config --json` lists them all)" in text
    assert "Drift not tracked yet" in text
    assert "ENABLE_PREFIX_DELEGATION" in text and "POD_MTU" not in text
    assert "POD_MTU" in render_text(config_doc(view, show_all=True, ip_knobs=IP_KNOBS, unchecked=[]))
    assert len(config_data(view)["migration"]) == 20
    assert len(render_blocks(doc)) <= 50
