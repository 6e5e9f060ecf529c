"""Issue 14's fault matrix at the default deadline: each dependency down, slow, hanging, refusing and failing
mid-command; every state command through the `cnibot ask` path against the demo scenario. Prints each fault's
worst wall time, the outcomes, and any answer that broke the rules (tests/support/fault_matrix.py).

    python bench/fault_matrix.py                 # deadline 20 s (the default), hangs of 30 s
    python bench/fault_matrix.py --deadline 5
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fault_matrix import COMMANDS, faults, faulty, problems, timed  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deadline", type=float, default=20.0)
    args = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    broken = 0
    print(f"{'fault':48} {'worst s':>8}  outcomes")
    for fault in faults(hang_seconds=args.deadline + 10):
        outcomes: Counter[str] = Counter()
        worst, found = 0.0, []
        with tempfile.TemporaryDirectory() as tmp, faulty(fault, Path(tmp), args.deadline) as running:
            for command in COMMANDS:
                result, seconds = timed(running, command)
                worst = max(worst, seconds)
                outcomes[result.outcome] += 1
                found += [f"{command}: {p}" for p in problems(fault, command, result, seconds, args.deadline)]
        summary = ", ".join(f"{o} {n}" for o, n in sorted(outcomes.items()))
        print(f"{fault.name:48} {worst:8.2f}  {summary}", flush=True)
        for line in found:
            print(f"    ! {line}")
        broken += len(found)
    print(f"{len(COMMANDS)} commands per fault, deadline {args.deadline:g} s; {broken} answers broke the rules")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
