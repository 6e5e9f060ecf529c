"""SQLite for one replica, Postgres for several, and the migration Job that Postgres needs."""

from __future__ import annotations

from tests.deploy.chart import Chart, container, env
from tests.deploy.values import CHART_CREATED_SECRETS, DEFAULTS, POSTGRES_3_REPLICAS, SQLITE_ON_PVC

HOOK = "helm.sh/hook"


def test_sqlite_with_two_replicas_is_refused_with_a_clear_message(chart: Chart) -> None:
    message = chart.render_error({"replicaCount": 2})

    assert "replicaCount=2 is not possible with database.type=sqlite" in message
    assert "set database.type=postgres" in message


def test_sqlite_runs_one_pod_at_a_time_without_a_migration_job(chart: Chart) -> None:
    rendered = chart.render(DEFAULTS)
    deployment = rendered.one("Deployment")

    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert rendered.of_kind("Job") == []
    assert rendered.of_kind("PersistentVolumeClaim") == []
    assert rendered.of_kind("PodDisruptionBudget") == []


def test_sqlite_persistence_mounts_a_kept_claim_on_the_data_dir(chart: Chart) -> None:
    rendered = chart.render(SQLITE_ON_PVC)
    claim = rendered.one("PersistentVolumeClaim")
    deployment = rendered.one("Deployment")
    data = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "data")

    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert data == {"name": "data", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}

    existing = chart.render({"database": {"sqlite": {"persistence": {"enabled": True, "existingClaim": "mine"}}}})
    assert existing.of_kind("PersistentVolumeClaim") == []
    volumes = existing.one("Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "mine"}} in volumes


def test_postgres_scales_out_and_reads_its_url_from_the_secret(chart: Chart) -> None:
    rendered = chart.render(POSTGRES_3_REPLICAS)
    deployment = rendered.one("Deployment")

    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert env(container(deployment))["CNIBOT_DATABASE_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "cnibot-db", "key": "database-url"}
    }
    assert rendered.one("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert rendered.of_kind("Secret") == []


def test_postgres_migration_job_runs_db_upgrade_before_install_and_upgrade(chart: Chart) -> None:
    job = chart.render(POSTGRES_3_REPLICAS).one("Job")
    pod = job["spec"]["template"]["spec"]
    migrate = container(job)

    assert job["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"
    assert "hook-succeeded" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    assert migrate["args"] == ["db", "upgrade"]
    assert migrate["image"] == "cnibot:0.1.0"
    assert env(migrate)["CNIBOT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "cnibot-db"
    # Runs before the chart's ServiceAccount exists and needs no Kubernetes API access.
    assert "serviceAccountName" not in pod
    assert pod["automountServiceAccountToken"] is False
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
    assert migrate["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_postgres_without_a_url_source_is_refused(chart: Chart) -> None:
    message = chart.render_error({"database": {"type": "postgres"}})

    assert "database.postgres.existingSecret" in message


def test_chart_created_secrets_exist_before_the_migration_job_needs_them(chart: Chart) -> None:
    rendered = chart.render(CHART_CREATED_SECRETS)
    slack = rendered.one("Secret", "cnibot-slack")
    database = rendered.one("Secret", "cnibot-database")
    job = rendered.one("Job")

    assert slack["stringData"] == {"bot-token": "xoxb-test", "signing-secret": "s3cr3t"}
    assert HOOK not in slack["metadata"].get("annotations", {})
    assert database["stringData"] == {"database-url": "postgresql+psycopg://cnibot:pw@db:5432/cnibot"}
    assert database["metadata"]["annotations"][HOOK] == job["metadata"]["annotations"][HOOK]
    weight = "helm.sh/hook-weight"
    assert int(database["metadata"]["annotations"][weight]) < int(job["metadata"]["annotations"][weight])
    assert env(container(job))["CNIBOT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "cnibot-database"


def test_invalid_value_combinations_are_refused_with_the_key_to_fix(chart: Chart) -> None:
    assert "slack.botToken" in chart.render_error({"slack": {"createSecret": True}})
    assert "slack.appToken" in chart.render_error(
        {"slack": {"createSecret": True, "botToken": "xoxb-1", "signingSecret": "s", "socketMode": True}}
    )
    write_without_rbac = {
        "config": {"clusters": [{"name": "prod", "auth": {"mode": "in-cluster"}, "write_enabled": True}]}
    }
    assert "rbac.write.enabled is false" in chart.render_error(write_without_rbac)
    assert "database/type" in chart.render_error({"database": {"type": "mysql"}})
    assert "replicacount" in chart.render_error({"replicacount": 2})
