"""Small phrasing helpers shared by the rules, so numbers read the same in every sentence."""

from __future__ import annotations

from datetime import datetime

from bot.domain.facts import SubnetFact


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def verb(n: int, one: str, many: str) -> str:
    """The verb agreeing with a count: verb(1, "holds", "hold")."""
    return one if n == 1 else many


def ago(then: datetime | None, now: datetime) -> str:
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


def subnet_line(subnet: SubnetFact) -> str:
    """ "subnet-0a1 (us-east-2b) 0 free of 251"."""
    return f"subnet {subnet.subnet_id} ({subnet.az}) {subnet.available_ips:,} free of {subnet.usable:,}"


def listing(items: list[str], limit: int = 4) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
