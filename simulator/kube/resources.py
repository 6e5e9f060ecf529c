"""The resource registry: which kinds the fake API server knows and how each one behaves.

A `ResourceType` carries what discovery publishes (plural, scope, verbs, short names) and the per-kind
rules the real apiserver applies (supported field selectors, status subresource, generation tracking,
whether strategic merge is allowed, what DELETE returns).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

# Every kind supports selecting on its own name and namespace.
METADATA_FIELDS: Mapping[str, str] = MappingProxyType(
    {"metadata.name": "metadata.name", "metadata.namespace": "metadata.namespace"}
)


def _fields(**extra: str) -> Mapping[str, str]:
    """Field labels -> dotted object paths (a label maps to itself unless it names another path)."""
    return MappingProxyType({**METADATA_FIELDS, **extra})


def _same(*labels: str) -> dict[str, str]:
    return {label: label for label in labels}


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    # fieldSelector label -> dotted path in the object; anything else is "field label not supported".
    field_labels: Mapping[str, str] = field(default_factory=lambda: METADATA_FIELDS)
    # Field labels the store indexes so that selecting on them does not scan the whole kind.
    indexed_fields: tuple[str, ...] = ()
    # Custom resources have no patch strategy, so the real apiserver refuses strategic merge (415).
    strategic_merge: bool = True
    tracks_generation: bool = False
    # Most kinds answer DELETE with a Status; a few (pods, service accounts) return the object.
    returns_deleted_object: bool = False
    # PUT on a missing object creates it only for a few kinds (events).
    create_on_update: bool = False
    # Status set by the apiserver on create over HTTP; with a status subresource, writes to the main
    # resource keep the stored status and /status writes change nothing else.
    initial_status: Mapping[str, Any] | None = field(default=None)
    # Objects of this kind live in another kind's storage (events.k8s.io/v1 Event -> core/v1 Event).
    stored_as: tuple[str, str] | None = None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """How error messages name the resource: "pods", "daemonsets.apps"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status_subresource(self) -> bool:
        return any(sub.name == "status" for sub in self.subresources)

    def subresource(self, name: str) -> Subresource | None:
        return next((sub for sub in self.subresources if sub.name == name), None)


