"""What each write verb makes of the stored object, with the apiserver's preconditions and rules.

Each `*_change` returns a `Compute` for KubeStore.write: given the current stored object (or None) it
returns the object to store, None to delete it, or raises ApiError. They never mutate their input.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.kube import status
from simulator.kube.documents import JsonObject, deep_copy, is_private_key, public_view, rfc3339_now
from simulator.kube.patch import PatchError, json_patch, merge_patch, strategic_merge
from simulator.kube.resources import ResourceType
from simulator.kube.store import Compute

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
_PATCHERS: dict[str, Callable[[JsonObject, Any], JsonObject]] = {
    STRATEGIC: strategic_merge,
    MERGE: merge_patch,
    JSON_PATCH: json_patch,
}
# Characters the apiserver's generateName suffix is drawn from (no vowels, no look-alikes).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class WriteContext:
    rtype: ResourceType
    namespace: str | None
    name: str
    field_manager: str
    subresource: str = ""


def accepted_patch_types(rtype: ResourceType) -> tuple[str, ...]:
    base = (JSON_PATCH, MERGE, APPLY)
    return (*base, STRATEGIC) if rtype.strategic_merge else base


def generate_name(prefix: str) -> str:
    return prefix + "".join(random.choices(_NAME_ALPHABET, k=5))


def prepare_new(rtype: ResourceType, body: Any, namespace: str | None) -> JsonObject:
    """Check a POSTed body against the URL and fill what the apiserver fills; returns the new object."""
    obj = _require_object(body)
    _check_type(rtype, obj)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise status.bad_request("metadata must be an object")
    if rtype.namespaced:
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise status.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace
    if not meta.get("name"):
        if not meta.get("generateName"):
            raise status.invalid(rtype, "", "metadata.name", "Required value: name or generateName is required")
        meta["name"] = generate_name(meta["generateName"])
    for server_owned in ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"):
        meta.pop(server_owned, None)
    if rtype.initial_status is not None:
        obj["status"] = deep_copy(dict(rtype.initial_status))
    return obj


def create_change(ctx: WriteContext, obj: JsonObject) -> Compute:
    def compute(current: JsonObject | None) -> JsonObject:
        if current is not None:
            raise status.already_exists(ctx.rtype, ctx.name)
        return _with_manager(obj, ctx, "Update")

    return compute


def update_change(ctx: WriteContext, body: Any) -> Compute:
    """PUT: replace the object, with an optimistic-concurrency check when the body names a resourceVersion."""
    obj = _require_object(body)
    _check_type(ctx.rtype, obj)
    meta = obj.setdefault("metadata", {})
    if meta.get("name") and meta["name"] != ctx.name:
        raise status.bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({ctx.name})"
        )
    if ctx.rtype.namespaced and meta.get("namespace") and meta["namespace"] != ctx.namespace:
        raise status.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )

    def compute(current: JsonObject | None) -> JsonObject | None:
        if current is None:
            if not ctx.rtype.create_on_update or ctx.subresource:
                raise status.not_found(ctx.rtype, ctx.name)
            return _with_manager(prepare_new(ctx.rtype, obj, ctx.namespace), ctx, "Update")
        wanted = meta.get("resourceVersion")
        if wanted and wanted != current["metadata"].get("resourceVersion"):
            raise status.conflict(ctx.rtype, ctx.name)
        return _finish_update(ctx, current, deep_copy(obj))

    return compute


def patch_change(ctx: WriteContext, content_type: str, patch: Any) -> Compute:
    """PATCH in one of the three JSON flavours; a resourceVersion in the patch is a precondition."""
    if content_type not in _PATCHERS or (content_type == STRATEGIC and not ctx.rtype.strategic_merge):
        raise status.unsupported_media_type(accepted_patch_types(ctx.rtype))
    patcher = _PATCHERS[content_type]

    def compute(current: JsonObject | None) -> JsonObject | None:
        if current is None:
            raise status.not_found(ctx.rtype, ctx.name)
        try:
            patched = patcher(public_view(current), patch)
        except PatchError as error:
            if content_type == JSON_PATCH:
                raise status.unprocessable(str(error)) from error
            raise status.bad_request(str(error)) from error
        if not isinstance(patched, dict):
            raise status.bad_request("the patch did not produce an object")
        patched_meta = patched.get("metadata")
        if not isinstance(patched_meta, dict):
            raise status.bad_request("the patch left metadata that is not an object")
        current_version = current["metadata"].get("resourceVersion")
        if patched_meta.get("resourceVersion", current_version) != current_version:
            raise status.conflict(ctx.rtype, ctx.name)
        _check_identity(ctx, current, patched)
        return _finish_update(ctx, current, patched)

    return compute


def delete_change(ctx: WriteContext, options: JsonObject) -> Compute:
    """DELETE: honour DeleteOptions preconditions; objects with finalizers only get a deletionTimestamp."""
    preconditions = options.get("preconditions") or {}

    def compute(current: JsonObject | None) -> JsonObject | None:
        if current is None:
            raise status.not_found(ctx.rtype, ctx.name)
        meta = current["metadata"]
        for field, label in (("resourceVersion", "ResourceVersion"), ("uid", "UID")):
            wanted = preconditions.get(field)
            if wanted and wanted != meta.get(field):
                raise status.ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {ctx.rtype.group_resource} "{ctx.name}": Precondition '
                    f"failed: {label} in precondition: {wanted}, {label} in object meta: {meta.get(field)}",
                    {"name": ctx.name, "group": ctx.rtype.group, "kind": ctx.rtype.plural},
                )
        if not meta.get("finalizers"):
            return None
        if meta.get("deletionTimestamp"):
            return current
        pending = dict(current)
        pending["metadata"] = {**meta, "deletionTimestamp": rfc3339_now(), "deletionGracePeriodSeconds": 0}
        return pending

    return compute


def _finish_update(ctx: WriteContext, current: JsonObject, new: JsonObject) -> JsonObject | None:
    """Rules every update shares: server-owned metadata, status subresource, private simulator keys."""
    meta = new.setdefault("metadata", {})
    current_meta = current["metadata"]
    for server_owned in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if server_owned in current_meta:
            meta[server_owned] = current_meta[server_owned]
        else:
            meta.pop(server_owned, None)
    if ctx.subresource == "status":
        new = {**current, "status": new.get("status"), "metadata": current_meta}
    elif ctx.rtype.has_status_subresource:
        new["status"] = current.get("status")
    for key, value in current.items():
        if is_private_key(key):
            new[key] = value
    if new.get("status") is None:
        new.pop("status", None)
    if meta.get("deletionTimestamp") and not new["metadata"].get("finalizers"):
        return None  # the last finalizer is gone: the pending deletion completes
    return _with_manager(new, ctx, "Update")


def _with_manager(obj: JsonObject, ctx: WriteContext, operation: str) -> JsonObject:
    """Record the writer in metadata.managedFields (manager and operation; field sets are not tracked)."""
    meta = dict(obj.get("metadata") or {})
    entries = [
        entry
        for entry in meta.get("managedFields") or []
        if not (entry.get("manager") == ctx.field_manager and entry.get("operation") == operation)
    ]
    entry: JsonObject = {
        "manager": ctx.field_manager,
        "operation": operation,
        "apiVersion": ctx.rtype.api_version,
        "time": rfc3339_now(),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    }
    if ctx.subresource:
        entry["subresource"] = ctx.subresource
    meta["managedFields"] = [*entries, entry]
    return {**obj, "metadata": meta}


def _require_object(body: Any) -> JsonObject:
    if not isinstance(body, dict):
        raise status.bad_request("the body of the request must be a JSON object")
    return body


def _check_type(rtype: ResourceType, obj: JsonObject) -> None:
    api_version = obj.setdefault("apiVersion", rtype.api_version)
    kind = obj.setdefault("kind", rtype.kind)
    if api_version != rtype.api_version:
        raise status.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version ({rtype.api_version})"
        )
    if kind != rtype.kind:
        raise status.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})")


def _check_identity(ctx: WriteContext, current: JsonObject, patched: JsonObject) -> None:
    meta = patched.get("metadata") or {}
    if meta.get("name", ctx.name) != ctx.name:
        raise status.invalid(
            ctx.rtype, ctx.name, "metadata.name", "Invalid value: field is immutable", "FieldValueInvalid"
        )
    if patched.get("apiVersion") != current.get("apiVersion") or patched.get("kind") != current.get("kind"):
        raise status.bad_request("the patch must not change apiVersion or kind")
