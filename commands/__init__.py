"""The /cni subcommands. `build_registry()` is the one table of what exists."""

from __future__ import annotations

from commands import history
from commands.registry import Registry


def build_registry() -> Registry:
    return Registry([history.SUBCOMMAND])
