"""The console as the strict fake Slack, over real HTTP: it refuses what Slack refuses in its workspace and
says why on its page; it plays Slack to a running bot (`cnibot console --bot-url`) with signed requests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.web import BackgroundServer
from simulator.console.app import Console
from simulator.slack_workspace import Workspace
from tests.support.bot import RunningBot

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def console_for() -> Iterator[Callable[..., tuple[Console, str]]]:
    started: list[tuple[Console, BackgroundServer]] = []

    def make(bot_url: str = "http://127.0.0.1:9", secret: str = "s", workspace: Workspace | None = None) -> Any:
        console = Console(bot_url, secret, workspace=workspace).start_slack()
        page = BackgroundServer(console.web).start()
        started.append((console, page))
        return console, page.url

    yield make
    for console, page in started:
        page.stop()
        console.close()


def state(page_url: str, channel: str, user: str) -> dict[str, Any]:
    resp = httpx.get(f"{page_url}/state", params={"channel": channel, "user": user})
    assert resp.status_code == 200
    data: dict[str, Any] = resp.json()
    return data


def slack_error(call: Callable[[], Any]) -> str:
    with pytest.raises(SlackApiError) as err:
        call()
    return str(err.value.response["error"])


def test_refuses_what_slack_refuses_and_shows_why(console_for: Callable[..., tuple[Console, str]]) -> None:
    console, page = console_for()
    web = WebClient(token="xoxb-console", base_url=console.api_url)

    assert slack_error(lambda: web.chat_postMessage(channel="C0NOPE", text="hi")) == "channel_not_found"
    assert slack_error(lambda: web.chat_postEphemeral(channel="C0GENERAL", user="U0NOBODY", text="x")) == (
        "user_not_found"
    )
    assert slack_error(lambda: web.chat_update(channel="C0GENERAL", ts="1.000001", text="x")) == "message_not_found"
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert slack_error(lambda: web.chat_postMessage(channel="C0GENERAL", text="x", blocks=[header])) == (
        "invalid_blocks"
    )

    shown = state(page, "C0GENERAL", "U0ALICE")["refusals"]
    assert "Slack refused <b>chat.postMessage</b>: channel_not_found" in shown
    assert "invalid_blocks: blocks[0].text: must be 1 to 150 characters (was 151)" in shown

    # Accepted: by #name (answered with the id), a direct message by user id, then an update of it.
    posted = web.chat_postMessage(channel="#cni-approvals", text="*first*")
    assert posted["channel"] == "C0APPROVE"
    web.chat_postMessage(channel="U0BOB", text="just for bob")
    web.chat_update(channel="C0APPROVE", ts=posted["ts"], text="*second*")
    seen = state(page, "C0APPROVE", "U0DAVE")["messages"]
    assert "<b>second</b>" in seen and "first" not in seen
    assert "just for bob" in state(page, "U0BOB", "U0BOB")["messages"]


def test_a_scope_the_app_lacks_and_uploaded_charts(console_for: Callable[..., tuple[Console, str]]) -> None:
    no_files = replace(Workspace(), scopes=("commands", "chat:write"))
    console, _ = console_for(workspace=no_files)
    web = WebClient(token="xoxb-console", base_url=console.api_url)
    assert slack_error(lambda: web.files_getUploadURLExternal(filename="c.png", length=10)) == "missing_scope"
    assert slack_error(lambda: web.users_info(user="U0BOB")) == "missing_scope"

    console, page = console_for()
    web = WebClient(token="xoxb-console", base_url=console.api_url)
    posted = web.chat_postMessage(channel="C0CAPACITY", text="digest")
    ticket = web.files_getUploadURLExternal(filename="c.png", length=len(PNG))
    assert httpx.post(str(ticket["upload_url"]), content=PNG, headers={"Content-Type": "image/png"}).status_code == 200
    web.files_completeUploadExternal(
        files=[{"id": ticket["file_id"], "title": "IPs in use"}], channel_id="C0CAPACITY", thread_ts=posted["ts"]
    )
    messages = state(page, "C0CAPACITY", "U0ALICE")["messages"]
    assert f'src="/files/{ticket["file_id"]}"' in messages and "IPs in use" in messages
    image = httpx.get(f"{page}/files/{ticket['file_id']}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content == PNG
    assert httpx.get(f"{page}/files/F0NONE").status_code == 404
    assert web.users_info(user="U0BOB")["user"]["name"] == "bob"


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_plays_slack_for_a_running_bot(
    console_for: Callable[..., tuple[Console, str]], bot_factory: Callable[..., RunningBot]
) -> None:
    """`cnibot console --bot-url`: the bot is told the console's Web API URL; nothing else is special."""
    console, page = console_for(secret="test-signing-secret")
    bot = bot_factory(slack_api_url=console.api_url)
    console.bot_url = bot.url
    ws = console.workspace
    command, alice, bob = ws.channel_by_role("command"), ws.user_by_role("requester"), ws.user_by_role("approver 1")

    console.send(command, alice, "/cni help")
    help_text = wait_for(lambda: "why-pending" in (s := state(page, command.id, alice.id)["messages"]) and s)
    assert "Only visible to you" in help_text and "/cni help" in help_text
    assert "why-pending" not in state(page, command.id, bob.id)["messages"]

    console.send(command, alice, "hello")
    assert "Only /cni commands reach cnibot" in state(page, command.id, alice.id)["messages"]

    wrong = Console(bot.url, "not-the-secret", workspace=ws)
    try:
        wrong.send(command, alice, "/cni help")
        notes = [m.text for m in wrong.timeline.visible(command.id, alice.id)]
        assert any("cnibot answered HTTP 401" in n for n in notes), notes
    finally:
        wrong.close()


def test_the_page_acts_only_for_people_and_channels_of_its_workspace(
    console_for: Callable[..., tuple[Console, str]],
) -> None:
    _, page = console_for()
    assert httpx.get(page, params={"channel": "C0GENERAL", "user": "U0NOBODY"}).status_code == 404
    assert httpx.get(page, params={"channel": "C0NOPE", "user": "U0ALICE"}).status_code == 404
    stranger = {"channel": "C0GENERAL", "user": "U0NOBODY", "text": "/cni help"}
    assert httpx.post(f"{page}/send", json=stranger).status_code == 404
    nowhere = {"channel": "C0NOPE", "user": "U0ALICE", "text": "/cni help"}
    assert httpx.post(f"{page}/send", json=nowhere).status_code == 404
    shown = httpx.get(page, params={"channel": "C0GENERAL", "user": "U0BOB"}).text
    assert 'data-user="U0BOB"' in shown and "bob (approver 1)" in shown and "# cni-approvals" in shown


def test_cnibot_console_needs_the_secret_and_a_loopback_bot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main as cli_main

    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("CNIBOT_SLACK_SIGNING_SECRET", raising=False)
    assert cli_main(["console", "--bot-url", "http://127.0.0.1:3000"]) == 2
    assert "set SLACK_SIGNING_SECRET" in capsys.readouterr().out
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    assert cli_main(["console", "--bot-url", "http://bot.example.com:3000"]) == 2
    assert "must be on loopback" in capsys.readouterr().out
