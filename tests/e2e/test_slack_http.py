"""The Slack edge end to end: signed requests to the real HTTP endpoint, answers via response_url."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from bot.config import ClusterAuth, ClusterConfig
from bot.render.doc import Doc
from commands import build_registry
from commands.base import CommandContext, CommandResult, Subcommand
from commands.registry import Registry
from simulator.fake_slack import FakeSlack, slash_command_body
from tests.support.bot import RunningBot
from tests.support.kubeconfig import kubeconfig


def _ack_text(reply_ack: object) -> str:
    assert isinstance(reply_ack, dict), reply_ack
    return str(reply_ack.get("text", ""))


def test_help_is_answered_in_the_ack_and_recorded(bot: RunningBot) -> None:
    reply = bot.slash("")
    assert reply.status == 200
    assert "history" in str(reply.ack)
    assert reply.ack["response_type"] == "ephemeral"  # type: ignore[index]
    entries = bot.slack.wait_for(lambda s: bot.cnibot.services.history.recent_commands())
    assert entries[0].subcommand == "help" and entries[0].user_id == "U0ALICE" and entries[0].outcome == "ok"


def test_unknown_subcommand_suggests_the_closest(bot: RunningBot) -> None:
    reply = bot.slash("histroy --limit 3")
    assert reply.status == 200
    assert "did you mean `history`" in _ack_text(reply.ack)


def test_parse_error_is_a_short_usage_reply(bot: RunningBot) -> None:
    reply = bot.slash("history --limit lots")
    text = str(reply.ack)
    assert "--limit wants a number" in text and "Usage" in text and "Traceback" not in text


def test_history_answer_arrives_on_response_url_with_the_row(bot: RunningBot) -> None:
    bot.slash("help")
    bot.slack.wait_for(lambda s: bot.cnibot.services.history.recent_commands())
    reply = bot.slash("history --limit 5", user_id="U0BOB", user_name="bob", channel_id="C0OPS")
    assert reply.status == 200 and reply.ack in (None, "")
    answer = bot.answer(reply)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "help" in str(answer["blocks"]) and "alice" in str(answer["blocks"])
    rows = bot.slack.wait_for(
        lambda s: [e for e in bot.cnibot.services.history.recent_commands() if e.subcommand == "history"]
    )
    assert rows[0].user_id == "U0BOB" and rows[0].channel_id == "C0OPS" and rows[0].duration_ms >= 0


def test_history_filters_by_user_mention(bot: RunningBot) -> None:
    bot.slash("help", user_id="U0BOB")
    bot.slash("help", user_id="U0ALICE")
    bot.slack.wait_for(lambda s: len(bot.cnibot.services.history.recent_commands()) >= 2)
    answer = bot.answer(bot.slash("history --user <@U0BOB|bob>"))
    assert "by <@U0BOB>" in answer["text"]
    assert "1 command" in answer["text"]


@pytest.mark.parametrize("secret, age", [("wrong-secret", 0), (None, 600)], ids=["bad-signature", "stale-timestamp"])
def test_bad_or_stale_signature_is_401_and_runs_nothing(bot: RunningBot, secret: str | None, age: int) -> None:
    body = slash_command_body("help", response_url=bot.slack.response_url())
    resp = bot.post_signed(body, secret=secret, timestamp=int(time.time()) - age)
    assert resp.status_code == 401
    time.sleep(0.2)
    assert bot.cnibot.services.history.recent_commands() == []


def test_oversized_and_invisible_text_is_refused(bot: RunningBot) -> None:
    assert "at most 4,000" in _ack_text(bot.slash("history " + "x" * 4100).ack)
    assert "invisible or control character" in _ack_text(bot.slash("history\u202e --limit 2").ack)
    # Curly quotes and em dashes from Slack clients are read as what the user meant. (History rows are
    # written after the ack: wait for the two refusals' rows.)
    bot.slack.wait_for(lambda s: len(bot.cnibot.services.history.recent_commands()) >= 2)
    answer = bot.answer(bot.slash("history —limit 2"))
    assert ":warning:" not in answer["text"] and "commands" in answer["text"]


def test_answer_survives_a_lost_history_write(bot: RunningBot) -> None:
    def lost() -> float:
        return REGISTRY.get_sample_value("cnibot_history_write_failures_total") or 0.0

    before = lost()
    with bot.cnibot.services.repos.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE command_log")
    reply = bot.slash("help")
    assert "history" in str(reply.ack)
    bot.slack.wait_for(lambda s: lost() > before)


def test_response_url_429_and_500_are_retried(bot: RunningBot) -> None:
    reply_url = bot.slack.response_url("retry-me")
    path = reply_url.removeprefix(bot.slack.url)
    bot.slack.fail_next(path, status=500)
    body = slash_command_body("history", response_url=reply_url)
    assert bot.post_signed(body).status_code == 200
    calls = bot.slack.wait_for(lambda s: len(s.deliveries(path)) >= 2 and s.deliveries(path), timeout=10)
    assert len(calls) == 2


def _slow_registry(delay: float, started: list[float]) -> Registry:
    def run(args: argparse.Namespace, ctx: CommandContext) -> CommandResult:
        started.append(time.monotonic())
        time.sleep(delay)
        return CommandResult("slow", Doc("done"))

    slow = Subcommand(
        name="slow",
        summary="sleeps",
        usage="/cni slow",
        build_parser=lambda p: None,
        run=run,
        ack_text=lambda a, c: "Looking...",
    )
    return Registry([*build_registry().subcommands, slow])


def test_slow_handlers_never_delay_acks(bot_factory: Callable[..., RunningBot]) -> None:
    started: list[float] = []
    bot = bot_factory(registry=_slow_registry(1.5, started))
    acks: list[float] = []

    def one() -> None:
        reply = bot.slash("slow")
        assert reply.status == 200 and _ack_text(reply.ack) == "Looking..."
        acks.append(reply.elapsed)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(acks) == 12 and max(acks) < 1.0, acks
    bot.slack.wait_for(lambda s: len(s.deliveries("/commands/")) >= 12, timeout=10)
    # All twelve ran side by side, not queued behind each other.
    assert max(started) - min(started) < 1.0


def test_health_ready_and_metrics(bot_factory: Callable[..., RunningBot], tmp_path: Path) -> None:
    bot = bot_factory(clusters=[ClusterConfig(name="prod", auth=ClusterAuth(kubeconfig=str(kubeconfig(tmp_path))))])
    assert httpx.get(f"{bot.url}/healthz").text == "ok"
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 200 and ready.json()["schema"] == "current"
    bot.slash("help")
    bot.slack.wait_for(lambda s: bot.cnibot.services.history.recent_commands())
    text = httpx.get(f"{bot.url}/metrics").text
    assert 'cnibot_commands_total{command="help",outcome="ok",source="slack"}' in text
    assert "cnibot_command_duration_seconds_bucket" in text


def test_readyz_fails_when_the_schema_is_behind(bot: RunningBot) -> None:
    from storage import migrate

    migrate.downgrade(bot.cnibot.services.repos.engine, "base")
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 503 and "behind" in ready.json()["schema"]


def test_fake_slack_takes_binary_uploads_as_the_sdk_sends_them(fake_slack: FakeSlack) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    png = b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary"
    assert client.files_upload_v2(content=png, filename="chart.png", channel="C0OPS")["ok"]
    upload = fake_slack.deliveries("/upload/")
    assert len(upload) == 1 and fake_slack.api_calls("files.completeUploadExternal")
