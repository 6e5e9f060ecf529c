"""The property suite's larger run: many generated /cni texts through the `cnibot ask` path against a simulated
cluster, each held to the oracle of tests/support/fuzz.py (no traceback, exit code, one history row, no change
request from refused input, no user text outside its grammar in a request). Prints inputs tried and failures.

    python bench/fuzz_commands.py                     # 5,000 texts against the demo scenario
    python bench/fuzz_commands.py --examples 20000 --scenario subnet-exhausted
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from sqlalchemy import text as sql  # noqa: E402

from tests.support.asker import Asker, asker  # noqa: E402
from tests.support.fuzz import check, command_texts  # noqa: E402


def run(running: Asker, examples: int, seed_value: int) -> tuple[int, list[tuple[str, list[str]]]]:
    tried = 0
    failures: list[tuple[str, list[str]]] = []

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # every failure is collected, none shrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(text=command_texts())
    def one(text: str) -> None:
        nonlocal tried
        tried += 1
        problems = check(running, text)
        if problems:
            failures.append((text, problems))

    one()
    return tried, failures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=5000)
    p.add_argument("--scenario", default="demo")
    p.add_argument("--seed", type=int, default=14)
    args = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, asker(args.scenario, Path(tmp), command_deadline_seconds=10) as running:
        tried, failures = run(running, args.examples, args.seed)
        with running.services.repos.engine.connect() as conn:
            rows = conn.execute(sql("SELECT outcome, count(*) FROM command_log GROUP BY outcome ORDER BY 2 DESC"))
            outcomes = ", ".join(f"{outcome} {count:,}" for outcome, count in rows)
    seconds = time.perf_counter() - started
    print(f"scenario {args.scenario}: {tried:,} generated /cni texts in {seconds:.0f} s, {len(failures)} failures")
    print(f"  outcomes: {outcomes}")
    for text, problems in failures[:20]:
        print(f"  /cni {text!r}: {'; '.join(problems)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
