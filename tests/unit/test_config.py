from __future__ import annotations

from pathlib import Path

import pytest

from bot.clusters import ClusterDirectory
from bot.config import load_settings, redact_url, redacted
from bot.errors import ConfigError, UserError

CONFIG = """
default_cluster: prod
clusters:
  - name: prod
    region: us-east-2
    auth: {mode: eks, role_arn: "arn:aws:iam::111122223333:role/cnibot"}
    channels: [C0PROD]
    approvals: {approvers_channel: C0APPROVE, users: [U1, U2], high_risk_approvals: 2}
  - name: dev
    auth: {mode: kubeconfig, context: dev-ctx}
    channels: [C0DEV]
    approvals: {allow_self_approval: true}
"""


def test_yaml_clusters_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cnibot.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv("CNIBOT_CONFIG", str(path))
    monkeypatch.setenv("CNIBOT_PORT", "8080")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123-secret")
    settings = load_settings()
    assert settings.port == 8080
    assert [c.name for c in settings.clusters] == ["prod", "dev"]
    assert settings.clusters[0].approvals.users == ("U1", "U2")
    assert settings.clusters[1].approvals.allow_self_approval is True
    directory = ClusterDirectory(settings)
    assert directory.resolve(None, "C0DEV").name == "dev"
    assert directory.resolve(None, "C0OTHER").name == "prod"
    assert directory.resolve("dev").name == "dev"
    with pytest.raises(UserError, match="Did you mean `prod`"):
        directory.resolve("prd")
    shown = redacted(settings)
    assert shown["slack_bot_token"] == "***" and "xoxb-123" not in str(shown)


def test_zero_config_has_one_implicit_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    directory = ClusterDirectory(load_settings())
    assert directory.names == ["default"]
    assert directory.resolve(None, "C0ANY").name == "default"


def test_invalid_settings_give_one_line_per_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("clusters:\n  - name: Prod_1\n    auth: {mode: magic}\n  - name: ok\n    typo: 1\n")
    monkeypatch.setenv("CNIBOT_CONFIG", str(path))
    monkeypatch.setenv("CNIBOT_PORT", "seventy")
    with pytest.raises(ConfigError) as err:
        load_settings()
    problems = err.value.problems
    assert any(p.startswith("CNIBOT_PORT:") for p in problems)
    assert any(p.startswith("config clusters.0.auth.mode:") for p in problems)
    assert any("clusters.1.typo" in p for p in problems)
    assert all("\n" not in p for p in problems)


def test_missing_config_file_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNIBOT_CONFIG", "/nonexistent/cnibot.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_redact_url_hides_passwords() -> None:
    assert redact_url("postgresql+psycopg://bot:hunter2@db:5432/cni") == "postgresql+psycopg://bot:***@db:5432/cni"


def test_log_masking_hides_tokens_and_passwords() -> None:
    from bot.logs import _mask

    line = "t=k8s-aws-v1.aHR0cHM6Ly9zdHM_x-y slack=xoxb-1-abc app=xapp-1-A db=postgresql://u:hunter2@h/db"
    masked = _mask(line)
    assert "aHR0cHM6" not in masked and "xoxb-1-abc" not in masked and "hunter2" not in masked
    assert masked.count("***") == 4


def _kubeconfig(tmp_path: Path, cluster: str, context: str = "ctx") -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        f"apiVersion: v1\nkind: Config\ncurrent-context: {context}\n"
        f"contexts:\n- name: {context}\n  context: {{cluster: '{cluster}', user: u}}\n"
        f"clusters:\n- name: '{cluster}'\n  cluster: {{server: 'https://127.0.0.1:6443'}}\n"
    )
    return str(path)


@pytest.mark.parametrize(
    "cluster_ref, name, region, eks_name",
    [
        ("arn:aws:eks:us-east-2:111122223333:cluster/Prod_East", "prod-east", "us-east-2", "Prod_East"),
        ("shop.eu-west-1.eksctl.io", "shop", "eu-west-1", "shop"),
        ("kind-local", "ctx", None, None),
    ],
)
def test_zero_config_names_the_cluster_after_the_kubeconfig(
    tmp_path: Path, cluster_ref: str, name: str, region: str | None, eks_name: str | None
) -> None:
    from bot.clusters import implicit_cluster

    found = implicit_cluster(_kubeconfig(tmp_path, cluster_ref))
    assert (found.name, found.region, found.eks_name) == (name, region, eks_name)


def test_zero_config_without_a_kubeconfig_is_default(tmp_path: Path) -> None:
    from bot.clusters import implicit_cluster

    assert implicit_cluster(str(tmp_path / "missing")).name == "default"


def test_node_rollout_settings_from_the_config_file_and_their_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.changes.apply_run import DEFAULT_TIMINGS
    from bot.changes.service import with_rollout_settings

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    defaults = load_settings().node_rollout
    assert (defaults.batch_size, defaults.eviction_wait_seconds, defaults.node_ready_timeout_seconds) == (1, 120, 900)
    path = tmp_path / "cnibot.yaml"
    path.write_text("node_rollout: {batch_size: 3, eviction_wait_seconds: 30, node_ready_timeout_seconds: 600}\n")
    monkeypatch.setenv("CNIBOT_CONFIG", str(path))
    nodes = with_rollout_settings(DEFAULT_TIMINGS, load_settings().node_rollout).nodes
    assert (nodes.batch, nodes.eviction_wait, nodes.node_ready_timeout) == (3, 30.0, 600.0)
    assert nodes.poll == DEFAULT_TIMINGS.nodes.poll

    path.write_text("node_rollout: {batch_size: 0, eviction_wait_seconds: -1, node_ready_timeout_seconds: 1e9, x: 1}\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    problems = err.value.problems
    for key in ("batch_size", "eviction_wait_seconds", "node_ready_timeout_seconds", "x"):
        assert any(p.startswith(f"config node_rollout.{key}:") for p in problems), (key, problems)
