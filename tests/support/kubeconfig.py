"""A kubeconfig file that loads (credentials for an API server on loopback that need not be running)."""

from __future__ import annotations

from pathlib import Path

import yaml


def kubeconfig(directory: Path, *, context: str = "test", server: str = "http://127.0.0.1:9") -> Path:
    path = directory / "kubeconfig.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "test", "cluster": {"server": server}}],
                "users": [{"name": "test", "user": {"token": "test-token"}}],
                "contexts": [{"name": context, "context": {"cluster": "test", "user": "test"}}],
                "current-context": context,
            }
        )
    )
    return path
