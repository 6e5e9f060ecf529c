"""Writes to a cluster, used only to apply approved changes: the aws-node env and ENIConfigs.

- aws-node: a strategic-merge patch that touches only the env entries of the change (field manager
  `cnibot`), with the DaemonSet's resourceVersion as a precondition so an edit made after it was read is
  never overwritten (409 -> WriteConflict).
- ENIConfigs: create, JSON merge patch (custom resources refuse strategic merge), delete; updates and
  deletes carry the resourceVersion that was read.
- SelfSubjectAccessReview tells whether RBAC lets the bot make those writes at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot import metrics
from bot.domain import names
from bot.domain.changes import EniConfigState
from bot.domain.knobs import AWS_NODE, INIT_CONTAINER
from bot.errors import UpstreamError
from bot.gateways.kube import KUBE_SYSTEM, rbac_needed
from bot.gateways.kube import timed_out as kube_timed_out

FIELD_MANAGER = "cnibot"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE_PATCH = "application/merge-patch+json"
ENICONFIG_GROUP, ENICONFIG_VERSION, ENICONFIG_PLURAL = "crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs"
JSON = dict[str, Any]


class WriteConflict(UpstreamError):
    """The object changed after it was read (HTTP 409): nothing was written."""


@dataclass(frozen=True)
class EniConfigObject:
    name: str
    state: EniConfigState | None  # None when spec.subnet is missing (not something the bot writes)
    resource_version: str


@dataclass(frozen=True)
class Permission:
    verb: str
    group: str
    resource: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    def __str__(self) -> str:
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        target = f"{resource}/{self.name}" if self.name else resource
        group = f".{self.group}" if self.group else ""
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{self.verb} {target}{group}{where}"


PATCH_AWS_NODE = Permission("patch", "apps", "daemonsets", KUBE_SYSTEM, AWS_NODE)
# Node rollouts (opt-in in the chart): cordon nodes, evict pods through the Eviction API.
NODE_ROLLOUT = (Permission("patch", "", "nodes"), Permission("create", "", "pods", subresource="eviction"))
WRITE_ENICONFIGS = tuple(Permission(verb, ENICONFIG_GROUP, ENICONFIG_PLURAL) for verb in ("create", "patch", "delete"))


def env_patch(edits: Mapping[str, Mapping[str, str | None]], resource_version: str) -> JSON:
    """The strategic-merge patch that sets (value) or removes (None) env entries of the named containers."""
    containers: list[JSON] = []
    init_containers: list[JSON] = []
    for container, env in sorted(edits.items()):
        entries: list[JSON] = [
            {"name": key, "$patch": "delete"} if value is None else {"name": key, "value": value}
            for key, value in sorted(env.items())
        ]
        target = init_containers if container == INIT_CONTAINER else containers
        target.append({"name": container, "env": entries})
    pod_spec: JSON = {}
    if containers:
        pod_spec["containers"] = containers
    if init_containers:
        pod_spec["initContainers"] = init_containers
    return {"metadata": {"resourceVersion": resource_version}, "spec": {"template": {"spec": pod_spec}}}


def images_patch(images: Mapping[str, str], resource_version: str) -> JSON:
    """The strategic-merge patch that sets the image of the named aws-node containers (init container included)."""
    containers = [{"name": n, "image": i} for n, i in sorted(images.items()) if n != INIT_CONTAINER]
    pod_spec: JSON = {"containers": containers} if containers else {}
    if INIT_CONTAINER in images:
        pod_spec["initContainers"] = [{"name": INIT_CONTAINER, "image": images[INIT_CONTAINER]}]
    return {"metadata": {"resourceVersion": resource_version}, "spec": {"template": {"spec": pod_spec}}}


def eniconfig_body(name: str, state: EniConfigState) -> JSON:
    spec: JSON = {"subnet": state.subnet}
    if state.security_groups:
        spec["securityGroups"] = list(state.security_groups)
    return {
        "apiVersion": f"{ENICONFIG_GROUP}/{ENICONFIG_VERSION}",
        "kind": "ENIConfig",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER}},
        "spec": spec,
    }


class KubeWriter:
    """One cluster's writes. Thread-safe like the client it wraps."""

    def __init__(self, api_client: k8s.ApiClient, *, timeout: float = 15.0) -> None:
        self.apps = k8s.AppsV1Api(api_client)
        self.core = k8s.CoreV1Api(api_client)
        self.custom = k8s.CustomObjectsApi(api_client)
        self.authz = k8s.AuthorizationV1Api(api_client)
        self.timeout = timeout

    # --- aws-node -------------------------------------------------------------------------------------
    def patch_aws_node_env(self, edits: Mapping[str, Mapping[str, str | None]], resource_version: str) -> JSON:
        """Patch env entries of aws-node's containers (``{container: {KEY: value or None}}``); returns the
        DaemonSet as stored. Raises WriteConflict when the DaemonSet is no longer at ``resource_version``."""
        unknown = set(edits) - {AWS_NODE, INIT_CONTAINER}
        if unknown:
            raise ValueError(f"not an aws-node container: {sorted(unknown)}")
        result = self._call(
            "kube:PATCH daemonsets",
            self.apps.patch_namespaced_daemon_set,
            AWS_NODE,
            KUBE_SYSTEM,
            env_patch(edits, resource_version),
            field_manager=FIELD_MANAGER,
            _content_type=STRATEGIC_MERGE,
        )
        return dict(result or {})

    def patch_aws_node_images(self, images: Mapping[str, str], resource_version: str) -> JSON:
        """Set the images of aws-node's containers (a self-managed upgrade); WriteConflict as for env patches."""
        result = self._call(
            "kube:PATCH daemonsets",
            self.apps.patch_namespaced_daemon_set,
            AWS_NODE,
            KUBE_SYSTEM,
            images_patch(images, resource_version),
            field_manager=FIELD_MANAGER,
            _content_type=STRATEGIC_MERGE,
        )
        return dict(result or {})

    # --- node rollouts ---------------------------------------------------------------------------------
    def cordon(self, node: str) -> None:
        self._call(
            "kube:PATCH nodes",
            self.core.patch_node,
            node,
            {"spec": {"unschedulable": True}},
            field_manager=FIELD_MANAGER,
        )

    def evict(self, namespace: str, pod: str) -> None:
        """POST pods/{pod}/eviction; a PodDisruptionBudget that allows no disruption raises UpstreamError 429."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
        self._call("kube:CREATE pods/eviction", self.core.create_namespaced_pod_eviction, pod, namespace, body)

    # --- ENIConfigs -------------------------------------------------------------------------------------
    def eniconfig_objects(self) -> dict[str, EniConfigObject]:
        """Every ENIConfig with its resourceVersion (none when the CRD is not installed)."""
        data = self._call(
            "kube:LIST eniconfigs",
            self.custom.list_cluster_custom_object,
            ENICONFIG_GROUP,
            ENICONFIG_VERSION,
            ENICONFIG_PLURAL,
            missing_ok=True,
        )
        objects = {}
        for item in (data or {}).get("items") or []:
            meta, spec = item.get("metadata") or {}, item.get("spec") or {}
            subnet = spec.get("subnet")
            state = EniConfigState(str(subnet), tuple(spec.get("securityGroups") or ())) if subnet else None
            objects[meta["name"]] = EniConfigObject(meta["name"], state, str(meta.get("resourceVersion") or ""))
        return objects

    def create_eniconfig(self, name: str, state: EniConfigState) -> None:
        self._call(
            "kube:CREATE eniconfigs",
            self.custom.create_cluster_custom_object,
            ENICONFIG_GROUP,
            ENICONFIG_VERSION,
            ENICONFIG_PLURAL,
            eniconfig_body(names.object_name(name, "ENIConfig"), state),
            field_manager=FIELD_MANAGER,
        )

    def update_eniconfig(self, name: str, state: EniConfigState, resource_version: str) -> None:
        patch: JSON = {
            "metadata": {"resourceVersion": resource_version},
            # A merge patch replaces lists whole and null removes a field.
            "spec": {"subnet": state.subnet, "securityGroups": list(state.security_groups) or None},
        }
        self._call(
            "kube:PATCH eniconfigs",
            self.custom.patch_cluster_custom_object,
            ENICONFIG_GROUP,
            ENICONFIG_VERSION,
            ENICONFIG_PLURAL,
            names.object_name(name, "ENIConfig"),
            patch,
            field_manager=FIELD_MANAGER,
            _content_type=MERGE_PATCH,
        )

    def delete_eniconfig(self, name: str, resource_version: str) -> None:
        options = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(resource_version=resource_version))
        self._call(
            "kube:DELETE eniconfigs",
            self.custom.delete_cluster_custom_object,
            ENICONFIG_GROUP,
            ENICONFIG_VERSION,
            ENICONFIG_PLURAL,
            names.object_name(name, "ENIConfig"),
            body=options,
        )

    # --- permissions -------------------------------------------------------------------------------------
    def denied(self, permissions: tuple[Permission, ...]) -> list[Permission]:
        """Which of these RBAC allows not (SelfSubjectAccessReview, asked once per permission)."""
        return [p for p in permissions if not self._allowed(p)]

    def _allowed(self, permission: Permission) -> bool:
        attributes = k8s.V1ResourceAttributes(
            verb=permission.verb,
            group=permission.group,
            resource=permission.resource,
            namespace=permission.namespace,
            name=permission.name,
            subresource=permission.subresource,
        )
        review = k8s.V1SelfSubjectAccessReview(spec=k8s.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes))
        data = self._call("kube:CREATE selfsubjectaccessreviews", self.authz.create_self_subject_access_review, review)
        return bool(((data or {}).get("status") or {}).get("allowed"))

    def _call(self, api: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return kube_json(api, fn, *args, timeout=self.timeout, **kwargs)


def kube_json(
    api: str, fn: Callable[..., Any], *args: Any, timeout: float = 15.0, missing_ok: bool = False, **kwargs: Any
) -> Any:
    """Call a kubernetes client method for raw JSON; failures become UpstreamError (409: WriteConflict)."""
    try:
        resp = fn(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
        data = json.loads(resp.data) if resp.data else None
    except ApiException as exc:
        if exc.status == 404 and missing_ok:
            metrics.UPSTREAM_CALLS.labels(api, "ok").inc()
            return None
        metrics.UPSTREAM_CALLS.labels(api, "error").inc()
        reason = _message(exc, api)
        if exc.status == 409:
            raise WriteConflict(api, reason, code="409") from exc
        raise UpstreamError(api, reason, code=str(exc.status), throttled=exc.status == 429) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        metrics.UPSTREAM_CALLS.labels(api, "error").inc()
        timed_out = kube_timed_out(exc)
        reason = "timed out" if timed_out else f"unreachable ({type(exc).__name__})"
        raise UpstreamError(api, reason, code="timeout" if timed_out else "unreachable") from exc
    metrics.UPSTREAM_CALLS.labels(api, "ok").inc()
    return data


def _message(exc: ApiException, api: str) -> str:
    """The API server's own message (it names the conflict or the denied verb), else the status."""
    try:
        message = json.loads(exc.body or b"{}").get("message")
    except (ValueError, AttributeError):
        message = None
    if exc.status == 403:
        return f"forbidden (RBAC): the bot may not {rbac_needed(api)}" + (f" ({message})" if message else "")
    return str(message) if message else f"HTTP {exc.status}: {exc.reason}"
