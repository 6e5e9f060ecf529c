"""Command work after the ack: a lone request's work starts as soon as its ack is out; in a burst, work waits
for the acks to go quiet first (issue 13), so the acks keep the interpreter."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bot import work_pool
from bot.work_pool import WorkPool

QUIET = 0.5  # long enough to tell "waited for quiet" from "started at once" on a loaded machine


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkPool]:
    monkeypatch.setattr(work_pool, "QUIET_SECONDS", QUIET)
    monkeypatch.setattr(work_pool, "ACK_PRIORITY_SECONDS", 10.0)
    running = WorkPool(threads=2, queue=2)
    yield running
    running.shutdown()


def _submit_in_ack(pool: WorkPool, started: dict[str, float], name: str) -> float:
    """One request: its ack path hands work over; returns when its ack ended."""
    with pool.serving_ack():
        pool.try_submit(lambda: started.setdefault(name, time.monotonic()))
    return time.monotonic()


def _wait(started: dict[str, float], *names: str) -> None:
    deadline = time.monotonic() + 10
    while not all(n in started for n in names) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert all(n in started for n in names), started


def test_a_lone_request_starts_its_work_once_its_ack_is_out(pool: WorkPool) -> None:
    started: dict[str, float] = {}
    acked = _submit_in_ack(pool, started, "alone")
    _wait(started, "alone")
    assert started["alone"] - acked < QUIET / 2


def test_work_waits_for_quiet_when_another_request_arrives(pool: WorkPool) -> None:
    started: dict[str, float] = {}
    other_in_ack = threading.Event()
    release_other = threading.Event()

    def other_request() -> None:
        with pool.serving_ack():
            other_in_ack.set()
            release_other.wait(5)

    with pool.serving_ack():
        pool.try_submit(lambda: started.setdefault("first", time.monotonic()))
        thread = threading.Thread(target=other_request)
        thread.start()
        assert other_in_ack.wait(5)  # a second request is being acked: a burst
    release_other.set()
    thread.join(5)
    last_ack = time.monotonic()
    _wait(started, "first")
    assert started["first"] - last_ack >= QUIET * 0.8


def test_work_right_after_another_ack_waits_for_quiet(pool: WorkPool) -> None:
    started: dict[str, float] = {}
    _submit_in_ack(pool, started, "first")
    acked = _submit_in_ack(pool, started, "second")  # within QUIET of the first's ack: part of a burst
    _wait(started, "second")
    assert started["second"] - acked >= QUIET * 0.8
