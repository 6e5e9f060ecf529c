"""Offline structural check of rendered manifests against the Kubernetes API types.

The official client's generated models know every field of every built-in kind; walking a manifest
through them catches what Helm cannot: a misspelt field (`readinesProbe`) that the API server would
silently drop, or a number where a string is required (`command: [sleep, 5]`).
"""

from __future__ import annotations

import re
from typing import Any

import kubernetes.client

_LIST = re.compile(r"^List\[(.+)\]$")
_DICT = re.compile(r"^Dict\[str, (.+)\]$")
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (object,),
    "datetime": (str,),
    "bytes": (str,),
}


def model_for(api_version: str, kind: str) -> str | None:
    """`apps/v1` + `Deployment` -> `V1Deployment`; None for kinds the client does not know (CRDs)."""
    version = api_version.rsplit("/", 1)[-1]
    name = version[0].upper() + version[1:] + kind
    return name if hasattr(kubernetes.client, name) else None


def problems(manifest: dict[str, Any]) -> list[str]:
    """Every field of the manifest that its API type does not have or types differently."""
    model = model_for(manifest["apiVersion"], manifest["kind"])
    if model is None:
        return []
    where = f"{manifest['kind']}/{manifest['metadata']['name']}"
    return _check(manifest, model, where)


def _check(value: Any, type_name: str, path: str) -> list[str]:
    if m := _LIST.match(type_name):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [p for i, item in enumerate(value) for p in _check(item, m.group(1), f"{path}[{i}]")]
    if m := _DICT.match(type_name):
        if not isinstance(value, dict):
            return [f"{path}: expected a mapping, got {value!r}"]
        return [p for key, item in value.items() for p in _check(item, m.group(1), f"{path}.{key}")]
    if type_name in _PRIMITIVES:
        allowed = _PRIMITIVES[type_name]
        # bool is an int in Python; YAML `true` where an integer belongs is still an error.
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            return [f"{path}: expected {type_name}, got {value!r}"]
        return []
    model = getattr(kubernetes.client, type_name)
    if not isinstance(value, dict):
        return [f"{path}: expected a {type_name} mapping, got {value!r}"]
    by_json_key = {json_key: attr for attr, json_key in model.attribute_map.items()}
    found = []
    for key, item in value.items():
        if key not in by_json_key:
            found.append(f"{path}.{key}: no such field in {type_name}")
            continue
        found.extend(_check(item, model.openapi_types[by_json_key[key]], f"{path}.{key}"))
    return found
