"""The Kubernetes API through the official client, read as raw JSON.

Responses are read with `_preload_content=False` and parsed into our facts: it is several times faster
than the client's pydantic models on large lists, and it tolerates what those models reject (events whose
eventTime is null in the events.k8s.io view).

Over 500 lines on purpose: one gateway class over one client, a method per read; writes live in
kube_write.py and the paged pod LIST in pod_pages.py.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes import client as k8s

from bot import metrics
from bot.domain import names
from bot.domain.cni_version import cni_version_from_image
from bot.domain.facts import ContainerState, DaemonSetFact, EniConfigFact, EventFact, NodeFact, PodFact, Taint
from bot.domain.knobs import AWS_NODE
from bot.domain.snapshot import PodPlacement
from bot.errors import UpstreamError
from bot.gateways.bulk import gc_paused

log = logging.getLogger("cnibot.kube")

KUBE_SYSTEM = "kube-system"
METRICS_PORT = 61678
POD_ENI = "vpc.amazonaws.com/pod-eni"
JSON = dict[str, Any]
_JSON = "application/json"
ACTIVE_PODS = "status.phase!=Succeeded,status.phase!=Failed"  # pods kubelet still counts
# A list's continue token in the first bytes of the page: the API server writes ListMeta before the items.
_CONTINUE_IN_HEAD = re.compile(rb'"metadata":\s*\{[^{}]*?"continue":\s*"((?:[^"\\]|\\.)*)"')
_HEAD_BYTES = 4096
_WATCH_CHUNK = 64 * 1024


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def pod_from_api(obj: JSON) -> PodFact:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {})
    containers = []
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        containers.append(
            ContainerState(
                name=cs.get("name", ""),
                ready=bool(cs.get("ready")),
                restarts=int(cs.get("restartCount") or 0),
                waiting_reason=waiting.get("reason", ""),
                waiting_message=waiting.get("message", ""),
                last_terminated_reason=last.get("reason", ""),
                last_terminated_message=last.get("message", ""),
                last_exit_code=last.get("exitCode"),
            )
        )
    wants_eni = False
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        if POD_ENI in (res.get("requests") or {}) or POD_ENI in (res.get("limits") or {}):
            wants_eni = True
    return PodFact(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        phase=status.get("phase", "Unknown"),
        node_name=spec.get("nodeName") or None,
        host_network=bool(spec.get("hostNetwork")),
        pod_ip=status.get("podIP") or None,
        created_at=parse_time(meta.get("creationTimestamp")),
        conditions={
            c.get("type", ""): (c.get("status", ""), c.get("reason", "") or "", c.get("message", "") or "")
            for c in status.get("conditions") or []
        },
        containers=tuple(containers),
        requests_pod_eni=wants_eni,
        labels=dict(meta.get("labels") or {}),
        annotations=dict(meta.get("annotations") or {}),
        deleting=bool(meta.get("deletionTimestamp")),
        scheduler_name=spec.get("schedulerName") or "default-scheduler",
    )


def placement_from_api(obj: JSON) -> PodPlacement:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {})
    return PodPlacement(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        node_name=spec.get("nodeName") or None,
        pod_ip=status.get("podIP") or None,
        host_network=bool(spec.get("hostNetwork")),
        phase=status.get("phase", "Unknown"),
        branch_eni=any(_requests_pod_eni(c) for c in spec.get("containers") or []),
    )


def _requests_pod_eni(container: JSON) -> bool:
    resources = container.get("resources") or {}
    return POD_ENI in (resources.get("requests") or {}) or POD_ENI in (resources.get("limits") or {})


def active_placement_from_api(obj: JSON) -> PodPlacement | None:
    """The placement of a pod that still counts (not Succeeded or Failed), else None."""
    placement = placement_from_api(obj)
    return placement if placement.active else None


def _shared_strings(mapping: Any) -> dict[Any, Any]:
    """A copy of labels or annotations whose short strings are interned: thousands of nodes carry the same
    keys and mostly the same values (zone, instance type, node group), kept once each."""
    return {_shared(k): _shared(v) for k, v in dict(mapping or {}).items()}


def _shared(value: Any) -> Any:
    return sys.intern(value) if type(value) is str and len(value) <= 128 else value


def node_from_api(obj: JSON) -> NodeFact:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {})
    labels = _shared_strings(meta.get("labels"))
    provider = spec.get("providerID") or ""
    instance_id = provider.rsplit("/", 1)[-1] if provider.startswith("aws://") else None
    az = labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone")
    if az is None and provider.startswith("aws:///"):
        az = provider.split("/")[3] or None
    capacity = status.get("capacity") or {}
    allocatable = status.get("allocatable") or {}
    ready = next(
        (
            (c.get("status", ""), c.get("reason", "") or "", c.get("message", "") or "")
            for c in status.get("conditions") or []
            if c.get("type") == "Ready"
        ),
        ("Unknown", "", ""),
    )
    return NodeFact(
        name=meta.get("name", ""),
        instance_id=instance_id,
        az=az,
        instance_type=labels.get("node.kubernetes.io/instance-type") or labels.get("beta.kubernetes.io/instance-type"),
        capacity_pods=_int(capacity.get("pods")),
        allocatable_pod_eni=_int(allocatable.get(POD_ENI)),
        labels=labels,
        annotations=_shared_strings(meta.get("annotations")),
        taints=tuple(
            Taint(t.get("key", ""), t.get("value", "") or "", t.get("effect", "")) for t in spec.get("taints") or []
        ),
        unschedulable=bool(spec.get("unschedulable")),
        ready=ready,
        created_at=parse_time(meta.get("creationTimestamp")),
        internal_ip=next(
            (a.get("address") for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), None
        ),
        os_image=(status.get("nodeInfo") or {}).get("osImage"),
        allocatable_windows_ips=_int(allocatable.get("vpc.amazonaws.com/PrivateIPv4Address")),
    )


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def event_from_core(obj: JSON) -> EventFact:
    involved = obj.get("involvedObject") or {}
    source = obj.get("reportingComponent") or (obj.get("source") or {}).get("component") or ""
    series = obj.get("series") or {}
    count = obj.get("count") or series.get("count") or 1
    last = (
        parse_time(obj.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(obj.get("eventTime"))
    )
    return EventFact(
        reason=obj.get("reason", "") or "",
        message=obj.get("message", "") or "",
        type=obj.get("type", "") or "",
        count=int(count),
        last_seen=last,
        first_seen=parse_time(obj.get("firstTimestamp")) or parse_time(obj.get("eventTime")),
        source=source,
        object_kind=involved.get("kind", ""),
        object_name=involved.get("name", ""),
        api="core/v1",
    )


def event_from_v1(obj: JSON) -> EventFact:
    regarding = obj.get("regarding") or {}
    series = obj.get("series") or {}
    count = series.get("count") or obj.get("deprecatedCount") or 1
    last = (
        parse_time(series.get("lastObservedTime"))
        or parse_time(obj.get("deprecatedLastTimestamp"))
        or parse_time(obj.get("eventTime"))
    )
    return EventFact(
        reason=obj.get("reason", "") or "",
        message=obj.get("note", "") or "",
        type=obj.get("type", "") or "",
        count=int(count),
        last_seen=last,
        first_seen=parse_time(obj.get("eventTime")) or parse_time(obj.get("deprecatedFirstTimestamp")),
        source=obj.get("reportingController") or (obj.get("deprecatedSource") or {}).get("component") or "",
        object_kind=regarding.get("kind", ""),
        object_name=regarding.get("name", ""),
        api="events.k8s.io/v1",
    )


def merge_events(*lists: list[EventFact]) -> list[EventFact]:
    """The two event APIs show the same events; keep one of each, newest first."""
    seen: dict[tuple[str, str, str, str], EventFact] = {}
    for ev in (e for lst in lists for e in lst):
        key = (ev.object_name, ev.reason, ev.message, ev.source)
        if key not in seen or (ev.last_seen and (seen[key].last_seen or ev.last_seen) < ev.last_seen):
            seen[key] = ev
    far_past = datetime.min.replace(tzinfo=None)
    return sorted(
        seen.values(), key=lambda e: e.last_seen.replace(tzinfo=None) if e.last_seen else far_past, reverse=True
    )


def env_of(container: JSON) -> tuple[dict[str, str], list[str]]:
    env, refs = {}, []
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item.get("value") or "")
        elif "valueFrom" in item:
            refs.append(item["name"])
        else:
            env[item["name"]] = ""
    return env, refs


def _with_images(pod: PodFact, obj: JSON) -> PodFact:
    """An aws-node pod with its containers' images (what an upgrade is verified against)."""
    spec = obj.get("spec") or {}
    containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    return replace(pod, images={str(c.get("name")): str(c.get("image") or "") for c in containers})


