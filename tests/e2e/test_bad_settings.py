"""Issue 14 items 9-12: broken settings end in one line naming the setting as the user wrote it, never a
traceback; the real `cnibot` process, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def cnibot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_", "KUBECONFIG"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def one_problem(out: subprocess.CompletedProcess[str]) -> str:
    """The single problem line of an invalid-settings exit."""
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0] == "cnibot: invalid settings:" and len(lines) == 2, out.stderr
    return lines[1].strip()


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"CNIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "KUBECONFIG": str(tmp_path / "none")}


def test_config_naming_a_directory(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    line = one_problem(cnibot("ask", "history", env={**sqlite_env, "CNIBOT_CONFIG": str(tmp_path)}))
    assert line.startswith("CNIBOT_CONFIG:") and "is a directory" in line


def test_config_not_utf8(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"default_cluster: \xff\xfe\n")
    line = one_problem(cnibot("ask", "history", env={**sqlite_env, "CNIBOT_CONFIG": str(path)}))
    assert line.startswith("CNIBOT_CONFIG:") and "not UTF-8" in line


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://bot@127.0.0.1/cni", "SQLite or Postgres"),
        ("not a url at all", "not a database URL"),
        ("postgresql+nosuchdriver://bot@127.0.0.1/cni", "no database driver"),
        ("postgresql+asyncpg://bot@127.0.0.1/cni", "not installed"),
    ],
)
def test_malformed_database_url(url: str, says: str) -> None:
    line = one_problem(cnibot("ask", "history", env={"CNIBOT_DATABASE_URL": url}))
    assert line.startswith("CNIBOT_DATABASE_URL:") and says in line


def test_sqlite_in_a_missing_directory_still_answers(tmp_path: Path) -> None:
    """Item 9 with item 13: one line naming the setting, and the answer still comes."""
    out = cnibot("ask", "histroy", env={"CNIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'nope' / 'c.db'}"})
    assert out.returncode == 2, out.stderr  # the usage answer, which would be recorded with a database
    assert "did you mean `history`" in out.stdout
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "CNIBOT_DATABASE_URL" in lines[0] and "without history" in lines[0], lines


def test_kubeconfig_that_is_not_yaml(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("clusters: [\n")
    out = cnibot("ask", "node", "ip-10-0-1-5", env={**sqlite_env, "KUBECONFIG": str(bad)})
    assert "Traceback" not in out.stdout + out.stderr
    assert "not valid YAML" in out.stdout and len(out.stderr.strip().splitlines()) <= 1, out.stderr


def test_unknown_yaml_key_is_named_as_written(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("foo: 1\n")
    line = one_problem(cnibot("ask", "history", env={**sqlite_env, "CNIBOT_CONFIG": str(path)}))
    assert line.startswith("config foo:") and "CNIBOT_FOO" not in line


def test_serve_port_flag_is_named_as_typed(sqlite_env: dict[str, str]) -> None:
    env = {**sqlite_env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s"}
    line = one_problem(cnibot("serve", "--port", "70000", env=env))
    assert line.startswith("--port:") and "CNIBOT_PORT" not in line


def test_env_port_is_still_named_by_its_variable(sqlite_env: dict[str, str]) -> None:
    line = one_problem(cnibot("ask", "history", env={**sqlite_env, "CNIBOT_PORT": "70000"}))
    assert line.startswith("CNIBOT_PORT:")


def test_default_cluster_without_clusters_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("default_cluster: prod\n")
    monkeypatch.setenv("CNIBOT_CONFIG", str(path))
    with pytest.raises(ConfigError) as err:
        load_settings(database_url=f"sqlite:///{tmp_path / 'c.db'}")
    assert len(err.value.problems) == 1
    assert "default_cluster 'prod' names no cluster" in err.value.problems[0]


def test_db_upgrade_with_sqlite_in_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    out = cnibot("db", "upgrade", env={"CNIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'nope' / 'c.db'}"})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "CNIBOT_DATABASE_URL" in lines[0] and "unable to open" in lines[0], lines
