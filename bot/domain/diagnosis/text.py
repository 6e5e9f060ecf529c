"""Small phrasing helpers shared by the rules, so numbers read the same in every sentence."""

from __future__ import annotations

from bot.domain.facts import SubnetFact


def verb(n: int, one: str, many: str) -> str:
    """The verb agreeing with a count: verb(1, "holds", "hold")."""
    return one if n == 1 else many


def subnet_line(subnet: SubnetFact) -> str:
    """ "subnet-0a1 (us-east-2b) 0 free of 251"."""
    return f"subnet {subnet.subnet_id} ({subnet.az}) {subnet.available_ips:,} free of {subnet.usable:,}"


def listing(items: list[str], limit: int = 4) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
