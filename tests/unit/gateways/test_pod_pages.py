"""The typed pod-page decoder gives exactly what json.loads + placement_from_api give (issue 15 item 1)."""

from __future__ import annotations

import json
from typing import Any

from bot.gateways.connections import active_placements
from bot.gateways.kube import active_placement_from_api, placement_from_api
from bot.gateways.pod_pages import decode_placements
from bot.gateways.reflector import object_key

PODS: list[dict[str, Any]] = [
    {
        "metadata": {"namespace": "shop", "name": "web-1", "managedFields": [{"x": 1}], "labels": {"a": "b"}},
        "spec": {
            "nodeName": "ip-10-0-1-5",
            "containers": [{"name": "c", "resources": {"limits": {"vpc.amazonaws.com/pod-eni": "1"}}}],
        },
        "status": {"phase": "Running", "podIP": "10.0.1.9", "conditions": [{"type": "Ready"}]},
    },
    {"metadata": {"namespace": "kube-system", "name": "aws-node-x"}, "spec": {"hostNetwork": True}, "status": {}},
    {"metadata": {"name": "done"}, "spec": {"nodeName": ""}, "status": {"phase": "Succeeded", "podIP": ""}},
    {"metadata": {"namespace": "a", "name": "b"}, "spec": {"containers": [{"resources": None}, {}]}},
    {
        "metadata": {"namespace": "shop", "name": "sgp-2"},
        "spec": {
            "containers": [
                {"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}},
                {"resources": {"requests": {"vpc.amazonaws.com/pod-eni": "1", "cpu": "1"}}},
            ]
        },
    },
    {"metadata": {"namespace": "shop", "name": "plain"}, "spec": {"containers": [{"resources": {"requests": {}}}]}},
    {},
]


def page(items: list[dict[str, Any]], version: str = "42") -> bytes:
    return json.dumps({"kind": "PodList", "metadata": {"resourceVersion": version}, "items": items}).encode()


def expected(items: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(object_key(o), placement_from_api(o)) for o in items]


def test_typed_decoding_matches_the_dict_path() -> None:
    pairs, version = decode_placements(page(PODS))
    assert version == "42"
    assert pairs == expected(PODS)
    branch = {key: p.branch_eni for key, p in pairs}
    assert branch["shop/web-1"] and branch["shop/sgp-2"] and not branch["shop/plain"]


def test_a_page_of_unexpected_types_falls_back_to_the_dict_path() -> None:
    odd = [*PODS, {"metadata": {"namespace": "n", "name": "odd"}, "spec": {"hostNetwork": "yes"}}]
    pairs, _ = decode_placements(page(odd))
    assert pairs == expected(odd)


def test_active_placements_leaves_finished_pods_out() -> None:
    pairs, _ = active_placements(page(PODS))
    assert pairs == [(object_key(o), active_placement_from_api(o)) for o in PODS]
