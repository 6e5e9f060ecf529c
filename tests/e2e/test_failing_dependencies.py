"""Issue 14 items 13-16: a failing dependency costs neither the answer nor its time. The `cnibot ask` path
and the Slack path against the simulator over HTTP, with faults injected in the simulator and real SQLite
files held locked or unreachable."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.errors import UpstreamError
from bot.gateways.kube import KubeGateway
from simulator.fake_slack import FakeSlack, slash_command_body
from simulator.faults import FaultRule
from tests.support.asker import Asker, asker
from tests.support.bot import RunningBot
from tests.support.simbot import sim_bot


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Asker]:
    with asker("demo", tmp_path, command_deadline_seconds=3) as running:
        yield running


# --- item 13: SQLite unusable at start -----------------------------------------------------------------------


def test_sqlite_in_a_missing_directory_reads_answer_and_writes_refuse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'cnibot.db'}"
    with asker("demo", tmp_path, database_url=url) as running:
        assert running.services.database_problem and "unable to open" in running.services.database_problem
        read = running.ask("capacity")
        assert read.outcome in ("ok", "partial") and "Room for" in read.doc.summary
        assert "History is off" in str(read.doc.elements)
        for write in ('set WARM_IP_TARGET=5 --reason "too many warm IPs"', "digest subscribe C0123ABCD daily 09:00"):
            refused = running.ask(write)
            assert refused.outcome == "error"
            assert "The database is unavailable" in refused.doc.summary, refused.doc.summary
            assert "something went wrong" not in refused.doc.summary


def test_sqlite_locked_exclusively_at_start(tmp_path: Path) -> None:
    path = tmp_path / "cnibot.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with asker("demo", tmp_path, database_url=f"sqlite:///{path}") as running:
            assert time.monotonic() - started < 10  # the start waits briefly, not 15 s per statement
            assert running.services.database_problem and "locked" in running.services.database_problem
            read = running.ask("subnets")
            assert read.outcome in ("ok", "partial") and "History is off" in str(read.doc.elements)
    finally:
        holder.close()


# --- item 14: a locked database never delays the answer ------------------------------------------------------


@pytest.mark.parametrize("command", ["capacity", "why-pending shop/checkout-7"])
def test_locked_database_does_not_delay_the_slack_answer(
    command: str, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = tmp_path / "cnibot.db"
    with sim_bot("demo", monkeypatch=monkeypatch, slack=fake_slack, database_url=f"sqlite:///{path}") as sb:
        sb.ask("subnets")  # warm the caches: the timing below is the database's alone
        holder = sqlite3.connect(path, isolation_level=None, timeout=1)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            answer = sb.ask(command)
            elapsed = time.monotonic() - started
        finally:
            holder.close()
        assert "blocks" in answer
        assert elapsed < 3.0, f"the answer waited {elapsed:.1f} s for the locked database"
        sb.bot.cnibot.services.connections.close()


# --- item 15: a deadline per command; timeouts and denials said as such --------------------------------------


def test_ec2_hanging_answers_by_the_deadline_with_could_not_check(demo: Asker) -> None:
    demo.sim.faults.add(FaultRule(api="ec2", operation="DescribeNetworkInterfaces", hang=8))
    started = time.monotonic()
    result = demo.ask("capacity")
    elapsed = time.monotonic() - started
    assert elapsed < 3.5, elapsed
    assert result.outcome == "partial"
    late = [u for u in result.data["could_not_check"] if u["what"] == "ENIs of the VPC"]
    assert late and "no answer within 3 s" in late[0]["reason"], result.data["could_not_check"]


def test_everything_hanging_still_answers_by_the_deadline(demo: Asker) -> None:
    demo.sim.faults.add(FaultRule(api="kube", operation="GET nodes", hang=8))
    started = time.monotonic()
    result = demo.ask("node ip-10-0-1-5.us-east-2.compute.internal")
    assert time.monotonic() - started < 3.5
    assert result.outcome == "partial" and "did not finish within 3 s" in result.doc.summary


def test_a_kubernetes_timeout_is_reported_as_a_timeout(demo: Asker) -> None:
    demo.sim.faults.add(FaultRule(api="kube", operation="GET nodes", hang=3))
    assert demo.sim.kubeconfig_path is not None
    cfg = k8s.Configuration()
    k8s_config.load_kube_config(config_file=str(demo.sim.kubeconfig_path), client_configuration=cfg)
    cfg.retries = 1  # as the bot's client is configured: urllib3 then wraps the timeout in MaxRetryError
    kube = KubeGateway(k8s.ApiClient(cfg), timeout=0.5)
    with pytest.raises(UpstreamError) as err:
        kube.read_node("ip-10-0-1-5.us-east-2.compute.internal")
    assert err.value.code == "timeout" and err.value.reason.startswith("timed out"), err.value.reason
    assert "MaxRetryError" not in err.value.reason


def test_an_rbac_denial_names_verb_and_resource(demo: Asker) -> None:
    demo.sim.faults.add(FaultRule(api="kube", operation="GET nodes", status=403))
    result = demo.ask("node ip-10-0-1-5.us-east-2.compute.internal")
    text = result.doc.summary + str(result.doc.elements)
    assert "the bot may not get nodes" in text
    assert "Try again in a moment" not in text and "Waiting will not help" in text


# --- item 16: the capacity headline says first what it could not read -----------------------------------------


def test_capacity_headline_with_ec2_failing(demo: Asker) -> None:
    demo.sim.faults.add(FaultRule(api="ec2", operation="*", code="UnauthorizedOperation", status=403))
    result = demo.ask("capacity")
    assert result.doc.summary.startswith(":warning: Could not read the "), result.doc.summary
    assert not result.doc.summary.startswith("Room for")
    assert result.data["headline_unread"], result.data


def test_capacity_headline_when_all_reads_work(demo: Asker) -> None:
    result: Any = demo.ask("capacity")
    assert result.doc.summary.startswith("Room for") and result.data["headline_unread"] == []


# --- item 13 on the Slack side: slash commands and approval clicks with the database unavailable --------------


def test_slack_answers_and_refuses_clicks_when_the_database_is_unavailable(
    bot_factory: Callable[..., RunningBot], tmp_path: Path
) -> None:
    bot = bot_factory(database_url=f"sqlite:///{tmp_path / 'missing' / 'cnibot.db'}")
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 503 and ready.json()["history"] == "off"
    assert ready.json()["database"].startswith("unavailable: OperationalError")
    reply = bot.slash("history")
    answer = bot.answer(reply)
    assert "The database is unavailable" in answer["text"] and "something went wrong" not in answer["text"]
    response_url = bot.slack.response_url("click-db-down")
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "name": "alice"},
        "team": {"id": "T0TEAM"},
        "channel": {"id": "C0APPROVE"},
        "api_app_id": "A0CNIBOT",
        "token": "legacy-unused",
        "trigger_id": f"{time.time_ns()}.trigger",
        "response_url": response_url,
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0APPROVE"},
        "actions": [{"action_id": "change_approve", "value": "1", "type": "button", "block_id": "b1"}],
    }
    assert bot.action(payload).status_code == 200
    path = response_url.removeprefix(bot.slack.url)
    (delivery,) = bot.slack.wait_for(lambda s: s.deliveries(path), timeout=10)
    assert "The database is unavailable" in delivery.args["text"]


def test_slack_refusing_the_answer_still_records_history(bot_factory: Callable[..., RunningBot]) -> None:
    """Slack failing mid-command (response_url 500 on every retry): the command is still recorded, once."""
    bot = bot_factory()
    reply_url = bot.slack.response_url("slack-down")
    path = reply_url.removeprefix(bot.slack.url)
    bot.slack.fail_next(path, status=500, times=10)
    body = slash_command_body("history", response_url=reply_url)
    started = time.monotonic()
    assert bot.post_signed(body).status_code == 200
    rows = bot.slack.wait_for(
        lambda s: [e for e in bot.cnibot.services.history.recent_commands() if e.subcommand == "history"], timeout=15
    )
    assert len(rows) == 1 and time.monotonic() - started < 15
    # Every attempt (the first and the SDK's retries) was refused: the answer never got through.
    assert 1 < len(bot.slack.deliveries(path)) < 10


def test_a_write_past_its_deadline_says_where_to_look(demo: Asker) -> None:
    demo.sim.faults.add(FaultRule(api="kube", hang=8))
    started = time.monotonic()
    result = demo.ask('set WARM_IP_TARGET=5 --reason "too many warm IPs"')
    assert time.monotonic() - started < 3.5
    text = result.doc.summary + str(result.doc.elements)
    assert result.outcome == "partial" and "did not finish within 3 s" in text and "/cni changes" in text, text
