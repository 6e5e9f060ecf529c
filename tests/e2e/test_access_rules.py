"""Per-cluster access rules end to end: signed slash commands to the bot's HTTP endpoint, user groups resolved
through the fake Slack's usergroups.users.list, reads from the simulator over HTTP, and the simulator's request
log proving that a refused command read nothing from EC2 or Kubernetes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from bot.access import AccessGate
from bot.config import ClusterConfig
from bot.usergroups import for_client
from simulator.fake_slack import FakeSlack
from storage.models import CommandRecord
from tests.support.simbot import SimBot, sim_bot

TEAM_CHANNEL, TEAM_PRIVATE, PROD_CHANNEL, RANDOM = "C0TEAM", "C0TEAMPRIV", "C0PROD", "C0RANDOM"
HOME, ORG = "T0TEAM", "E0ORG"
TEAM_GROUP, SRE_GROUP, ONCALL_GROUP = "S0TEAM", "S0SRE", "S0ONCALL"
ANN, LEAD, SRE, BOB, ONCALL = "U0ANN", "U0LEAD", "U0SRE", "U0BOB", "U0ONCALL"
IN_TEAM = {"channel_id": TEAM_CHANNEL, "team_id": HOME, "enterprise_id": ORG}
DM = {"channel_id": "D0ANN", "channel_name": "directmessage", "team_id": HOME, "enterprise_id": ORG}


def two_clusters(sim_cluster: ClusterConfig) -> Sequence[ClusterConfig]:
    """Two names for the one simulated cluster: the team's (default of the team channel), and a locked-down
    `prod` whose reads are the SRE group's, in the prod channel only."""
    team = sim_cluster.model_dump()
    team.update(
        channels=[TEAM_CHANNEL],
        access={
            "reads": {"channels": [TEAM_CHANNEL, TEAM_PRIVATE], "users": [LEAD], "usergroups": [TEAM_GROUP]},
            "requests": {"channels": [TEAM_CHANNEL], "users": [LEAD], "usergroups": [ONCALL_GROUP]},
            "digests": {"channels": [TEAM_CHANNEL]},
            "teams": [HOME],
            "enterprises": [ORG],
            "admins": ["U0ADMIN", "S0PLATFORM"],
        },
    )
    prod = sim_cluster.model_dump()
    prod.update(
        name="prod",
        eks_name=sim_cluster.eks_name or sim_cluster.name,
        channels=[PROD_CHANNEL],
        access={"reads": {"channels": [PROD_CHANNEL], "usergroups": [SRE_GROUP]}},
    )
    return [ClusterConfig.model_validate(team), ClusterConfig.model_validate(prod)]


@pytest.fixture
def sb(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str) -> Iterator[SimBot]:
    fake_slack.usergroups = {TEAM_GROUP: [ANN], SRE_GROUP: [SRE], ONCALL_GROUP: [ONCALL]}
    with sim_bot(
        "healthy", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url, clusters=two_clusters
    ) as running:
        try:
            yield running
        finally:
            running.bot.cnibot.services.connections.close()


def _text(answer: dict[str, Any]) -> str:
    return str(answer["text"]) + str(answer.get("blocks"))


def _refusals(rule: str) -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == "cnibot_access_refusals_total" and sample.labels.get("rule") == rule:
                total += sample.value
    return total


REFUSED = [
    ("other channel", "capacity", {**IN_TEAM, "channel_id": RANDOM, "user_id": ANN}, "access.reads.channels"),
    (
        "private channel not listed",
        "subnets",
        {**IN_TEAM, "channel_id": "G0SECRET", "user_id": ANN},
        "access.reads.channels",
    ),
    ("user not in the rule", "capacity", {**IN_TEAM, "user_id": BOB}, "access.reads"),
    ("DM of an unlisted user", "capacity", {**DM, "user_id": BOB}, "access.reads"),
    ("other workspace", "capacity", {**IN_TEAM, "team_id": "T0OTHER", "user_id": ANN}, "access.teams"),
    ("other Grid org", "capacity", {**IN_TEAM, "enterprise_id": "E0ELSE", "user_id": ANN}, "access.enterprises"),
    (
        "--cluster the channel may not see",
        "config --cluster prod",
        {**IN_TEAM, "user_id": SRE},
        "access.reads.channels",
    ),
    (
        "SRE-only prod from a non-SRE",
        "node ip-10-0-1-5",
        {**IN_TEAM, "channel_id": PROD_CHANNEL, "user_id": ANN},
        "access.reads.usergroups",
    ),
    ("request by a reader", 'set WARM_IP_TARGET=2 --reason "test"', {**IN_TEAM, "user_id": ANN}, "access.requests"),
    (
        "digest subscribe where digests may not go",
        "digest subscribe <#C0RANDOM|random> daily 09:00",
        {**IN_TEAM, "user_id": ANN},
        "access.digests.channels",
    ),
    (
        "why-pending from a DM, no rule for DMs",
        "why-pending default/x",
        {**DM, "channel_id": "D0BOB", "user_id": BOB},
        "access.reads",
    ),
]


