"""Benchmark of /cni why-pending: signed Slack requests to the bot over HTTP, answers on a fake Slack's
response_url, the cluster simulated in-process with a fixed latency added to every API call.

    python bench/why_pending.py                                  # 6 scenarios, 50 ms per call
    python bench/why_pending.py --scenarios all --cold 5 --warm 20
    python bench/why_pending.py --scenarios subnet-exhausted --latency 0.1

For each scenario and its first expected pod:
  cold  every cache emptied before the ask (EC2 caches, instance types, the discovered VPC);
  warm  the same question again within the caches' TTL (what most asks in an incident look like).
Reported: median and p95 time from the request to the final answer, the AWS and Kubernetes calls one answer
makes, the floor (the longest chain of calls that must happen one after the other, times the latency) and
the ratio of the median to it; and the acks' p50 / p99 over every request.

Cold asks are spaced so that the bot's EC2 rate limiter (5 calls/s) has refilled: the figure is the latency
of one diagnosis, not of the limiter protecting the account's EC2 budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import ClusterAuth, ClusterConfig  # noqa: E402
from bot.gateways.aws import AwsGateway  # noqa: E402
from bot.gateways.cache import TTLCache  # noqa: E402
from simulator.fake_slack import FakeSlack  # noqa: E402
from simulator.runner import SimulatedCluster  # noqa: E402
from tests.support.bot import RunningBot, start_bot  # noqa: E402

SECRET = "bench-signing-secret"
DEFAULT_SCENARIOS = (
    "subnet-exhausted",
    "prefix-fragmentation",
    "node-ip-capacity",
    "eniconfig-missing",
    "max-pods-reached",
    "not-scheduled",
)
COLD_SPACING = 2.0  # seconds between cold asks: the EC2 rate limiter refills


@dataclass
class Ask:
    total: float  # request sent -> answer delivered on response_url
    ack: float
    aws: int
    kube: int
    hops: int


@dataclass
class Result:
    scenario: str
    pod: str
    cause: str
    cold: list[Ask]
    warm: list[Ask]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- the floor: which calls had to wait for which ------------------------------------------------------------


def floor_hops(calls: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Longest chain of dependent calls among those made (a cached call costs nothing).

    pod (with its events, the DaemonSet, the ENIConfigs beside it) -> for a scheduled pod: node, pods on it,
    its aws-node pod -> node ENIs, instance types, ipamd metrics, aws-node events -> the VPC's subnets (after
    the ENIs when the VPC is not known yet) -> the sweep of one subnet (its ENIs, reservations, the cluster's
    pods). A pod without a node: pod and events -> nodes -> instance types.
    """
    ops = [f"{api}:{op}" for api, op, _ in calls]

    def made(op: str, needle: str = "") -> bool:
        """A call of ``op`` whose parameters (EC2 filters, Kubernetes query) mention ``needle``."""
        return any(f"{api}:{operation}" == op and needle in unquote(repr(detail)) for api, operation, detail in calls)

    if "kube:GET nodes" not in ops:
        if "kube:LIST nodes" in ops:
            return 2 + made("ec2:DescribeInstanceTypes")
        return 2 if made("kube:LIST pods", "metadata.name") else 1
    node = 2
    enis = node + made("ec2:DescribeNetworkInterfaces", "attachment.instance-id")
    types = node + made("ec2:DescribeInstanceTypes")
    subnets = node
    if made("ec2:DescribeSubnets"):
        subnets = enis + 1 if enis > node else node + 1
    stage3 = max(enis, types, subnets, node)
    swept = (
        made("ec2:DescribeNetworkInterfaces", "subnet-id")
        or made("ec2:GetSubnetCidrReservations")
        or _all_pods_listed(calls)
    )
    aws_node_chain = 3  # pod -> its aws-node pod -> metrics / events
    security_groups = 3 if made("ec2:DescribeSecurityGroups") else 0
    return max(aws_node_chain, stage3 + swept, security_groups)


def _all_pods_listed(calls: list[tuple[str, str, dict[str, Any]]]) -> bool:
    for api, op, detail in calls:
        if api == "kube" and op == "LIST pods" and str(detail.get("path", "")).rstrip("/") == "/api/v1/pods":
            query = str(detail.get("query", ""))
            if "fieldSelector" not in query and "labelSelector" not in query:
                return True
    return False


# --- running it ---------------------------------------------------------------------------------------------


@contextmanager
def bot_for(
    scenario: str, latency: float, slack: FakeSlack, workdir: Path
) -> Iterator[tuple[SimulatedCluster, RunningBot]]:
    sim = SimulatedCluster.from_scenario(scenario)
    sim.faults.base_latency = latency
    sim.start()
    saved = dict(os.environ)
    try:
        os.environ.update({k: v for k, v in sim.env().items() if k != "KUBECONFIG"})
        settings = {
            "database_url": f"sqlite:///{workdir / f'{scenario}.db'}",
            "slack_signing_secret": SECRET,
            "slack_bot_token": "xoxb-bench",
            "slack_api_url": slack.api_url,
            "clusters": [
                ClusterConfig(
                    name=sim.cluster_name,
                    region=sim.region,
                    auth=ClusterAuth(mode="kubeconfig", kubeconfig=str(sim.kubeconfig_path)),
                )
            ],
        }
        bot = start_bot(settings, slack, SECRET)
        try:
            yield sim, bot
        finally:
            bot.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sim.stop()


