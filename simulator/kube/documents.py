"""Small helpers for Kubernetes objects held as plain JSON-shaped dicts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

JsonObject = dict[str, Any]


def deep_copy(value: Any) -> Any:
    """Copy a JSON-shaped value (dicts, lists, scalars); several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [deep_copy(item) for item in value]
    return value


def get_path(obj: JsonObject, dotted: str) -> Any:
    """The value at a dotted path such as "spec.nodeName", or None when any step is missing."""
    value: Any = obj
    for step in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def field_string(value: Any) -> str:
    """How the apiserver renders a field for fieldSelector matching: missing is "", booleans lower-case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_last_second: tuple[int, str] = (0, "")


def rfc3339_now() -> str:
    """The current time to the second, as metadata timestamps carry it (cached: bulk loads call it a lot)."""
    global _last_second
    second = int(time.time())
    if _last_second[0] != second:
        _last_second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _last_second[1]


def is_private_key(key: str) -> bool:
    """Top-level keys starting with "_" carry simulator data (a pod's `_log`) and are never served."""
    return key.startswith("_")


def public_view(obj: JsonObject) -> JsonObject:
    """The object as clients see it: without the simulator's private top-level keys."""
    if any(is_private_key(key) for key in obj):
        return {key: value for key, value in obj.items() if not is_private_key(key)}
    return obj