def test_refused_commands_answer_privately_and_read_nothing_from_the_cluster(sb: SimBot) -> None:
    before = sb.sim.counter.snapshot()
    for case, text, fields, rule in REFUSED:
        counted = _refusals(rule)
        answer = sb.ask(text, **fields)
        shown = _text(answer)
        assert answer["response_type"] == "ephemeral", case
        assert shown.startswith(":no_entry: Not "), (case, shown)
        assert f"`{rule}`" in shown, (case, shown)
        # Who can grant access: the team cluster's admins, or (prod names none) whoever runs cnibot.
        assert "To get access, ask <@U0ADMIN>, <!subteam^S0PLATFORM>." in shown or "whoever runs cnibot" in shown
        assert len(answer["text"]) < 200, case  # short
        assert _refusals(rule) == counted + 1, case
    # Nothing from EC2, EKS or Kubernetes: the simulator served not one request for all of them.
    assert sb.sim.counter.snapshot() == before, sb.sim.counter.snapshot()
    rows = sb.bot.slack.wait_for(lambda s: _refused_rows(sb) if len(_refused_rows(sb)) == len(REFUSED) else None)
    assert {r.user_id for r in rows} == {ANN, BOB, SRE}
    with sb.bot.cnibot.services.repos.engine.connect() as conn:
        details = conn.execute(select(CommandRecord.detail).where(CommandRecord.outcome == "refused")).scalars()
        assert {d["refused"] for d in details} == {rule for *_, rule in REFUSED}


def _refused_rows(sb: SimBot) -> list[Any]:
    return [r for r in sb.bot.cnibot.services.history.recent_commands(limit=100) if r.outcome == "refused"]


ALLOWED = [
    ("listed channel, group member", "capacity", {**IN_TEAM, "user_id": ANN}),
    ("listed user", "subnets", {**IN_TEAM, "user_id": LEAD}),
    (
        "private channel listed",
        "capacity",
        {**IN_TEAM, "channel_id": TEAM_PRIVATE, "channel_name": "privategroup", "user_id": ANN},
    ),
    ("DM of a group member", "config", {**DM, "user_id": ANN}),
    (
        "prod for the SRE group in its channel",
        "config --cluster prod",
        {**IN_TEAM, "channel_id": PROD_CHANNEL, "user_id": SRE},
    ),
]


@pytest.mark.parametrize("case, text, fields", ALLOWED, ids=[c[0] for c in ALLOWED])
def test_allowed_commands_are_answered_ephemerally(sb: SimBot, case: str, text: str, fields: dict[str, str]) -> None:
    answer = sb.ask(text, **fields)
    assert not _text(answer).startswith(":no_entry:"), _text(answer)
    assert answer["response_type"] == "ephemeral"
    assert sb.sim.counter.count() > 0  # it did read the cluster


def test_share_posts_a_read_answer_in_an_allowed_channel(sb: SimBot) -> None:
    shared = sb.ask("capacity --share", **IN_TEAM, user_id=ANN)
    assert shared["response_type"] == "in_channel" and not shared["text"].startswith(":no_entry:")
    refused = sb.ask("capacity --share", **{**IN_TEAM, "channel_id": RANDOM}, user_id=ANN)
    assert refused["response_type"] == "ephemeral" and "access.reads.channels" in refused["text"]
    not_a_read = sb.ask("history --share", **IN_TEAM, user_id=ANN)
    assert not_a_read["response_type"] == "ephemeral" and "--share posts read answers only" in _text(not_a_read)


def test_requests_and_digests_for_those_the_rules_name(sb: SimBot) -> None:
    request = sb.ask('set WARM_IP_TARGET=2 --reason "more headroom"', **IN_TEAM, user_id=LEAD)
    assert "access." not in request["text"], request["text"]
    digest = sb.ask("digest subscribe daily 09:00", **IN_TEAM, user_id=ANN)
    assert digest["text"].startswith(":white_check_mark: Subscribed"), digest["text"]


