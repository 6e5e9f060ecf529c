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
from typing import TYPE_CHECKING, Any

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
Changes are applied to the simulated cluster once approved. The terminal has no buttons: approve by typing
  approve ID as alice      (then: approve ID as bob, for high-risk changes; alice and bob are the approvers)
Ctrl-D or "exit" to leave.
"""
DEMO_APPROVERS = ("alice", "bob")
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
    p.add_argument("--web", action="store_true", help="play Slack in a browser: every role, buttons and modals")
    p.add_argument("--port", type=int, default=3100, help="with --web: the page's port (default 3100)")
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
        if args.web:
            from bot.demo_web import run_demo_web

            return run_demo_web(sim, port=args.port)
        return _run(sim, args)
    finally:
        sim.stop()


def _run(sim: SimulatedCluster, args: argparse.Namespace) -> int:
    from bot.app import build_runner, build_services
    from bot.config import ApprovalPolicy, ClusterAuth, ClusterConfig, load_settings
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
        write_enabled=True,  # the simulated cluster: approved changes are applied, as the lab needs
        approvals=ApprovalPolicy(users=DEMO_APPROVERS),
    )
    settings = load_settings(database_url=f"sqlite:///{workdir}/cnibot.db", clusters=[cluster])
    configure_logging("WARNING", "text")
    services = build_services(settings)
    runner = build_runner()
    user = os.environ.get("USER", "demo")

    def ask(text: str) -> int:
        text = text.strip().removeprefix("/cni").strip()
        typed = _typed_approval(text)
        if typed is not None:
            return _approve(services, *typed, show=ask)
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


def _typed_approval(text: str) -> tuple[int, str] | None:
    """`approve 3 as alice`: the terminal's stand-in for the Approve button."""
    words = text.split()
    if len(words) == 4 and words[0] == "approve" and words[1].isdigit() and words[2] == "as":
        return int(words[1]), words[3]
    return None


def _approve(services: Any, change_id: int, user: str, *, show: Callable[[str], int]) -> int:
    """Approve as `user` (authorised like a click), wait for the change to settle, then show its trail."""
    import time

    from bot.changes.service import change_service
    from bot.domain.changes import OPEN_STATUSES, Status

    if user not in DEMO_APPROVERS:
        print(f"Only {' and '.join(DEMO_APPROVERS)} approve in the demo.")
        return EXIT_USAGE
    svc = change_service(services)
    svc.approve(change_id, user, None)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        record = svc.repo.get(change_id)
        if record is None or record.status is Status.PENDING or record.status not in OPEN_STATUSES:
            break
        time.sleep(0.2)
    return show(f"change {change_id}")


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
