"""The requests Slack sends an app, built as Slack builds them: slash commands, block_actions and
view_submission payloads (form-encoded; interactive payloads as JSON in the `payload` field)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from simulator.console.timeline import Message, OpenView
from simulator.slack_workspace import Channel, User, Workspace


def slash_command(ws: Workspace, channel: Channel, user: User, text: str, *, response_url: str, trigger: str) -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": ws.team_id,
            "team_domain": ws.team_domain,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": "/cni",
            "text": text,
            "api_app_id": ws.app_id,
            "response_url": response_url,
            "trigger_id": trigger,
        }
    )


def _user(ws: Workspace, user: User) -> dict[str, str]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def block_actions(
    ws: Workspace,
    user: User,
    message: Message,
    element: dict[str, Any],
    block_id: str,
    *,
    response_url: str,
    trigger: str,
) -> str:
    container: dict[str, Any] = {"type": "message", "message_ts": message.key, "channel_id": message.channel}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(ws, user),
        "api_app_id": ws.app_id,
        "token": "legacy-unused",
        "container": container,
        "trigger_id": trigger,
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "channel": {"id": message.channel},
        "response_url": response_url,
        # A block the app sent without an id gets one from Slack.
        "actions": [{**element, "block_id": block_id or "console-block", "action_ts": f"{time.time():.6f}"}],
    }
    if message.visible_to:
        container["is_ephemeral"] = True  # Slack sends no `message` for an ephemeral one
    else:
        payload["message"] = {"type": "message", "ts": message.key, "text": message.text, "blocks": message.blocks}
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    ws: Workspace, user: User, view: OpenView, values: dict[str, dict[str, str]], *, trigger: str
) -> str:
    """`values`: block_id -> {action_id: typed text}; an empty field is sent as null, as Slack does."""
    state = {
        block_id: {action_id: {"type": "plain_text_input", "value": text or None} for action_id, text in fields.items()}
        for block_id, fields in values.items()
    }
    payload = {
        "type": "view_submission",
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "user": _user(ws, user),
        "api_app_id": ws.app_id,
        "token": "legacy-unused",
        "trigger_id": trigger,
        "view": {**view.view, "id": view.id, "team_id": ws.team_id, "state": {"values": state}},
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def find_element(message: Message, block_id: str, action_id: str) -> dict[str, Any] | None:
    """The button a click names, looked up in the message as the console shows it (never taken from the
    browser: the page only says which one was clicked)."""
    for b in message.blocks:
        if str(b.get("block_id", "")) != block_id:
            continue
        candidates = list(b.get("elements") or []) + ([b["accessory"]] if isinstance(b.get("accessory"), dict) else [])
        for el in candidates:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return dict(el)
    return None
