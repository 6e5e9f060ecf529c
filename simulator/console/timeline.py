"""What the console's channels hold: built only from what the bot sent to the fake Slack (Web API calls and
response_url deliveries), plus the commands people typed. Threads, ephemeral messages, open modals, and every
call Slack refused with the reason."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.fake_slack import Call


@dataclass
class Message:
    key: str  # the message ts Slack gave it (ephemeral ones get a console-only key)
    channel: str  # channel id, or a user id for the app's direct messages with that person
    text: str
    blocks: list[dict[str, Any]]
    author: str = ""  # a user id for what a person typed; "" for the bot
    thread_ts: str = ""
    visible_to: str = ""  # ephemeral: the only user who sees it
    files: list[tuple[str, str]] = field(default_factory=list)  # (file id, title) of uploaded images


@dataclass
class Reply:
    """Where a response_url points: the channel and user of the command or click that carried it."""

    channel: str
    user: str
    source: str = ""  # the message a clicked button was on, for replace_original/delete_original


@dataclass
class OpenView:
    id: str
    user: str
    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Refusal:
    method: str
    error: str
    reasons: list[str]
    at: float = field(default_factory=time.time)


def _json(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return default if value is None else value


class Timeline:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.views: dict[str, OpenView] = {}  # by view id
        self.refusals: list[Refusal] = []
        self.version = 0
        self._replies: dict[str, Reply] = {}  # response_url path -> where it answers
        self._triggers: dict[str, str] = {}  # trigger_id -> the user who clicked
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # --- what people do -----------------------------------------------------------------------------------
    def typed(self, channel: str, user: str, text: str) -> None:
        """A slash command as Slack shows it: to its author only."""
        with self._lock:
            self._add(Message(f"e{next(self._ids)}", channel, text, [], author=user, visible_to=user))

    def expect_reply(self, path: str, reply: Reply) -> None:
        with self._lock:
            self._replies[path] = reply

    def new_trigger(self, user: str) -> str:
        trigger = f"{time.time_ns()}.{next(self._ids)}.trigger"
        with self._lock:
            self._triggers[trigger] = user
        return trigger

    def note(self, channel: str, user: str, text: str) -> None:
        """A console notice (an ack's text, a refusal of the bot's endpoint) shown to one user."""
        with self._lock:
            self._add(Message(f"e{next(self._ids)}", channel, text, [], visible_to=user))

    def close_view(self, view_id: str) -> None:
        with self._lock:
            if self.views.pop(view_id, None) is not None:
                self.version += 1

    def view_errors(self, view_id: str, errors: dict[str, str]) -> None:
        with self._lock:
            if view_id in self.views:
                self.views[view_id].errors = errors
                self.version += 1

    # --- queries --------------------------------------------------------------------------------------------
    def find(self, key: str) -> Message | None:
        with self._lock:
            return next((m for m in self.messages if m.key == key), None)

    def visible(self, channel: str, user: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.visible_to in ("", user)]

    def view_of(self, user: str) -> OpenView | None:
        with self._lock:
            return next((v for v in reversed(self.views.values()) if v.user == user), None)

    # --- what the bot sent (a fake Slack listener) ------------------------------------------------------------
    def on_call(self, call: Call, answer: dict[str, Any]) -> None:
        with self._lock:
            if not answer.get("ok"):
                reasons = [str(r) for r in answer.get("errors") or []]
                self.refusals.append(Refusal(call.method or "response_url", str(answer.get("error")), reasons))
                self.version += 1
            elif not call.method and call.path.startswith("/commands/"):
                self._deliver(call.path, call.args)
            elif call.method in ("chat.postMessage", "chat.postEphemeral"):
                self._posted(call.method, call.args, answer)
            elif call.method == "chat.update":
                self._updated(call.args, answer)
            elif call.method in ("views.open", "views.push"):
                self._opened(call.args, answer)
            elif call.method == "files.completeUploadExternal":
                self._uploaded(call.args)

    def _add(self, message: Message) -> None:
        self.messages.append(message)
        self.version += 1

    def deliver(self, path: str, args: dict[str, Any]) -> None:
        """A message for a response_url (or an ack's body): in the channel of the command or click it answers."""
        with self._lock:
            self._deliver(path, args)

    def _deliver(self, path: str, args: dict[str, Any]) -> None:
        reply = self._replies.get(path)
        if reply is None:
            return
        blocks = _json(args.get("blocks"), [])
        source = self.find(reply.source) if reply.source else None
        if source is not None and args.get("delete_original") in (True, "true"):
            self.messages.remove(source)
            self.version += 1
            return
        if source is not None and args.get("replace_original") in (True, "true"):
            source.text, source.blocks = str(args.get("text") or ""), blocks
            self.version += 1
            return
        ephemeral = args.get("response_type") != "in_channel"
        key = f"e{next(self._ids)}" if ephemeral else f"{time.time():.6f}"
        visible_to = reply.user if ephemeral else ""
        self._add(Message(key, reply.channel, str(args.get("text") or ""), blocks, visible_to=visible_to))

    def _posted(self, method: str, args: dict[str, Any], answer: dict[str, Any]) -> None:
        ephemeral = method == "chat.postEphemeral"
        key = f"e{next(self._ids)}" if ephemeral else str(answer.get("ts"))
        self._add(
            Message(
                key,
                str(answer.get("channel") or args.get("channel")),
                str(args.get("text") or ""),
                _json(args.get("blocks"), []),
                thread_ts=str(args.get("thread_ts") or ""),
                visible_to=str(args.get("user")) if ephemeral else "",
            )
        )

    def _updated(self, args: dict[str, Any], answer: dict[str, Any]) -> None:
        message = self.find(str(args.get("ts")))
        if message is not None:
            message.text, message.blocks = str(args.get("text") or ""), _json(args.get("blocks"), [])
            self.version += 1

    def _opened(self, args: dict[str, Any], answer: dict[str, Any]) -> None:
        user = self._triggers.get(str(args.get("trigger_id")), "")
        view = answer.get("view") or {}
        self.views[str(view.get("id"))] = OpenView(str(view.get("id")), user, _json(args.get("view"), {}))
        self.version += 1

    def _uploaded(self, args: dict[str, Any]) -> None:
        files = [(str(f.get("id")), str(f.get("title") or "")) for f in _json(args.get("files"), [])]
        comment = str(args.get("initial_comment") or "")
        self._add(
            Message(
                f"{time.time():.6f}",
                str(args.get("channel_id")),
                comment,
                [],
                thread_ts=str(args.get("thread_ts") or ""),
                files=files,
            )
        )
