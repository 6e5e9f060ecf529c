"""Operations, on a real `cnibot serve` process: JSON logs (one event per request, correlation id, no secrets),
Prometheus metrics, and a graceful shutdown that lets in-flight requests and acked command work finish."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.server import DRAIN_SECONDS, wait_all
from bot.slack_app import correlation_id_for
from simulator.fake_slack import FakeSlack, sign, slash_command_body

SIGNING_SECRET = "ops-signing-secret-0d6f1c"
BOT_TOKEN = "xoxb-111-222-opsbottoken"
APP_TOKEN = "xapp-1-A0OPS-333-appleveltoken"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYOPSSECRET"
DB_PASSWORD = "pg-Pa55-for-ops-test"
SECRETS = (SIGNING_SECRET, BOT_TOKEN, APP_TOKEN, AWS_SECRET, DB_PASSWORD)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServeProcess:
    """`cnibot serve` in a child process on a loopback port; its stderr (the logs) collected as lines."""

    proc: subprocess.Popen[str]
    url: str
    stderr: list[str] = field(default_factory=list)

    def slash(self, slack: FakeSlack, text: str, trigger: str) -> tuple[httpx.Response, str]:
        response_url = slack.response_url(trigger)
        body = slash_command_body(text, response_url=response_url, trigger_id=trigger)
        resp = httpx.post(f"{self.url}/slack/events", content=body, headers=sign(SIGNING_SECRET, body), timeout=10)
        return resp, response_url.removeprefix(slack.url)

    def stop(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def log_events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr if line.strip()]


def _drain_into(stream: IO[str], lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


@contextmanager
def cnibot_serve(env: dict[str, str], cwd: Path) -> Iterator[ServeProcess]:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_", "AWS_"))}
    clean.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=clean,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = ServeProcess(proc, f"http://127.0.0.1:{port}")
    assert proc.stderr is not None
    reader = threading.Thread(target=_drain_into, args=(proc.stderr, served.stderr), daemon=True)
    reader.start()
    try:
        _wait_healthy(served)
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(5)
        proc.stderr.close()


def _wait_healthy(served: ServeProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise AssertionError("cnibot serve exited early:\n" + "".join(served.stderr))
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("cnibot serve did not come up:\n" + "".join(served.stderr))


def _base_env(slack: FakeSlack, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "CNIBOT_SLACK_API_URL": slack.api_url,
        "CNIBOT_DATABASE_URL": database_url,
        "CNIBOT_LOG_FORMAT": "json",
        "CNIBOT_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.slow
def _handled(metrics: str) -> float:
    """How many slash commands the metrics count as handled."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("cnibot_commands_total{") and 'source="slack"' in line
    )


def test_json_logs_one_event_per_request_with_correlation_id_and_no_secrets(
    fake_slack: FakeSlack, pg_url: str, tmp_path: Path
) -> None:
    database_url = make_url(pg_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    env = {
        **_base_env(fake_slack, database_url),
        "SLACK_APP_TOKEN": APP_TOKEN,
        "AWS_ACCESS_KEY_ID": "AKIAOPSTEST000000001",
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "CNIBOT_AUTO_MIGRATE": "true",
    }
    requests = {"help": "T-help-1", "history --limit 3": "T-history-2", "histroy": "T-typo-3"}
    with cnibot_serve(env, tmp_path) as served:
        paths = {}
        for text, trigger in requests.items():
            resp, paths[text] = served.slash(fake_slack, text, trigger)
            assert resp.status_code == 200
        fake_slack.wait_for(lambda s: s.deliveries(paths["history --limit 3"]), timeout=10)
        # Commands are counted once handled, after their answers: wait until all three are, then read.
        metrics = fake_slack.wait_for(
            lambda s: m if _handled(m := httpx.get(f"{served.url}/metrics", timeout=5).text) >= 3 else None,
            timeout=10,
        )
        assert served.stop() == 0

    raw = "".join(served.stderr)
    for secret in SECRETS:
        assert secret not in raw, f"a secret reached the logs: {secret[:6]}..."
    events = served.log_events()  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= set(e) for e in events)

    handled = [e for e in events if e["msg"] == "command handled"]
    assert sorted(e["cid"] for e in handled) == sorted(
        correlation_id_for({"trigger_id": trigger}) for trigger in requests.values()
    )
    by_cid = {e["cid"]: e for e in handled}
    history = by_cid[correlation_id_for({"trigger_id": "T-history-2"})]
    assert history["command"] == "history" and history["outcome"] == "ok" and history["user"] == "U0ALICE"
    assert isinstance(history["ms"], float)
    assert by_cid[correlation_id_for({"trigger_id": "T-typo-3"})]["outcome"] == "user_error"

    # One start line with what an operator needs; the database URL in it has its password masked.
    (starting,) = [e for e in events if " serving " in e["msg"]]
    assert starting["msg"].count(":***@") == 1 and "jobs scheduled" in starting["msg"]
    assert any(e["msg"] == "stopped" for e in events)

    assert 'cnibot_commands_total{command="history",outcome="ok",source="slack"} 1.0' in metrics
    assert 'cnibot_commands_total{command="unknown",outcome="user_error",source="slack"} 1.0' in metrics
    assert "cnibot_slack_ack_seconds_count 3.0" in metrics
    for family in ("approvals", "change_applies", "rollbacks", "digests_sent", "eks_tokens_minted"):
        assert f"# TYPE cnibot_{family}_total counter" in metrics


