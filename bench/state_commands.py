"""Benchmark /cni capacity and /cni subnets on generated simulator clusters: wall time, the bot's peak memory,
and the EC2 and Kubernetes calls the simulator served.

    python bench/state_commands.py                         # 500 and 5,000 nodes x 20 pods
    python bench/state_commands.py --nodes 500 --commands capacity

The simulator runs in its own process (a 5,000-node cluster holds ~1 GB), so the bot process's peak RSS is the
bot's alone. Each command runs in a fresh bot process whose AWS and Kubernetes clients are built before the
clock starts (a serving bot has them), twice:
  cold  the first command: nodes and pods are listed (and their watches start), every cache is empty;
  warm  the same command 11 s later, as a serving bot answers it: nodes and pods come from the watches, the
        ENI and subnet caches have expired (so EC2 is read again), instance types are cached.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.simproc import SimulatorProcess, read_reply  # noqa: E402

LIVE_CACHE_SECONDS = 11  # AwsGateway keeps live EC2 state 10 s
TARGETS = {"seconds": 10.0, "peak_mb": 500.0, "ec2_calls": 30}  # at 5,000 nodes (issue #5)


# --- the bot process ---------------------------------------------------------------------------------------


def ask_twice(text: str) -> int:
    """Run one /cni command as the bot does, cold then (after a line on stdin) warm; a JSON line of figures
    after each run."""
    from bot.app import build_runner, build_services
    from bot.config import ClusterAuth, ClusterConfig, load_settings
    from bot.logs import configure_logging
    from bot.runner import new_correlation_id
    from commands.base import CommandContext

    configure_logging("ERROR", "text")
    if os.environ.get("BENCH_GLIBC_DEFAULTS") != "1":
        from bot.allocator import tune_allocator

        tune_allocator()  # as build_cnibot does for `cnibot serve`
    cluster = ClusterConfig(
        name=os.environ["BENCH_CLUSTER"],
        region=os.environ["AWS_REGION"],
        auth=ClusterAuth(mode="kubeconfig", kubeconfig=os.environ["KUBECONFIG"]),
    )
    workdir = tempfile.mkdtemp(prefix="cnibot-bench-")
    # The longest deadline the settings allow: at 20,000 nodes a cold command may take longer than the default
    # 20 s, and the curve must show what it costs, not a partial answer.
    settings = load_settings(
        database_url=f"sqlite:///{workdir}/cnibot.db", clusters=[cluster], command_deadline_seconds=300
    )
    services = build_services(settings)
    connection = services.connections.get(cluster)
    _ = connection.kube, connection.aws()  # clients a serving bot already has; no API call yet
    runner = build_runner()
    if os.environ.get("BENCH_SERVE_REFRESH") == "1":
        # What `cnibot serve` runs besides the commands: the VPC's ENI sweep kept fresh in the background.
        from bot.gateways.pool import install_live_refresh

        install_live_refresh(services.connections, services.scheduler)
        services.scheduler.start()
    for run in ("cold", "warm"):
        if run == "warm":
            sys.stdin.readline()
        ctx = CommandContext(
            services=services, user_id="bench", correlation_id=new_correlation_id(), source="cli", now=services.clock()
        )
        limiter = connection.aws()._limiter
        profile_path = os.environ.get("BENCH_PROFILE", "")
        profiler = ThreadProfiler() if profile_path and run == "cold" else None
        started, cpu_started, waited = time.perf_counter(), time.process_time(), limiter.waited
        result = runner.execute(text, ctx)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler is not None:
            profiler.dump(profile_path)
        reads = result.data.get("read_seconds", {})
        figures = {
            "run": run,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "peak_mb": round(_peak_mb()),
            "limiter_s": round(limiter.waited - waited, 2),
            "outcome": result.outcome,
            "summary": result.doc.summary,
            "slowest_reads": sorted(reads.items(), key=lambda kv: -kv[1])[:4],
        }
        print(json.dumps(figures), flush=True)
    services.scheduler.shutdown(wait=False)
    services.connections.close()
    return 0


class ThreadProfiler:
    """cProfile on every thread started from now on (a command's reads run on pool threads) and this one."""

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        threading.setprofile(self._start_in_thread)
        self._start_in_thread()

    def _start_in_thread(self, *_args: object) -> None:
        profile = cProfile.Profile()
        self._profiles.append(profile)
        profile.enable()  # replaces this hook for the thread

    def dump(self, path: str) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        for profile in self._profiles:
            profile.disable()
        stats = pstats.Stats(self._profiles[0])
        for profile in self._profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)


def print_profile(path: str, lines: int = 30) -> None:
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the driver -------------------------------------------------------------------------------------------


