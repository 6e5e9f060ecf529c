"""What Slack refuses in Block Kit, for the fake Slack: it answers `invalid_blocks` as Slack does.

Written from Slack's Block Kit reference (limits per element type), independently of the bot's own limits
in bot/render/block_limits.py, so that a wrong limit on the bot's side fails the tests.
"""

from __future__ import annotations

import json
from typing import Any

_TEXT_TYPES = {"plain_text", "mrkdwn"}


def _text(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in _TEXT_TYPES or not isinstance(obj.get("text"), str):
        return [f"{where}: not a text object"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    n = len(obj["text"])
    if n < 1 or n > limit:
        return [f"{where}: must be 1 to {limit} characters (was {n})"]
    return []


def _element(el: Any, where: str) -> list[str]:
    if not isinstance(el, dict):
        return [f"{where}: not an object"]
    out: list[str] = []
    if len(str(el.get("action_id", ""))) > 255:
        out.append(f"{where}.action_id: more than 255 characters")
    if el.get("type") == "button":
        out += _text(el.get("text"), f"{where}.text", 75, plain_only=True)
        if len(str(el.get("value", ""))) > 2000:
            out.append(f"{where}.value: more than 2000 characters")
        if el.get("style") not in (None, "primary", "danger"):
            out.append(f"{where}.style: unknown")
    elif el.get("type") == "plain_text_input" and len(str(el.get("initial_value") or "")) > 3000:
        out.append(f"{where}.initial_value: more than 3000 characters")
    if "confirm" in el:
        confirm = el["confirm"] if isinstance(el["confirm"], dict) else {}
        out += _text(confirm.get("title"), f"{where}.confirm.title", 100, plain_only=True)
        out += _text(confirm.get("text"), f"{where}.confirm.text", 300)
        out += _text(confirm.get("confirm"), f"{where}.confirm.confirm", 30, plain_only=True)
        out += _text(confirm.get("deny"), f"{where}.confirm.deny", 30, plain_only=True)
    return out


def _block(block: Any, where: str, surface: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: not an object"]
    kind = block.get("type")
    out: list[str] = []
    if len(str(block.get("block_id", ""))) > 255:
        out.append(f"{where}.block_id: more than 255 characters")
    if kind == "section":
        if "text" not in block and "fields" not in block:
            out.append(f"{where}: a section needs text or fields")
        if "text" in block:
            out += _text(block["text"], f"{where}.text", 3000)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                out.append(f"{where}.fields: 1 to 10 fields")
            else:
                for i, f in enumerate(fields):
                    out += _text(f, f"{where}.fields[{i}]", 2000)
        if "accessory" in block:
            out += _element(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        out += _text(block.get("text"), f"{where}.text", 150, plain_only=True)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            out.append(f"{where}.elements: 1 to 10 elements")
        else:
            for i, e in enumerate(elements):
                if isinstance(e, dict) and e.get("type") == "image":
                    continue
                out += _text(e, f"{where}.elements[{i}]", 3000)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            out.append(f"{where}.elements: 1 to 25 elements")
        else:
            for i, e in enumerate(elements):
                out += _element(e, f"{where}.elements[{i}]")
    elif kind == "divider":
        pass
    elif kind == "image":
        if len(str(block.get("image_url", ""))) > 3000 or len(str(block.get("alt_text", ""))) > 2000:
            out.append(f"{where}: image_url or alt_text too long")
    elif kind == "input" and surface == "modal":
        out += _text(block.get("label"), f"{where}.label", 2000, plain_only=True)
        if "hint" in block:
            out += _text(block["hint"], f"{where}.hint", 2000, plain_only=True)
        out += _element(block.get("element"), f"{where}.element")
    else:
        out.append(f"{where}: block type {kind!r} not allowed in a {surface}")
    return out


def block_problems(blocks: Any, surface: str = "message") -> list[str]:
    """Why Slack would refuse these blocks; empty when it would take them. `blocks` may be a JSON string,
    as the SDK sends it in form-encoded calls."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks: not JSON"]
    if not isinstance(blocks, list):
        return ["blocks: not a list"]
    limit = 100 if surface == "modal" else 50
    out = [f"blocks: at most {limit} (was {len(blocks)})"] if len(blocks) > limit else []
    for i, block in enumerate(blocks):
        out += _block(block, f"blocks[{i}]", surface)
    return out


def view_problems(view: Any) -> list[str]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return ["view: not JSON"]
    if not isinstance(view, dict):
        return ["view: not an object"]
    out = _text(view.get("title"), "view.title", 24, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            out += _text(view[key], f"view.{key}", 24, plain_only=True)
    if len(str(view.get("private_metadata", ""))) > 3000:
        out.append("view.private_metadata: more than 3000 characters")
    return out + block_problems(view.get("blocks", []), "modal")
