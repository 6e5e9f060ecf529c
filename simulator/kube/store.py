"""The object store behind the fake API server: thread-safe, indexed, copy-on-write.

Stored objects are never mutated in place: every write stores a new dict (sharing untouched sub-trees
with the old one). So readers may hold a stored object outside the lock, and the HTTP layer serialises
lists without copying them. Callers of the public methods get copies they may change freely.

Just over 500 lines: one store under one lock (its indexes, watches and paging); what the verbs mean is in
api.py.
"""

from __future__ import annotations

import bisect
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from simulator.kube import events_view
from simulator.kube.documents import JsonObject, deep_copy, field_string, get_path, rfc3339_now
from simulator.kube.resources import ResourceRegistry, ResourceType, default_registry
from simulator.kube.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from simulator.kube.watch import Change, ChangeLog, expired_status, watch_event

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, or "" for cluster-scoped kinds; name)
Listener = Callable[[str, JsonObject | None, JsonObject | None], None]
Compute = Callable[[JsonObject | None], JsonObject | None]
# Aliases: inside KubeStore the name `list` is the method.
ObjectList = list[JsonObject]
KeyList = list[Key]

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# Fields whose selector value is "false" when the object leaves them out (Go bools are never missing).
BOOLEAN_FIELDS = frozenset({"spec.unschedulable", "spec.hostNetwork"})
# Top-level parts of an object that do not count as a spec change for metadata.generation.
_NOT_SPEC = frozenset({"apiVersion", "kind", "metadata", "status"})


@dataclass(frozen=True)
class _View:
    """How a kind stored as another kind converts on the way in and out."""

    to_storage: Callable[[JsonObject], JsonObject]
    from_storage: Callable[[JsonObject], JsonObject]


_VIEWS = {(events_view.EVENTS_API_VERSION, "Event"): _View(events_view.to_core, events_view.to_events_v1)}
_DEFAULTERS: dict[tuple[str, str], Callable[[JsonObject], JsonObject]] = {
    (events_view.CORE_API_VERSION, "Event"): events_view.core_defaults
}


@dataclass(frozen=True)
class Page:
    """One LIST answer. `items` are stored objects: serialise them, never mutate them."""

    items: list[JsonObject]
    resource_version: str
    last_key: Key | None  # set when more items follow: the continue token's start point
    remaining: int | None  # remainingItemCount; known only for lists without selectors


class _Kind:
    """All objects of one stored kind plus its indexes."""

    def __init__(self, rtype: ResourceType) -> None:
        self.rtype = rtype
        self.objects: dict[Key, JsonObject] = {}
        self.by_namespace: dict[str, set[Key]] = {}
        self.indexes: dict[str, dict[str, set[Key]]] = {label: {} for label in rtype.indexed_fields}
        self._sorted: dict[str | None, list[Key]] = {}

    def field_value(self, obj: JsonObject, label: str) -> str:
        value = get_path(obj, self.rtype.field_labels[label])
        if value is None and label in BOOLEAN_FIELDS:
            return "false"
        return field_string(value)

    def matches(self, obj: JsonObject, labels: LabelSelector, fields: FieldSelector) -> bool:
        return labels.matches(obj.get("metadata", {}).get("labels")) and fields.matches(
            functools.partial(self.field_value, obj)
        )

    def insert(self, key: Key, obj: JsonObject) -> None:
        old = self.objects.get(key)
        if old is None:
            self.by_namespace.setdefault(key[0], set()).add(key)
            self._sorted.clear()
        self.objects[key] = obj
        for label, index in self.indexes.items():
            value = self.field_value(obj, label)
            if old is not None:
                old_value = self.field_value(old, label)
                if old_value == value:
                    continue
                index[old_value].discard(key)
            index.setdefault(value, set()).add(key)

    def remove(self, key: Key) -> JsonObject | None:
        old = self.objects.pop(key, None)
        if old is None:
            return None
        self.by_namespace[key[0]].discard(key)
        self._sorted.clear()
        for label, index in self.indexes.items():
            index[self.field_value(old, label)].discard(key)
        return old

    def sorted_keys(self, namespace: str | None) -> list[Key]:
        """Keys in etcd order (namespace, then name), cached until a key is added or removed."""
        cached = self._sorted.get(namespace)
        if cached is None:
            keys = self.objects.keys() if namespace is None else self.by_namespace.get(namespace, set())
            cached = self._sorted[namespace] = sorted(keys)
        return cached

    def candidates(self, namespace: str | None, fields: FieldSelector) -> list[Key]:
        """The sorted keys that can match: from the narrowest index a "=" field term allows."""
        best: set[Key] | None = None
        for requirement in fields.requirements:
            if not requirement.equals:
                continue
            found: set[Key] | None = None
            if requirement.label == "metadata.name" and namespace is not None:
                found = {(namespace, requirement.value)} & self.objects.keys()
            elif requirement.label == "metadata.namespace":
                found = self.by_namespace.get(requirement.value, set())
            elif requirement.label in self.indexes:
                found = self.indexes[requirement.label].get(requirement.value, set())
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        if best is None:
            return self.sorted_keys(namespace)
        return sorted(key for key in best if namespace is None or key[0] == namespace)


