"""events.k8s.io/v1 Event as a view over the core/v1 events storage, converted as the apiserver does.

Core events (kubelet, older controllers) show up in events.k8s.io/v1 with `eventTime: null` and their
count/timestamps under `deprecated*`; events created through events.k8s.io/v1 keep eventTime and series
and appear in core/v1 without count or lastTimestamp.
"""

from __future__ import annotations

from typing import Any

from simulator.kube.documents import JsonObject

CORE_API_VERSION = "v1"
EVENTS_API_VERSION = "events.k8s.io/v1"

# core/v1 field -> events.k8s.io/v1 field, for the fields that only change their name.
_RENAMED = {
    "involvedObject": "regarding",
    "related": "related",
    "message": "note",
    "reportingComponent": "reportingController",
    "reportingInstance": "reportingInstance",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
    "reason": "reason",
    "type": "type",
    "action": "action",
    "series": "series",
}
_EMPTY: tuple[Any, ...] = (None, "", 0, {})


def core_defaults(event: JsonObject) -> JsonObject:
    """Fields core/v1 always renders even when empty, as the real apiserver does."""
    event.setdefault("eventTime", None)
    event.setdefault("reportingComponent", "")
    event.setdefault("reportingInstance", "")
    return event


def to_events_v1(core: JsonObject) -> JsonObject:
    """The events.k8s.io/v1 rendering of a stored core/v1 Event."""
    event: JsonObject = {"apiVersion": EVENTS_API_VERSION, "kind": "Event", "metadata": core.get("metadata", {})}
    event["eventTime"] = core.get("eventTime")
    for core_field, v1_field in _RENAMED.items():
        value = core.get(core_field)
        if value not in _EMPTY:
            event[v1_field] = _series_to_v1(value) if core_field == "series" else value
    return event


def to_core(event: JsonObject) -> JsonObject:
    """The core/v1 Event stored for an object written through events.k8s.io/v1."""
    core: JsonObject = {"apiVersion": CORE_API_VERSION, "kind": "Event", "metadata": event.get("metadata", {})}
    for core_field, v1_field in _RENAMED.items():
        value = event.get(v1_field)
        if value not in _EMPTY:
            core[core_field] = value
    core.setdefault("involvedObject", {})  # required by core/v1 clients
    core["eventTime"] = event.get("eventTime")
    return core_defaults(core)


def _series_to_v1(series: Any) -> Any:
    # core/v1 EventSeries may carry a deprecated `state`; events.k8s.io/v1 has only count and time.
    if isinstance(series, dict):
        return {key: series[key] for key in ("count", "lastObservedTime") if key in series}
    return series
