"""Serves resource requests against the store: the verbs, subresources and answers of a real apiserver.

Transport-free: the HTTP server parses the request, resolves the route, applies faults, and hands a
`ApiRequest` here; this module returns a `Response`.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from simulator.kube import status
from simulator.kube.documents import JsonObject, public_view
from simulator.kube.resources import WRITE_VERBS
from simulator.kube.routing import ResourceRequest
from simulator.kube.selectors import (
    FieldRequirement,
    FieldSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from simulator.kube.store import Key, KubeStore
from simulator.kube.writes import (
    WriteContext,
    create_change,
    delete_change,
    patch_change,
    prepare_new,
    update_change,
)

# (namespace, pod name, port, path after proxy/, raw query) -> (status, content type, body)
ProxyHandler = Callable[[str, str, int, str, str], tuple[int, str, bytes]]

JSON = "application/json"
DEFAULT_FIELD_MANAGER = "OpenAPI-Generator"
# How long a watch without timeoutSeconds stays open (the apiserver picks 30 to 60 minutes).
DEFAULT_WATCH_SECONDS = 1800


@dataclass(frozen=True)
class ApiRequest:
    route: ResourceRequest
    query: Mapping[str, str]
    raw_query: str = ""
    content_type: str = ""
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    # A watch: chunks sent with chunked transfer encoding after the headers (body is then unused).
    stream: Iterator[bytes] | None = None


def encode(document: Any, *, pretty: bool = False) -> bytes:
    if pretty:
        return json.dumps(document, indent=2, default=_json_default).encode() + b"\n"
    return json.dumps(document, separators=(",", ":"), default=_json_default).encode()


def _json_default(value: Any) -> Any:
    """Objects written by the simulator may carry datetimes: serialise them as the apiserver would."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def error_response(error: status.ApiError, *, pretty: bool = False) -> Response:
    return Response(error.code, encode(error.status(), pretty=pretty), JSON, error.headers)


