"""How long the `cnibot` command takes as a whole process for its quick answers (issue 15 item 4): help, a
/cni usage error, `--version`. Each is run N times (after one warm-up) and the median wall time printed;
with --against, another checkout's `bot.cli` runs in turn with it (A B A B ...), so the ratio holds when the
machine's speed drifts.

    python bench/cli_startup.py                      # this checkout, 5 runs each
    python bench/cli_startup.py --against ../other   # side by side with another checkout (e.g. main's)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "ask help": ["ask", "help"],
    "ask histroy (usage error)": ["ask", "histroy"],
    "--version": ["--version"],
}
TARGET_SECONDS = 0.5  # `cnibot ask help`, median of 5


def run_once(checkout: Path, words: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.cli", *words],
        cwd=checkout,
        env={**env, "PYTHONPATH": str(checkout)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout to time in turn with this one")
    args = parser.parse_args(argv)
    checkouts = {"this": ROOT}
    if args.against:
        checkouts["other"] = args.against.resolve()
    workdir = tempfile.mkdtemp(prefix="cnibot-cli-bench-")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.runs} runs each after a warm-up")
    header = f"{'command':28} " + " ".join(f"{name + ' median s':>16}" for name in checkouts)
    print(header + ("   ratio this/other (median of pairs)" if args.against else ""))
    for label, words in CASES.items():
        times: dict[str, list[float]] = {name: [] for name in checkouts}
        envs = {name: {**clean, "CNIBOT_DATABASE_URL": f"sqlite:///{workdir}/{name}.db"} for name in checkouts}
        for name, checkout in checkouts.items():
            run_once(checkout, words, envs[name])  # warm-up: the first run also creates the history database
        for _ in range(args.runs):
            for name, checkout in checkouts.items():
                times[name].append(run_once(checkout, words, envs[name]))
        row = f"{label:28} " + " ".join(f"{statistics.median(times[n]):16.3f}" for n in checkouts)
        if args.against:
            ratios = [a / b for a, b in zip(times["this"], times["other"], strict=True)]
            row += f"   {statistics.median(ratios):.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
