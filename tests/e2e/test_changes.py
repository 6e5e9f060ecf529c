"""Approved changes end to end: signed slash commands and block actions to the bot's HTTP endpoint, the bot
reading and writing a simulated EKS cluster over HTTP, messages recorded by the fake Slack.

Covered: the happy path (the simulator's aws-node env changes, warm pools re-converge, subnet usage moves),
each refusal, expiry, staleness after an outside edit, rollback, auto-revert, read-only installs, the managed
add-on, the "Request this change" form, custom-networking enable with node tracking, and a concurrency test
(two bot instances on one Postgres, 20 simultaneous approve clicks per round, exactly one apply per round).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

import boto3
import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.changes.service import ChangeService, change_service
from bot.cli import main as cli_main
from bot.config import ApprovalPolicy
from bot.domain.change_records import ChangeRecord
from bot.domain.changes import Status
from simulator.fake_slack import Call, FakeSlack
from simulator.runner import SimulatedCluster
from simulator.scenarios import ManagedAddonSpec, load_scenario
from storage import migrate
from storage.db import make_engine
from tests.support.bot import RunningBot, start_bot
from tests.support.simbot import SIGNING_SECRET, SimBot, cluster_config_for

APPROVERS_CHANNEL = "C0APPROVE"
POLICY = ApprovalPolicy(approvers_channel=APPROVERS_CHANNEL, users=("U0BOB", "U0CAROL"))
FINAL = {Status.VERIFIED, Status.FAILED, Status.STALE, Status.REJECTED, Status.EXPIRED}


# --- harness ------------------------------------------------------------------------------------------------


def bot_settings(sim: SimulatedCluster, slack: FakeSlack, database_url: str, **cluster: Any) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": "xoxb-test-token",
        "slack_api_url": slack.api_url,
        "clusters": [cluster_config_for(sim, **{"write_enabled": True, "approvals": POLICY, **cluster})],
    }


@contextmanager
def running(
    sim: SimulatedCluster, slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch, **cluster: Any
) -> Iterator[SimBot]:
    sim.start()
    try:
        for key, value in sim.env().items():
            if key != "KUBECONFIG":
                monkeypatch.setenv(key, value)
        bot = start_bot(bot_settings(sim, slack, database_url, **cluster), slack, SIGNING_SECRET)
        try:
            yield SimBot(sim, bot)
        finally:
            bot.stop()
    finally:
        sim.stop()


@pytest.fixture
def make_bot(
    fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SimBot]]:
    with ExitStack() as stack:

        def make(scenario: str | SimulatedCluster = "healthy", **cluster: Any) -> SimBot:
            sim = scenario if isinstance(scenario, SimulatedCluster) else SimulatedCluster.from_scenario(scenario)
            return stack.enter_context(running(sim, fake_slack, sqlite_url, monkeypatch, **cluster))

        yield make


def service(sb: SimBot) -> ChangeService:
    return change_service(sb.bot.cnibot.services)


def text_of(message: dict[str, Any]) -> str:
    """Every text in a message (Block Kit or plain), in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message)
    return "\n".join(out)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_status(sb: SimBot, change_id: int, statuses: set[Status], timeout: float = 20.0) -> ChangeRecord:
    svc = service(sb)

    def done() -> ChangeRecord | None:
        record = svc.repo.get(change_id)
        return record if record is not None and record.status in statuses else None

    return wait_for(done, timeout, f"change #{change_id} to become one of {sorted(s.value for s in statuses)}")


def wait_event(sb: SimBot, change_id: int, kind: str) -> None:
    svc = service(sb)
    wait_for(lambda: any(e.kind == kind for e in svc.repo.events(change_id)), what=f"event {kind} on #{change_id}")


def approval_message(slack: FakeSlack, change_id: int) -> Call:
    def find() -> Call | None:
        for call in slack.api_calls("chat.postMessage"):
            root = call.args.get("channel") == APPROVERS_CHANNEL and not call.args.get("thread_ts")
            if root and f"Change request #{change_id} " in str(call.args.get("text")):
                return call
        return None

    return wait_for(find, what=f"the approval message of #{change_id}")


def thread_texts(slack: FakeSlack) -> list[str]:
    return [str(c.args.get("text")) for c in slack.api_calls("chat.postMessage") if c.args.get("thread_ts")]


def wait_thread(slack: FakeSlack, *needles: str) -> str:
    """The thread line holding every needle (posted right after the transition it reports)."""

    def find() -> str | None:
        return next((t for t in thread_texts(slack) if all(n in t for n in needles)), None)

    return str(wait_for(find, what=f"a thread line with {needles}"))


def button(call: Call, action_id: str) -> dict[str, Any]:
    blocks = call.args["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element["action_id"] == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button")


