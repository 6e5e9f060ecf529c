"""The Deployment, its Service and how it is exposed, scraped and configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import Chart, container, env
from tests.deploy.values import DEFAULTS, INGRESS, IRSA, SERVICE_MONITOR, SOCKET_MODE


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def test_pod_runs_hardened(chart: Chart) -> None:
    deployment = chart.render(DEFAULTS).one("Deployment")
    pod = pod_spec(deployment)

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the UID baked into deploy/Dockerfile
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["enableServiceLinks"] is False
    sc = container(deployment)["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in sc


def test_writable_paths_are_volumes_on_a_read_only_root(chart: Chart) -> None:
    deployment = chart.render(DEFAULTS).one("Deployment")
    mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}

    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert "emptyDir" in volumes[mounts["/var/lib/cnibot"]]
    database_url = env(container(deployment))["CNIBOT_DATABASE_URL"]["value"]
    assert database_url == "sqlite:////var/lib/cnibot/cnibot.db"


def test_probes_hit_healthz_and_readyz_on_the_served_port(chart: Chart) -> None:
    main = container(chart.render(DEFAULTS).one("Deployment"))

    assert main["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert env(main)["CNIBOT_PORT"]["value"] == "3000"
    assert env(main)["CNIBOT_HOST"]["value"] == "0.0.0.0"
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_graceful_shutdown_and_resources(chart: Chart) -> None:
    deployment = chart.render({"terminationGracePeriodSeconds": 45}).one("Deployment")
    main = container(deployment)

    assert pod_spec(deployment)["terminationGracePeriodSeconds"] == 45
    assert main["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    assert main["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}
    assert main["resources"]["limits"] == {"memory": "1Gi"}


def test_slack_credentials_come_from_the_existing_secret(chart: Chart) -> None:
    rendered = chart.render(DEFAULTS)
    variables = env(container(rendered.one("Deployment")))

    assert variables["SLACK_BOT_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "cnibot-slack", "key": "bot-token"}}
    assert variables["SLACK_SIGNING_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "cnibot-slack", "key": "signing-secret"}
    }
    assert "SLACK_APP_TOKEN" not in variables
    assert rendered.of_kind("Secret") == []
    assert container(rendered.one("Deployment"))["args"] == ["serve"]


def test_socket_mode_passes_the_app_token_and_flag(chart: Chart) -> None:
    main = container(chart.render(SOCKET_MODE).one("Deployment"))

    assert main["args"] == ["serve", "--socket-mode"]
    assert env(main)["SLACK_APP_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "cnibot-slack", "key": "app-token"}}


def test_config_file_is_the_rendered_values_and_rolls_the_pods_when_changed(chart: Chart) -> None:
    rendered = chart.render(DEFAULTS)
    config_map = rendered.one("ConfigMap")
    deployment = rendered.one("Deployment")
    main = container(deployment)
    mount = next(m for m in main["volumeMounts"] if m["name"] == "config")
    volume = next(v for v in pod_spec(deployment)["volumes"] if v["name"] == "config")

    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["default_cluster"] == "my-cluster"
    assert config["clusters"][0]["auth"] == {"mode": "in-cluster"}
    assert set(config) == {"default_cluster", "clusters", "digests", "node_rollout"}  # the app forbids unknown keys
    assert env(main)["CNIBOT_CONFIG"]["value"] == f"{mount['mountPath']}/config.yaml"
    assert mount["readOnly"] is True
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]

    changed = chart.render({"config": {"digests": {"sample_interval_minutes": 5}}}).one("Deployment")
    annotation = "checksum/config"
    assert (
        changed["spec"]["template"]["metadata"]["annotations"][annotation]
        != (deployment["spec"]["template"]["metadata"]["annotations"][annotation])
    )


def test_node_rollout_settings_reach_the_config_file_and_are_bounded(chart: Chart, tmp_path: Path) -> None:
    from bot.config import load_settings

    wanted = {"batch_size": 2, "eviction_wait_seconds": 60, "node_ready_timeout_seconds": 1200}
    rendered = chart.render({"config": {"node_rollout": wanted}})
    text = rendered.one("ConfigMap")["data"]["config.yaml"]
    assert yaml.safe_load(text)["node_rollout"] == wanted
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.MonkeyPatch.context() as mp:  # the bot loads what the chart renders
        mp.setenv("CNIBOT_CONFIG", str(path))
        loaded = load_settings().node_rollout
    assert (loaded.batch_size, loaded.eviction_wait_seconds, loaded.node_ready_timeout_seconds) == (2, 60, 1200)
    assert "batch_size" in chart.render_error({"config": {"node_rollout": {"batch_size": 0}}})
    assert "node_ready_timeout_seconds" in chart.render_error(
        {"config": {"node_rollout": {"node_ready_timeout_seconds": "soon"}}}
    )


def test_service_selects_the_pods_on_the_http_port(chart: Chart) -> None:
    rendered = chart.render(DEFAULTS)
    service = rendered.one("Service")
    pod_labels = rendered.one("Deployment")["spec"]["template"]["metadata"]["labels"]

    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_ingress_exposes_only_slack_events(chart: Chart) -> None:
    rendered = chart.render(INGRESS)
    ingress = rendered.one("Ingress")

    assert ingress["spec"]["ingressClassName"] == "alb"
    assert ingress["metadata"]["annotations"] == {"alb.ingress.kubernetes.io/scheme": "internet-facing"}
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "cnibot.corp.example"
    assert rule["http"]["paths"] == [
        {
            "path": "/slack/events",
            "pathType": "Exact",
            "backend": {"service": {"name": rendered.one("Service")["metadata"]["name"], "port": {"name": "http"}}},
        }
    ]
    assert "https://cnibot.corp.example/slack/events" in rendered.notes
    assert chart.render(DEFAULTS).of_kind("Ingress") == []


def test_service_monitor_scrapes_metrics_from_the_service(chart: Chart) -> None:
    rendered = chart.render(SERVICE_MONITOR)
    monitor = rendered.one("ServiceMonitor")

    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus"
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
    ]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= rendered.one("Service")["metadata"]["labels"].items()
    assert chart.render(DEFAULTS).of_kind("ServiceMonitor") == []


def test_service_account_carries_the_irsa_role_or_nothing_for_pod_identity(chart: Chart) -> None:
    irsa = chart.render(IRSA).one("ServiceAccount")
    pod_identity = chart.render(DEFAULTS).one("ServiceAccount")

    assert irsa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/cnibot"}
    assert "annotations" not in pod_identity["metadata"]
    assert pod_spec(chart.render(DEFAULTS).one("Deployment"))["serviceAccountName"] == pod_identity["metadata"]["name"]


def test_image_defaults_to_app_version_and_prefers_a_digest(chart: Chart) -> None:
    digest = "sha256:" + "ab" * 32

    assert container(chart.render(DEFAULTS).one("Deployment"))["image"] == "cnibot:0.1.0"
    pinned = chart.render({"image": {"repository": "1234.dkr.ecr.us-east-2.amazonaws.com/cnibot", "digest": digest}})
    assert container(pinned.one("Deployment"))["image"] == f"1234.dkr.ecr.us-east-2.amazonaws.com/cnibot@{digest}"


def test_notes_say_how_to_check_readiness_and_try_the_bot(chart: Chart) -> None:
    notes = chart.render(DEFAULTS).notes

    assert "curl -fsS http://127.0.0.1:3000/readyz" in notes
    assert "/cni help" in notes
    assert "SQLite on an emptyDir" in notes
