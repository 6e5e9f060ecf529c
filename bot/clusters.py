"""Which cluster a command is about: --cluster, else the channel's default, else the configured default."""

from __future__ import annotations

import difflib

from bot.config import ClusterConfig, Settings
from bot.errors import UserError

IMPLICIT_CLUSTER = "default"


class ClusterDirectory:
    def __init__(self, settings: Settings) -> None:
        # Zero configuration: one cluster reached through the current kubeconfig context and the AWS env.
        self._clusters = list(settings.clusters) or [ClusterConfig(name=IMPLICIT_CLUSTER)]
        self._default = settings.default_cluster or self._clusters[0].name
        self._by_channel = {ch: c.name for c in self._clusters for ch in c.channels}

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._clusters]

    def get(self, name: str) -> ClusterConfig | None:
        return next((c for c in self._clusters if c.name == name), None)

    def resolve(self, requested: str | None, channel_id: str | None = None) -> ClusterConfig:
        if requested:
            found = self.get(requested)
            if found is None:
                close = difflib.get_close_matches(requested, self.names, n=1)
                hint = f" Did you mean `{close[0]}`?" if close else ""
                raise UserError(f"No cluster named `{requested[:64]}`.{hint} Known: {', '.join(self.names)}.")
            return found
        name = self._by_channel.get(channel_id or "", self._default)
        cluster = self.get(name)
        assert cluster is not None
        return cluster
