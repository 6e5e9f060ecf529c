"""Turns a request path and method into the resource request it names, as the apiserver's router does."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from simulator.kube.resources import ResourceRegistry, ResourceType

# Namespace subresources that would otherwise read as /namespaces/{ns}/{plural}.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_OPERATION_VERBS = {
    "get": "GET",
    "list": "LIST",
    "watch": "WATCH",
    "create": "CREATE",
    "update": "UPDATE",
    "patch": "PATCH",
    "delete": "DELETE",
    "deletecollection": "DELETECOLLECTION",
}


@dataclass(frozen=True)
class ResourceRequest:
    rtype: ResourceType
    verb: str  # the RBAC verb: get, list, watch, create, update, patch, delete, deletecollection
    namespace: str | None
    name: str | None
    subresource: str = ""
    subpath: str = ""  # what follows .../proxy/

    @property
    def resource(self) -> str:
        """ "pods", "pods/proxy": how RBAC messages, fault rules and counters name it."""
        return f"{self.rtype.plural}/{self.subresource}" if self.subresource else self.rtype.plural

    @property
    def operation(self) -> str:
        """ "GET pods", "LIST events", "PATCH daemonsets": the key for fault rules and request counts."""
        return f"{_OPERATION_VERBS[self.verb]} {self.resource}"


def resolve(method: str, path: str, registry: ResourceRegistry, *, watch: bool = False) -> ResourceRequest | None:
    """The resource request for a path under /api/v1 or /apis/{g}/{v}, or None when nothing serves it."""
    segments = [unquote(part) for part in path.strip("/").split("/")]
    if segments[0] == "api" and len(segments) > 2:
        group, version, rest = "", segments[1], segments[2:]
    elif segments[0] == "apis" and len(segments) > 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
        namespace, rest = rest[1], rest[2:]
    rtype = registry.by_plural(group, version, rest[0])
    if rtype is None or not all(rest[:3]):
        return None
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    subpath = "/".join(rest[3:])
    if rtype.namespaced != (namespace is not None) and not (rtype.namespaced and name is None):
        return None
    if subresource and (rtype.subresource(subresource) is None or (subpath and subresource != "proxy")):
        return None
    verb = _verb(method, name, watch)
    if verb is None:
        return None
    return ResourceRequest(rtype, verb, namespace, name, subresource, subpath)


def _verb(method: str, name: str | None, watch: bool) -> str | None:
    if method == "GET":
        if watch:
            return "watch"
        return "get" if name else "list"
    if method == "POST":
        return "create"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    if method in ("PUT", "PATCH") and name:
        return "update" if method == "PUT" else "patch"
    return None
