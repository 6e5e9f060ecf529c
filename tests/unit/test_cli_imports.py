"""Issue 15 item 4: the terminal's quick answers (help, usage errors, --version) load neither the cluster
clients, Bolt, the digests' charts nor the database layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLUSTER_AND_SLACK = ("boto3", "botocore", "kubernetes", "slack_bolt", "slack_sdk", "matplotlib", "apscheduler")

PROBE = """
import json, runpy, sys
sys.argv = ["cnibot", *sys.argv[1:]]
try:
    runpy.run_module("bot.cli", run_name="__main__")
except SystemExit:
    pass
finally:
    sys.stdout.flush()
    sys.stderr.write("\\nMODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules})) + "\\n")
"""


def loaded(*args: str, tmp_path: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    env["CNIBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


@pytest.mark.parametrize("words", [("ask", "help"), ("ask", "--json", "help"), ("ask", "help", "history")])
def test_help_loads_no_cluster_client_bolt_nor_database(words: tuple[str, ...], tmp_path: Path) -> None:
    modules = loaded(*words, tmp_path=tmp_path)
    heavy = {*CLUSTER_AND_SLACK, "sqlalchemy", "alembic"}
    assert not modules & heavy, sorted(modules & heavy)


@pytest.mark.parametrize("words", [("--version",), ("bogus",), ("ask",), ()])
def test_version_and_usage_errors_load_not_even_the_database(words: tuple[str, ...], tmp_path: Path) -> None:
    modules = loaded(*words, tmp_path=tmp_path)
    heavy = {*CLUSTER_AND_SLACK, "sqlalchemy", "alembic"}
    assert not modules & heavy, sorted(modules & heavy)


def test_a_command_usage_error_loads_no_cluster_client_nor_bolt(tmp_path: Path) -> None:
    modules = loaded("ask", "histroy", tmp_path=tmp_path)  # recorded in history, so the database loads
    assert not modules & set(CLUSTER_AND_SLACK), sorted(modules & set(CLUSTER_AND_SLACK))


def test_help_touches_no_database_but_a_command_does(tmp_path: Path) -> None:
    loaded("ask", "help", tmp_path=tmp_path)
    assert not (tmp_path / "cli.db").exists()  # answered from the command table: nothing read, nothing recorded
    modules = loaded("ask", "history", tmp_path=tmp_path)
    assert "sqlalchemy" in modules and (tmp_path / "cli.db").exists()
