"""One Kubernetes resource of one cluster kept in memory by a LIST and then a WATCH, as client-go's reflector
does: cluster-wide views read 100,000 pods from memory instead of listing (and parsing) them per command.

The first read lists, page by page, and starts a watch thread from the list's resourceVersion. A watch that
ends or breaks resumes from the last resourceVersion it saw; an expired one (410) or one broken for longer
than `stale_after` stops, and the next read lists again, so a read never returns state older than that. The
thread also stops, and the memory is dropped, after `idle_after` seconds without readers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from bot.errors import UpstreamError
from bot.gateways.bulk import gc_paused

log = logging.getLogger("cnibot.reflector")
T = TypeVar("T")
JSON = dict[str, Any]


class ListWatch(Protocol):
    """What a reflector needs of the Kubernetes gateway (KubeGateway.list_pages and .watch)."""

    def list_pages(
        self, api: str, path: str, query: dict[str, Any] | None = None, page: int = 500
    ) -> Iterator[tuple[list[JSON], str]]: ...

    def watch(self, api: str, path: str, query: dict[str, Any], *, seconds: int = 240) -> Iterator[JSON]: ...


def object_key(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


class Reflector(Generic[T]):
    def __init__(
        self,
        kube: ListWatch,
        *,
        resource: str,
        path: str,
        convert: Callable[[JSON], T | None],  # None = leave the object out (e.g. a finished pod)
        # A LIST page's raw bytes -> ((object key, value or None), ...) and the list's resourceVersion: the
        # same values `convert` gives, decoded without building the objects (used when the gateway gives raw
        # pages; watch events still go through `convert`).
        decode_page: Callable[[bytes], tuple[list[tuple[str, T | None]], str]] | None = None,
        query: dict[str, str] | None = None,  # e.g. a fieldSelector; objects leaving it arrive as DELETED
        page: int = 1000,
        stale_after: float = 30.0,
        idle_after: float = 900.0,
        watch_seconds: int = 240,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kube = kube
        self.resource = resource
        self._path = path
        self._convert = convert
        self._decode_page = decode_page
        self._query = dict(query or {})
        self._page = page
        self._stale_after = stale_after
        self._idle_after = idle_after
        self._watch_seconds = watch_seconds
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below
        self._list_lock = threading.Lock()  # one LIST at a time; other readers wait for it
        self._items: dict[str, T] = {}
        self._version = ""
        self._synced = False
        self._broken_since: float | None = None
        self._last_read = clock()
        self._generation = 0  # bumped by every LIST: a watch of an older one stops
        self._stop = threading.Event()
        self.lists = 0  # how many times the resource was listed (for tests and benchmarks)

    def items(self) -> list[T]:
        """Every object, current within `stale_after` seconds. Lists first when not synced."""
        with self._lock:
            self._last_read = self._clock()
            usable = self._synced and not self._too_stale()
            if usable:
                return list(self._items.values())
        with self._list_lock:
            with self._lock:  # another reader may have listed while we waited
                if self._synced and not self._too_stale():
                    return list(self._items.values())
            self._relist()
            with self._lock:
                return list(self._items.values())

    @property
    def synced(self) -> bool:
        """Listed and watching: reads are served from memory."""
        with self._lock:
            return self._synced and not self._too_stale()

    def stop(self) -> None:
        """Stop watching for good; later reads list every time."""
        self._stop.set()
        with self._lock:
            self._synced = False

    # --- internals ----------------------------------------------------------------------------------------
    def _too_stale(self) -> bool:
        return self._broken_since is not None and self._clock() - self._broken_since > self._stale_after

    def _relist(self) -> None:
        items: dict[str, T] = {}
        version = ""
        api = f"kube:LIST {self.resource}"
        raw_pages = getattr(self._kube, "list_raw_pages", None)
        if self._decode_page is not None and raw_pages is not None:
            for raw in raw_pages(api, self._path, self._query, self._page):
                with gc_paused():
                    pairs, page_version = self._decode_page(raw)
                    items.update((key, value) for key, value in pairs if value is not None)
                version = page_version or version
        else:
            for page, page_version in self._kube.list_pages(api, self._path, self._query, self._page):
                version = page_version or version
                with gc_paused():
                    for obj in page:
                        value = self._convert(obj)
                        if value is not None:
                            items[object_key(obj)] = value
        with self._lock:
            self._items, self._version, self._synced, self._broken_since = items, version, True, None
            self._generation += 1
            generation = self._generation
            self.lists += 1
        if self._stop.is_set():
            return
        threading.Thread(
            target=self._watch_loop, args=(generation,), name=f"watch-{self.resource}", daemon=True
        ).start()

    def _watch_loop(self, generation: int) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            with self._lock:
                if generation != self._generation or not self._synced:
                    return  # a newer LIST has its own watch
                if self._clock() - self._last_read > self._idle_after:
                    self._items, self._synced = {}, False  # nobody reads: stop watching, free the memory
                    return
                version = self._version
            try:
                query = {**self._query, "resourceVersion": version, "allowWatchBookmarks": "true"}
                for event in self._kube.watch(
                    f"kube:WATCH {self.resource}", self._path, query, seconds=self._watch_seconds
                ):
                    if not self._apply(event, generation):
                        return
                with self._lock:
                    self._broken_since = None
                backoff = 1.0
            except UpstreamError as exc:
                if exc.code == "410":
                    with self._lock:
                        if generation == self._generation:
                            self._synced = False  # the next read lists again
                    return
                with self._lock:
                    if self._broken_since is None:
                        self._broken_since = self._clock()
                    if self._too_stale():
                        # Reads no longer trust this cache: stop; the next read lists and watches again.
                        self._items, self._synced = {}, False
                        log.info("watch of %s broken for too long (%s); stopped", self.resource, exc.reason)
                        return
                log.info("watch of %s broken (%s); resuming in %.0f s", self.resource, exc.reason, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _apply(self, event: JSON, generation: int) -> bool:
        """Apply one event; False when this watch has been superseded."""
        obj = event.get("object") or {}
        kind = event.get("type")
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        value = self._convert(obj) if kind in ("ADDED", "MODIFIED") else None
        with self._lock:
            if generation != self._generation:
                return False
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                key = object_key(obj)
                if value is None:
                    self._items.pop(key, None)
                else:
                    self._items[key] = value
            if version:
                self._version = version
            self._broken_since = None
        return True
