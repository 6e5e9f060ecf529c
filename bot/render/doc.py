"""A tiny document model that every command renders to, and its two renderings: Slack Block Kit and text.

Commands build a Doc (headline, paragraphs, tables, lists, buttons); Slack and the terminal show the same
content. Tables and lists are cut at a limit with "and N more" plus a hint for the filter that shows them,
so that answers read well on a phone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.render.block_limits import fit_blocks

# Chunking target under Slack's 3,000 characters a section; fit_blocks enforces the hard limits.
_SECTION_LIMIT = 2900


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Para:
    text: str  # Slack mrkdwn subset: *bold*, `code`, _italic_


@dataclass(frozen=True)
class Context:
    text: str


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    # One letter per column: "l" left, "r" right. Default: numbers right, text left.
    align: str | None = None
    limit: int = 15
    more_hint: str = ""
    title: str = ""


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]
    limit: int = 10
    more_hint: str = ""
    title: str = ""


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    style: str | None = None  # "primary" | "danger"
    confirm: tuple[str, str] | None = None  # (title, text) of a confirm dialog


@dataclass(frozen=True)
class Actions:
    buttons: Sequence[Button]


Element = Heading | Para | Context | Table | Bullets | Divider | Actions


@dataclass
class Doc:
    summary: str  # one line: the notification text and the first line everywhere
    elements: list[Element] = field(default_factory=list)

    def add(self, *elements: Element) -> Doc:
        self.elements.extend(elements)
        return self


def fmt_int(n: int | float) -> str:
    return f"{n:,.0f}"


def _cell(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return "" if v is None else str(v)


def table_lines(table: Table) -> list[str]:
    rows = [[_cell(c) for c in r] for r in table.rows[: table.limit]]
    headers = [str(h) for h in table.headers]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    align = table.align or "".join(
        "r" if table.rows and all(isinstance(r[i], int | float) for r in table.rows if i < len(r)) else "l"
        for i in range(len(headers))
    )

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(widths[i]) if align[i] == "r" else c.ljust(widths[i]) for i, c in enumerate(cells)]
        return "  ".join(parts).rstrip()

    out = [line(headers)] + [line(r) for r in rows]
    return out


def _more(total: int, limit: int, hint: str) -> str | None:
    if total <= limit:
        return None
    text = f"and {total - limit:,} more"
    return f"{text} ({hint})" if hint else text


_MRKDWN = re.compile(r"(?<![\w*])\*(\S[^*]*?)\*(?![\w*])")


_EMOJI = {
    ":warning:": "⚠",
    ":white_check_mark:": "✓",
    ":x:": "✗",
    ":boom:": "✗",
    ":hourglass:": "…",
    ":large_green_circle:": "●",
    ":red_circle:": "●",
    ":large_yellow_circle:": "●",
    ":no_entry:": "⛔",
    ":arrow_up:": "↑",
    # Drawn in Slack only; the terminal says the same in words.
    ":large_blue_circle:": "",
    ":no_entry_sign:": "",
    ":leftwards_arrow_with_hook:": "",
    ":information_source:": "",
    ":lock:": "",
    ":raised_hand:": "",
    ":clock3:": "",
    ":floppy_disk:": "",
    ":arrows_counterclockwise:": "",
}
# Only the shortcodes the bot writes are drawn; anything else that looks like one stays as it is, since an IPv6
# address ("2600:1f14::15") or a typed name may hold the same shape.
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")


def escape(text: str) -> str:
    """Text a user typed, made inert in mrkdwn: no mention (<!channel>), link or user reference survives.
    Slack's three control characters become entities; `&` first, so entities typed by the user show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str) -> str:
    """Text rendering of our mrkdwn subset: bold markers go, code and links stay readable."""
    text = _SHORTCODE.sub(lambda m: _EMOJI.get(m.group(0), m.group(0)), text)
    text = _MRKDWN.sub(r"\1", text)
    return unescape(re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", text))


def render_text(doc: Doc) -> str:
    out: list[str] = [plain(doc.summary)]
    for el in doc.elements:
        if isinstance(el, Heading):
            out += ["", plain(el.text), "-" * min(len(plain(el.text)), 60)]
        elif isinstance(el, Para):
            out += ["", plain(el.text)]
        elif isinstance(el, Context):
            out += [plain(el.text)]
        elif isinstance(el, Table):
            out.append("")
            if el.title:
                out.append(plain(el.title))
            out += ["  " + ln for ln in table_lines(el)]
            more = _more(len(el.rows), el.limit, el.more_hint)
            if more:
                out.append("  " + more)
        elif isinstance(el, Bullets):
            out.append("")
            if el.title:
                out.append(plain(el.title))
            out += [f"  - {plain(i)}" for i in el.items[: el.limit]]
            more = _more(len(el.items), el.limit, el.more_hint)
            if more:
                out.append(f"  {more}")
        elif isinstance(el, Divider):
            out.append("")
        elif isinstance(el, Actions):
            labels = ", ".join(b.label for b in el.buttons)
            out += ["", f"(in Slack: {labels})"]
    return "\n".join(out).rstrip() + "\n"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _chunks(lines: list[str], limit: int) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for ln in lines:
        if size + len(ln) + 1 > limit and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(ln)
        size += len(ln) + 1
    return chunks


def render_blocks(doc: Doc) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_section(doc.summary)]
    for el in doc.elements:
        if isinstance(el, Heading):
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": plain(el.text)}})
        elif isinstance(el, Para):
            for chunk in _chunks(el.text.splitlines(), _SECTION_LIMIT):
                blocks.append(_section("\n".join(chunk)))
        elif isinstance(el, Context):
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": el.text}]})
        elif isinstance(el, Table):
            lines = table_lines(el)
            for i, chunk in enumerate(_chunks(lines, _SECTION_LIMIT - 100)):
                title = f"{el.title}\n" if el.title and i == 0 else ""
                # Cells hold what people typed (e.g. /cni history): inert, even inside a code block.
                blocks.append(_section(title + "```" + escape("\n".join(chunk)) + "```"))
            more = _more(len(el.rows), el.limit, el.more_hint)
            if more:
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
        elif isinstance(el, Bullets):
            items = [f"• {i}" for i in el.items[: el.limit]]
            more = _more(len(el.items), el.limit, el.more_hint)
            if more:
                items.append(f"_{more}_")
            head = [el.title] if el.title else []
            for chunk in _chunks(head + items, _SECTION_LIMIT):
                blocks.append(_section("\n".join(chunk)))
        elif isinstance(el, Divider):
            blocks.append({"type": "divider"})
        elif isinstance(el, Actions):
            blocks.append({"type": "actions", "elements": [_button(b) for b in el.buttons]})
    return fit_blocks(blocks)


def _button(b: Button) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": b.label},
        "action_id": b.action_id,
        "value": b.value,
    }
    if b.style:
        out["style"] = b.style
    if b.confirm:
        out["confirm"] = {
            "title": {"type": "plain_text", "text": b.confirm[0]},
            "text": {"type": "mrkdwn", "text": b.confirm[1]},
            "confirm": {"type": "plain_text", "text": b.label},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    return out
