"""The /cni subcommands. `build_registry()` is the one table of what exists."""

from __future__ import annotations

from commands import (
    capacity,
    changes,
    config,
    custom_networking,
    digest,
    eniconfig,
    history,
    node,
    nodes,
    subnets,
    upgrade,
    version,
    why_pending,
)
from commands import set as set_env
from commands.registry import Registry


def build_registry() -> Registry:
    return Registry(
        [
            why_pending.SUBCOMMAND,
            node.SUBCOMMAND,
            subnets.SUBCOMMAND,
            capacity.SUBCOMMAND,
            config.SUBCOMMAND,
            version.SUBCOMMAND,
            history.SUBCOMMAND,
            *set_env.SUBCOMMANDS,
            eniconfig.SUBCOMMAND,
            custom_networking.SUBCOMMAND,
            upgrade.SUBCOMMAND,
            nodes.SUBCOMMAND,
            *changes.SUBCOMMANDS,
            digest.SUBCOMMAND,
        ]
    )