def test_slack_down_reads_use_cached_groups_and_say_so_requests_fail_closed(sb: SimBot, fake_slack: FakeSlack) -> None:
    now = [0.0]
    services = sb.bot.cnibot.services
    bolt = sb.bot.cnibot.bolt
    assert bolt is not None
    services.access = AccessGate(for_client(bolt.client, clock=lambda: now[0]))
    first = sb.ask("capacity", **IN_TEAM, user_id=ANN)
    assert "cache" not in _text(first)
    request = sb.ask('set WARM_IP_TARGET=2 --reason "more headroom"', **IN_TEAM, user_id=ONCALL)
    assert "access." not in request["text"], request["text"]  # a member of the requests rule's group
    now[0] += 3600  # the cached members are an hour old: Slack is asked again, and fails
    fake_slack.fail_next("usergroups.users.list", status=500, times=20)
    stale = sb.ask("capacity", **IN_TEAM, user_id=ANN)
    assert not stale["text"].startswith(":no_entry:") and "from cnibot's cache" in _text(stale)
    closed = sb.ask('set WARM_IP_TARGET=3 --reason "more headroom"', **IN_TEAM, user_id=ONCALL)
    assert closed["text"].startswith(":no_entry: Not requested") and "fail closed" in closed["text"]
    refused = sb.ask("config --cluster prod", **{**IN_TEAM, "channel_id": PROD_CHANNEL}, user_id=SRE)
    assert "could not be asked" in _text(refused)  # never known, Slack down: not a member


def test_history_and_change_requests_show_only_clusters_the_caller_may_read(sb: SimBot) -> None:
    filed = sb.ask('set WARM_IP_TARGET=2 --reason "more headroom"', **IN_TEAM, user_id=LEAD)
    change_id = re.search(r"change #?(\d+)", filed["text"])
    assert change_id is not None, filed["text"]
    sb.bot.slack.wait_for(lambda s: [r for r in sb.bot.cnibot.services.history.recent_commands() if r.user_id == LEAD])

    outsider = {**IN_TEAM, "channel_id": RANDOM, "user_id": BOB}
    shown = sb.ask(f"change {change_id.group(1)}", **outsider)
    assert shown["text"].startswith(":no_entry: Not answered") and "WARM_IP_TARGET" not in _text(shown)
    listed = sb.ask("changes", **outsider)
    assert "WARM_IP_TARGET" not in _text(listed)
    history = sb.ask("history", **outsider)
    assert "WARM_IP_TARGET" not in _text(history)  # the request's row is about a cluster Bob may not read

    assert "WARM_IP_TARGET" in _text(sb.ask("changes", **IN_TEAM, user_id=LEAD))
    assert "WARM_IP_TARGET" in _text(sb.ask("history", **IN_TEAM, user_id=LEAD))


def test_the_request_form_is_held_to_the_requests_rule(sb: SimBot) -> None:
    """The "Request this change" button under a why-pending answer: its form's submission is a request."""
    value = json.dumps({"kind": "aws-node-env", "env": {"WARM_IP_TARGET": "2"}, "pod": "default/x", "cause": "X"})
    element = {
        "type": "button",
        "action_id": "request_change",
        "value": value,
        "text": {"type": "plain_text", "text": "Request"},
    }
    click = {
        "type": "block_actions",
        "user": {"id": ANN, "name": "ann"},
        "team": {"id": HOME},
        "enterprise": {"id": ORG},
        "channel": {"id": TEAM_CHANNEL},
        "api_app_id": "A0CNIBOT",
        "token": "legacy-unused",
        "trigger_id": f"{time.time_ns()}.trigger",
        "response_url": sb.bot.slack.response_url("form"),
        "container": {"type": "message", "message_ts": "1.1", "channel_id": TEAM_CHANNEL},
        "actions": [{**element, "block_id": "b1", "action_ts": "1.2"}],
    }
    assert sb.bot.action(click).status_code == 200
    (opened,) = sb.bot.slack.wait_for(lambda s: s.api_calls("views.open"))
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    values = {
        "settings": {"value": {"type": "plain_text_input", "value": "WARM_IP_TARGET=2"}},
        "duration": {"value": {"type": "plain_text_input", "value": None}},
        "reason": {"value": {"type": "plain_text_input", "value": "pods pending"}},
    }
    before = sb.sim.counter.snapshot()
    submission = {
        "type": "view_submission",
        "user": {"id": ANN, "username": "ann", "team_id": HOME},
        "team": {"id": HOME},
        "enterprise": {"id": ORG},
        "api_app_id": "A0CNIBOT",
        "token": "legacy-unused",
        "trigger_id": f"{time.time_ns()}.trigger",
        "view": {**view, "id": "V1", "state": {"values": values}},
    }
    assert sb.bot.action(submission).status_code == 200
    (note,) = sb.bot.slack.wait_for(lambda s: s.api_calls("chat.postEphemeral"))
    assert (
        note.args["user"] == ANN
        and "Not requested" in str(note.args["text"])
        and "access.requests" in str(note.args["text"])
    )
    assert sb.sim.counter.snapshot() == before
    assert sb.bot.cnibot.services.repos.changes.recent(limit=5) == []
