"""What the docs and JSON of /cni node, subnets, capacity and config share (each has a module of its own:
bot/render/node.py, subnets.py, capacity.py, config.py).

Docs are written to read on a phone: a one-line answer first, short tables with numbers aligned, long lists
cut by bot/render/doc.py with "and N more" and the filter that shows them. The JSON (CommandResult.data) has
every row, with stable keys, for --json and scripts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.domain.capacity import LIMIT_ENIS, LIMIT_IPV6_PREFIX, LIMIT_MAX_PODS, LIMIT_SUBNET
from bot.domain.cni_settings import Problem
from bot.domain.facts import Unchecked
from bot.domain.knobs import Severity
from bot.render.doc import Bullets, Context, Doc, fmt_int

LIMIT_NAMES = {
    LIMIT_SUBNET: "subnet IPs",
    LIMIT_ENIS: "ENI/IP limits",
    LIMIT_MAX_PODS: "max-pods",
    LIMIT_IPV6_PREFIX: "a node without its IPv6 /80",
}
SEVERITY_ICON = {Severity.ERROR: ":red_circle:", Severity.WARNING: ":warning:", Severity.INFO: "ℹ️"}
TABLE_ROWS = 12
ROLE_SHORT = {
    "nodes": "nodes",
    "eniconfig": "eniconfig",
    "discovery": "discovery",
    "excluded": "excluded",
    "fargate": "fargate",
}


def problem_bullets(problems: Sequence[Problem], *, title: str = "", hint: str = "") -> Bullets:
    items = [f"{SEVERITY_ICON[p.severity]} {p.message}" + (f" _Fix:_ {p.fix}" if p.fix else "") for p in problems]
    return Bullets(items, limit=6, more_hint=hint, title=title)


def unchecked_context(unchecked: Sequence[Unchecked]) -> Context | None:
    """The "could not check" line: what is missing from the answer, and why."""
    if not unchecked:
        return None
    parts = "; ".join(f"{u.what} ({u.api}: {u.reason})" for u in unchecked[:6])
    more = f" and {len(unchecked) - 6} more" if len(unchecked) > 6 else ""
    return Context(f":warning: Could not check {parts}{more}. The figures above leave these out.")


def unchecked_data(unchecked: Sequence[Unchecked]) -> list[dict[str, str]]:
    return [{"what": u.what, "api": u.api, "reason": u.reason} for u in unchecked]


def finish_with_unchecked(doc: Doc, unchecked: Sequence[Unchecked]) -> Doc:
    context = unchecked_context(unchecked)
    if context is not None:
        doc.add(context)
    return doc


def percent_text(value: float) -> str:
    return f"{value:.0f}%" if value >= 1 or value == 0 else "<1%"


def optional_text(value: int | None) -> str:
    return "?" if value is None else fmt_int(value)


def problems_data(problems: Iterable[Problem]) -> list[dict[str, str]]:
    return [{"code": p.code, "severity": str(p.severity), "message": p.message, "fix": p.fix} for p in problems]
