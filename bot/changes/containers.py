"""Which aws-node container a setting lives on: the writer's rule (state.container_edits), shared by the
verification after a rollout and the instructions for read-only installs, so all three agree.

A copy of a key on another container (`kubectl set env` without `-c` writes every container) is read by
nothing there, so it is neither written, checked nor removed.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.changes.state import container_edits
from bot.domain.changes import ChangeSpec
from bot.domain.facts import DaemonSetFact
from bot.domain.knobs import INIT_CONTAINER
from bot.domain.settings_change import EnvChange


def edits_by_container(updates: Mapping[str, str | None]) -> dict[str, dict[str, str | None]]:
    """{container: {key: value or None for an unset}}, exactly as the writer patches them."""
    return container_edits(ChangeSpec(env=tuple(EnvChange(key, None, value) for key, value in updates.items())))


def container_env(daemonset: DaemonSetFact, container: str) -> Mapping[str, str]:
    return daemonset.init_env if container == INIT_CONTAINER else daemonset.env
