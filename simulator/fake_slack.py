"""A fake Slack Web API on loopback, and a request signer that signs like Slack.

It records every call (Web API methods and response_url deliveries) so tests and benchmarks can assert on
what the bot sent, and it can answer chosen calls with 429 (Retry-After) or 500 to exercise retries. It is
strict where Slack is: blocks or views that Slack would refuse get `invalid_blocks` (simulator/block_kit.py);
`refused` lists them with the reasons. Given a workspace (simulator/slack_workspace.py) it also refuses unknown
channels and users and methods whose scope the app lacks. Listeners see every call with its answer: the
console (simulator/console/) builds its channels from them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

from simulator.block_kit import block_problems, view_problems
from simulator.slack_workspace import Workspace

Listener = Callable[["Call", dict[str, Any]], None]


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request body: v0 HMAC-SHA256 over "v0:<ts>:<body>"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    text: str,
    *,
    response_url: str,
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    channel_id: str = "C0GENERAL",
    team_id: str = "T0TEAM",
    trigger_id: str | None = None,
    command: str = "/cni",
    channel_name: str = "general",
    enterprise_id: str | None = None,
) -> str:
    # Enterprise Grid requests carry the org's id; other workspaces' requests have no such field.
    grid = {"enterprise_id": enterprise_id} if enterprise_id else {}
    return urlencode(
        {
            **grid,
            "token": "legacy-unused",
            "team_id": team_id,
            "team_domain": "example",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": "A0CNIBOT",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{time.time_ns()}.trigger",
        }
    )


@dataclass
class Call:
    path: str
    method: str  # Web API method ("chat.postMessage") or "" for a response_url delivery
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    def __init__(self, workspace: Workspace | None = None) -> None:
        self.workspace = workspace
        self.listeners: list[Listener] = []
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes uploaded to its upload URL
        self._posted: set[tuple[str, str]] = set()  # (channel, ts) of messages posted, for chat.update
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._failures: list[tuple[str, int, int]] = []  # (method or path prefix, status, retry_after)
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self.refused: list[tuple[Call, list[str]]] = []  # calls answered invalid_blocks, and why
        # usergroups.users.list answers from here: user group id -> member user ids (unknown groups: no members).
        self.usergroups: dict[str, list[str]] = {}
        self.url = ""

    # --- control -------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeSlack:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "") -> str:
        team = self.workspace.team_id if self.workspace else "T0TEAM"
        return f"{self.url}/commands/{team}/{name or next(self._ts)}"

    def fail_next(self, target: str, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls of a method (or response_url path prefix) with `status`."""
        with self._lock:
            self._failures.extend([(target, status, retry_after)] * times)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self.refused.clear()
            self.usergroups = {}

    # --- queries -------------------------------------------------------------------------------------
    def api_calls(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def deliveries(self, path_prefix: str = "") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if not c.method and c.path.startswith(path_prefix)]

    def wait_for(self, predicate: Callable[[FakeSlack], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("fake Slack: condition not met in time")
            time.sleep(0.01)

    # --- serving ------------------------------------------------------------------------------------
    def _take_failure(self, key: str) -> tuple[int, int] | None:
        with self._lock:
            for i, (target, status, retry_after) in enumerate(self._failures):
                if key == target or (target.startswith("/") and key.startswith(target)):
                    del self._failures[i]
                    return status, retry_after
        return None

    def _problems(self, method: str, args: dict[str, Any]) -> list[str]:
        """What Slack would refuse in this call's blocks or view (a response_url delivery has method "")."""
        if method in ("", "chat.postMessage", "chat.update", "chat.postEphemeral") and "blocks" in args:
            return block_problems(args["blocks"])
        if method in ("views.open", "views.update", "views.push"):
            return view_problems(args.get("view"))
        return []

    def _notify(self, call: Call, answer: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(call, answer)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        ws = self.workspace
        if ws is not None:
            error = ws.refusal(method, args)
            if (
                error is None
                and method == "chat.update"
                and (str(args.get("channel")), str(args.get("ts"))) not in (self._known_messages(args))
            ):
                error = "message_not_found"
            if error:
                return {"ok": False, "error": error}
        channel = args.get("channel", "C0GENERAL")
        if ws is not None and (found := ws.channel(str(channel))) is not None:
            channel = found.id  # Slack answers with the id also when addressed by #name
        if method == "auth.test":
            if ws is not None:
                return {"ok": True, "team_id": ws.team_id, "user_id": ws.bot_user_id, "bot_id": ws.bot_id}
            return {"ok": True, "team_id": "T0TEAM", "user_id": "U0CNIBOT", "bot_id": "B0CNIBOT", "team": "example"}
        if method == "chat.postMessage":
            with self._lock:
                self._posted.add((str(channel), ts))
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return {"ok": True, "channel": channel, "ts": args.get("ts", ts), "message_ts": ts}
        if method == "chat.getPermalink":
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"{self.url}/archives/{channel}/p{args.get('message_ts')}",
            }
        if method in ("views.open", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **(args.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{fid}", "file_id": fid}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"]} for f in _json_list(args.get("files"))]}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup") or "")
            with self._lock:
                members = self.usergroups.get(group)  # set by a test; else the workspace's groups
            if members is None:
                members = list(ws.usergroups.get(group, ())) if ws is not None else []
            return {"ok": True, "users": list(members)}
        if method == "users.info":
            user = ws.user(str(args.get("user"))) if ws is not None else None
            return {"ok": True, "user": {"id": args.get("user"), "name": user.name if user else "someone"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D0DIRECT"}}
        return {"ok": True}

    def _known_messages(self, args: dict[str, Any]) -> set[tuple[str, str]]:
        ws = self.workspace
        channel = ws.channel(str(args.get("channel"))) if ws is not None else None
        with self._lock:
            posted = set(self._posted)
        if channel is not None:  # addressed by #name: compare by id
            posted |= {(str(args.get("channel")), ts) for ch, ts in posted if ch == channel.id}
        return posted


def _json_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go in separate writes; without this, Nagle + delayed ACK cost ~40 ms a call.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            ctype = self.headers.get("Content-Type", "")
            args: dict[str, Any]
            if "json" in ctype:
                try:
                    args = json.loads(raw or b"{}")
                except ValueError:
                    args = {"_raw": raw.decode(errors="replace")}
            elif "x-www-form-urlencoded" in ctype:
                args = dict(parse_qsl(raw.decode("utf-8", errors="replace")))
            elif self.path.startswith("/upload/"):
                # The upload step of files upload v2: the file itself is the body.
                args = {"_bytes": len(raw)}
                with fake._lock:
                    fake.uploads[self.path.removeprefix("/upload/")] = raw
            elif "multipart" in ctype:
                # Binary uploads (files_upload_v2 sends the file as multipart form data): keep the size only.
                args = {"_bytes": len(raw), "_multipart": True}
            else:
                args = {"_bytes": len(raw)}
            method = self.path[len("/api/") :].split("?")[0] if self.path.startswith("/api/") else ""
            headers = {k.lower(): v for k, v in self.headers.items()}
            call = Call(self.path, method, args, headers)
            with fake._lock:
                fake.calls.append(call)
            failure = fake._take_failure(method or self.path)
            if failure:
                status, retry_after = failure
                body = json.dumps({"ok": False, "error": "ratelimited" if status == 429 else "internal_error"})
                self._send(status, body, {"Retry-After": str(retry_after)} if status == 429 else {})
                return
            problems = fake._problems(method, args)
            if problems:
                with fake._lock:
                    fake.refused.append((call, problems))
                refusal = {"ok": False, "error": "invalid_blocks", "errors": problems}
                fake._notify(call, refusal)
                if method:
                    self._send(200, json.dumps(refusal))
                else:  # response_url: Slack answers 400 with the error as plain text
                    self._send(400, "invalid_blocks", content_type="text/plain")
                return
            if not method:
                fake._notify(call, {"ok": True})
                self._send(200, "ok", content_type="text/plain")
                return
            answer = fake._answer(method, args)
            if not answer.get("ok"):
                with fake._lock:
                    fake.refused.append((call, [str(answer.get("error"))]))
            fake._notify(call, answer)
            self._send(200, json.dumps(answer))

        def _send(
            self,
            status: int,
            body: str,
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler
