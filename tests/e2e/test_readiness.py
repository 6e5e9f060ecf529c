"""Issue 14 item 11: a cluster whose credentials do not load is named at start (WARNING, with the fix) and by
/readyz, instead of a ready bot that fails every command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.config import ClusterAuth, ClusterConfig
from tests.support.bot import RunningBot
from tests.support.kubeconfig import kubeconfig


@pytest.mark.parametrize(
    ("auth", "says"),
    [
        ({"kubeconfig": "missing.yaml"}, "Fix: set clusters[prod].auth.kubeconfig"),
        ({"kubeconfig": "KUBECONFIG", "context": "nope"}, "nope"),
        ({"mode": "in-cluster"}, "in-cluster auth works only in a pod"),
    ],
)
def test_unreachable_cluster_is_named_at_start_and_by_readyz(
    auth: dict[str, str],
    says: str,
    bot_factory: Callable[..., RunningBot],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    fields = dict(auth)
    if fields.get("kubeconfig") == "KUBECONFIG":
        fields["kubeconfig"] = str(kubeconfig(tmp_path))
    elif "kubeconfig" in fields:
        fields["kubeconfig"] = str(tmp_path / fields["kubeconfig"])
    (tmp_path / "dev").mkdir()
    healthy = ClusterConfig(name="dev", auth=ClusterAuth(kubeconfig=str(kubeconfig(tmp_path / "dev"))))
    with caplog.at_level(logging.WARNING, logger="cnibot.app"):
        bot = bot_factory(clusters=[ClusterConfig(name="prod", auth=ClusterAuth(**fields)), healthy])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cluster prod cannot be reached" in w and "Fix:" in w and says in w for w in warnings), warnings
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 503
    clusters = ready.json()["clusters"]
    assert list(clusters) == ["prod"] and clusters["prod"].startswith("cannot be reached")