class KubeApi:
    def __init__(
        self,
        store: KubeStore,
        *,
        read_only: bool = False,
        user: str = "kubernetes-admin",
        proxy_handler: ProxyHandler | None = None,
    ) -> None:
        self.store = store
        self.read_only = read_only
        self.user = user
        self.proxy_handler = proxy_handler
        # (namespace, pod name) -> (status, body): the cluster's answer to an eviction.
        self.eviction_handler: Callable[[str, str], tuple[int, JsonObject]] | None = None
        # Set when the server stops, so that open watches end.
        self.stopped = threading.Event()
        # id(stored object) -> (the object, its encoded JSON); holding the object keeps its id from being reused.
        self._encoded_cache: dict[int, tuple[JsonObject, bytes]] = {}
        self._encoded_limit = 1_000_000

    def handle(self, request: ApiRequest) -> Response:
        try:
            return self._dispatch(request)
        except status.ApiError as error:
            return error_response(error, pretty=_flag(request.query, "pretty"))
        except SelectorError as error:
            return error_response(status.bad_request(str(error)))

    def forbidden(self, route: ResourceRequest) -> status.ApiError:
        """The RBAC denial the real apiserver gives this user for this request."""
        return status.forbidden(route.rtype, route.name, route.verb, self.user, route.namespace, route.subresource)

    # ---- dispatch --------------------------------------------------------------------------------

    def _dispatch(self, request: ApiRequest) -> Response:
        route = request.route
        if route.rtype.kind == "SelfSubjectAccessReview" and route.verb == "create" and not route.name:
            return self._access_review(request)
        if self.read_only and route.verb in WRITE_VERBS:
            raise self.forbidden(route)
        if route.subresource == "proxy":
            return self._proxy(request)
        if route.subresource == "log":
            return self._log(request)
        if route.subresource == "eviction":
            return self._evict(request)
        if route.verb not in route.rtype.verbs and not route.subresource:
            raise status.method_not_allowed(route.rtype, route.name)
        handler = {
            "get": self._get,
            "list": self._list,
            "create": self._create,
            "update": self._update,
            "patch": self._patch,
            "delete": self._delete,
            "watch": self._watch,
            "deletecollection": self._delete_collection,
        }.get(route.verb)
        if handler is None:
            raise status.method_not_allowed(route.rtype, route.name)
        return handler(request)

    # ---- reads -----------------------------------------------------------------------------------

    def _get(self, request: ApiRequest) -> Response:
        route = request.route
        assert route.name is not None
        found = self.store.lookup(route.rtype, route.namespace, route.name)
        if found is None:
            raise status.not_found(route.rtype, route.name)
        return self._object(request, 200, found)

    def _list(self, request: ApiRequest) -> Response:
        route, query = request.route, request.query
        limit = _int_param(query, "limit")
        page = self.store.query(
            route.rtype,
            route.namespace,
            parse_label_selector(query.get("labelSelector")),
            parse_field_selector(query.get("fieldSelector")),
            start_after=_decode_continue(query.get("continue")),
            limit=limit or None,
        )
        list_meta: JsonObject = {"resourceVersion": page.resource_version}
        if page.last_key is not None:
            list_meta["continue"] = _encode_continue(page.last_key, page.resource_version)
            if page.remaining is not None:
                list_meta["remainingItemCount"] = page.remaining
        if _flag(query, "pretty"):
            document = {
                "kind": route.rtype.list_kind,
                "apiVersion": route.rtype.api_version,
                "metadata": list_meta,
                "items": [public_view(item) for item in page.items],
            }
            return Response(200, encode(document, pretty=True))
        # The same bytes json.dumps gives the whole document, with each item's encoding cached: a real API
        # server serves lists from its watch cache, where encoding is not the cost it would be here.
        head = encode({"kind": route.rtype.list_kind, "apiVersion": route.rtype.api_version, "metadata": list_meta})
        items = b",".join([self._encoded(item) for item in page.items])
        return Response(200, b"".join((head[:-1], b',"items":[', items, b"]}")))

    def warm_encodings(self, kinds: tuple[tuple[str, str], ...] = (("v1", "Pod"), ("v1", "Node"))) -> int:
        """Encode every stored object of these kinds now, as an API server's cache is warm before its first
        LIST: a benchmark's first LIST then measures serving, not a one-off encoding of 100k objects."""
        count = 0
        for api_version, kind in kinds:
            rtype = self.store.registry.by_kind(api_version, kind)
            page = self.store.query(rtype, None, parse_label_selector(None), parse_field_selector(None))
            for item in page.items:
                self._encoded(item)
                count += 1
        return count

    def _encoded(self, stored: JsonObject) -> bytes:
        """A stored object's public JSON, encoded once per version. Stored objects are never changed in place
        (a write stores a new dict), so the object itself tells whether the cached bytes are current."""
        key = id(stored)
        cached = self._encoded_cache.get(key)
        if cached is not None and cached[0] is stored:
            return cached[1]
        data = encode(public_view(stored))
        if len(self._encoded_cache) >= self._encoded_limit:
            self._encoded_cache.clear()  # old versions are never read again: start afresh rather than sweep
        self._encoded_cache[key] = (stored, data)
        return data

    def _watch(self, request: ApiRequest) -> Response:
        route, query = request.route, request.query
        fields = parse_field_selector(query.get("fieldSelector"))
        if route.name:  # a watch of one object: GET .../pods/web-1?watch=true
            fields = FieldSelector((*fields.requirements, FieldRequirement("metadata.name", True, route.name)))
        events = self.store.watch(
            route.rtype,
            route.namespace,
            parse_label_selector(query.get("labelSelector")),
            fields,
            resource_version=query.get("resourceVersion"),
            timeout=float(_int_param(query, "timeoutSeconds") or DEFAULT_WATCH_SECONDS),
            stopped=self.stopped,
        )
        lines = (encode({"type": kind, "object": public_view(obj)}) + b"\n" for kind, obj in events)
        return Response(200, b"", JSON, stream=lines)

    def _log(self, request: ApiRequest) -> Response:
        route, query = request.route, request.query
        assert route.name is not None
        pod = self.store.lookup(route.rtype, route.namespace, route.name)
        if pod is None:
            raise status.not_found(route.rtype, route.name)
        container = _log_container(pod, route.name, query.get("container"))
        previous = _flag(query, "previous")
        logs = pod.get("_previous_log" if previous else "_log")
        text = logs.get(container) if isinstance(logs, dict) else logs
        if previous and text is None:
            raise status.bad_request(f'previous terminated container "{container}" in pod "{route.name}" not found')
        text = text or ""
        tail = _int_param(query, "tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail:]) if tail else ""
        return Response(200, text.encode(), "text/plain")

    def _proxy(self, request: ApiRequest) -> Response:
        route = request.route
        assert route.name is not None
        if route.verb != "get":
            raise status.method_not_allowed(route.rtype, route.name)
        name, port = _split_proxy_name(route.name)
        pod = self.store.lookup(route.rtype, route.namespace, name)
        if pod is None:
            raise status.not_found(route.rtype, name)
        address = f"{(pod.get('status') or {}).get('podIP', '')}:{port}"
        if self.proxy_handler is None:
            raise status.service_unavailable(
                f"error trying to reach service: dial tcp {address}: connect: connection refused"
            )
        try:
            code, content_type, body = self.proxy_handler(
                route.namespace or "", name, port, route.subpath, request.raw_query
            )
        except Exception as error:  # the pod's server failing is the proxy's 503, not ours
            raise status.service_unavailable(f"error trying to reach service: {error}") from error
        return Response(code, body, content_type)

    def _evict(self, request: ApiRequest) -> Response:
        """POST pods/{name}/eviction: the cluster decides (PodDisruptionBudgets); 201 with a Status on success."""
        route = request.route
        if route.verb != "create" or route.name is None:
            raise status.method_not_allowed(route.rtype, route.name)
        if self.eviction_handler is None:
            raise status.service_unavailable("evictions are not served here")
        code, body = self.eviction_handler(route.namespace or "", route.name)
        return Response(code, json.dumps(body).encode(), "application/json")

    # ---- writes ----------------------------------------------------------------------------------

    def _create(self, request: ApiRequest) -> Response:
        route = request.route
        if route.name or (route.rtype.namespaced and route.namespace is None):
            raise status.method_not_allowed(route.rtype, route.name)
        obj = prepare_new(route.rtype, _body(request), route.namespace)
        if route.namespace is not None:
            self._require_namespace(route.namespace)
        name = obj["metadata"]["name"]
        ctx = self._context(request, name)
        return self._write(request, "POST", name, create_change(ctx, obj))

    def _update(self, request: ApiRequest) -> Response:
        assert request.route.name is not None
        ctx = self._context(request, request.route.name)
        return self._write(request, "PUT", ctx.name, update_change(ctx, _body(request)))

    def _patch(self, request: ApiRequest) -> Response:
        assert request.route.name is not None
        content_type = request.content_type.split(";")[0].strip()
        ctx = self._context(request, request.route.name)
        change = patch_change(ctx, content_type, _json_body(request))
        return self._write(request, "PATCH", ctx.name, change)

    def _delete(self, request: ApiRequest) -> Response:
        route = request.route
        assert route.name is not None
        options = _json_body(request) if request.body.strip() else {}
        if not isinstance(options, dict):
            raise status.bad_request("DeleteOptions must be a JSON object")
        ctx = self._context(request, route.name)
        dry_run = _dry_run(request.query) or options.get("dryRun") == ["All"]
        before, after = self.store.write(
            route.rtype, route.namespace, route.name, delete_change(ctx, options), dry_run=dry_run
        )
        assert before is not None
        if not dry_run:
            self.store.notify("DELETE", before, after)
        if after is not None:
            return self._object(request, 200, after)
        if route.rtype.returns_deleted_object:
            return self._object(request, 200, before)
        details = {"name": route.name, "group": route.rtype.group, "kind": route.rtype.plural}
        details["uid"] = before["metadata"].get("uid", "")
        success = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        return Response(200, encode(success, pretty=_flag(request.query, "pretty")))

    def _delete_collection(self, request: ApiRequest) -> Response:
        """DELETE on a collection: every object the selectors match, answered with the list of them."""
        route, query = request.route, request.query
        options = _json_body(request) if request.body.strip() else {}
        if not isinstance(options, dict):
            raise status.bad_request("DeleteOptions must be a JSON object")
        page = self.store.query(
            route.rtype,
            route.namespace,
            parse_label_selector(query.get("labelSelector")),
            parse_field_selector(query.get("fieldSelector")),
        )
        dry_run = _dry_run(query)
        deleted: list[JsonObject] = []
        for item in page.items:
            meta = item["metadata"]
            ctx = self._context(request, meta["name"])
            try:
                before, after = self.store.write(
                    route.rtype, meta.get("namespace"), meta["name"], delete_change(ctx, options), dry_run=dry_run
                )
            except status.ApiError as error:
                if error.code == 404:  # deleted by someone else meanwhile
                    continue
                raise
            if not dry_run:
                self.store.notify("DELETE", before, after)
            deleted.append(public_view(after or item))
        document = {
            "kind": route.rtype.list_kind,
            "apiVersion": route.rtype.api_version,
            "metadata": {"resourceVersion": self.store.resource_version},
            "items": deleted,
        }
        return Response(200, encode(document, pretty=_flag(query, "pretty")))

    def _write(
        self, request: ApiRequest, verb: str, name: str, change: Callable[[JsonObject | None], JsonObject | None]
    ) -> Response:
        route = request.route
        dry_run = _dry_run(request.query)
        before, after = self.store.write(route.rtype, route.namespace, name, change, dry_run=dry_run)
        if not dry_run:
            self.store.notify(verb, before, after)
        if after is None:  # an update that removed the last finalizer of an object being deleted
            assert before is not None
            return self._object(request, 200, before)
        return self._object(request, 201 if before is None else 200, after)

    def _access_review(self, request: ApiRequest) -> Response:
        review = _body(request)
        if not isinstance(review, dict):
            raise status.bad_request("the body of the request must be a JSON object")
        spec = review.get("spec") or {}
        verb = (spec.get("resourceAttributes") or {}).get("verb", "")
        allowed = not (self.read_only and (verb in WRITE_VERBS or verb == "*"))
        answer: JsonObject = {"allowed": allowed}
        if allowed:
            answer["reason"] = (
                f'RBAC: allowed by ClusterRoleBinding "cnibot" of ClusterRole "cnibot" to User "{self.user}"'
            )
        document = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": request.route.rtype.api_version,
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": answer,
        }
        return Response(201, encode(document, pretty=_flag(request.query, "pretty")))

    # ---- helpers ---------------------------------------------------------------------------------

    def _object(self, request: ApiRequest, code: int, obj: JsonObject) -> Response:
        return Response(code, encode(public_view(obj), pretty=_flag(request.query, "pretty")))

    def _context(self, request: ApiRequest, name: str) -> WriteContext:
        route = request.route
        manager = request.query.get("fieldManager") or DEFAULT_FIELD_MANAGER
        return WriteContext(route.rtype, route.namespace, name, manager, route.subresource)

    def _require_namespace(self, namespace: str) -> None:
        namespaces = self.store.registry.by_kind("v1", "Namespace")
        if self.store.lookup(namespaces, None, namespace) is None:
            raise status.not_found(namespaces, namespace)


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def _dry_run(query: Mapping[str, str]) -> bool:
    return query.get("dryRun") == "All"


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise status.bad_request(f'invalid value for {name}: "{raw}"') from None
    if value < 0:
        raise status.bad_request(f"{name} must be non-negative")
    return value


