"""The /cni subcommands. `build_registry()` is the one table of what exists."""

from __future__ import annotations

from commands import capacity, config, history, node, subnets, why_pending
from commands.registry import Registry


def build_registry() -> Registry:
    return Registry(
        [
            why_pending.SUBCOMMAND,
            node.SUBCOMMAND,
            subnets.SUBCOMMAND,
            capacity.SUBCOMMAND,
            config.SUBCOMMAND,
            history.SUBCOMMAND,
        ]
    )
