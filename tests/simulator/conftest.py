from __future__ import annotations

import json
from typing import Any

from kubernetes.client import ApiClient

_MODEL_FOR_KIND = {
    "Pod": "V1Pod",
    "Node": "V1Node",
    "DaemonSet": "V1DaemonSet",
    "Event": "CoreV1Event",
    "Namespace": "V1Namespace",
}
_CLIENT = ApiClient()


def validate_with_official_client(obj: dict[str, Any]) -> Any:
    """Deserialize as the kubernetes client 37 does (pydantic validation of required fields)."""
    model = _MODEL_FOR_KIND.get(obj["kind"])
    if model is None:
        return obj
    return _CLIENT.deserialize(json.dumps(obj), model, "application/json")