class ResourceRegistry:
    """Thread-safe lookup of resource types by (apiVersion, kind) and by (group, version, plural)."""

    def __init__(self, types: Iterable[ResourceType] = ()) -> None:
        self._lock = threading.Lock()
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        self._by_plural: dict[tuple[str, str, str], ResourceType] = {}
        for rtype in types:
            self.register(rtype)

    def register(self, rtype: ResourceType) -> None:
        with self._lock:
            self._by_kind[(rtype.api_version, rtype.kind)] = rtype
            self._by_plural[(rtype.group, rtype.version, rtype.plural)] = rtype

    def by_kind(self, api_version: str, kind: str) -> ResourceType:
        try:
            return self._by_kind[(api_version, kind)]
        except KeyError:
            raise KeyError(f"no resource type registered for {api_version} {kind}") from None

    def by_plural(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_plural.get((group, version, plural))

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._by_kind.values())

    def group_versions(self) -> dict[str, list[str]]:
        """{group: [versions, preferred first]} for the named groups (core "" excluded)."""
        versions: dict[str, set[str]] = {}
        for rtype in self.all():
            if rtype.group:
                versions.setdefault(rtype.group, set()).add(rtype.version)
        return {group: sorted(found, key=version_priority) for group, found in versions.items()}


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting the preferred version first: GA, then beta, then alpha; higher numbers first."""
    match = _VERSION.fullmatch(version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


_VERSION = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?")

_STATUS = Subresource("status", "", ("get", "patch", "update"))

_POD_FIELDS = _fields(
    **_same(
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    )
)
_EVENT_FIELDS = _fields(
    **_same(
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "type",
    ),
    source="source.component",
)
# events.k8s.io/v1 names the same stored fields differently; the store translates to the core labels.
EVENTS_V1_FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        **METADATA_FIELDS,
        **{f"regarding.{f}": f"involvedObject.{f}" for f in ("kind", "namespace", "name", "uid")},
        **{f"regarding.{f}": f"involvedObject.{f}" for f in ("apiVersion", "resourceVersion", "fieldPath")},
        "reason": "reason",
        "reportingController": "reportingComponent",
        "type": "type",
        "deprecatedSource": "source",
    }
)


def _with_status(kind: str) -> Subresource:
    return Subresource("status", kind, _STATUS.verbs)


def builtin_types() -> list[ResourceType]:
    """The kinds an EKS cluster with the VPC CNI serves that the bot and the simulator use."""
    return [
        ResourceType(
            "",
            "v1",
            "Namespace",
            "namespaces",
            "namespace",
            namespaced=False,
            verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
            short_names=("ns",),
            subresources=(_with_status("Namespace"),),
            field_labels=_fields(**_same("status.phase")),
            initial_status=MappingProxyType({"phase": "Active"}),
        ),
        ResourceType(
            "",
            "v1",
            "Node",
            "nodes",
            "node",
            namespaced=False,
            short_names=("no",),
            field_labels=_fields(**_same("spec.unschedulable")),
        ),
        ResourceType(
            "",
            "v1",
            "Pod",
            "pods",
            "pod",
            namespaced=True,
            short_names=("po",),
            categories=("all",),
            subresources=(
                _with_status("Pod"),
                Subresource("log", "Pod", ("get",)),
                Subresource("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
                Subresource("eviction", "Eviction", ("create",)),
            ),
            field_labels=_POD_FIELDS,
            indexed_fields=("spec.nodeName",),
            returns_deleted_object=True,
            initial_status=MappingProxyType({"phase": "Pending", "qosClass": "BestEffort"}),
        ),
        ResourceType(
            "",
            "v1",
            "Event",
            "events",
            "event",
            namespaced=True,
            short_names=("ev",),
            field_labels=_EVENT_FIELDS,
            indexed_fields=("involvedObject.name", "involvedObject.uid"),
            create_on_update=True,
        ),
        ResourceType("", "v1", "ConfigMap", "configmaps", "configmap", namespaced=True, short_names=("cm",)),
        ResourceType(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            "serviceaccount",
            namespaced=True,
            short_names=("sa",),
            returns_deleted_object=True,
        ),
        ResourceType("", "v1", "Secret", "secrets", "secret", namespaced=True, field_labels=_fields(**_same("type"))),
        ResourceType(
            "apps",
            "v1",
            "DaemonSet",
            "daemonsets",
            "daemonset",
            namespaced=True,
            short_names=("ds",),
            categories=("all",),
            subresources=(_with_status("DaemonSet"),),
            tracks_generation=True,
            initial_status=MappingProxyType(
                {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}
            ),
        ),
        ResourceType(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            "deployment",
            namespaced=True,
            short_names=("deploy",),
            categories=("all",),
            subresources=(_with_status("Deployment"),),
            tracks_generation=True,
            initial_status=MappingProxyType({}),
        ),
        ResourceType(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            "poddisruptionbudget",
            namespaced=True,
            short_names=("pdb",),
            subresources=(_with_status("PodDisruptionBudget"),),
            tracks_generation=True,
            initial_status=MappingProxyType({}),
        ),
        ResourceType(
            "events.k8s.io",
            "v1",
            "Event",
            "events",
            "event",
            namespaced=True,
            short_names=("ev",),
            field_labels=EVENTS_V1_FIELD_LABELS,
            create_on_update=True,
            stored_as=("v1", "Event"),
        ),
        ResourceType(
            "crd.k8s.amazonaws.com",
            "v1alpha1",
            "ENIConfig",
            "eniconfigs",
            "eniconfig",
            namespaced=False,
            strategic_merge=False,
            tracks_generation=True,
        ),
        ResourceType(
            "vpcresources.k8s.aws",
            "v1alpha1",
            "CNINode",
            "cninodes",
            "cninode",
            namespaced=False,
            short_names=("cnd",),
            strategic_merge=False,
            tracks_generation=True,
        ),
        ResourceType(
            "vpcresources.k8s.aws",
            "v1beta1",
            "SecurityGroupPolicy",
            "securitygrouppolicies",
            "securitygrouppolicy",
            namespaced=True,
            short_names=("sgp",),
            strategic_merge=False,
            tracks_generation=True,
        ),
        ResourceType(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            namespaced=False,
            verbs=("create",),
        ),
    ]


def default_registry() -> ResourceRegistry:
    return ResourceRegistry(builtin_types())
