"""How numbers and ages read, the same in every answer (diagnoses, state views, history, change lists)."""

from __future__ import annotations

from datetime import datetime


def plural(n: int, word: str, many: str | None = None) -> str:
    """ "1 node", "3 nodes", "2 addresses" (with ``many``)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def ago(then: datetime | None, now: datetime) -> str:
    """How long before ``now``: seconds up to 2 minutes, minutes up to 2 hours, hours up to 2 days, then days."""
    if then is None:
        return "at an unknown time"
    if then.tzinfo is None or now.tzinfo is None:
        then, now = then.replace(tzinfo=None), now.replace(tzinfo=None)
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    if seconds < 172800:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"
