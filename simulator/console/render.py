"""Block Kit and mrkdwn to HTML, safely: every piece of text is HTML-escaped before the few mrkdwn marks the
console renders (bold, italic, strike, code, code blocks, links, mentions) are turned into tags. Links are
kept only for http(s) URLs; images only for files uploaded to this console (nothing is fetched elsewhere)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from simulator.console.timeline import Message, OpenView

Names = Callable[[str], str]  # a user or channel id -> the name to show

# The shortcodes the bot uses, drawn with symbols any common font has (Slack draws emoji); others stay as typed.
EMOJI = {
    "white_check_mark": ("\u2714", "#007a5a"),
    "x": ("\u2716", "#e01e5a"),
    "red_circle": ("\u25cf", "#e01e5a"),
    "large_yellow_circle": ("\u25cf", "#e8a400"),
    "large_green_circle": ("\u25cf", "#2bac76"),
    "large_blue_circle": ("\u25cf", "#1264a3"),
    "warning": ("\u26a0", "#e8a400"),
    "hourglass": ("\u25f7", "#616061"),
    "no_entry_sign": ("\u2298", "#e01e5a"),
    "leftwards_arrow_with_hook": ("\u21a9", "#1264a3"),
    "boom": ("\u2738", "#e01e5a"),
    "raised_hand": ("\u270b", "#616061"),
    "memory": ("\u270e", "#616061"),
    "floppy_disk": ("\u25a3", "#616061"),
    "lock": ("\u26b7", "#616061"),
}


def _emoji(m: re.Match[str]) -> str:
    found = EMOJI.get(m.group(1))
    if found is None:
        return m.group(0)
    glyph, color = found
    return f'<span class="emoji" style="color:{color}" title=":{m.group(1)}:">{glyph}</span>'


_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_ANGLE = re.compile(r"<([^<>]+)>")
_MARKS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def _unslack(text: str) -> str:
    """Slack's three entities back to characters (the bot escapes &, < and > as Slack requires)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _inline(text: str, names: Names) -> str:
    """Plain mrkdwn (no code) to HTML: escape, then marks, then <...> references."""
    out: list[str] = []
    pos = 0
    for m in _ANGLE.finditer(text):
        out.append(_marks(html.escape(_unslack(text[pos : m.start()]))))
        out.append(_reference(m.group(1), names))
        pos = m.end()
    out.append(_marks(html.escape(_unslack(text[pos:]))))
    return "".join(out)


def _marks(escaped: str) -> str:
    escaped = _EMOJI.sub(_emoji, escaped)
    for pattern, tag in _MARKS:
        escaped = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", escaped)  # type: ignore[misc]
    return escaped


def _reference(inner: str, names: Names) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("#C") or target.startswith("@U") or target.startswith("@W"):
        shown = label or names(target[1:])
        return f'<span class="mention">{target[0]}{html.escape(_unslack(shown))}</span>'
    if target.startswith("!"):
        return f'<span class="mention">@{html.escape(_unslack(label or target[1:]))}</span>'
    url = _unslack(target)
    shown = html.escape(_unslack(label or target))
    if re.match(r"^https?://", url):
        return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer" target="_blank">{shown}</a>'
    return shown


def mrkdwn(text: str, names: Names) -> str:
    parts = text.split("```")
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            out.append(f"<pre>{html.escape(_unslack(part.strip(chr(10))))}</pre>")
            continue
        if i % 2 == 1:  # an unclosed fence: show it as typed
            part = "```" + part
        spans = part.split("`")
        for j, span in enumerate(spans):
            if j % 2 == 1 and j < len(spans) - 1:
                out.append(f"<code>{html.escape(_unslack(span))}</code>")
            else:
                out.append(_inline(("`" if j % 2 == 1 else "") + span, names).replace("\n", "<br>"))
    return "".join(out)


def text_object(obj: Any, names: Names) -> str:
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    return html.escape(text).replace("\n", "<br>")


def _attr(value: Any) -> str:
    return html.escape(value if isinstance(value, str) else json.dumps(value), quote=True)


def element(el: Any, names: Names, message_key: str, block_id: str) -> str:
    if not isinstance(el, dict):
        return ""
    kind = el.get("type")
    if kind == "button":
        style = el.get("style") or "default"
        confirm = _attr(_confirm(el["confirm"], names)) if isinstance(el.get("confirm"), dict) else ""
        return (
            f'<button class="btn {_attr(style)}" data-message="{_attr(message_key)}" data-block="{_attr(block_id)}"'
            f' data-action="{_attr(str(el.get("action_id", "")))}" data-confirm="{confirm}">'
            f"{text_object(el.get('text'), names)}</button>"
        )
    if kind == "image":
        return f'<span class="img-alt">[image: {html.escape(str(el.get("alt_text", "")))}]</span>'
    return f'<span class="unsupported">[{html.escape(str(kind))}]</span>'


def _confirm(spec: dict[str, Any], names: Names) -> dict[str, str]:
    """A confirm dialog's parts as safe HTML (its text may be mrkdwn), for the page to show as they are."""
    return {key: text_object(spec.get(key), names) for key in ("title", "text", "confirm", "deny")}


