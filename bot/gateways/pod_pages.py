"""A page of the pod LIST decoded straight into PodPlacements: only the fields cluster-wide views use.

msgspec decodes JSON into typed structs and skips every field a struct does not name, without building a
dict for it: a pod's managedFields, env, probes, volumes and conditions are never made into Python objects,
which is most of the cost of `json.loads` on 100,000 pods. The strings many pods share (namespace, node,
phase) are interned, so the cache holds one copy each.

A page msgspec cannot read as these types (a field of an unexpected JSON type) is decoded by `json.loads`
and `placement_from_api`, exactly as before, so nothing the API server sends is answered differently.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from bot.domain.snapshot import PodPlacement

POD_ENI = "vpc.amazonaws.com/pod-eni"
_intern = sys.intern


class _PodEniRequest(msgspec.Struct):
    """Of a container's requests or limits, only the branch-ENI resource: the others are skipped unbuilt."""

    pod_eni: Any = msgspec.field(default=None, name=POD_ENI)


class _Resources(msgspec.Struct):
    requests: _PodEniRequest | None = None
    limits: _PodEniRequest | None = None


class _Container(msgspec.Struct):
    resources: _Resources | None = None


class _Meta(msgspec.Struct):
    namespace: str | None = ""
    name: str | None = ""


class _Spec(msgspec.Struct, rename="camel"):
    node_name: str | None = None
    host_network: bool | None = None
    containers: list[_Container] | None = None


class _Status(msgspec.Struct, rename="camel"):
    phase: str | None = "Unknown"
    pod_ip: str | None = msgspec.field(default=None, name="podIP")


class _Pod(msgspec.Struct):
    metadata: _Meta | None = None
    spec: _Spec | None = None
    status: _Status | None = None


class _ListMeta(msgspec.Struct, rename="camel"):
    resource_version: str | None = None


class _PodList(msgspec.Struct):
    metadata: _ListMeta | None = None
    items: list[_Pod] | None = None


_DECODER = msgspec.json.Decoder(_PodList)
_NO_META, _NO_SPEC, _NO_STATUS = _Meta(), _Spec(), _Status()


def _branch_eni(containers: list[_Container] | None) -> bool:
    for c in containers or ():
        res = c.resources
        if res is not None and (
            (res.requests is not None and res.requests.pod_eni is not None)
            or (res.limits is not None and res.limits.pod_eni is not None)
        ):
            return True
    return False


def _placement(pod: _Pod) -> PodPlacement:
    meta, spec, status = pod.metadata or _NO_META, pod.spec or _NO_SPEC, pod.status or _NO_STATUS
    node = spec.node_name or None
    phase = status.phase
    return PodPlacement(
        namespace=_intern(meta.namespace) if meta.namespace else meta.namespace,  # type: ignore[arg-type]
        name=meta.name,  # type: ignore[arg-type]
        node_name=_intern(node) if node else None,
        pod_ip=status.pod_ip or None,
        host_network=bool(spec.host_network),
        phase=_intern(phase) if phase else phase,  # type: ignore[arg-type]
        branch_eni=_branch_eni(spec.containers),
    )


def decode_placements(raw: bytes) -> tuple[list[tuple[str, PodPlacement]], str]:
    """(object key "namespace/name", placement) of every pod of a LIST page, and the list's resourceVersion."""
    try:
        page = _DECODER.decode(raw)
    except msgspec.ValidationError:
        return _decode_slowly(raw)
    out = []
    for pod in page.items or ():
        placement = _placement(pod)
        out.append((f"{placement.namespace}/{placement.name}", placement))
    version = (page.metadata.resource_version if page.metadata else None) or ""
    return out, str(version)


def _decode_slowly(raw: bytes) -> tuple[list[tuple[str, PodPlacement]], str]:
    from bot.gateways.kube import placement_from_api
    from bot.gateways.reflector import object_key

    data = json.loads(raw) if raw else {}
    items = data.get("items") or []
    version = str((data.get("metadata") or {}).get("resourceVersion") or "")
    return [(object_key(obj), placement_from_api(obj)) for obj in items], version
