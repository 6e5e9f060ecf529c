"""Issue 14: generated /cni texts through the `cnibot ask` path against the demo scenario, held to the oracle in
tests/support/fuzz.py. A bounded number of examples here; bench/fuzz_commands.py runs many more."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

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