def daemonset_from_api(obj: JSON) -> DaemonSetFact:
    spec = (obj.get("spec") or {}).get("template", {}).get("spec", {})
    main: JSON = next((c for c in spec.get("containers") or [] if c.get("name") == AWS_NODE), {})
    init: JSON = next((c for c in spec.get("initContainers") or [] if c.get("name") == "aws-vpc-cni-init"), {})
    env, refs = env_of(main)
    init_env, _ = env_of(init)
    status = obj.get("status") or {}
    image = main.get("image", "")
    return DaemonSetFact(
        env=env,
        init_env=init_env,
        image=image,
        cni_version=cni_version_from_image(image),
        generation=int((obj.get("metadata") or {}).get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        desired=int(status.get("desiredNumberScheduled") or 0),
        ready=int(status.get("numberReady") or 0),
        updated=int(status.get("updatedNumberScheduled") or 0),
        resource_version=str((obj.get("metadata") or {}).get("resourceVersion") or ""),
        env_from_refs=tuple(refs),
        images={
            str(c.get("name")): str(c.get("image") or "")
            for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
        },
    )


def eniconfig_from_api(obj: JSON) -> EniConfigFact:
    spec = obj.get("spec") or {}
    return EniConfigFact(
        name=(obj.get("metadata") or {}).get("name", ""),
        subnet=spec.get("subnet"),
        security_groups=tuple(spec.get("securityGroups") or ()),
        created_at=parse_time((obj.get("metadata") or {}).get("creationTimestamp")),
    )


class KubeGateway:
    """Reads for one cluster. Thread-safe (the client's urllib3 pool is); share it across requests.

    Requests go through the client's ApiClient by path (auth, TLS, token refresh and proxies as configured)
    rather than the generated API classes: those take seconds to build on first use and validate every
    response into models we do not need.
    """

    def __init__(self, api_client: k8s.ApiClient, *, timeout: float = 10.0) -> None:
        self.api_client = api_client
        self.timeout = timeout

    # --- plumbing -----------------------------------------------------------------------------------
    def request(
        self, api: str, path: str, query: dict[str, Any] | None = None, *, missing_ok: bool = False, raw: bool = False
    ) -> Any:
        """GET a path; JSON (or text with raw=True); None on 404 when missing_ok. Failures -> UpstreamError."""
        data = self._get(api, path, query, missing_ok=missing_ok, accept="*/*" if raw else "application/json")
        if data is None:
            return None
        if raw:
            return data.decode("utf-8", errors="replace")
        return json.loads(data) if data else None

    def _get(
        self, api: str, path: str, query: dict[str, Any] | None, *, missing_ok: bool = False, accept: str
    ) -> bytes | None:
        """The body of a GET; None on 404 when missing_ok. Failures -> UpstreamError."""
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        method, url, headers, body, _ = self.api_client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=params,
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        try:
            resp = self.api_client.call_api(method, url, headers, body, _request_timeout=self.timeout)
            data = resp.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            metrics.UPSTREAM_CALLS.labels(api, "error").inc()
            timeout = timed_out(exc)
            reason = f"timed out ({self.timeout:g} s a try)" if timeout else f"unreachable ({_cause_name(exc)})"
            raise UpstreamError(api, reason, code="timeout" if timeout else "unreachable") from exc
        if resp.status == 404 and missing_ok:
            metrics.UPSTREAM_CALLS.labels(api, "ok").inc()
            return None
        if resp.status >= 400:
            metrics.UPSTREAM_CALLS.labels(api, "error").inc()
            reason = _status_reason(resp.status, resp.reason or "", api)
            raise UpstreamError(api, reason, code=str(resp.status), throttled=resp.status == 429)
        metrics.UPSTREAM_CALLS.labels(api, "ok").inc()
        return bytes(data or b"")

    def list_items(self, api: str, path: str, query: dict[str, Any] | None = None, page: int = 500) -> Iterator[JSON]:
        """Every item of a list, following `continue` tokens."""
        token: str | None = None
        while True:
            data = self.request(api, path, {**(query or {}), "limit": page, "continue": token})
            yield from (data or {}).get("items") or []
            token = ((data or {}).get("metadata") or {}).get("continue")
            if not token:
                return

    def list_items_prefetched(
        self, api: str, path: str, query: dict[str, Any] | None = None, page: int = 500
    ) -> Iterator[JSON]:
        """list_items for big lists, a page ahead (see list_pages)."""
        for items, _ in self.list_pages(api, path, query, page):
            yield from items

    def list_pages(
        self, api: str, path: str, query: dict[str, Any] | None = None, page: int = 500
    ) -> Iterator[tuple[list[JSON], str]]:
        """(items, the list's resourceVersion) page by page (see list_raw_pages)."""
        for raw in self.list_raw_pages(api, path, query, page):
            with gc_paused():
                data = json.loads(raw) if raw else {}
            yield data.get("items") or [], str((data.get("metadata") or {}).get("resourceVersion") or "")

    def list_raw_pages(
        self, api: str, path: str, query: dict[str, Any] | None = None, page: int = 500
    ) -> Iterator[bytes]:
        """The pages of a list as the API server sent them, for a caller that decodes them its own way. The
        next page is requested while this one is parsed, so the API server's time and ours overlap. The
        continue token is read from the head of the raw page (the API server writes the list metadata before
        the items); when it is not there, the parsed page gives it."""

        def fetch(token: str | None) -> bytes:
            return self._get(api, path, {**(query or {}), "limit": page, "continue": token}, accept=_JSON) or b""

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kube-prefetch") as fetcher:
            pending: Future[bytes] | None = fetcher.submit(fetch, None)
            while pending is not None:
                raw = pending.result()
                head = _CONTINUE_IN_HEAD.search(raw, 0, _HEAD_BYTES)
                token: str | None = json.loads(b'"' + head.group(1) + b'"') if head else None
                if token is None and raw:
                    with gc_paused():
                        token = (json.loads(raw).get("metadata") or {}).get("continue") or None
                pending = fetcher.submit(fetch, token) if token else None
                yield raw

    def watch(self, api: str, path: str, query: dict[str, Any], *, seconds: int = 240) -> Iterator[JSON]:
        """The events of a WATCH ({"type", "object"}) as they arrive; the server ends it after `seconds`.
        An ERROR event (e.g. 410 Expired) raises WatchExpired or UpstreamError."""
        params = [(k, v) for k, v in {**query, "watch": "true", "timeoutSeconds": seconds}.items() if v is not None]
        method, url, headers, body, _ = self.api_client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=params,
            header_params={"Accept": _JSON},
            auth_settings=["BearerToken"],
        )
        try:
            resp = self.api_client.call_api(method, url, headers, body, _request_timeout=(self.timeout, seconds + 30))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            metrics.UPSTREAM_CALLS.labels(api, "error").inc()
            if timed_out(exc):
                raise UpstreamError(api, f"timed out ({self.timeout:g} s a try)", code="timeout") from exc
            raise UpstreamError(api, f"unreachable ({_cause_name(exc)})", code="unreachable") from exc
        if resp.status >= 400:
            metrics.UPSTREAM_CALLS.labels(api, "error").inc()
            resp.read()
            if resp.status == 410:
                raise WatchExpired(api)
            raise UpstreamError(api, _status_reason(resp.status, resp.reason or "", api), code=str(resp.status))
        metrics.UPSTREAM_CALLS.labels(api, "ok").inc()
        try:
            for line in _lines(resp.response.stream(_WATCH_CHUNK)):
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    if status.get("code") == 410:
                        raise WatchExpired(api)
                    raise UpstreamError(api, str(status.get("message") or "watch error"), code=str(status.get("code")))
                yield event
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise UpstreamError(api, f"watch broken ({type(exc).__name__})", code="unreachable") from exc
        finally:
            resp.response.close()  # a watch left mid-stream must not go back to the pool

    # --- pods -----------------------------------------------------------------------------------------
    def read_pod(self, namespace: str, name: str) -> PodFact | None:
        path = f"/api/v1/namespaces/{ns_segment(namespace)}/pods/{name_segment(name)}"
        obj = self.request("kube:GET pods", path, missing_ok=True)
        return pod_from_api(obj) if obj else None

    def pods_named(self, name: str) -> list[PodFact]:
        """Pods with this exact name in any namespace."""
        query = {"fieldSelector": f"metadata.name={name_selector(name)}"}
        items = self.list_items("kube:LIST pods", "/api/v1/pods", query)
        return [pod_from_api(o) for o in items]

    def pod_names(self, namespace: str, limit: int = 2000) -> list[str]:
        pod_names = []
        for obj in self.list_items("kube:LIST pods", f"/api/v1/namespaces/{ns_segment(namespace)}/pods"):
            pod_names.append(obj["metadata"]["name"])
            if len(pod_names) >= limit:
                break
        return pod_names

    def pods_on_node(self, node: str) -> list[PodFact]:
        query = {"fieldSelector": f"spec.nodeName={name_selector(node)}"}
        items = self.list_items("kube:LIST pods", "/api/v1/pods", query)
        return [pod_from_api(o) for o in items]

    def all_pods(self) -> list[PodFact]:
        return [pod_from_api(o) for o in self.list_items("kube:LIST pods", "/api/v1/pods", page=2000)]

    def pod_placements(self) -> list[PodPlacement]:
        """Node and IP of every pod not finished: the light list cluster-wide views read (big pages, few fields
        kept, so 150k pods stay small)."""
        items = self.list_items_prefetched(
            "kube:LIST pods",
            "/api/v1/pods",
            {"fieldSelector": ACTIVE_PODS},
            page=2000,
        )
        return [placement_from_api(o) for o in items]

    def aws_node_pods(self, node: str | None = None) -> list[PodFact]:
        query: dict[str, Any] = {"labelSelector": "k8s-app=aws-node"}
        if node:
            query["fieldSelector"] = f"spec.nodeName={name_selector(node)}"
        path = f"/api/v1/namespaces/{ns_segment(KUBE_SYSTEM)}/pods"
        return [_with_images(pod_from_api(o), o) for o in self.list_items("kube:LIST pods", path, query)]

    # --- events ---------------------------------------------------------------------------------------
    def events_for(self, namespace: str, name: str, kind: str = "Pod") -> list[EventFact]:
        """Every recent event about an object (core/v1), newest first after merge_events."""
        selector = f"involvedObject.name={name_selector(name)},involvedObject.kind={selector_value(kind)}"
        items = self.list_items(
            "kube:LIST events", f"/api/v1/namespaces/{ns_segment(namespace)}/events", {"fieldSelector": selector}
        )
        return [event_from_core(o) for o in items]

    def events_v1_for(self, namespace: str, name: str, kind: str = "Pod") -> list[EventFact]:
        selector = f"regarding.name={name_selector(name)},regarding.kind={selector_value(kind)}"
        items = self.list_items(
            "kube:LIST events.k8s.io",
            f"/apis/events.k8s.io/v1/namespaces/{ns_segment(namespace)}/events",
            {"fieldSelector": selector},
        )
        return [event_from_v1(o) for o in items]

    def all_events(self, field_selector: str | None = None) -> list[EventFact]:
        """core/v1 events of every namespace matching a field selector (e.g. reason=FailedCreatePodSandBox)."""
        items = self.list_items("kube:LIST events", "/api/v1/events", {"fieldSelector": field_selector}, page=1000)
        return [event_from_core(o) for o in items]

    # --- nodes ----------------------------------------------------------------------------------------
    def read_node(self, name: str) -> NodeFact | None:
        obj = self.request("kube:GET nodes", f"/api/v1/nodes/{name_segment(name)}", missing_ok=True)
        return node_from_api(obj) if obj else None

    def nodes(self) -> list[NodeFact]:
        return [node_from_api(o) for o in self.list_items("kube:LIST nodes", "/api/v1/nodes")]

    # --- aws-node, ENIConfig, ipamd metrics ---------------------------------------------------------
    def aws_node_daemonset(self) -> DaemonSetFact | None:
        obj = self.aws_node_daemonset_raw()
        return daemonset_from_api(obj) if obj else None

    def aws_node_daemonset_raw(self) -> JSON | None:
        path = f"/apis/apps/v1/namespaces/{ns_segment(KUBE_SYSTEM)}/daemonsets/{name_segment(AWS_NODE)}"
        obj = self.request("kube:GET daemonsets", path, missing_ok=True)
        return dict(obj) if obj else None

    def eniconfigs(self) -> list[EniConfigFact]:
        path = "/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs"
        # 404: the CRD is not installed, so no ENIConfigs exist.
        return [eniconfig_from_api(o) for o in self._list_if_served("kube:LIST eniconfigs", path)]

    def _list_if_served(self, api: str, path: str) -> list[JSON]:
        data = self.request(api, path, missing_ok=True)
        return list((data or {}).get("items") or [])

    def ipamd_metrics(self, aws_node_pod: str) -> str:
        """ipamd's Prometheus text through the API server's pod proxy, as cni-metrics-helper reads it."""
        pod = name_segment(aws_node_pod)
        path = f"/api/v1/namespaces/{ns_segment(KUBE_SYSTEM)}/pods/{pod}:{METRICS_PORT}/proxy/metrics"
        text: str = self.request("kube:GET pods/proxy", path, raw=True)
        return text


