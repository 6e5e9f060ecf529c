"""A cnibot served over real HTTP on loopback, and a client that talks to it like Slack does."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.app import Cnibot, build_cnibot
from bot.config import load_settings
from bot.web import BackgroundServer
from commands.registry import Registry
from simulator.fake_slack import Call, FakeSlack, sign, slash_command_body


@dataclass
class SlashReply:
    status: int
    ack: dict[str, Any] | str | None
    response_url: str
    elapsed: float


@dataclass
class RunningBot:
    cnibot: Cnibot
    server: BackgroundServer
    slack: FakeSlack
    secret: str
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.http.close()
        self.server.stop()
        self.cnibot.services.connections.close()
        if self.cnibot.services.work is not None:
            self.cnibot.services.work.shutdown(wait=True)
        self.cnibot.services.repos.dispose()

    def post_signed(self, body: str, *, secret: str | None = None, timestamp: int | None = None) -> httpx.Response:
        headers = sign(secret or self.secret, body, timestamp)
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    def slash(self, text: str, **fields: Any) -> SlashReply:
        response_url = self.slack.response_url()
        body = slash_command_body(text, response_url=response_url, **fields)
        started = time.perf_counter()
        resp = self.post_signed(body)
        elapsed = time.perf_counter() - started
        ack: dict[str, Any] | str | None = None
        if resp.content:
            try:
                ack = resp.json()
            except ValueError:
                ack = resp.text
        return SlashReply(resp.status_code, ack, response_url, elapsed)

    def answer(self, reply: SlashReply, timeout: float = 10.0) -> dict[str, Any]:
        """The message delivered to the reply's response_url (waits for the lazy work)."""
        path = reply.response_url.removeprefix(self.slack.url)
        calls: list[Call] = self.slack.wait_for(lambda s: s.deliveries(path), timeout=timeout)
        return calls[0].args

    def action(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post_signed(body)


def start_bot(
    settings: dict[str, Any], slack: FakeSlack, secret: str, *, registry: Registry | None = None
) -> RunningBot:
    cnibot = build_cnibot(load_settings(**settings), registry=registry)
    server = BackgroundServer(cnibot.web).start()
    return RunningBot(cnibot, server, slack, secret, httpx.Client(timeout=10))