def click(sb: SimBot, change_id: int, user: str, action_id: str = "change_approve") -> str:
    """Click the button of the posted approval message as ``user``; returns the response_url path."""
    element = button(approval_message(sb.bot.slack, change_id), action_id)
    assert element["value"] == str(change_id)  # the payload names the request and nothing else
    response_url = sb.bot.slack.response_url(f"click-{change_id}-{user}-{time.time_ns()}")
    payload = block_action(user, element, response_url)
    assert sb.bot.action(payload).status_code == 200
    return response_url.removeprefix(sb.bot.slack.url)


def block_action(user: str, element: dict[str, Any], response_url: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "name": user.lower()},
        "team": {"id": "T0TEAM"},
        "channel": {"id": APPROVERS_CHANNEL},
        "api_app_id": "A0CNIBOT",
        "token": "legacy-unused",
        "trigger_id": f"{time.time_ns()}.trigger",
        "response_url": response_url,
        "container": {"type": "message", "message_ts": "1.1", "channel_id": APPROVERS_CHANNEL},
        "actions": [{**element, "block_id": "b1", "action_ts": "1.2"}],
    }


def ephemeral(sb: SimBot, path: str) -> str:
    (delivery,) = sb.bot.slack.wait_for(lambda s: s.deliveries(path), timeout=10)
    assert delivery.args["response_type"] == "ephemeral"
    return str(delivery.args["text"])


def aws_node_env(sb: SimBot) -> dict[str, str]:
    services = sb.bot.cnibot.services
    ds = services.connections.get(services.clusters.get(sb.sim.cluster_name)).kube.aws_node_daemonset()  # type: ignore[arg-type]
    assert ds is not None
    return ds.env


def cnibot_patches(sim: SimulatedCluster) -> int:
    return sum(
        1
        for _, _, detail in sim.counter.calls("kube")
        if detail.get("method") == "PATCH" and "fieldManager=cnibot" in str(detail.get("query"))
    )


def set_env_outside_cnibot(sb: SimBot, key: str, value: str) -> None:
    """What `kubectl set env daemonset/aws-node -n kube-system KEY=VALUE` does: a strategic-merge patch."""
    api = k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path))
    container = {"name": "aws-node", "env": [{"name": key, "value": value}]}
    try:
        k8s.AppsV1Api(api).patch_namespaced_daemon_set(
            "aws-node", "kube-system", {"spec": {"template": {"spec": {"containers": [container]}}}}
        )
    finally:
        api.close()


def ask(sb: SimBot, text: str, user: str = "U0ALICE") -> str:
    """/cni <text> as ``user``; the text of the answer (the first call in a process imports the clients)."""
    reply = sb.bot.slash(text, user_id=user, user_name=user.lower())
    assert reply.status == 200, reply
    return text_of(sb.bot.answer(reply, timeout=60))


def request(sb: SimBot, text: str, user: str = "U0ALICE") -> tuple[int, str]:
    body = ask(sb, text, user)
    assert "Requested change #" in body, body
    change_id = int(body.split("Requested change #", 1)[1].split(" ", 1)[0])
    return change_id, body


def free_ips(sim: SimulatedCluster) -> int:
    return sum(sim.cluster.subnet_free(s.name) for s in sim.scenario.subnets)


# --- tests ----------------------------------------------------------------------------------------------------


