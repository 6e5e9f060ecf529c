"""Value combinations the chart tests render: each one a way an admin really installs cnibot."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {}

POSTGRES_3_REPLICAS: dict[str, Any] = {
    "replicaCount": 3,
    "database": {"type": "postgres", "postgres": {"existingSecret": "cnibot-db"}},
}

WRITE_RBAC: dict[str, Any] = {
    "rbac": {"write": {"enabled": True}},
    "config": {
        "default_cluster": "prod",
        "clusters": [{"name": "prod", "region": "us-east-2", "auth": {"mode": "in-cluster"}, "write_enabled": True}],
    },
}

NODE_ROLLOUT_RBAC: dict[str, Any] = {"rbac": {"nodeRollout": {"enabled": True}}}

INGRESS: dict[str, Any] = {
    "ingress": {
        "enabled": True,
        "className": "alb",
        "host": "cnibot.corp.example",
        "annotations": {"alb.ingress.kubernetes.io/scheme": "internet-facing"},
    }
}

SERVICE_MONITOR: dict[str, Any] = {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus"}}}

SQLITE_ON_PVC: dict[str, Any] = {"database": {"sqlite": {"persistence": {"enabled": True, "size": "2Gi"}}}}

SOCKET_MODE: dict[str, Any] = {"slack": {"socketMode": True}}

IRSA: dict[str, Any] = {"serviceAccount": {"irsaRoleArn": "arn:aws:iam::111122223333:role/cnibot"}}

CHART_CREATED_SECRETS: dict[str, Any] = {
    "slack": {"createSecret": True, "botToken": "xoxb-test", "signingSecret": "s3cr3t"},
    "database": {"type": "postgres", "postgres": {"url": "postgresql+psycopg://cnibot:pw@db:5432/cnibot"}},
}

ALL: dict[str, dict[str, Any]] = {
    "defaults": DEFAULTS,
    "postgres-3-replicas": POSTGRES_3_REPLICAS,
    "write-rbac": WRITE_RBAC,
    "ingress": INGRESS,
    "service-monitor": SERVICE_MONITOR,
    "sqlite-on-pvc": SQLITE_ON_PVC,
    "socket-mode": SOCKET_MODE,
    "irsa": IRSA,
    "chart-created-secrets": CHART_CREATED_SECRETS,
}
