"""`cnibot demo` and `cnibot sim`: the simulated cluster, the bot against it, and a prompt to type /cni
commands at.

The one module of the bot that imports the simulator (an import contract in pyproject.toml says so): it starts
the simulator, then the bot reaches it only over HTTP, as it would reach AWS and EKS; nothing is mocked
in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from bot.render.doc import render_text

if TYPE_CHECKING:
    from simulator.runner import SimulatedCluster

BANNER = """\
cnibot demo: a simulated EKS cluster ({scenario}, {nodes} nodes) is running on loopback.
Type what you would type in Slack, e.g.:
  /cni help
  /cni capacity
  /cni subnets
  /cni why-pending {example}
Ctrl-D or "exit" to leave.
"""
EXIT_USAGE = 2
EXIT_CODES = {"ok": 0, "partial": 0, "user_error": EXIT_USAGE}  # as `cnibot ask`; an error is 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnibot demo", description=__doc__)
    p.add_argument("--scenario", default="demo", help="simulator scenario (default: demo)")
    p.add_argument("--nodes", type=int, default=None, help="build a generated cluster of N nodes instead")
    p.add_argument(
        "-c",
        "--command",
        action="append",
        default=[],
        help="run this /cni command and exit (repeatable); without it, an interactive prompt",
    )
    return p


def sim_main(argv: Sequence[str]) -> int:
    """`cnibot sim`: the simulated cluster on its own (its runner parses its arguments)."""
    from simulator.runner import main as run_simulator

    return run_simulator(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from simulator.runner import SimulatedCluster

    sim = SimulatedCluster.from_scenario(args.scenario, nodes=args.nodes)
    sim.start()
    try:
        return _run(sim, args)
    finally:
        sim.stop()


def _run(sim: SimulatedCluster, args: argparse.Namespace) -> int:
    from bot.app import build_runner, build_services
    from bot.config import ClusterAuth, ClusterConfig, load_settings
    from bot.logs import configure_logging
    from bot.runner import new_correlation_id
    from commands.base import CommandContext

    env = sim.env()
    os.environ.update({k: v for k, v in env.items() if k != "KUBECONFIG"})
    workdir = tempfile.mkdtemp(prefix="cnibot-demo-")
    cluster = ClusterConfig(
        name=sim.cluster_name,
        region=sim.region,
        auth=ClusterAuth(mode="kubeconfig", kubeconfig=str(sim.kubeconfig_path)),
    )
    settings = load_settings(database_url=f"sqlite:///{workdir}/cnibot.db", clusters=[cluster])
    configure_logging("WARNING", "text")
    services = build_services(settings)
    runner = build_runner()
    user = os.environ.get("USER", "demo")

    def ask(text: str) -> int:
        text = text.strip().removeprefix("/cni").strip()
        ctx = CommandContext(
            services=services,
            user_id=f"cli:{user}",
            user_name=user,
            correlation_id=new_correlation_id(),
            source="cli",
            now=services.clock(),
        )
        result = runner.execute(text, ctx, deliver=lambda r: print(render_text(r.doc), flush=True))
        return EXIT_CODES.get(result.outcome, 1)

    try:
        return _session(args, sim, ask)
    finally:
        services.connections.close()


def _session(args: argparse.Namespace, sim: SimulatedCluster, ask: Callable[[str], int]) -> int:
    if args.command:
        # Scripted: the exit code is the worst command's, as `cnibot ask` would give it.
        worst = 0
        for command in args.command:
            print(f"$ /cni {command.strip().removeprefix('/cni').strip()}")
            worst = max(worst, ask(command))
        return worst
    example = _example_pod(sim)
    print(BANNER.format(scenario=args.scenario, nodes=_node_count(sim), example=example))
    for line in _lines():
        if line.strip() in ("exit", "quit"):
            break
        if line.strip():
            ask(line)
    return 0


def _lines() -> Iterator[str]:
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            try:
                yield input("/cni> ")
            except EOFError:
                print()
                return
        else:
            line = sys.stdin.readline()
            if not line:
                return
            yield line


def _example_pod(sim: SimulatedCluster) -> str:
    """A pod worth asking about: one the scenario says has a problem."""
    troubled = [e.pod for e in sim.expect if e.cause not in ("POD_HAS_IP", "HOST_NETWORK")]
    return troubled[0] if troubled else "default/web-1"


def _node_count(sim: SimulatedCluster) -> int:
    return len(sim.store.list("v1", "Node"))