def empty_caches(bot: RunningBot) -> None:
    """Forget everything cached: EC2 answers, instance types, the VPC discovered from the node's ENIs."""
    connections = bot.cnibot.services.connections
    for conn in list(getattr(connections, "_by_name", {}).values()):
        conn.vpc_id = conn.cluster.vpc_id
        for gateway in list(getattr(conn, "_aws", {}).values()):
            if isinstance(gateway, AwsGateway):
                for value in vars(gateway).values():
                    if isinstance(value, TTLCache):
                        value.invalidate()


def ask(sim: SimulatedCluster, bot: RunningBot, text: str) -> Ask:
    sim.counter.reset()
    started = time.monotonic()
    reply = bot.slash(text)
    path = reply.response_url.removeprefix(bot.slack.url)
    delivery = bot.slack.wait_for(lambda s: s.deliveries(path), timeout=60)[0]
    calls = sim.counter.calls()
    return Ask(
        total=delivery.at - started,
        ack=reply.elapsed,
        aws=sum(1 for api, _, _ in calls if api in ("ec2", "eks", "sts")),
        kube=sum(1 for api, _, _ in calls if api == "kube"),
        hops=floor_hops(calls),
    )


def run_scenario(scenario: str, latency: float, cold: int, warm: int, slack: FakeSlack, workdir: Path) -> Result:
    with bot_for(scenario, latency, slack, workdir) as (sim, bot):
        target = next((e for e in sim.expect if e.cause not in ("POD_HAS_IP", "HOST_NETWORK")), sim.expect[0])
        text = f"why-pending {target.pod}"
        ask(sim, bot, text)  # process warm-up: clients, connection pools, imports (not a cache effect)
        cold_asks = []
        for _ in range(cold):
            time.sleep(COLD_SPACING)
            empty_caches(bot)
            cold_asks.append(ask(sim, bot, text))
        ask(sim, bot, text)  # fill the caches
        warm_asks = [ask(sim, bot, text) for _ in range(warm)]
        return Result(scenario, target.pod, target.cause, cold_asks, warm_asks)


def ratio(a: Ask, latency: float) -> float:
    """This answer's time over its own floor (a warm ask whose cache entry expired has a longer floor)."""
    return a.total / (a.hops * latency)


def spread(values: Sequence[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def describe(asks: list[Ask], latency: float) -> tuple[str, ...]:
    totals = [a.total for a in asks]
    return (
        f"{statistics.median(totals) * 1000:.0f}",
        f"{percentile(totals, 0.95) * 1000:.0f}",
        spread([a.aws for a in asks]),
        spread([a.kube for a in asks]),
        spread([a.hops for a in asks]),
        f"{statistics.median(ratio(a, latency) for a in asks):.2f}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=list(DEFAULT_SCENARIOS), help="names, or 'all'")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every API call")
    parser.add_argument("--cold", type=int, default=8, help="cold asks per scenario")
    parser.add_argument("--warm", type=int, default=30, help="warm asks per scenario")
    args = parser.parse_args(argv)
    scenarios = args.scenarios
    if scenarios == ["all"]:
        from simulator.scenarios import list_scenarios

        scenarios = [s for s in list_scenarios() if s not in ("healthy", "custom-networking", "demo")]
        scenarios = [s for s in scenarios if not s.startswith("custom-networking")]

    load_before = os.getloadavg()[0]
    slack = FakeSlack().start()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-why-pending-") as tmp:
            for scenario in scenarios:
                results.append(run_scenario(scenario, args.latency, args.cold, args.warm, slack, Path(tmp)))
                print(f"  done: {scenario}", file=sys.stderr)
    finally:
        slack.stop()

    header = ("scenario", "cause", "run", "median ms", "p95 ms", "AWS calls", "kube calls", "floor hops", "ratio p50")
    rows = []
    for r in results:
        rows.append((r.scenario, r.cause, f"cold x{len(r.cold)}", *describe(r.cold, args.latency)))
        rows.append(("", "", f"warm x{len(r.warm)}", *describe(r.warm, args.latency)))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"why-pending, {args.latency * 1000:.0f} ms added to every API call (floor = hops x latency)")
    for row in [header, *rows]:
        print(
            "  ".join(
                str(cell).ljust(w) if i < 3 else str(cell).rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    acks = [a.ack for r in results for a in (*r.cold, *r.warm)]
    print(
        f"acks: {len(acks)} requests, p50 {percentile(acks, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(acks, 0.99) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms"
    )
    ratios = [ratio(a, args.latency) for r in results for a in (*r.cold, *r.warm)]
    print(
        f"ratio to floor over all answers: median {statistics.median(ratios):.2f}, p95 {percentile(ratios, 0.95):.2f}"
    )
    print(f"load average before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