def ns_segment(namespace: str) -> str:
    """A namespace as a URL path segment: checked against its grammar (a DNS label), then quoted."""
    return quote(names.namespace(namespace), safe="")


def name_segment(name: str) -> str:
    """An object name as a URL path segment: a DNS subdomain (so never `.`, `..`, `?` or `#`), then quoted."""
    return quote(names.object_name(name, "Kubernetes object"), safe="")


def name_selector(name: str) -> str:
    """An object name as a field selector value: checked against its grammar, then escaped."""
    return selector_value(names.object_name(name, "Kubernetes object"))


def selector_value(value: str) -> str:
    """A value inside a field selector, escaped as the API server reads it (fields.EscapeValue)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


class WatchExpired(UpstreamError):
    """The resourceVersion a watch started from is gone (410): list again."""

    def __init__(self, api: str) -> None:
        super().__init__(api, "watch expired (410): the list must be read again", code="410")


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Newline-delimited JSON documents out of a chunked stream."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
    if pending.strip():
        yield pending


def timed_out(exc: BaseException) -> bool:
    """A timeout, also when urllib3 wraps it (MaxRetryError after the client's one retry)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, urllib3.exceptions.TimeoutError | TimeoutError):
            return True
        seen = getattr(seen, "reason", None) if isinstance(seen, urllib3.exceptions.MaxRetryError) else None
    return False


def _cause_name(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return type(reason).__name__ if isinstance(exc, urllib3.exceptions.MaxRetryError) and reason else type(exc).__name__


def rbac_needed(api: str) -> str:
    """`kube:LIST pods` -> `list pods`: the verb and resource a denied call needed."""
    verb, _, resource = api.removeprefix("kube:").partition(" ")
    return f"{verb.lower()} {resource}".strip()


def _status_reason(status: int, reason: str, api: str = "") -> str:
    if status == 403:
        return f"forbidden (RBAC): the bot may not {rbac_needed(api)}" if api else "forbidden (RBAC)"
    if status == 401:
        return "unauthorised (credentials)"
    if status == 429:
        return "throttled by the API server"
    if status >= 500:
        return f"API server error {status}"
    return f"HTTP {status}: {reason}"
