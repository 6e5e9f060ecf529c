"""Issue 14's fault matrix: every dependency down, slow, hanging, refusing and failing mid-command, each state
command through the `cnibot ask` path, the answer checked and its wall time asserted against the deadline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fault_matrix import COMMANDS, Fault, faults, faulty, problems, timed

DEADLINE = 3.0


@pytest.mark.slow
@pytest.mark.parametrize("fault", faults(hang_seconds=DEADLINE + 4), ids=lambda f: f.name)
def test_every_command_answers_by_its_deadline(fault: Fault, tmp_path: Path) -> None:
    found = []
    with faulty(fault, tmp_path, DEADLINE) as running:
        for command in COMMANDS:
            result, seconds = timed(running, command)
            found += [f"{command}: {p}" for p in problems(fault, command, result, seconds, DEADLINE)]
    assert not found, "\n".join(found)
