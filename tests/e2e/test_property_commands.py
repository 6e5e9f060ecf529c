"""Issue 14: generated /cni texts through the `cnibot ask` path against the demo scenario, held to the oracle in
tests/support/fuzz.py. A bounded number of examples here; bench/fuzz_commands.py runs many more."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.support.asker import Asker, asker
from tests.support.fuzz import check, command_texts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Asker]:
    with asker("demo", tmp_path_factory.mktemp("property"), command_deadline_seconds=10) as running:
        yield running


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_texts())
def test_generated_commands_hold_the_oracle(demo: Asker, text: str) -> None:
    problems = check(demo, text)
    assert not problems, f"/cni {text!r}: " + "; ".join(problems)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_texts())
def test_the_real_process_exit_code_matches_the_outcome(demo: Asker, text: str) -> None:
    """A few of the same texts through the `cnibot ask --json` process, against the same simulated cluster."""
    assume("\x00" not in text)  # no process takes a NUL in its arguments
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    env.update(demo.sim.env())
    env["CNIBOT_DATABASE_URL"] = demo.services.settings.database_url
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", text.encode("utf-8", "surrogateescape")],
        capture_output=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert b"Traceback" not in out.stderr, out.stderr[-500:]
    outcome = json.loads(out.stdout)["outcome"]
    assert out.returncode == {"ok": 0, "partial": 0, "user_error": 2}.get(outcome, 1), (text, outcome)