@pytest.mark.slow
def test_sigterm_lets_in_flight_requests_and_acked_work_finish(fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = _base_env(fake_slack, f"sqlite:///{tmp_path / 'ops.db'}")
    with cnibot_serve(env, tmp_path) as served:
        # Command work still running at SIGTERM: Slack rate-limits its answer, so it waits 2 s and retries.
        fake_slack.fail_next(fake_slack.response_url("T-work").removeprefix(fake_slack.url), retry_after=2)
        resp, work_path = served.slash(fake_slack, "history", "T-work")
        assert resp.status_code == 200
        fake_slack.wait_for(lambda s: s.deliveries(work_path), timeout=10)  # first attempt: 429

        # A request in flight at SIGTERM: headers sent, body not yet.
        slow_path = fake_slack.response_url("T-slow").removeprefix(fake_slack.url)
        body = slash_command_body("history --limit 2", response_url=fake_slack.url + slow_path, trigger_id="T-slow")
        in_flight = _start_request(served.url, "/slack/events", sign(SIGNING_SECRET, body), body.encode())
        in_flight.send_head_and(body.encode()[: len(body) // 2])
        time.sleep(0.2)  # the server has parsed the headers: the request is in flight

        signalled = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        _wait_refused(served.url)  # no new connections once stopping
        in_flight.send_rest()
        status, reply = in_flight.read_response()
        assert status == 200, reply
        assert served.proc.wait(40) == 0

    deliveries = fake_slack.deliveries(work_path)
    assert len(deliveries) == 2 and deliveries[1].at > signalled  # answered after the retry, during the drain
    assert len(fake_slack.deliveries(slow_path)) == 1  # the in-flight request's work ran too
    events = served.log_events()
    (stopped,) = [e for e in events if e["msg"].startswith("stopped")]
    assert stopped["msg"] == "stopped" and stopped["seconds"] < DRAIN_SECONDS  # all finished within the budget
    handled = [e for e in events if e["msg"] == "command handled"]
    assert len(handled) == 2 and {e["outcome"] for e in handled} == {"ok"}


def test_the_drain_stops_waiting_at_its_deadline() -> None:
    release = threading.Event()

    def stuck() -> None:
        release.wait(5)

    started = time.monotonic()
    unfinished = wait_all({"quick": lambda: None, "stuck": stuck}, started + 0.3)
    release.set()
    assert unfinished == ["stuck"]
    assert 0.25 < time.monotonic() - started < 2


# --- a raw HTTP client that can pause mid-request -------------------------------------------------------
@dataclass
class _RawRequest:
    sock: socket.socket
    head: bytes
    body: bytes
    sent: int = 0

    def send_head_and(self, part: bytes) -> None:
        self.sock.sendall(self.head + part)
        self.sent = len(part)

    def send_rest(self) -> None:
        self.sock.sendall(self.body[self.sent :])

    def read_response(self) -> tuple[int, str]:
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        length = next(
            (int(v) for k, _, v in (x.partition(": ") for x in lines[1:]) if k.lower() == "content-length"), 0
        )
        while len(rest) < length:
            rest += self._recv()
        self.sock.close()
        return int(lines[0].split()[1]), rest.decode()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before the response was complete")
        return chunk


def _start_request(url: str, path: str, headers: dict[str, str], body: bytes) -> _RawRequest:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return _RawRequest(sock, ("\r\n".join(lines) + "\r\n\r\n").encode(), body)


def _wait_refused(url: str, timeout: float = 5) -> None:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
        except OSError:
            return
        time.sleep(0.02)
    raise AssertionError("the server still accepts connections after SIGTERM")
