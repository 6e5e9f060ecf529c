"""deploy/INSTALL.md stays true: its example values install, its envsubst list covers the IAM files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import Chart, container, env

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INSTALL = (DEPLOY / "INSTALL.md").read_text()


def example_values() -> dict[str, Any]:
    block = INSTALL.split("Write `my-values.yaml`", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    values: dict[str, Any] = yaml.safe_load(block)
    return values


def test_the_example_values_render_the_install_the_guide_describes(chart: Chart) -> None:
    rendered = chart.render(example_values())
    main = container(rendered.one("Deployment"))

    assert main["image"] == "111122223333.dkr.ecr.us-east-2.amazonaws.com/cnibot:0.1.0"
    assert env(main)["AWS_REGION"]["value"] == "us-east-2"
    assert rendered.one("ServiceAccount")["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/cnibot-prod"
    }
    assert rendered.one("PersistentVolumeClaim")
    ingress = rendered.one("Ingress")
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
    config = yaml.safe_load(rendered.one("ConfigMap")["data"]["config.yaml"])
    assert [c["name"] for c in config["clusters"]] == ["prod"]


def test_the_documented_postgres_flags_render(chart: Chart) -> None:
    paragraph = INSTALL.split("For Postgres and three replicas", 1)[1][:200]
    flags = dict(re.findall(r"--set ([\w.]+)=([\w-]+)", paragraph))
    values: dict[str, Any] = {
        "replicaCount": int(flags["replicaCount"]),
        "database": {
            "type": flags["database.type"],
            "postgres": {"existingSecret": flags["database.postgres.existingSecret"]},
        },
    }

    rendered = chart.render(values)

    assert rendered.one("Deployment")["spec"]["replicas"] == 3
    assert rendered.one("Job")["metadata"]["name"] == "cnibot-migrate"
    assert "job/cnibot-migrate" in INSTALL


def test_envsubst_names_every_placeholder_of_the_iam_files() -> None:
    shell_format = re.search(r"envsubst '([^']+)'", INSTALL)
    assert shell_format is not None
    named = set(shell_format.group(1).replace("$", "").split())
    used = {m for path in (DEPLOY / "iam").glob("*.json") for m in re.findall(r"\$\{(\w+)\}", path.read_text())}

    assert used == named


def test_rbac_files_for_other_clusters_hold_rbac_only(chart: Chart) -> None:
    rendered = chart.render({"rbac": {"write": {"enabled": True}, "extraGroups": ["cnibot-readers"]}})

    for template in ("rbac-read.yaml", "rbac-write.yaml"):
        text = next(t for path, t in rendered.texts.items() if path.endswith(f"/{template}"))
        kinds = {doc["kind"] for doc in yaml.safe_load_all(text) if doc}
        assert kinds <= {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}, template
        assert "cnibot-readers" in text


@pytest.mark.parametrize("source", ["chart defaults", "INSTALL.md example"])
def test_the_rendered_config_file_is_valid_for_the_app(
    chart: Chart, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import load_settings

    values = example_values() if source == "INSTALL.md example" else {}
    config_file = tmp_path / "config.yaml"
    config_file.write_text(chart.render(values).one("ConfigMap")["data"]["config.yaml"])
    monkeypatch.setenv("CNIBOT_CONFIG", str(config_file))

    settings = load_settings()  # raises ConfigError, naming the key, on anything the app rejects

    assert settings.default_cluster == settings.clusters[0].name
    assert settings.clusters[0].auth.mode == "in-cluster"
