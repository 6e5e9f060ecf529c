"""The watch-backed cache: one LIST, then events; relists when the watch expired or stayed broken too long."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

from bot.errors import UpstreamError
from bot.gateways.kube import WatchExpired
from bot.gateways.reflector import Reflector

END = object()


def pod(name: str, version: str, phase: str = "Running") -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": version}, "status": {"phase": phase}}


class FakeApi:
    """LIST answers with `objects`; each WATCH streams what the test puts on `events` (END closes it)."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects
        self.events: queue.Queue[Any] = queue.Queue()
        self.watched_from: list[str] = []

    def list_pages(
        self, api: str, path: str, query: dict[str, Any] | None = None, page: int = 500
    ) -> Iterator[tuple[list[dict[str, Any]], str]]:
        yield self.objects[:1], "10"
        yield self.objects[1:], "10"

    def watch(self, api: str, path: str, query: dict[str, Any], *, seconds: int = 240) -> Iterator[dict[str, Any]]:
        self.watched_from.append(query["resourceVersion"])
        while True:
            item = self.events.get(timeout=5)
            if item is END:
                return
            if isinstance(item, Exception):
                raise item
            yield item


def running_only(obj: dict[str, Any]) -> str | None:
    return obj["metadata"]["name"] if obj["status"]["phase"] == "Running" else None


def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def make(api: FakeApi, **kwargs: Any) -> Reflector[str]:
    return Reflector(api, resource="pods", path="/api/v1/pods", convert=running_only, **kwargs)


def test_lists_once_then_follows_events() -> None:
    api = FakeApi([pod("a", "5"), pod("b", "6"), pod("done", "7", "Succeeded")])
    reflector = make(api)
    assert sorted(reflector.items()) == ["a", "b"] and reflector.lists == 1
    eventually(lambda: api.watched_from == ["10"])
    api.events.put({"type": "ADDED", "object": pod("c", "11")})
    api.events.put({"type": "MODIFIED", "object": pod("a", "12", "Succeeded")})  # finished: leaves the cache
    api.events.put({"type": "DELETED", "object": pod("b", "13")})
    eventually(lambda: reflector.items() == ["c"])
    api.events.put({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "20"}}})
    api.events.put(END)  # the server ends the watch: it resumes from the last version seen
    eventually(lambda: api.watched_from == ["10", "20"])
    assert reflector.lists == 1
    reflector.stop()
    api.events.put(END)


def test_an_expired_watch_makes_the_next_read_list_again() -> None:
    api = FakeApi([pod("a", "5")])
    reflector = make(api)
    reflector.items()
    eventually(lambda: len(api.watched_from) == 1)
    api.events.put(WatchExpired("kube:WATCH pods"))
    eventually(lambda: not reflector.synced)
    api.objects = [pod("z", "30")]
    assert reflector.items() == ["z"] and reflector.lists == 2
    reflector.stop()
    api.events.put(END)


def test_a_watch_broken_too_long_is_not_trusted() -> None:
    now = [0.0]
    api = FakeApi([pod("a", "5")])
    reflector = make(api, stale_after=30, clock=lambda: now[0])
    reflector.items()
    eventually(lambda: len(api.watched_from) == 1)
    api.events.put(UpstreamError("kube:WATCH pods", "unreachable (ConnectionError)", code="unreachable"))
    eventually(lambda: reflector._broken_since is not None)
    now[0] = 10.0
    assert reflector.items() == ["a"] and reflector.lists == 1  # broken for 10 s: still trusted
    now[0] = 31.0
    assert reflector.items() == ["a"] and reflector.lists == 2  # broken for 31 s: listed again
    reflector.stop()
    api.events.put(END)


def test_a_watch_that_cannot_resume_gives_up_and_the_next_read_lists() -> None:
    now = [0.0]
    api = FakeApi([pod("a", "5")])
    reflector = make(api, stale_after=30, clock=lambda: now[0])
    reflector.items()
    eventually(lambda: len(api.watched_from) == 1)
    api.events.put(UpstreamError("kube:WATCH pods", "unreachable (ConnectionError)", code="unreachable"))
    eventually(lambda: reflector._broken_since is not None)
    now[0] = 40.0
    api.events.put(UpstreamError("kube:WATCH pods", "unreachable (ConnectionError)", code="unreachable"))
    eventually(lambda: not reflector.synced and not reflector._items)
    assert reflector.items() == ["a"] and reflector.lists == 2
    reflector.stop()
    api.events.put(END)


def test_without_readers_the_watch_stops_and_the_memory_goes() -> None:
    now = [0.0]
    api = FakeApi([pod("a", "5")])
    reflector = make(api, idle_after=60, clock=lambda: now[0])
    reflector.items()
    eventually(lambda: len(api.watched_from) == 1)
    now[0] = 61.0
    api.events.put(END)  # the watch ends; the loop sees nobody read for 61 s
    eventually(lambda: not reflector.synced)
    assert reflector.items() == ["a"] and reflector.lists == 2
    reflector.stop()
    api.events.put(END)