def _child(*args: str, env: dict[str, str] | None = None, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def measure(
    nodes: int,
    pods_per_node: int,
    seed: int,
    commands: list[str],
    serve_refresh: bool = False,
    profile_dir: str = "",
    glibc_defaults: bool = False,
) -> list[dict[str, Any]]:
    sim = SimulatorProcess(nodes, pods_per_node, seed)
    try:
        ready = sim.facts
        print(
            f"  {nodes:,} nodes: simulator built in {ready['build_seconds']} s, its LIST cache encoded in "
            f"{ready.get('encode_seconds', 0)} s, peak {ready.get('sim_peak_mb', 0):,} MB "
            f"({ready['enis']:,} ENIs, {ready['pods']:,} pods)",
            file=sys.stderr,
        )
        env = {**os.environ, **ready["env"], "BENCH_CLUSTER": ready["cluster"]}
        env["BENCH_SERVE_REFRESH"] = "1" if serve_refresh else "0"
        env["BENCH_GLIBC_DEFAULTS"] = "1" if glibc_defaults else "0"
        rows = []
        for command in commands:
            sim.reset_counts()
            if profile_dir:
                env["BENCH_PROFILE"] = str(Path(profile_dir) / f"{command}-{nodes}-cold.prof")
            bot = _child("--ask", command, env=env, stdin=subprocess.PIPE)
            assert bot.stdin is not None
            for run in ("cold", "warm"):
                if run == "warm":
                    time.sleep(LIVE_CACHE_SECONDS)  # the ENI and subnet caches expire: the warm run reads EC2 again
                    sim.reset_counts()
                    bot.stdin.write("go\n")
                    bot.stdin.flush()
                figures = read_reply(bot.stdout)
                counts, sim_cpu = sim.counts_and_cpu()
                rows.append(
                    {
                        "nodes": nodes,
                        "enis": ready["enis"],
                        "pods": ready["pods"],
                        "command": command,
                        **figures,
                        "sim_cpu_seconds": sim_cpu,
                        "ec2_calls": sum(n for k, n in counts.items() if k.startswith("ec2:")),
                        "eks_calls": sum(n for k, n in counts.items() if k.startswith("eks:")),
                        "kube_calls": sum(n for k, n in counts.items() if k.startswith("kube:")),
                        "calls": counts,
                    }
                )
            bot.stdin.close()
            bot.wait(timeout=600)
    finally:
        sim.stop()
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = (
        "nodes",
        "ENIs",
        "pods",
        "command",
        "run",
        "wall s",
        "bot CPU s",
        "sim CPU s",
        "peak MB",
        "EC2",
        "limiter s",
        "EKS",
        "K8s",
    )
    cells = [
        (
            f"{r['nodes']:,}",
            f"{r['enis']:,}",
            f"{r['pods']:,}",
            r["command"],
            r["run"],
            f"{r['seconds']:.2f}",
            f"{r['cpu_seconds']:.2f}",
            f"{r.get('sim_cpu_seconds', 0):.2f}",
            f"{r['peak_mb']:,}",
            str(r["ec2_calls"]),
            f"{r.get('limiter_s', 0):.2f}",
            str(r["eks_calls"]),
            str(r["kube_calls"]),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print()
    for r in rows:
        detail = ", ".join(f"{k} {n}" for k, n in r["calls"].items())
        print(f"{r['nodes']:,} nodes, {r['command']} ({r['run']}, {r['outcome']}): {detail}")
        print(f"  answer: {r['summary']}")
        print("  slowest reads: " + ", ".join(f"{what} {sec:.2f} s" for what, sec in r["slowest_reads"]))
    big = [r for r in rows if r["nodes"] >= 5000]
    if big:
        print()
        for r in big:
            verdict = (
                r["seconds"] < TARGETS["seconds"]
                and r["peak_mb"] < TARGETS["peak_mb"]
                and r["ec2_calls"] <= TARGETS["ec2_calls"]
            )
            print(
                f"targets at 5,000 nodes ({r['command']}, {r['run']}): < {TARGETS['seconds']:.0f} s, "
                f"< {TARGETS['peak_mb']:.0f} MB, <= {TARGETS['ec2_calls']} EC2 calls: {'met' if verdict else 'NOT met'}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--commands", nargs="+", default=["capacity", "subnets"])
    parser.add_argument("--ask", metavar="TEXT", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument(
        "--serve-refresh",
        action="store_true",
        help="run serve's background ENI-sweep refresh in the bot process (the warm run then finds it fresh)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        default="",
        help="cProfile each cold run on every bot thread; write DIR/<command>-<nodes>-cold.prof, print the top",
    )
    parser.add_argument(
        "--glibc-defaults",
        action="store_true",
        help="leave glibc's allocator untuned (serve tunes it: bot/allocator.py), to compare",
    )
    args = parser.parse_args(argv)
    if args.ask:
        return ask_twice(args.ask)
    rows = [
        row
        for nodes in args.nodes
        for row in measure(
            nodes, args.pods_per_node, args.seed, args.commands, args.serve_refresh, args.profile, args.glibc_defaults
        )
    ]
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; serve's ENI refresh: {args.serve_refresh}; "
        f"allocator: {'glibc defaults' if args.glibc_defaults else 'tuned as serve tunes it'}"
    )
    print_table(rows)
    if args.json:
        print(json.dumps(rows, indent=2))
    if args.profile:
        for path in sorted(Path(args.profile).glob("*.prof")):
            print(f"\n--- {path.name} ---")
            print_profile(str(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
