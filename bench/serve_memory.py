"""Memory of a serving bot with warm caches (issue 15 item 5): the bot built as `cnibot serve` builds it
(Bolt with a signing secret, the web app, the change and digest jobs, the background ENI refresh), its
scheduler started, then /cni capacity and /cni subnets answered cold and again warm, on a generated cluster.

    python bench/serve_memory.py                     # 5,000 nodes x 20 pods
    python bench/serve_memory.py --nodes 1000 20000

Printed per size: RSS after start (imports and clients), after the cold commands, after the warm ones, and
the process's peak RSS (the kernel's high-water mark), in MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.simproc import SimulatorProcess, read_reply  # noqa: E402

LIVE_CACHE_SECONDS = 11


def _mb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024)
    return 0


def serve_and_ask() -> int:
    from bot.app import build_cnibot
    from bot.config import ClusterAuth, ClusterConfig, load_settings
    from bot.logs import configure_logging
    from bot.runner import new_correlation_id
    from commands.base import CommandContext

    configure_logging("ERROR", "text")
    cluster = ClusterConfig(
        name=os.environ["BENCH_CLUSTER"],
        region=os.environ["AWS_REGION"],
        auth=ClusterAuth(mode="kubeconfig", kubeconfig=os.environ["KUBECONFIG"]),
    )
    workdir = tempfile.mkdtemp(prefix="cnibot-bench-")
    settings = load_settings(
        database_url=f"sqlite:///{workdir}/cnibot.db",
        clusters=[cluster],
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench",
    )
    if os.environ.get("BENCH_GLIBC_DEFAULTS") == "1":
        import bot.allocator as allocator

        allocator.tune_allocator = lambda: False  # build_cnibot's call then does nothing
    bot = build_cnibot(settings)
    services = bot.services
    connection = services.connections.get(cluster)
    _ = connection.kube, connection.aws()
    services.scheduler.start()
    figures = {"started_mb": _mb("VmRSS")}

    def ask(text: str) -> float:
        ctx = CommandContext(
            services=services, user_id="bench", correlation_id=new_correlation_id(), source="cli", now=services.clock()
        )
        started = time.perf_counter()
        bot.runner.execute(text, ctx)
        return time.perf_counter() - started

    figures["cold_seconds"] = round(sum(ask(t) for t in ("capacity", "subnets")), 2)
    figures["cold_mb"] = _mb("VmRSS")
    time.sleep(LIVE_CACHE_SECONDS)
    figures["warm_seconds"] = round(sum(ask(t) for t in ("capacity", "subnets")), 2)
    figures["warm_mb"] = _mb("VmRSS")
    figures["peak_mb"] = _mb("VmHWM")
    print(json.dumps(figures), flush=True)
    services.scheduler.shutdown(wait=False)
    services.connections.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[5000])
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--compare-allocator",
        action="store_true",
        help="also run the bot with glibc's allocator left untuned (bot/allocator.py), in turn on the same cluster",
    )
    args = parser.parse_args(argv)
    if args.serve:
        return serve_and_ask()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    columns = ("started MB", "cold MB", "warm MB", "peak MB")
    header = f"{'nodes':>6} {'pods':>8} {'allocator':>14} " + " ".join(f"{c:>10}" for c in columns)
    print(header + f" {'cold s':>7} {'warm s':>7}")
    variants = ("tuned", "glibc defaults") if args.compare_allocator else ("tuned",)
    for nodes in args.nodes:
        sim = SimulatorProcess(nodes, args.pods_per_node)
        try:
            for variant in variants:
                env = {**os.environ, **sim.facts["env"], "BENCH_CLUSTER": sim.facts["cluster"]}
                env["BENCH_GLIBC_DEFAULTS"] = "1" if variant != "tuned" else "0"
                child = subprocess.Popen(
                    [sys.executable, str(Path(__file__).resolve()), "--serve"],
                    stdout=subprocess.PIPE,
                    text=True,
                    env=env,
                )
                f = read_reply(child.stdout)
                child.wait(timeout=120)
                print(
                    f"{nodes:>6,} {sim.facts['pods']:>8,} {variant:>14} {f['started_mb']:>10} {f['cold_mb']:>10} "
                    f"{f['warm_mb']:>10} {f['peak_mb']:>10} {f['cold_seconds']:>7} {f['warm_seconds']:>7}"
                )
        finally:
            sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
