"""Unauthenticated and replayed input at /slack/events (issue 13, items 10 and 11), over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.changes.interactions import FORM_CALLBACK, Proposal, request_form
from simulator.fake_slack import FakeSlack, slash_command_body
from tests.support.bot import RunningBot
from tests.support.simbot import SIGNING_SECRET


def _signed(body: bytes, content_type: str, ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def _post(bot: RunningBot, body: bytes, headers: Mapping[str, str | bytes]) -> httpx.Response:
    return bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"{bad", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"payload={bad", FORM, 400),
        (b"payload=%5B1%5D", FORM, 400),
        (b"text=\xff\xfe&command=/cni", FORM, 400),
    ],
    ids=["broken-json", "json-array", "broken-payload", "payload-array", "not-utf8"],
)
def test_signed_garbage_is_a_400(bot: RunningBot, body: bytes, content_type: str, status: int) -> None:
    resp = _post(bot, body, _signed(body, content_type))
    assert resp.status_code == status and "Traceback" not in resp.text


@pytest.mark.parametrize("ts", ["abc", "", "1e9", "١٧٠٠٠٠٠٠٠٠", "99999999999999999999"])
def test_a_timestamp_that_is_not_a_number_is_a_401(bot: RunningBot, ts: str) -> None:
    body = slash_command_body("help", response_url=bot.slack.response_url()).encode()
    headers = _signed(body, FORM, ts=str(int(time.time())))
    resp = _post(bot, body, {**headers, "X-Slack-Request-Timestamp": ts.encode()})
    assert resp.status_code == 401


def test_a_huge_unsigned_body_is_refused_unread_and_never_logged(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = b"SECRET-LOOKING-PAYLOAD"
    huge = b"text=" + marker + b"x" * (20 * 1024 * 1024)
    resp = _post(bot, huge, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=0"})
    assert resp.status_code == 413

    def chunks() -> Any:
        for _ in range(30):  # no Content-Length: the cap applies while reading
            yield marker + b"y" * 100_000

    streamed = bot.http.post(f"{bot.url}/slack/events", content=chunks(), headers={"Content-Type": FORM})
    assert streamed.status_code == 413
    unsigned = _post(bot, b"text=" + marker, {"Content-Type": FORM, "X-Slack-Signature": "v0=0"})
    assert unsigned.status_code == 401
    assert not [r for r in caplog.records if "SECRET-LOOKING" in r.getMessage()]


def test_a_retried_slash_command_runs_once(bot: RunningBot) -> None:
    url = bot.slack.response_url("retried")
    body = slash_command_body("history", response_url=url)
    assert bot.post_signed(body).status_code == 200
    retry = {**_signed(body.encode(), FORM), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    again = _post(bot, body.encode(), retry)
    assert again.status_code == 200 and not again.content
    bot.slack.wait_for(lambda s: s.deliveries("/commands/T0TEAM/retried"))
    time.sleep(0.5)
    assert len(bot.slack.deliveries("/commands/T0TEAM/retried")) == 1
    history = [e for e in bot.cnibot.services.history.recent_commands() if e.subcommand == "history"]
    assert len(history) == 1


def test_a_replayed_view_submission_runs_once(bot: RunningBot) -> None:
    view = request_form(Proposal(), channel="C0OPS")
    values = {
        "settings": {"value": {"type": "plain_text_input", "value": "WARM_IP_TARGET=2"}},
        "duration": {"value": {"type": "plain_text_input", "value": None}},
        "reason": {"value": {"type": "plain_text_input", "value": "pods pending"}},
    }
    payload = {
        "type": "view_submission",
        "user": {"id": "U0ALICE", "username": "alice"},
        "team": {"id": "T0TEAM"},
        "api_app_id": "A0CNIBOT",
        "trigger_id": "12345.replayed",
        "view": {**view, "id": "V1", "callback_id": FORM_CALLBACK, "state": {"values": values}},
    }
    body = urlencode({"payload": json.dumps(payload)})
    assert bot.post_signed(body).status_code == 200
    assert bot.post_signed(body).status_code == 200  # same trigger_id, freshly signed
    (note,) = bot.slack.wait_for(lambda s: s.api_calls("chat.postEphemeral"))
    # No cluster can be reached here: the failure after the ack is still told to the requester.
    assert "Not requested" in str(note.args["text"])
    time.sleep(0.5)
    assert len(bot.slack.api_calls("chat.postEphemeral")) == 1


def test_a_click_when_the_database_fails_is_acked_and_the_clicker_told(bot: RunningBot) -> None:
    with bot.cnibot.services.repos.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE change_requests")
    url = bot.slack.response_url("click-db-down")
    payload = {
        "type": "block_actions",
        "user": {"id": "U0BOB", "name": "bob"},
        "team": {"id": "T0TEAM"},
        "channel": {"id": "C0APPROVE"},
        "api_app_id": "A0CNIBOT",
        "trigger_id": f"{time.time_ns()}.trigger",
        "response_url": url,
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0APPROVE"},
        "actions": [{"type": "button", "action_id": "change_approve", "value": "1", "block_id": "b", "action_ts": "1"}],
    }
    started = time.monotonic()
    assert bot.action(payload).status_code == 200
    assert time.monotonic() - started < 1.0
    (told,) = bot.slack.wait_for(lambda s: s.deliveries("/commands/T0TEAM/click-db-down"))
    assert told.args["response_type"] == "ephemeral" and "nothing was" in told.args["text"]


def test_slash_commands_are_answered_while_the_slack_web_api_is_down(
    fake_slack: FakeSlack, bot_factory: Callable[..., RunningBot]
) -> None:
    fake_slack.fail_next("auth.test", status=500, times=1000)
    bot = bot_factory()
    reply = bot.slash("help")
    assert reply.status == 200 and "history" in str(reply.ack) and reply.elapsed < 1.0
    answer = bot.answer(bot.slash("history"))
    assert "command" in answer["text"]
    ready = httpx.get(f"{bot.url}/readyz").json()
    assert ready["slack_web_api"].startswith("unconfirmed (auth.test failed")
    fake_slack.reset()  # Slack is back: the identity is confirmed within the retry period
    bot.cnibot.services.slack_identity._last_try = float("-inf")  # type: ignore[union-attr]
    bot.slash("help")
    bot.slack.wait_for(lambda s: httpx.get(f"{bot.url}/readyz").json()["slack_web_api"] == "ok")


def test_a_locked_postgres_table_never_holds_the_ack_or_a_thread_for_long(
    bot_factory: Callable[..., RunningBot], pg_url: str
) -> None:
    from prometheus_client import REGISTRY
    from sqlalchemy import create_engine

    def lost() -> float:
        return REGISTRY.get_sample_value("cnibot_history_write_failures_total") or 0.0

    bot = bot_factory(database_url=pg_url, auto_migrate=True)
    bot.slash("help")  # the tables exist and the pool holds a connection
    bot.slack.wait_for(lambda s: bot.cnibot.services.history.recent_commands())
    before = lost()
    other = create_engine(pg_url)
    try:
        with other.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("LOCK TABLE command_log IN ACCESS EXCLUSIVE MODE")
            reply = bot.slash("help")
            assert reply.status == 200 and "history" in str(reply.ack) and reply.elapsed < 1.0
            started = time.monotonic()
            # The history write gives up at the lock timeout (5 s) instead of waiting for the lock's holder.
            bot.slack.wait_for(lambda s: lost() > before, timeout=12)
            assert time.monotonic() - started < 10
            conn.exec_driver_sql("ROLLBACK")
    finally:
        other.dispose()
