"""Slack's Block Kit limits, enforced in one place: every block the bot sends passes through `fit_blocks`.

Slack refuses a whole message (`invalid_blocks`) when one text is a character too long, so each text is cut
with "…" to its element's limit and a message keeps at most its surface's number of blocks. Limits are
Slack's documented ones (Block Kit reference, April 2025).
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
INPUT_LABEL = 2000
INPUT_HINT = 2000
INPUT_INITIAL = 3000
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
MESSAGE_TEXT = 40000

_ELLIPSIS = "…"
_OPEN_ENTITY = re.compile(r"&[a-z]{0,4}$")


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" when cut; never ends inside an entity (&amp;), a
    <...> reference or an open code block, which Slack would show broken."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 4, 1)]  # room for "…" and a closing ```
    head = _OPEN_ENTITY.sub("", head)
    if head.rfind("<") > head.rfind(">"):
        head = head[: head.rfind("<")]
    tail = _ELLIPSIS + ("```" if head.count("```") % 2 else "")
    return head[: limit - len(tail)] + tail


def _text(obj: Any, limit: int) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = cut(obj["text"], limit) or " "  # Slack refuses empty text too


def _element(el: dict[str, Any]) -> dict[str, Any]:
    el = dict(el)
    if el.get("type") == "button":
        el["text"] = dict(el.get("text") or {})
        _text(el["text"], BUTTON_TEXT)
        if "value" in el:
            el["value"] = cut(str(el["value"]), BUTTON_VALUE)
    if "action_id" in el:
        el["action_id"] = str(el["action_id"])[:ACTION_ID]
    if isinstance(el.get("initial_value"), str):
        el["initial_value"] = cut(el["initial_value"], INPUT_INITIAL)
    if isinstance(el.get("confirm"), dict):
        confirm = {k: dict(v) if isinstance(v, dict) else v for k, v in el["confirm"].items()}
        _text(confirm.get("title"), CONFIRM_TITLE)
        _text(confirm.get("text"), CONFIRM_TEXT)
        _text(confirm.get("confirm"), CONFIRM_BUTTON)
        _text(confirm.get("deny"), CONFIRM_BUTTON)
        el["confirm"] = confirm
    return el


def fit_block(block: dict[str, Any]) -> dict[str, Any]:
    block = dict(block)
    kind = block.get("type")
    if kind == "section":
        if "text" in block:
            block["text"] = dict(block["text"])
            _text(block["text"], SECTION_TEXT)
        if "fields" in block:
            fields = [dict(f) for f in block["fields"]][:SECTION_FIELDS]
            for f in fields:
                _text(f, FIELD_TEXT)
            block["fields"] = fields
        if isinstance(block.get("accessory"), dict):
            block["accessory"] = _element(block["accessory"])
    elif kind == "header":
        block["text"] = dict(block["text"])
        _text(block["text"], HEADER_TEXT)
    elif kind == "context":
        elements = [dict(e) for e in block.get("elements") or []][:CONTEXT_ELEMENTS]
        for e in elements:
            _text(e, CONTEXT_TEXT)
        block["elements"] = elements
    elif kind == "actions":
        block["elements"] = [_element(e) for e in block.get("elements") or []][:ACTIONS_ELEMENTS]
    elif kind == "input":
        block["label"] = dict(block["label"])
        _text(block["label"], INPUT_LABEL)
        if "hint" in block:
            block["hint"] = dict(block["hint"])
            _text(block["hint"], INPUT_HINT)
        block["element"] = _element(block["element"])
    return block


def fit_blocks(blocks: list[dict[str, Any]], *, limit: int = MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    """Every block within its limits, and at most `limit` blocks: the last one then says how many were cut."""
    fitted = [fit_block(b) for b in blocks]
    if len(fitted) > limit:
        left_out = len(fitted) - (limit - 1)
        note = f"({left_out} more sections cut)"
        fitted = fitted[: limit - 1] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]
    return fitted


def fit_modal(view: dict[str, Any]) -> dict[str, Any]:
    view = dict(view)
    for key in ("title", "submit", "close"):
        if isinstance(view.get(key), dict):
            view[key] = dict(view[key])
            _text(view[key], MODAL_TITLE if key == "title" else MODAL_BUTTON)
    if "private_metadata" in view:
        view["private_metadata"] = str(view["private_metadata"])[:PRIVATE_METADATA]
    view["blocks"] = fit_blocks(view.get("blocks") or [], limit=MODAL_BLOCKS)
    return view