def _body(request: ApiRequest) -> Any:
    """A create or update body: JSON, or YAML when the client says so."""
    if "yaml" in request.content_type:
        try:
            return yaml.safe_load(request.body)
        except yaml.YAMLError as error:
            raise status.bad_request(f"error decoding YAML: {error}") from error
    return _json_body(request)


def _json_body(request: ApiRequest) -> Any:
    if not request.body.strip():
        raise status.bad_request("the body of the request is empty")
    try:
        return json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise status.bad_request(f"couldn't decode the request body as JSON: {error}") from error


def _encode_continue(last_key: Key, resource_version: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": int(resource_version), "start": f"{last_key[0]}/{last_key[1]}\u0000"}
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_continue(token: str | None) -> Key | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        start = json.loads(raw)["start"].removesuffix("\u0000")
        namespace, _, name = start.partition("/")
        return (namespace, name)
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as error:
        raise status.bad_request(f"continue key is not valid: {error}") from error


def _log_container(pod: JsonObject, pod_name: str, requested: str | None) -> str:
    spec = pod.get("spec") or {}
    containers = [c.get("name", "") for c in spec.get("containers") or []]
    init_containers = [c.get("name", "") for c in spec.get("initContainers") or []]
    if requested:
        if requested not in containers + init_containers:
            raise status.bad_request(f"container {requested} is not valid for pod {pod_name}")
        return requested
    if len(containers) == 1:
        return containers[0]
    choices = f"a container name must be specified for pod {pod_name}, choose one of: [{' '.join(containers)}]"
    if init_containers:
        choices += f" or one of the init containers: [{' '.join(init_containers)}]"
    raise status.bad_request(choices)


def _split_proxy_name(name: str) -> tuple[str, int]:
    """ "pod", "pod:61678" or "http:pod:61678" -> (pod, port); port 0 when the client names none."""
    parts = name.split(":")
    if len(parts) == 3:
        parts = parts[1:]
    pod, port = parts[0], parts[1] if len(parts) > 1 else ""
    if port and not port.isdigit():
        raise status.bad_request(f"invalid port in proxy target: {name}")
    return pod, int(port or 0)