class KubeStore:
    """Kubernetes objects by (apiVersion, kind, namespace, name), with a global resourceVersion."""

    def __init__(
        self,
        registry: ResourceRegistry | None = None,
        *,
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
        change_log_size: int = 10_000,
    ) -> None:
        self.registry = registry or default_registry()
        self._lock = threading.RLock()
        self._kinds: dict[tuple[str, str], _Kind] = {}
        self._listeners: list[Listener] = []
        self._changes = ChangeLog(self._lock, change_log_size)  # what watches replay from
        self._resource_version = 0
        # uids: a random UUID-shaped prefix per store plus a counter, far cheaper than uuid4() per object.
        self._uid_prefix = str(uuid.uuid4())[:24]
        self._uid_counter = 0
        for name in namespaces:
            self.put(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}}
            )

    # ---- public API (copies in, copies out) -------------------------------------------------------

    def put(self, obj: JsonObject) -> JsonObject:
        """Create or replace; fills uid, creationTimestamp, resourceVersion and generation."""
        rtype = self.registry.by_kind(obj["apiVersion"], obj["kind"])
        new = deep_copy(obj)
        with self._lock:
            _, stored = self._write(rtype, self._key_of(rtype, new), _replace_with(new))
        assert stored is not None
        return deep_copy(stored)

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> JsonObject | None:
        found = self.lookup(self.registry.by_kind(api_version, kind), namespace, name)
        return deep_copy(found) if found is not None else None

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        copy: bool = True,
    ) -> ObjectList:
        """Objects of a kind in etcd order. copy=False returns the stored objects: read them, never mutate."""
        rtype = self.registry.by_kind(api_version, kind)
        page = self.query(rtype, namespace, parse_label_selector(label_selector), parse_field_selector(field_selector))
        return [deep_copy(item) for item in page.items] if copy else page.items

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> JsonObject | None:
        rtype = self.registry.by_kind(api_version, kind)
        with self._lock:
            before, _ = self._write(rtype, self._key(rtype, namespace, name), lambda _current: None)
        return deep_copy(before) if before is not None else None

    def update(
        self, api_version: str, kind: str, namespace: str | None, name: str, fn: Callable[[JsonObject], None]
    ) -> JsonObject:
        """Mutate a copy of the object with fn under the lock and store it (bumps resourceVersion)."""
        rtype = self.registry.by_kind(api_version, kind)
        key = self._key(rtype, namespace, name)

        def mutate(current: JsonObject | None) -> JsonObject:
            if current is None:
                raise KeyError(f"{rtype.group_resource} {namespace}/{name} not found")
            changed = deep_copy(current)
            fn(changed)
            return changed

        with self._lock:
            _, stored = self._write(rtype, key, mutate)
        assert stored is not None
        return deep_copy(stored)

    def bulk_load(self, objs: Iterable[JsonObject]) -> int:
        """Store many objects fast. Takes ownership: the caller must not touch the dicts afterwards."""
        count = 0
        with self._lock:
            for obj in objs:
                rtype = self.registry.by_kind(obj["apiVersion"], obj["kind"])
                if rtype.stored_as:
                    self._write(rtype, self._key_of(rtype, obj), _replace_with(obj))
                else:
                    kind, key = self._kind(rtype), self._key_of(rtype, obj)
                    before = kind.objects.get(key)
                    self._finalize(rtype, key, obj, before)
                    self._store(kind, key, obj, before)
                count += 1
        return count

    def add_listener(self, fn: Listener) -> None:
        """fn(verb, before, after) runs after each write that came over HTTP, outside the lock."""
        with self._lock:
            self._listeners.append(fn)

    @property
    def resource_version(self) -> str:
        return str(self._resource_version)

    # ---- for the API server (stored objects out: never mutate them) ------------------------------

    def lookup(self, rtype: ResourceType, namespace: str | None, name: str) -> JsonObject | None:
        with self._lock:
            found = self._kind(rtype).objects.get(self._key(rtype, namespace, name))
        return self._render(rtype, found) if found is not None else None

    def query(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        start_after: Key | None = None,
        limit: int | None = None,
    ) -> Page:
        """One page of the matching objects in key order, as a LIST answers it."""
        fields = self._storage_fields(rtype, fields)
        namespace = namespace if rtype.namespaced else None
        with self._lock:
            kind = self._kind(rtype)
            keys = kind.candidates(namespace, fields)
            items, last_key, remaining = self._select(kind, keys, labels, fields, start_after, limit)
            resource_version = self.resource_version
        return Page([self._render(rtype, item) for item in items], resource_version, last_key, remaining)

    def write(
        self, rtype: ResourceType, namespace: str | None, name: str, compute: Compute, *, dry_run: bool = False
    ) -> tuple[JsonObject | None, JsonObject | None]:
        """Atomically replace the object with compute(current): a new dict to store, None to delete.

        compute runs under the lock, must not mutate its argument and may raise to abort the write.
        Returns (before, after) as stored objects; a dry run returns what would be stored and keeps the old.
        """
        with self._lock:
            return self._write(rtype, self._key(rtype, namespace, name), compute, dry_run=dry_run)

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        resource_version: str | None,
        timeout: float,
        stopped: threading.Event,
    ) -> Iterator[tuple[str, JsonObject]]:
        """(type, object) events as a watch streams them, until timeout or `stopped`.

        Without a resourceVersion (or "0") the current matching objects come first as ADDED. Selectors
        are checked now, so a bad one raises before anything streams.
        """
        storage_fields = self._storage_fields(rtype, fields)
        namespace = namespace if rtype.namespaced else None
        with self._lock:
            kind = self._kind(rtype)
            if resource_version in (None, "", "0"):
                keys = kind.candidates(namespace, storage_fields)
                initial = [kind.objects[key] for key in self._matching(kind, keys, labels, storage_fields)]
                since = self._resource_version
            else:
                initial, since = [], _parse_version(resource_version)
                if since < self._changes.floor:
                    return iter([("ERROR", expired_status(resource_version, self._changes.floor))])
        return self._follow(rtype, kind, namespace, labels, storage_fields, initial, since, timeout, stopped)

    def _follow(
        self,
        rtype: ResourceType,
        kind: _Kind,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        initial: ObjectList,
        since: int,
        timeout: float,
        stopped: threading.Event,
    ) -> Iterator[tuple[str, JsonObject]]:
        for obj in initial:
            yield "ADDED", self._render(rtype, obj)
        deadline = time.monotonic() + timeout
        storage_kind = (kind.rtype.api_version, kind.rtype.kind)
        while not stopped.is_set():
            with self._lock:
                changes = self._changes.since(since)
                if not changes:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    self._changes.wait(min(remaining, 1.0))
                    continue
            since = changes[-1].resource_version
            for change in changes:
                if change.kind != storage_kind:
                    continue
                event = watch_event(change, namespace, functools.partial(kind.matches, labels=labels, fields=fields))
                if event is not None:
                    yield event[0], self._render(rtype, event[1])

    def wake_watchers(self) -> None:
        """Make every waiting watch re-check its stop flag now."""
        self._changes.wake()

    def notify(self, verb: str, before: JsonObject | None, after: JsonObject | None) -> None:
        """Tell the listeners about a write made over HTTP (each gets its own copies)."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(verb, deep_copy(before), deep_copy(after))
            except Exception:
                log.exception("store listener failed on %s", verb)

    # ---- internals -------------------------------------------------------------------------------

    def _select(
        self,
        kind: _Kind,
        keys: KeyList,
        labels: LabelSelector,
        fields: FieldSelector,
        start_after: Key | None,
        limit: int | None,
    ) -> tuple[ObjectList, Key | None, int | None]:
        start = bisect.bisect_right(keys, start_after) if start_after is not None else 0
        unfiltered = labels.empty and fields.empty
        if unfiltered:
            end = len(keys) if limit is None else min(len(keys), start + limit)
            items = [kind.objects[key] for key in keys[start:end]]
            more = len(keys) - end
            return items, (keys[end - 1] if more and end > start else None), (more if more else None)
        items, last_key = [], None
        for key in self._matching(kind, keys[start:], labels, fields):
            if limit is not None and len(items) == limit:
                return items, last_key, None
            items.append(kind.objects[key])
            last_key = key
        return items, None, None

    @staticmethod
    def _matching(kind: _Kind, keys: KeyList, labels: LabelSelector, fields: FieldSelector) -> Iterator[Key]:
        for key in keys:
            if kind.matches(kind.objects[key], labels, fields):
                yield key

    def _write(
        self, rtype: ResourceType, key: Key, compute: Compute, *, dry_run: bool = False
    ) -> tuple[JsonObject | None, JsonObject | None]:
        kind = self._kind(rtype)
        before = kind.objects.get(key)
        rendered_before = self._render(rtype, before) if before is not None else None
        new = compute(rendered_before)
        if new is None:
            if before is not None and not dry_run:
                kind.remove(key)
                self._resource_version += 1
                gone = {**before, "metadata": {**before["metadata"], "resourceVersion": self.resource_version}}
                self._changes.record(Change(self._resource_version, _kind_key(kind), "DELETED", gone, before))
            return rendered_before, None
        # A shallow copy: compute may hand back a stored object, and those are never mutated.
        stored = dict(self._to_storage(rtype, new))
        self._finalize(kind.rtype, key, stored, before, dry_run=dry_run)
        if not dry_run:
            self._store(kind, key, stored, before)
        return rendered_before, self._render(rtype, stored)

    def _store(self, kind: _Kind, key: Key, obj: JsonObject, before: JsonObject | None) -> None:
        kind.insert(key, obj)
        change_type = "ADDED" if before is None else "MODIFIED"
        self._changes.record(Change(self._resource_version, _kind_key(kind), change_type, obj, before))

    def _storage_fields(self, rtype: ResourceType, fields: FieldSelector) -> FieldSelector:
        """Check the field labels against the kind, and name them as its storage does."""
        for requirement in fields.requirements:
            if requirement.label not in rtype.field_labels:
                raise SelectorError(f"field label not supported: {requirement.label}")
        return fields.renamed(rtype.field_labels) if rtype.stored_as else fields

    def _finalize(
        self, rtype: ResourceType, key: Key, obj: JsonObject, before: JsonObject | None, *, dry_run: bool = False
    ) -> None:
        obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
        meta = obj["metadata"] = dict(obj.get("metadata") or {})  # may be shared with the old object
        old_meta = before.get("metadata", {}) if before is not None else {}
        meta["name"] = key[1]
        if rtype.namespaced:
            meta["namespace"] = key[0]
        meta.setdefault("uid", old_meta.get("uid") or self._new_uid())
        meta.setdefault("creationTimestamp", old_meta.get("creationTimestamp") or rfc3339_now())
        if dry_run:  # a dry run reports the object as it would be, at the version it has now
            meta.pop("resourceVersion", None)
            if "resourceVersion" in old_meta:
                meta["resourceVersion"] = old_meta["resourceVersion"]
        else:
            self._resource_version += 1
            meta["resourceVersion"] = str(self._resource_version)
        if rtype.tracks_generation:
            generation = old_meta.get("generation", 1) if before is not None else 1
            if before is not None and _spec_of(obj) != _spec_of(before):
                generation += 1
            meta["generation"] = generation
        defaulter = _DEFAULTERS.get((rtype.api_version, rtype.kind))
        if defaulter:
            defaulter(obj)

    def _new_uid(self) -> str:
        self._uid_counter += 1
        return f"{self._uid_prefix}{self._uid_counter:012x}"

    def _kind(self, rtype: ResourceType) -> _Kind:
        storage = self._storage_type(rtype)
        kind = self._kinds.get((storage.api_version, storage.kind))
        if kind is None:
            kind = self._kinds[(storage.api_version, storage.kind)] = _Kind(storage)
        return kind

    def _storage_type(self, rtype: ResourceType) -> ResourceType:
        return self.registry.by_kind(*rtype.stored_as) if rtype.stored_as else rtype

    def _to_storage(self, rtype: ResourceType, obj: JsonObject) -> JsonObject:
        view = _VIEWS.get((rtype.api_version, rtype.kind))
        return view.to_storage(obj) if view else obj

    def _render(self, rtype: ResourceType, stored: Any) -> Any:
        view = _VIEWS.get((rtype.api_version, rtype.kind))
        return view.from_storage(stored) if view and stored is not None else stored

    @staticmethod
    def _key(rtype: ResourceType, namespace: str | None, name: str) -> Key:
        return ((namespace or "default") if rtype.namespaced else "", name)

    def _key_of(self, rtype: ResourceType, obj: JsonObject) -> Key:
        meta = obj.get("metadata") or {}
        if not meta.get("name"):
            raise ValueError(f"{rtype.kind} without metadata.name")
        return self._key(rtype, meta.get("namespace"), meta["name"])


def _spec_of(obj: JsonObject) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in _NOT_SPEC and not key.startswith("_")}


def _replace_with(obj: JsonObject) -> Compute:
    return lambda _current: obj


def _kind_key(kind: _Kind) -> tuple[str, str]:
    return (kind.rtype.api_version, kind.rtype.kind)


def _parse_version(resource_version: str) -> int:
    try:
        return int(resource_version)
    except ValueError:
        raise SelectorError(f"invalid resourceVersion: {resource_version!r}") from None