def test_happy_path_request_approve_apply_verify(
    make_bot: Callable[..., SimBot], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = make_bot()
    jobs = {"changes:expire", "changes:auto-revert", "changes:apply-waiting", "changes:track-nodes"}
    assert jobs <= set(sb.bot.cnibot.services.scheduler.job_ids())
    free_before = free_ips(sb.sim)
    change_id, answer = request(sb, 'set WARM_IP_TARGET=5 MINIMUM_IP_TARGET=10 --reason "too many warm IPs"')
    assert "Posted for approval in <#C0APPROVE>; it needs 1 approver" in answer
    assert "`WARM_IP_TARGET`: _unset_ -> `5`" in answer

    posted = text_of(approval_message(sb.bot.slack, change_id).args)
    for needle in ("*Requested by* <@U0ALICE>: _too many warm IPs_", "*Risk:* low; needs 1 approver", "freed"):
        assert needle in posted, posted
    assert "Impact estimate" in posted and "No node replacement needed" in posted

    click(sb, change_id, "U0BOB")
    record = wait_status(sb, change_id, FINAL)
    assert record.status is Status.VERIFIED, record.detail
    env = aws_node_env(sb)
    assert env["WARM_IP_TARGET"] == "5" and env["MINIMUM_IP_TARGET"] == "10"
    assert cnibot_patches(sb.sim) == 1
    # The simulator's warm pools re-converge on the new targets: addresses go back to the subnets.
    assert wait_for(lambda: free_ips(sb.sim) > free_before, what="warm pools to shrink")

    svc = service(sb)
    kinds = [e.kind for e in svc.repo.events(change_id)]
    assert kinds == ["requested", "approved", "applying", "applied", "rollout-done", "verified"]
    wait_thread(sb.bot.slack, "<@U0BOB> approved")
    wait_thread(sb.bot.slack, f"Change #{change_id} verified")
    wait_for(lambda: any("Verified" in text_of(c.args) for c in sb.bot.slack.api_calls("chat.update")))

    detail = ask(sb, f"change {change_id}")
    assert "History" in detail and "rollout-done" in detail and "U0BOB" in detail
    # /cni config compares aws-node with what the last approved change left.
    assert "*Drift* none" in ask(sb, "config")
    set_env_outside_cnibot(sb, "WARM_IP_TARGET", "7")
    assert "Drift* from the last approved change: WARM_IP_TARGET 5 → 7" in ask(sb, "config")
    assert "No open change requests" in ask(sb, "changes --open")

    monkeypatch.setenv("CNIBOT_DATABASE_URL", sb.bot.cnibot.services.settings.database_url)
    assert cli_main(["audit", "export", "--since", "1h"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines if line["change_id"] == change_id] == kinds


def test_refusals_before_anything_is_posted(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    unknown = ask(sb, 'set WARM_IP_TARGT=5 --reason "typo test"')
    assert (
        "Not requested" in unknown and "Unknown aws-node setting WARM_IP_TARGT. Did you mean WARM_IP_TARGET?" in unknown
    )
    startup = ask(sb, 'set ENABLE_PREFIX_DELEGATION=true WARM_PREFIX_TARGET=0 --reason "try prefixes"')
    assert (
        "Setting WARM_PREFIX_TARGET = 0 is not supported while WARM_IP_TARGET/MINIMUM_IP_TARGET is not set" in startup
    )
    cooldown = ask(sb, 'set IP_COOLDOWN_PERIOD=-1 --reason "no cooldown"')
    assert "IP_COOLDOWN_PERIOD must be &gt;= 0" in cooldown  # echoes are escaped; Slack shows ">="
    assert "A reason is required" in ask(sb, "set WARM_IP_TARGET=5")
    assert "between 1 minute and 7 days" in ask(sb, 'set WARM_IP_TARGET=5 --for 9d --reason "too long"')
    subnet_b = next(s.id for s in sb.sim.cluster.subnets.values() if s.az == "us-east-2b")
    wrong_az = ask(sb, f'eniconfig set us-east-2a subnet={subnet_b} --reason "pods subnet"')
    assert "an ENI cannot be attached across zones" in wrong_az
    no_cidr = ask(sb, 'custom-networking enable --reason "pods on 100.64"')
    assert "Zone us-east-2a has nodes but no subnet in a secondary CIDR" in no_cidr
    assert "No change requests" in ask(sb, "changes")
    assert sb.bot.slack.api_calls("chat.postMessage") == []


def test_clicks_are_authorised_from_the_user_id(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    high, answer = request(sb, 'set ENABLE_PREFIX_DELEGATION=true --reason "more pods per node"')
    assert "it needs 2 different approvers" in answer
    assert "not an approver" in ephemeral(sb, click(sb, high, "U0EVE"))
    assert "not an approver" in ephemeral(sb, click(sb, high, "U0ALICE"))

    own, _ = request(sb, 'set WARM_IP_TARGET=4 --reason "my own change"', user="U0BOB")
    assert "someone else must approve" in ephemeral(sb, click(sb, own, "U0BOB"))

    assert "needs 1 more approver" in ephemeral(sb, click(sb, high, "U0BOB"))
    assert "You already approved" in ephemeral(sb, click(sb, high, "U0BOB"))
    click(sb, high, "U0CAROL", "change_reject")
    assert wait_status(sb, high, FINAL).status is Status.REJECTED
    assert "already rejected" in ephemeral(sb, click(sb, high, "U0CAROL"))

    svc = service(sb)
    refused = [e for e in svc.repo.events(high) if e.kind == "refused-click"]
    assert [(e.actor, e.detail["refusal"]) for e in refused] == [
        ("U0EVE", "not-approver"),
        ("U0ALICE", "not-approver"),
        ("U0BOB", "already-approved"),
        ("U0CAROL", "not-pending"),
    ]
    assert cnibot_patches(sb.sim) == 0
    assert aws_node_env(sb)["ENABLE_PREFIX_DELEGATION"] == "false"


def test_pending_request_expires(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    change_id, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "expiry test"')
    services = sb.bot.cnibot.services
    later = services.clock() + timedelta(hours=24, minutes=1)
    services.clock = lambda: later
    assert service(sb).expire_due() == 1
    assert service(sb).expire_due() == 0  # once
    assert wait_status(sb, change_id, FINAL).status is Status.EXPIRED
    wait_thread(sb.bot.slack, "expired: not approved within 24h")
    assert "already expired" in ephemeral(sb, click(sb, change_id, "U0BOB"))
    assert cnibot_patches(sb.sim) == 0


def test_outside_edit_makes_the_request_stale(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    change_id, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "stale test"')
    set_env_outside_cnibot(sb, "WARM_ENI_TARGET", "2")
    click(sb, change_id, "U0BOB")
    record = wait_status(sb, change_id, FINAL)
    assert record.status is Status.STALE
    assert record.detail["stale"] == ["aws-node `WARM_ENI_TARGET` changed meanwhile: `1` -> `2`"]
    wait_thread(sb.bot.slack, "is stale and was not applied", "WARM_ENI_TARGET")
    assert cnibot_patches(sb.sim) == 0
    assert "WARM_IP_TARGET" not in aws_node_env(sb)


def test_rollback_restores_the_previous_state(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    change_id, _ = request(sb, 'set WARM_IP_TARGET=5 WARM_ENI_TARGET=0 --reason "tune"')
    click(sb, change_id, "U0BOB")
    assert wait_status(sb, change_id, FINAL).status is Status.VERIFIED
    rollback_id, answer = request(sb, f'rollback {change_id} --reason "pods slow to start"', user="U0CAROL")
    assert "`WARM_IP_TARGET`: `5` -> _unset_" in answer and "`WARM_ENI_TARGET`: `0` -> `1`" in answer
    click(sb, rollback_id, "U0BOB")
    assert wait_status(sb, rollback_id, FINAL).status is Status.VERIFIED
    assert wait_status(sb, change_id, {Status.ROLLED_BACK}).rollback_of is None
    env = aws_node_env(sb)
    assert "WARM_IP_TARGET" not in env and env["WARM_ENI_TARGET"] == "1"
    wait_thread(sb.bot.slack, f"Change #{change_id} was rolled back by change #{rollback_id}")
    again = ask(sb, f'rollback {change_id} --reason "again"')
    assert "only applied changes can be rolled back" in again


def test_for_duration_reverts_by_itself(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    change_id, _ = request(sb, 'set WARM_IP_TARGET=3 --for 30m --reason "load test"')
    click(sb, change_id, "U0BOB")
    applied = wait_status(sb, change_id, FINAL)
    assert applied.status is Status.VERIFIED and applied.applied_at and applied.revert_at
    assert applied.revert_at - applied.applied_at == timedelta(minutes=30)
    services = sb.bot.cnibot.services
    assert service(sb).revert_due() == 0  # not yet
    later = applied.revert_at + timedelta(seconds=1)
    services.clock = lambda: later
    assert service(sb).revert_due() == 1
    assert service(sb).revert_due() == 0  # claimed once
    assert wait_status(sb, change_id, {Status.REVERTED}).status is Status.REVERTED
    revert = service(sb).repo.recent(limit=1)[0]
    assert revert.kind.value == "revert" and revert.rollback_of == change_id
    assert wait_status(sb, revert.id, FINAL).status is Status.VERIFIED
    assert "Automatically reverts change #" in text_of(approval_message(sb.bot.slack, revert.id).args)
    wait_thread(sb.bot.slack, f"Change #{revert.id} verified")
    assert "WARM_IP_TARGET" not in aws_node_env(sb)
    wait_thread(sb.bot.slack, "Time is up for change")
    kinds = [e.kind for e in service(sb).repo.events(change_id)]
    assert kinds[-1] == "auto-reverted"


def test_one_apply_at_a_time_per_cluster(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot(SimulatedCluster.from_scenario("healthy", rollout_seconds=1.5))
    first, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "first"')
    second, _ = request(sb, 'set MINIMUM_IP_TARGET=10 --reason "second"')
    click(sb, first, "U0BOB")
    wait_status(sb, first, {Status.APPLIED})
    click(sb, second, "U0CAROL")
    wait_thread(sb.bot.slack, f"Waiting for change #{first} to finish on `demo`")
    assert wait_status(sb, first, FINAL).status is Status.VERIFIED
    # The second was approved against the spec the first one changed: it must not be applied blindly.
    later = wait_status(sb, second, FINAL)
    assert later.status is Status.STALE
    assert later.detail["stale"] == ["aws-node `WARM_IP_TARGET` changed meanwhile: _unset_ -> `5`"]
    svc = service(sb)
    verified_at = next(e.at for e in svc.repo.events(first) if e.kind == "verified")
    applying_at = next(e.at for e in svc.repo.events(second) if e.kind == "applying")
    assert applying_at >= verified_at
    assert cnibot_patches(sb.sim) == 1


def test_work_left_by_a_dead_replica_is_finished_or_flagged(make_bot: Callable[..., SimBot]) -> None:
    from bot.domain.change_records import AuditKind

    sb = make_bot()
    svc = service(sb)
    now = sb.bot.cnibot.services.clock()
    # Its write never landed, and the other one's did: the live value is neither its before nor its after.
    writing, _ = request(sb, 'set WARM_IP_TARGET=6 --reason "replica dies while writing"')
    watching, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "replica dies while watching"')
    # A replica approved both, claimed them and died: one while writing, one after writing (its patch is in).
    steps = [(Status.APPROVED, AuditKind.APPROVED), (Status.APPLYING, AuditKind.APPLYING)]
    for change_id in (writing, watching):
        for target, event in steps:
            assert svc.repo.transition(change_id, target, actor="U0BOB", at=now, event=event)
    assert svc.repo.transition(watching, Status.APPLIED, actor="cnibot", at=now, event=AuditKind.APPLIED)
    api = k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path))
    try:
        k8s.AppsV1Api(api).patch_namespaced_daemon_set(
            "aws-node",
            "kube-system",
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "aws-node", "env": [{"name": "WARM_IP_TARGET", "value": "5"}]}]
                        }
                    }
                }
            },
            field_manager="cnibot",
        )
    finally:
        api.close()
    svc.apply_waiting()  # the lease of the dead replica has run out: no lock is held
    failed = wait_status(sb, writing, FINAL)
    assert failed.status is Status.FAILED and "stopped in the middle" in failed.detail["result"]
    wait_for(lambda: svc.repo.lock_holder("demo", svc.now()) is None, what="the lock to be released")
    svc.apply_waiting()  # the next tick: one cluster, one apply at a time
    assert wait_status(sb, watching, FINAL).status is Status.VERIFIED


def test_rollout_that_never_gets_ready_fails_and_says_how_to_undo(
    make_bot: Callable[..., SimBot], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.changes import service as service_module

    monkeypatch.setattr(service_module, "DEFAULT_TIMINGS", service_module.Timings(rollout_timeout=1.0))
    sb = make_bot("aws-node-not-ready")  # aws-node already crash-loops on a bad prefix-delegation setting
    change_id, answer = request(sb, 'set IP_COOLDOWN_PERIOD=20 --reason "shorter cooldown"')
    assert "aws-node already fails to start with the current settings" in answer
    click(sb, change_id, "U0BOB")
    failed = wait_status(sb, change_id, FINAL)
    assert failed.status is Status.FAILED and "aws-node rollout timed out after 1s" in failed.detail["result"]
    wait_thread(sb.bot.slack, f"Change #{change_id} failed", f"`/cni rollback {change_id}` restores the previous state")
    assert [e.kind for e in service(sb).repo.events(change_id)][-1] == "rollout-failed"


def test_read_only_install_accepts_requests_and_never_writes(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot(write_enabled=False)
    change_id, answer = request(sb, 'set WARM_IP_TARGET=5 --reason "read only"')
    assert "Apply is disabled here: writes are off for cluster `demo` (write_enabled: false)" in answer
    assert "Apply is disabled here" in text_of(approval_message(sb.bot.slack, change_id).args)
    click(sb, change_id, "U0BOB")
    wait_event(sb, change_id, "apply-disabled")
    assert service(sb).get(change_id).status is Status.BY_HAND
    wait_thread(sb.bot.slack, "kubectl -n kube-system set env daemonset/aws-node -c aws-node WARM_IP_TARGET=5")
    assert cnibot_patches(sb.sim) == 0 and "WARM_IP_TARGET" not in aws_node_env(sb)


def test_managed_addon_is_changed_through_update_addon(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot("warm-target-misconfig")
    change_id, _ = request(sb, 'set WARM_IP_TARGET=2 --reason "pods beyond the minimum get no IP"')
    record = service(sb).get(change_id)
    assert record.target.value == "addon" and "UpdateAddon" in text_of(approval_message(sb.bot.slack, change_id).args)
    click(sb, change_id, "U0BOB")
    assert wait_status(sb, change_id, FINAL).status is Status.VERIFIED
    eks = boto3.client("eks", region_name=sb.sim.region)
    addon = eks.describe_addon(clusterName=sb.sim.cluster_name, addonName="vpc-cni")["addon"]
    assert json.loads(addon["configurationValues"]) == {"env": {"MINIMUM_IP_TARGET": "10", "WARM_IP_TARGET": "2"}}
    assert aws_node_env(sb)["WARM_IP_TARGET"] == "2"
    assert cnibot_patches(sb.sim) == 0  # EKS wrote the DaemonSet, not cnibot


def test_managed_addon_init_container_setting_goes_under_init_env(make_bot: Callable[..., SimBot]) -> None:
    """The add-on's configuration follows the chart's values: aws-vpc-cni-init's settings go under `init.env`, so
    EKS writes them on the container that reads them and the verification finds them there."""
    scenario = load_scenario("healthy")
    scenario.managed_addon = ManagedAddonSpec(version="v1.19.2-eksbuild.1")
    sb = make_bot(SimulatedCluster(scenario))
    change_id, _ = request(sb, 'set DISABLE_TCP_EARLY_DEMUX=true --reason "kubelet probes to branch-ENI pods"')
    click(sb, change_id, "U0BOB")
    final = wait_status(sb, change_id, FINAL)
    assert final.status is Status.VERIFIED, service(sb).repo.events(change_id)[-1].detail
    eks = boto3.client("eks", region_name=sb.sim.region)
    values = json.loads(
        eks.describe_addon(clusterName=sb.sim.cluster_name, addonName="vpc-cni")["addon"]["configurationValues"]
    )
    assert values["init"]["env"] == {"DISABLE_TCP_EARLY_DEMUX": "true"}
    assert "DISABLE_TCP_EARLY_DEMUX" not in values.get("env", {})


def test_request_this_change_opens_a_prefilled_form(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    value = json.dumps(
        {"kind": "aws-node-env", "env": {"WARM_IP_TARGET": "2"}, "pod": "shop/web-5", "cause": "WARM_TARGET_MISCONFIG"}
    )
    element = {
        "type": "button",
        "action_id": "request_change",
        "value": value,
        "text": {"type": "plain_text", "text": "Request this change"},
    }
    assert sb.bot.action(block_action("U0ALICE", element, sb.bot.slack.response_url("form"))).status_code == 200
    (opened,) = sb.bot.slack.wait_for(lambda s: s.api_calls("views.open"))
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert initial["settings"] == "WARM_IP_TARGET=2"
    assert initial["reason"] == "why-pending shop/web-5: WARM_TARGET_MISCONFIG"

    def submission(settings: str, reason: str) -> dict[str, Any]:
        values = {
            "settings": {"value": {"type": "plain_text_input", "value": settings}},
            "duration": {"value": {"type": "plain_text_input", "value": None}},
            "reason": {"value": {"type": "plain_text_input", "value": reason}},
        }
        return {
            "type": "view_submission",
            "user": {"id": "U0ALICE", "username": "alice"},
            "team": {"id": "T0TEAM"},
            "api_app_id": "A0CNIBOT",
            "token": "legacy-unused",
            "trigger_id": f"{time.time_ns()}.trigger",
            "view": {**view, "id": "V1", "state": {"values": values}},
        }

    refused = sb.bot.action(submission("WARM_IP_TARGET=2", ""))
    assert refused.json()["response_action"] == "errors" and "reason" in refused.json()["errors"]
    assert sb.bot.action(submission("WARM_IP_TARGET=2 MINIMUM_IP_TARGET=10", "pods pending on web")).status_code == 200
    record = wait_for(lambda: service(sb).repo.recent(limit=1), what="the request from the form")[0]
    assert record.requester_id == "U0ALICE" and record.reason == "pods pending on web"
    assert record.spec.env_updates() == {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "10"}
    (note,) = sb.bot.slack.wait_for(lambda s: s.api_calls("chat.postEphemeral"))
    assert note.args["user"] == "U0ALICE" and f"Requested change #{record.id}" in str(note.args["text"])


def _before_custom_networking() -> SimulatedCluster:
    """The course's starting point: the secondary CIDR and its pod subnets exist; aws-node is stock and
    there are no ENIConfigs (the simulator's custom-networking scenario, before the change)."""
    base = load_scenario("custom-networking")
    scenario = dataclasses.replace(
        base,
        name="custom-networking-before",
        aws_node_env={},
        eniconfigs=[],
        node_groups=[dataclasses.replace(g, max_pods=None) for g in base.node_groups],
    )
    return SimulatedCluster(scenario)


def test_set_refuses_custom_networking_where_a_zone_has_no_eniconfig(make_bot: Callable[..., SimBot]) -> None:
    """`/cni set` turning custom networking on is checked like `/cni custom-networking enable`: nodes whose
    ENIConfig (by the label in force) does not exist would stop ipamd at start (ipamd.go nodeInit)."""
    sb = make_bot(_before_custom_networking())
    env = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone"
    refused = ask(sb, f'set {env} --reason "pods on 100.64"')
    assert "Not requested" in refused, refused
    assert '"Failed to attach any ENIs for custom networking"' in refused
    for zone in ("us-east-2a", "us-east-2b", "us-east-2c"):
        assert f"ENIConfig `{zone}` by label topology.kubernetes.io/zone" in refused
    # Without ENI_CONFIG_LABEL_DEF every node looks up the ENIConfig named `default`.
    default = ask(sb, 'set AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true --reason "pods on 100.64"')
    assert "ENIConfig `default` by no label or annotation" in default
    assert sb.bot.slack.api_calls("chat.postMessage") == []
    # Once an ENIConfig exists for every zone the same request goes through.
    base = load_scenario("custom-networking")
    ready = make_bot(SimulatedCluster(dataclasses.replace(base, name="eniconfigs-first", aws_node_env={})))
    change_id, answer = request(ready, f'set {env} --reason "pods on 100.64"')
    assert change_id > 0 and "Failed to attach any ENIs" not in answer


ENABLE = 'custom-networking enable --reason "pods on 100.64.0.0/16"'


def test_custom_networking_is_checked_only_on_nodes_aws_node_runs_on(make_bot: Callable[..., SimBot]) -> None:
    """A Windows node in a zone without an ENIConfig does not stop the change: aws-node's nodeAffinity keeps it off
    that node, so ipamd never looks for its ENIConfig. A Linux node there does."""
    base = load_scenario("custom-networking")
    linux_a, linux_b, windows_c = base.node_groups[0], base.node_groups[1], base.node_groups[2]
    windows_c = dataclasses.replace(windows_c, name="win-c", os="windows")
    no_2c = [c for c in base.eniconfigs if c.name != "us-east-2c"]
    scenario = dataclasses.replace(
        base, name="windows-in-2c", aws_node_env={}, eniconfigs=no_2c, node_groups=[linux_a, linux_b, windows_c]
    )
    sb = make_bot(SimulatedCluster(scenario))
    env = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone"
    change_id, answer = request(sb, f'set {env} --reason "pods on 100.64"')
    assert change_id > 0 and "Failed to attach any ENIs" not in answer, answer
    # `custom-networking enable` proposes ENIConfigs for the zones aws-node runs in only.
    _, enable = request(make_bot(SimulatedCluster(dataclasses.replace(scenario, eniconfigs=[]))), ENABLE)
    assert "ENIConfig `us-east-2a`: create" in enable and "us-east-2c" not in enable, enable
    linux_c = dataclasses.replace(windows_c, name="linux-c", os="linux")
    with_linux = dataclasses.replace(scenario, name="linux-in-2c", node_groups=[linux_a, linux_b, linux_c])
    refused = ask(make_bot(SimulatedCluster(with_linux)), f'set {env} --reason "pods on 100.64"')
    assert "Not requested" in refused and "ENIConfig `us-east-2c`" in refused


def test_set_is_refused_where_aws_node_runs_on_no_node(make_bot: Callable[..., SimBot]) -> None:
    """An EKS Auto Mode cluster: aws-node's nodeAffinity keeps it off every node, so a change would change nothing."""
    base = load_scenario("healthy")
    auto = [dataclasses.replace(g, compute_type="auto") for g in base.node_groups]
    sb = make_bot(SimulatedCluster(dataclasses.replace(base, name="auto-mode", node_groups=auto)))
    refused = ask(sb, 'set WARM_IP_TARGET=5 --reason "warmer pools"')
    assert "Not requested" in refused and "aws-node runs on none of the cluster's 3 nodes (3 auto)" in refused
    assert "EKS Auto Mode manages their pod networking" in refused
    assert sb.bot.slack.api_calls("chat.postMessage") == []


def test_set_refuses_ipv6_where_a_node_type_has_no_prefix_delegation(make_bot: Callable[..., SimBot]) -> None:
    """ipamd.go isConfigValid: IPv6 needs prefix delegation, which non-Nitro types lack: fatal there."""
    base = load_scenario("healthy")
    xen = dataclasses.replace(base.node_groups[1], instance_type="m4.4xlarge")
    sb = make_bot(SimulatedCluster(dataclasses.replace(base, name="with-xen", node_groups=[base.node_groups[0], xen])))
    env = "ENABLE_IPv4=false ENABLE_IPv6=true ENABLE_PREFIX_DELEGATION=true"
    refused = ask(sb, f'set {env} --reason "ipv6 pods"')
    assert "Not requested" in refused, refused
    assert "aws-node would exit at start on 1 m4.4xlarge node(s)" in refused
    assert "Prefix Delegation is not supported on non-nitro instance m4.4xlarge." in refused
    assert "m5.large" not in refused.split("Not requested", 1)[1]
    assert sb.bot.slack.api_calls("chat.postMessage") == []


def test_set_accepts_what_aws_node_accepts(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    # MAX_ENI of 0 or below means unset (ipamd.go getMaxENI): accepted, and said so.
    _, max_eni = request(sb, 'set MAX_ENI=0 --reason "back to the instance limit"')
    assert "MAX_ENI=0 means unset" in max_eni
    # A real aws-node knob outside the catalogue is accepted with a note, not refused as unknown.
    _, connmark = request(sb, 'set AWS_VPC_K8S_CNI_CONNMARK=0x40 --reason "mark clash with our CNI chain"')
    assert "AWS_VPC_K8S_CNI_CONNMARK is a real aws-node setting that cnibot does not model" in connmark
    # Beyond Go's int64, strconv.Atoi fails: refused.
    huge = ask(sb, 'set WARM_IP_TARGET=9223372036854775808 --reason "big pool"')
    assert "is beyond a 64-bit integer" in huge and "Request" not in huge  # refused as the words are parsed


def test_custom_networking_enable_then_node_tracking(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot(_before_custom_networking())
    change_id, answer = request(sb, 'custom-networking enable --reason "pods on 100.64.0.0/16"')
    assert "(high risk)" in answer and "it needs 2 different approvers" in answer
    assert "`AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG`: `false` -> `true`" in answer
    assert "`ENI_CONFIG_LABEL_DEF`: _unset_ -> `topology.kubernetes.io/zone`" in answer
    for zone in ("us-east-2a", "us-east-2b", "us-east-2c"):
        assert f"ENIConfig `{zone}`: create with subnet subnet-" in answer
    posted = text_of(approval_message(sb.bot.slack, change_id).args)
    assert "m5.large           3            29     20" in posted  # max-pods now and with custom networking
    assert "100.64.0.0/18" in posted and "Nodes must be replaced" in posted

    click(sb, change_id, "U0BOB")
    click(sb, change_id, "U0CAROL")
    assert wait_status(sb, change_id, FINAL).status is Status.VERIFIED
    wait_event(sb, change_id, "nodes-to-replace")
    record = service(sb).get(change_id)
    assert record.tracking_nodes and len(record.detail["nodes_to_replace"]) == 3
    wait_thread(sb.bot.slack, "3 node(s) still take pod addresses from the old subnets")
    eniconfigs = {
        e.name: e
        for e in sb.bot.cnibot.services.connections.get(
            sb.bot.cnibot.services.clusters.get(sb.sim.cluster_name)  # type: ignore[arg-type]
        ).kube.eniconfigs()
    }
    assert sorted(eniconfigs) == ["us-east-2a", "us-east-2b", "us-east-2c"]
    assert all(
        e.subnet in {s.id for s in sb.sim.cluster.subnets.values() if s.cidr.startswith("100.64.")}
        for e in eniconfigs.values()
    )

    service(sb).track_nodes()  # nothing replaced yet: no new message, still tracking
    assert service(sb).get(change_id).tracking_nodes


def test_node_tracking_lists_only_nodes_on_old_subnets(make_bot: Callable[..., SimBot]) -> None:
    from bot.changes.nodes import nodes_to_replace

    sb = make_bot("custom-networking-half-migrated")
    services = sb.bot.cnibot.services
    conn = services.connections.get(services.clusters.get(sb.sim.cluster_name))  # type: ignore[arg-type]
    old = sorted(n.name for n in sb.sim.cluster.nodes.values() if n.group.name == "ng-old")
    assert nodes_to_replace(conn) == old


# --- concurrency: two replicas on one Postgres --------------------------------------------------------------
# Measured on the 2-core machine: 0.4-1.0 s a round (depends on load), so 40-100 s for the 100 rounds: slow.

ROUNDS = 100
CLICKS = 20


@pytest.mark.slow
@pytest.mark.postgres
def test_twenty_simultaneous_approvals_apply_once_per_round(
    fake_slack: FakeSlack, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    approvers = tuple(f"U0A{i:02d}" for i in range(CLICKS))
    policy = ApprovalPolicy(approvers_channel=APPROVERS_CHANNEL, users=approvers)
    engine = make_engine(pg_url)
    migrate.upgrade(engine)  # Postgres is migrated by `cnibot db upgrade`, not at start
    engine.dispose()
    sim = SimulatedCluster.from_scenario("healthy")
    with running(sim, fake_slack, pg_url, monkeypatch, approvals=policy) as first:
        second = start_bot(bot_settings(sim, fake_slack, pg_url, approvals=policy), fake_slack, SIGNING_SECRET)
        replicas: list[RunningBot] = [first.bot, second]
        svc = service(first)
        cluster = first.bot.cnibot.services.clusters.get(sim.cluster_name)
        assert cluster is not None
        try:
            with ThreadPoolExecutor(CLICKS) as pool:
                for n in range(ROUNDS):
                    _one_round(first, svc, replicas, pool, approvers, warm=str(2 + n % 7 + (n % 2) * 10))
        finally:
            second.stop()
    applies = sum(1 for r in svc.repo.recent(limit=ROUNDS) for e in svc.repo.events(r.id) if e.kind == "applied")
    assert applies == ROUNDS
    assert cnibot_patches(sim) == ROUNDS


def _one_round(
    sb: SimBot,
    svc: ChangeService,
    replicas: list[RunningBot],
    pool: ThreadPoolExecutor,
    approvers: tuple[str, ...],
    warm: str,
) -> None:
    from bot.changes.drafts import draft_env
    from bot.changes.service import Requester

    cluster = sb.bot.cnibot.services.clusters.get(sb.sim.cluster_name)
    assert cluster is not None
    conn = sb.bot.cnibot.services.connections.get(cluster)
    current = aws_node_env(sb).get("WARM_IP_TARGET")
    value = warm if warm != current else str(int(warm) + 1)
    draft = draft_env(conn, {"WARM_IP_TARGET": value}, duration=None)
    record = svc.submit(draft, cluster, Requester("U0ALICE", "alice", None), "concurrency round").record
    element = {"type": "button", "action_id": "change_approve", "value": str(record.id)}
    bodies = [
        (replicas[i % 2], block_action(user, element, sb.bot.slack.response_url(f"r{record.id}-{user}")))
        for i, user in enumerate(approvers)
    ]
    statuses = list(pool.map(lambda rb: rb[0].action(rb[1]).status_code, bodies))
    assert statuses == [200] * CLICKS
    done = wait_status(sb, record.id, FINAL, timeout=30)
    assert done.status is Status.VERIFIED, done.detail
    events = svc.repo.events(record.id)
    assert [e.kind for e in events].count("approved") == 1
    assert [e.kind for e in events].count("applying") == 1
    assert [e.kind for e in events].count("applied") == 1
    assert len(svc.repo.approvals(record.id)) == 1
    wait_for(lambda: sum(1 for e in svc.repo.events(record.id) if e.kind == "refused-click") == CLICKS - 1)
