"""Access rules through the Helm values: rendered into the config file the app loads, checked by the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.chart import Chart

LOCKED_DOWN = {
    "reads": {"channels": ["C0PRODOPS"], "usergroups": ["S0SRE"]},
    "requests": {"channels": ["C0PRODOPS"], "users": ["U0LEAD"]},
    "digests": {"channels": ["C0PRODOPS"]},
    "teams": ["T0HOME"],
    "enterprises": ["E0ORG"],
    "admins": ["S0PLATFORM"],
}


def _values(access: dict[str, Any]) -> dict[str, Any]:
    cluster = {"name": "prod", "auth": {"mode": "in-cluster"}, "channels": ["C0PRODOPS"], "access": access}
    return {"config": {"default_cluster": "prod", "clusters": [cluster]}}


def test_the_rules_reach_the_app_as_written(chart: Chart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.access import rules_of
    from bot.config import load_settings
    from bot.domain.access import Action

    config_file = tmp_path / "config.yaml"
    config_file.write_text(chart.render(_values(LOCKED_DOWN)).one("ConfigMap")["data"]["config.yaml"])
    monkeypatch.setenv("CNIBOT_CONFIG", str(config_file))

    cluster = load_settings().clusters[0]
    rules = rules_of(cluster)
    assert not cluster.open_to_workspace and not rules.open
    assert rules.rule(Action.READ).usergroups == {"S0SRE"} and rules.rule(Action.REQUEST).users == {"U0LEAD"}
    assert rules.teams == {"T0HOME"} and rules.enterprises == {"E0ORG"} and rules.admins == ("S0PLATFORM",)


def test_the_defaults_are_open_and_the_app_says_so(
    chart: Chart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import load_settings

    config_file = tmp_path / "config.yaml"
    config_file.write_text(chart.render({}).one("ConfigMap")["data"]["config.yaml"])
    monkeypatch.setenv("CNIBOT_CONFIG", str(config_file))
    assert load_settings().clusters[0].open_to_workspace


@pytest.mark.parametrize(
    "access, where",
    [
        ({"reads": {"channels": ["#prod-ops"]}}, "channels"),
        ({"reads": {"users": ["alice"]}}, "users"),
        ({"teams": ["acme"]}, "teams"),
        ({"reads": {"channel": ["C0PRODOPS"]}}, "channel"),
    ],
    ids=["channel-name", "user-name", "team-name", "misspelt-key"],
)
def test_the_schema_refuses_names_where_ids_belong(chart: Chart, access: dict[str, Any], where: str) -> None:
    error = chart.render_error(_values(access))
    assert "access" in error and where in error
