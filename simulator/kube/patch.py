"""The three PATCH flavours of the apiserver: strategic merge, JSON merge (RFC 7386), JSON patch (RFC 6902).

All functions return a new document and never mutate their inputs: untouched sub-trees are shared
with the original, which is safe because the store never mutates a stored object in place.
"""

from __future__ import annotations

from typing import Any

from simulator.kube.documents import deep_copy


class PatchError(ValueError):
    """The patch cannot be applied (the apiserver answers 422 or 400)."""


# List fields merged item by item in strategic merge, with their patchMergeKey (from the Go types'
# `patchStrategy:"merge"` tags). Every other list is replaced whole (tolerations, args, command...).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "addresses": "type",
    "hostAliases": "ip",
    "taints": "key",
}
# Lists of scalars merged as a set.
PRIMITIVE_MERGE_LISTS = frozenset({"finalizers"})

_SET_ORDER = "$setElementOrder/"
_DELETE_FROM_PRIMITIVE = "$deleteFromPrimitiveList/"


def _merge_key(field: str, *lists: list[Any]) -> str | None:
    if field == "ports":
        # Container ports merge on containerPort, service ports on port.
        has_container_port = any(
            isinstance(item, dict) and "containerPort" in item for items in lists for item in items
        )
        return "containerPort" if has_container_port else "port"
    return MERGE_KEYS.get(field)


def strategic_merge(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    merged = _merge_map(original, patch)
    return merged if merged is not None else {}


def _merge_map(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return _without_directives(patch)
    result = dict(original)
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _merge_map(current if isinstance(current, dict) else {}, value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            current = result.get(key)
            result[key] = _merge_list(key, current if isinstance(current, list) else [], value)
        else:
            result[key] = value
    _apply_list_directives(result, patch)
    retained = patch.get("$retainKeys")
    if isinstance(retained, list):
        result = {key: value for key, value in result.items() if key in retained}
    return result


def _merge_list(field: str, original: list[Any], patch: list[Any]) -> list[Any]:
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [_without_directives(item) for item in patch if not _is_directive_only(item)]
    if field in PRIMITIVE_MERGE_LISTS:
        return original + [item for item in patch if item not in original]
    merge_key = _merge_key(field, original, patch)
    if merge_key is None:
        return [_without_directives(item) if isinstance(item, dict) else item for item in patch]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict):
            result.append(item)
            continue
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        position = next(
            (
                i
                for i, current in enumerate(result)
                if isinstance(current, dict) and current.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            result = [c for c in result if not (isinstance(c, dict) and c.get(merge_key) == item[merge_key])]
        elif position is None:
            result.append(_merge_map({}, item))
        else:
            result[position] = _merge_map(result[position], item)
    return result


def _apply_list_directives(result: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if key.startswith(_DELETE_FROM_PRIMITIVE) and isinstance(value, list):
            field = key.removeprefix(_DELETE_FROM_PRIMITIVE)
            if isinstance(result.get(field), list):
                result[field] = [item for item in result[field] if item not in value]
        elif key.startswith(_SET_ORDER) and isinstance(value, list):
            field = key.removeprefix(_SET_ORDER)
            if isinstance(result.get(field), list):
                result[field] = _ordered(field, result[field], value)


def _ordered(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    """Items in the order `$setElementOrder` gives; items it does not name keep their place at the end."""
    merge_key = _merge_key(field, items, order)

    def identity(item: Any) -> Any:
        return item.get(merge_key) if merge_key and isinstance(item, dict) else item

    rank = {identity(entry): index for index, entry in enumerate(order)}
    named = sorted((item for item in items if identity(item) in rank), key=lambda item: rank[identity(item)])
    return named + [item for item in items if identity(item) not in rank]


def _is_directive_only(item: Any) -> bool:
    return isinstance(item, dict) and set(item) <= {"$patch"}


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_without_directives(item) for item in value]
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test, applied in order, all or nothing."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a JSON array of operations")
    result: Any = deep_copy(document)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"invalid json patch operation: {operation}")
        result = _apply_operation(result, operation)
    if not isinstance(result, dict):
        raise PatchError("json patch must leave an object")
    return result


def _apply_operation(document: Any, operation: dict[str, Any]) -> Any:
    op, path = operation["op"], _pointer(operation["path"])
    match op:
        case "add":
            return _add(document, path, deep_copy(_required(operation, "value")))
        case "remove":
            _remove(document, path)
            return document
        case "replace":
            value = deep_copy(_required(operation, "value"))
            if not path:
                return value
            _remove(document, path)
            return _add(document, path, value)
        case "move":
            source = _pointer(_required(operation, "from"))
            value = _get(document, source)
            _remove(document, source)
            return _add(document, path, value)
        case "copy":
            return _add(document, path, deep_copy(_get(document, _pointer(_required(operation, "from")))))
        case "test":
            expected = _required(operation, "value")
            if not _json_equal(_get(document, path), expected):
                raise PatchError(f"testing value {operation['path']} failed: test failed")
            return document
    raise PatchError(f"Unexpected kind: {op}")


def _required(operation: dict[str, Any], key: str) -> Any:
    if key not in operation:
        raise PatchError(f"missing '{key}' in json patch operation {operation['op']}")
    return operation[key]


def _pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {text!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _parent(document: Any, path: list[str]) -> tuple[Any, str]:
    if not path:
        raise PatchError("the root cannot be a parent")
    return _get(document, path[:-1]), path[-1]


def _get(document: Any, path: list[str]) -> Any:
    value = document
    for step in path:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list):
            value = value[_index(value, step, allow_end=False)]
        else:
            raise PatchError(f"doc is missing path: /{'/'.join(path)}")
    return value


def _index(items: list[Any], step: str, *, allow_end: bool) -> int:
    if step == "-" and allow_end:
        return len(items)
    if not step.isdigit():
        raise PatchError(f"invalid array index: {step!r}")
    index = int(step)
    if index > len(items) or (index == len(items) and not allow_end):
        raise PatchError(f"array index out of bounds: {index}")
    return index


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, last = _parent(document, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise PatchError(f"doc is missing path: /{'/'.join(path)}")
    return document


def _remove(document: Any, path: list[str]) -> None:
    parent, last = _parent(document, path)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, allow_end=False)]
    else:
        raise PatchError(f"unable to remove nonexistent key: {last}: missing value")


def _json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: true is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)
