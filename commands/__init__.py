"""The /cni subcommands. `build_registry()` is the one table of what exists."""

from __future__ import annotations

from commands import capacity, config, history, node, subnets
from commands.registry import Registry


def build_registry() -> Registry:
    return Registry(
        [
            node.SUBCOMMAND,
            subnets.SUBCOMMAND,
            capacity.SUBCOMMAND,
            config.SUBCOMMAND,
            history.SUBCOMMAND,
        ]
    )
