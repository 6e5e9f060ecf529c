"""Acks under load (issue 13, item 1): they never wait behind command work, and a full pool says "busy"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.e2e.test_slack_http import _ack_text, _slow_registry
from tests.support.bot import RunningBot, SlashReply


def _burst(bot: RunningBot, text: str, n: int) -> list[SlashReply]:
    replies: list[SlashReply] = []
    lock = threading.Lock()

    def one() -> None:
        reply = bot.slash(text)
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return replies


def test_forty_slow_commands_in_flight_lose_no_ack(bot_factory: Callable[..., RunningBot]) -> None:
    started: list[float] = []
    bot = bot_factory(registry=_slow_registry(4.0, started))
    slow = _burst(bot, "slow", 40)
    assert [r.status for r in slow] == [200] * 40 and all(_ack_text(r.ack) == "Looking..." for r in slow)
    bot.slack.wait_for(lambda s: len(started) >= 32)  # every work thread is busy with them now
    # While all of it runs: help and more work are acked at once, none lost.
    more = _burst(bot, "help", 10) + _burst(bot, "slow", 5)
    assert [r.status for r in more] == [200] * 15, [r.status for r in more]
    assert max(r.elapsed for r in more) < 1.0, [round(r.elapsed, 2) for r in more]
    assert all("history" in str(r.ack) for r in more[:10])
    bot.slack.wait_for(lambda s: len(s.deliveries("/commands/")) >= 45, timeout=20)


def test_a_full_pool_answers_busy_in_the_ack(bot_factory: Callable[..., RunningBot]) -> None:
    started: list[float] = []
    bot = bot_factory(registry=_slow_registry(2.0, started), listener_threads=2, work_queue=1)
    first = _burst(bot, "slow", 3)
    assert all(_ack_text(r.ack) == "Looking..." for r in first)
    refused = bot.slash("slow")
    assert refused.status == 200 and "busy" in _ack_text(refused.ack) and refused.elapsed < 1.0
    assert "history" in str(bot.slash("help").ack)  # answered in the ack: never refused
    bot.slack.wait_for(lambda s: len(s.deliveries("/commands/")) >= 3, timeout=10)
    time.sleep(0.3)
    assert len(started) == 3  # the refused one never ran
    assert _ack_text(bot.slash("slow").ack) == "Looking..."  # room again
