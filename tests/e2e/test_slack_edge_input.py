"""Input at the Slack edge (issue 13, items 8, 9): user text stays inert in mrkdwn, and every message the bot
sends passes the strict fake Slack, which refuses what Slack refuses (`invalid_blocks`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bot.changes.interactions import ENV, FORM_CALLBACK, Proposal, request_form
from bot.domain.changes import Status
from simulator.block_kit import block_problems
from tests.e2e.test_changes import (
    APPROVERS_CHANNEL,
    approval_message,
    button,
    click,
    make_bot,  # noqa: F401  (the fixture)
    request,
    service,
    text_of,
    wait_for,
    wait_status,
)
from tests.support.simbot import SimBot

HOSTILE = "<!channel> urgent <https://evil.example/x|slack.com/approve> & <@U0BOSS>"


def _submit_form(sb: SimBot, settings: str, reason: str) -> None:
    view = request_form(Proposal(ENV), channel="C0OPS")
    values = {
        "settings": {"value": {"type": "plain_text_input", "value": settings}},
        "duration": {"value": {"type": "plain_text_input", "value": None}},
        "reason": {"value": {"type": "plain_text_input", "value": reason}},
    }
    payload: dict[str, Any] = {
        "type": "view_submission",
        "user": {"id": "U0ALICE", "username": "alice"},
        "team": {"id": "T0TEAM"},
        "api_app_id": "A0CNIBOT",
        "token": "legacy-unused",
        "trigger_id": f"{time.time_ns()}.trigger",
        "view": {**view, "id": "V1", "callback_id": FORM_CALLBACK, "state": {"values": values}},
    }
    assert sb.bot.action(payload).status_code == 200


def test_reason_from_the_form_cannot_mention_or_link_in_the_approvers_channel(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot()
    _submit_form(sb, "WARM_IP_TARGET=3", HOSTILE)
    record = wait_for(lambda: service(sb).repo.recent(limit=1), what="the request from the form")[0]
    assert record.reason == HOSTILE  # stored as typed; only its rendering is made inert
    posted = approval_message(sb.bot.slack, record.id).args
    everything = json.dumps(posted)
    for live in ("<!channel>", "<https://evil", "<@U0BOSS>"):
        assert live not in everything, live
    assert "&lt;!channel&gt; urgent &lt;https://evil.example/x|slack.com/approve&gt; &amp; &lt;@U0BOSS&gt;" in (
        text_of(posted)
    )
    # The requester's own mention, written by the bot, still works.
    assert "*Requested by* <@U0ALICE>" in text_of(posted)


def test_values_typed_in_set_are_inert_in_the_diff_and_the_confirm_dialog(
    make_bot: Callable[..., SimBot],  # noqa: F811
) -> None:
    sb = make_bot()
    change_id, answer = request(sb, 'set \'ADDITIONAL_ENI_TAGS={"x":"<!here>"}\' --reason tags')
    assert "<!here>" not in answer and "&lt;!here&gt;" in answer
    message = approval_message(sb.bot.slack, change_id)
    assert "<!here>" not in json.dumps(message.args)
    assert "&lt;!here&gt;" in button(message, "change_approve")["confirm"]["text"]["text"]


def test_a_long_diff_still_gets_an_approvable_message(make_bot: Callable[..., SimBot]) -> None:  # noqa: F811
    sb = make_bot()
    cidrs = ",".join(f"10.{i}.0.0/16" for i in range(100, 120))
    change_id, _ = request(sb, f'set AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS={cidrs} --reason "{"r" * 290}"')
    message = approval_message(sb.bot.slack, change_id)
    assert not sb.bot.slack.refused, sb.bot.slack.refused
    confirm = button(message, "change_approve")["confirm"]["text"]["text"]
    assert len(confirm) <= 300 and confirm.endswith("…")
    click(sb, change_id, "U0BOB")
    assert wait_status(sb, change_id, {Status.VERIFIED, Status.FAILED}).status is Status.VERIFIED
    assert message.args["channel"] == APPROVERS_CHANNEL


def test_the_fake_slack_refuses_what_slack_refuses() -> None:
    button_el = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "a", "value": "1"}
    confirm = {
        "title": {"type": "plain_text", "text": "Sure?"},
        "text": {"type": "mrkdwn", "text": "x" * 301},
        "confirm": {"type": "plain_text", "text": "Go"},
        "deny": {"type": "plain_text", "text": "No"},
    }
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    assert block_problems([section]) == []
    assert block_problems([{"type": "actions", "elements": [{**button_el, "confirm": confirm}]}])
    assert block_problems([{"type": "actions", "elements": [{**button_el, "value": "v" * 2001}]}])
    assert block_problems([section] * 51)
    assert block_problems([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}])
    assert block_problems([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert block_problems([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