def block(b: Any, names: Names, message_key: str) -> str:
    if not isinstance(b, dict):
        return ""
    kind = b.get("type")
    block_id = str(b.get("block_id", ""))
    if kind == "header":
        return f'<div class="header">{text_object(b.get("text"), names)}</div>'
    if kind == "divider":
        return "<hr>"
    if kind == "section":
        parts = []
        if "text" in b:
            parts.append(f'<div class="text">{text_object(b["text"], names)}</div>')
        if isinstance(b.get("fields"), list):
            fields = "".join(f'<div class="field">{text_object(f, names)}</div>' for f in b["fields"])
            parts.append(f'<div class="fields">{fields}</div>')
        accessory = element(b.get("accessory"), names, message_key, block_id) if "accessory" in b else ""
        return f'<div class="section">{"".join(parts)}{accessory}</div>'
    if kind == "context":
        items = "".join(
            element(e, names, message_key, block_id)
            if isinstance(e, dict) and e.get("type") == "image"
            else f"<span>{text_object(e, names)}</span>"
            for e in b.get("elements") or []
        )
        return f'<div class="context">{items}</div>'
    if kind == "actions":
        buttons = "".join(element(e, names, message_key, block_id) for e in b.get("elements") or [])
        return f'<div class="actions">{buttons}</div>'
    if kind == "image":
        return f'<div class="img-alt">[image: {html.escape(str(b.get("alt_text", "")))}]</div>'
    return f'<div class="unsupported">[{html.escape(str(kind))} block]</div>'


def message(m: Message, names: Names, replies: list[Message]) -> str:
    author = names(m.author) if m.author else "cnibot"
    body = (
        "".join(block(b, names, m.key) for b in m.blocks)
        if m.blocks
        else f'<div class="text">{mrkdwn(m.text, names)}</div>'
    )
    if m.author:
        body = f'<div class="text typed">{html.escape(m.text)}</div>'
    files = "".join(
        f'<figure><img class="upload" src="/files/{_attr(fid)}" alt="{_attr(title)}"><figcaption>'
        f"{html.escape(title)}</figcaption></figure>"
        for fid, title in m.files
    )
    only_you = '<div class="only-you">Only visible to you</div>' if m.visible_to else ""
    thread = "".join(message(r, names, []) for r in replies)
    thread_html = f'<div class="thread">{thread}</div>' if thread else ""
    css = "message ephemeral" if m.visible_to else "message"
    return (
        f'<div class="{css}" data-key="{_attr(m.key)}">{only_you}<div class="author">{html.escape(author)}</div>'
        f"{body}{files}{thread_html}</div>"
    )


def channel(messages: list[Message], names: Names) -> str:
    roots = [m for m in messages if not m.thread_ts or m.thread_ts == m.key]
    by_parent: dict[str, list[Message]] = {}
    for m in messages:
        if m.thread_ts and m.thread_ts != m.key:
            by_parent.setdefault(m.thread_ts, []).append(m)
    known = {m.key for m in roots}
    orphans = [m for parent, ms in by_parent.items() if parent not in known for m in ms]
    return "".join(message(m, names, by_parent.get(m.key, [])) for m in roots + orphans)


def modal(view: OpenView, names: Names) -> str:
    v = view.view
    blocks = []
    for b in v.get("blocks") or []:
        if isinstance(b, dict) and b.get("type") == "input":
            blocks.append(_input(b, names, view.errors.get(str(b.get("block_id", "")), "")))
        else:
            blocks.append(block(b, names, ""))
    submit = text_object(v.get("submit"), names) or "Submit"
    close = text_object(v.get("close"), names) or "Cancel"
    return (
        f'<form class="modal" data-view="{_attr(view.id)}">'
        f'<div class="modal-title">{text_object(v.get("title"), names)}</div>'
        f'{"".join(blocks)}<div class="modal-buttons"><button type="button" class="btn default close-view">'
        f'{close}</button><button type="submit" class="btn primary">{submit}</button></div></form>'
    )


def _input(b: dict[str, Any], names: Names, error: str) -> str:
    el = b.get("element") if isinstance(b.get("element"), dict) else {}
    assert isinstance(el, dict)
    block_id, action_id = _attr(str(b.get("block_id", ""))), _attr(str(el.get("action_id", "")))
    initial = html.escape(str(el.get("initial_value") or ""))
    placeholder = _attr(str((el.get("placeholder") or {}).get("text", "")))
    if el.get("multiline"):
        field = (
            f'<textarea name="{block_id}" data-action="{action_id}" placeholder="{placeholder}">{initial}</textarea>'
        )
    else:
        field = f'<input name="{block_id}" data-action="{action_id}" value="{initial}" placeholder="{placeholder}">'
    optional = " (optional)" if b.get("optional") else ""
    hint = f'<div class="hint">{text_object(b.get("hint"), names)}</div>' if b.get("hint") else ""
    err = f'<div class="error">{html.escape(error)}</div>' if error else ""
    return f'<label class="input">{text_object(b.get("label"), names)}{optional}{field}{hint}{err}</label>'
