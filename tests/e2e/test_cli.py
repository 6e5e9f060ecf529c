"""The `cnibot` command as a user runs it: a real process, real exit codes, no Slack credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def cnibot(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def db_env(tmp_path: Path) -> dict[str, str]:
    return {"CNIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_ask_help_prints_text_and_json(db_env: dict[str, str]) -> None:
    text = cnibot("ask", "help", env=db_env)
    assert text.returncode == 0, text.stderr
    assert "history" in text.stdout and "recent /cni commands" in text.stdout
    assert text.stderr == ""
    data = cnibot("ask", "--json", "help", env=db_env)
    parsed = json.loads(data.stdout)
    assert parsed["outcome"] == "ok" and any(s["name"] == "history" for s in parsed["subcommands"])


def test_ask_records_history_and_reads_it_back(db_env: dict[str, str]) -> None:
    cnibot("ask", "histroy", env=db_env)  # a usage error is recorded too; help is not (it reads nothing)
    cnibot("ask", "help", env=db_env)
    out = cnibot("ask", "history --limit 5", "--json", env=db_env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["commands"]
    assert [(r["text"], r["source"]) for r in rows] == [("histroy", "cli")]


def test_ask_usage_errors_exit_2_with_a_short_answer(db_env: dict[str, str]) -> None:
    out = cnibot("ask", "histroy", env=db_env)
    assert out.returncode == 2
    assert "did you mean `history`" in out.stdout and "Traceback" not in out.stdout + out.stderr


def test_serve_without_slack_credentials_explains(db_env: dict[str, str]) -> None:
    out = cnibot("serve", env=db_env)
    assert out.returncode == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET not set" in out.stderr and "cnibot demo" in out.stderr


def test_invalid_settings_fail_with_one_line_per_problem(db_env: dict[str, str]) -> None:
    out = cnibot("ask", "history", env={**db_env, "CNIBOT_PORT": "x", "CNIBOT_LOG_FORMAT": "xml"})
    assert out.returncode == 2
    lines = [ln.strip() for ln in out.stderr.splitlines()]
    assert lines[0] == "cnibot: invalid settings:"
    assert any(ln.startswith("CNIBOT_PORT:") for ln in lines) and any(
        ln.startswith("CNIBOT_LOG_FORMAT:") for ln in lines
    )


def test_db_upgrade_and_current(db_env: dict[str, str]) -> None:
    behind = cnibot("db", "current", env=db_env)
    assert behind.returncode == 1 and "behind" in behind.stdout
    up = cnibot("db", "upgrade", env=db_env)
    assert up.returncode == 0, up.stderr
    current = cnibot("db", "current", env=db_env)
    assert current.returncode == 0 and "(current)" in current.stdout


def test_db_upgrade_on_postgres_never_logs_the_password(pg_url: str) -> None:
    url = pg_url.replace("postgres@", "postgres:s3cret-pw@")
    out = cnibot("db", "upgrade", env={"CNIBOT_DATABASE_URL": url})
    assert out.returncode == 0, out.stderr
    assert "s3cret-pw" not in out.stdout + out.stderr and "***" in out.stdout


def test_demo_runs_the_simulator_and_answers_commands() -> None:
    out = cnibot("demo", "-c", "why-pending shop/checkout-7", "-c", "capacity")
    assert out.returncode == 0, out.stderr
    assert "$ /cni why-pending shop/checkout-7" in out.stdout and "SUBNET_EXHAUSTED" in out.stdout
    assert "$ /cni capacity" in out.stdout and "more pods" in out.stdout


def test_demo_prompt_reads_commands_until_exit() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        input="/cni help\nexit\n/cni capacity\n",
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "cnibot demo: a simulated EKS cluster" in out.stdout and "why-pending" in out.stdout
    assert "Room for" not in out.stdout  # nothing after "exit" runs (capacity answers "Room for N more pods")


def test_demo_walks_the_custom_networking_lab_with_typed_approvals() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    lab = [
        'custom-networking enable --reason "pods on 100.64.0.0/16"',
        "approve 1 as alice",
        "approve 1 as bob",
        'nodes replace --pending-from 1 --reason "finish the lab"',
        "approve 2 as mallory",
        "approve 2 as alice",
        "approve 2 as bob",
        "config",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--scenario", "custom-networking-before"],
        input="\n".join(lab) + "\n",
        capture_output=True,
        text=True,
        env=clean,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "approve ID as alice" in out.stdout and "Only alice and bob approve in the demo." in out.stdout
    assert out.stdout.count("Verified; approved by <@alice>, <@bob>") == 2
    assert "Custom networking 3 of 3 nodes take pod IPs from their ENIConfig subnet." in out.stdout
