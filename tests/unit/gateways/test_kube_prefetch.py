"""Big lists are read a page ahead; every item comes once, in order, whatever order the page's keys are in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s

from bot.gateways.kube import KubeGateway


def _page(items: list[int], token: str | None, *, metadata_first: bool = True) -> bytes:
    metadata = {"resourceVersion": "7", **({"continue": token} if token else {})}
    body: dict[str, Any] = {"kind": "PodList", "apiVersion": "v1"}
    if metadata_first:
        body |= {"metadata": metadata, "items": [{"n": n} for n in items]}
    else:  # a server that writes the items first: the token is found only by parsing
        body |= {"items": [{"n": n} for n in items], "metadata": metadata}
    return json.dumps(body).encode()


@pytest.mark.parametrize("metadata_first", [True, False])
def test_pages_are_followed_in_order(monkeypatch: pytest.MonkeyPatch, metadata_first: bool) -> None:
    token_1 = 'eyJ"quoted\\\\token'  # escaped characters survive the read from the raw head
    pages = {
        None: _page([1, 2], token_1, metadata_first=metadata_first),
        token_1: _page([3, 4], "t2", metadata_first=metadata_first),
        "t2": _page([5], None, metadata_first=metadata_first),
    }
    asked: list[str | None] = []

    def fake_get(self: KubeGateway, api: str, path: str, query: dict[str, Any] | None, **_: Any) -> bytes:
        assert query is not None and query["limit"] == 2
        asked.append(query["continue"])
        return pages[query["continue"]]

    monkeypatch.setattr(KubeGateway, "_get", fake_get)
    gateway = KubeGateway(k8s.ApiClient(k8s.Configuration()))
    items = list(gateway.list_items_prefetched("kube:LIST pods", "/api/v1/pods", page=2))
    assert [i["n"] for i in items] == [1, 2, 3, 4, 5]
    assert asked == [None, token_1, "t2"]
