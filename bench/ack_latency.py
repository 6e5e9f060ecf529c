"""Ack latency under concurrency: cnibot against a bare Bolt app, side by side in one run.

    python bench/ack_latency.py                      # 50 concurrent /cni capacity, 6 rounds
    python bench/ack_latency.py --concurrency 50 --rounds 10 --command "subnets" --nodes 200

All apps are served by the same web stack (Starlette under uvicorn on loopback, Bolt's sync App behind
run_in_threadpool) and get the same signed slash commands from the same client. Two bare apps only ack: one
with Bolt's defaults, one acking on the request's thread as cnibot does (the stricter baseline). The
bot acks, then does the command's work against a generated simulated cluster (in its own process, as the
EKS and EC2 APIs would be) and posts the answer to the fake Slack. Rounds rotate which app goes first; each
waits for the bot's answers of the round before the next burst. Reported: ack p50 / p99 per app and the
ratio bot / bare. The figure is the ratio: absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from slack_bolt import Ack, App  # noqa: E402
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bench.simproc import SimulatorProcess  # noqa: E402
from bot.config import ClusterAuth, ClusterConfig  # noqa: E402
from bot.web import BackgroundServer  # noqa: E402
from simulator.fake_slack import FakeSlack, sign, slash_command_body  # noqa: E402
from tests.support.bot import start_bot  # noqa: E402

SECRET = "bench-signing-secret"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def bare_app(slack: FakeSlack, *, inline: bool) -> BackgroundServer:
    """The smallest Bolt app that acks /cni, behind the same adapter code as cnibot's /slack/events. `inline`:
    the ack listener runs on the request's thread (process_before_response), as cnibot's does; else Bolt's
    default, which runs it on the listener executor and waits for the ack."""
    app = App(
        signing_secret=SECRET,
        client=WebClient(token="xoxb-bench", base_url=slack.api_url),
        token_verification_enabled=False,
        process_before_response=inline,
    )

    @app.command("/cni")
    def ack_only(ack: Ack) -> None:
        ack()

    async def events(request: Request) -> Response:
        body = await request.body()
        return to_starlette_response(await run_in_threadpool(app.dispatch, to_bolt_request(request, body)))

    return BackgroundServer(Starlette(routes=[Route("/slack/events", events, methods=["POST"])])).start()


def burst(http: httpx.Client, url: str, slack: FakeSlack, text: str, n: int, tag: str) -> list[float]:
    """`n` signed slash commands at once; each one's time to its ack. A non-200 ack counts as lost."""
    bodies = [slash_command_body(text, response_url=slack.response_url(f"{tag}-{i}")) for i in range(n)]
    gate = threading.Barrier(n)

    def one(body: str) -> float:
        headers = sign(SECRET, body)
        gate.wait()
        started = time.perf_counter()
        resp = http.post(f"{url}/slack/events", content=body, headers=headers)
        elapsed = time.perf_counter() - started
        if resp.status_code != 200:
            raise RuntimeError(f"lost ack: HTTP {resp.status_code}")
        return elapsed

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, bodies))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--command", default="capacity")
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods-per-node", type=int, default=20)
    args = parser.parse_args(argv)

    slack = FakeSlack().start()
    sim = SimulatorProcess(args.nodes, args.pods_per_node)
    os.environ.update(sim.facts["env"])  # AWS endpoint and KUBECONFIG: the default cluster
    workdir = Path(tempfile.mkdtemp(prefix="ack-bench-"))
    settings: dict[str, Any] = {
        "database_url": f"sqlite:///{workdir / 'bench.db'}",
        "slack_signing_secret": SECRET,
        "slack_bot_token": "xoxb-bench",
        "slack_api_url": slack.api_url,
        "clusters": [
            ClusterConfig(
                name=sim.facts["cluster"],
                region=sim.facts["region"],
                auth=ClusterAuth(mode="kubeconfig", kubeconfig=os.environ["KUBECONFIG"]),
            )
        ],
    }
    bot = start_bot(settings, slack, SECRET)
    bares = {"bare Bolt": bare_app(slack, inline=False), "bare inline": bare_app(slack, inline=True)}
    http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=args.concurrency * 2))
    acks: dict[str, list[float]] = {"cnibot": [], **{name: [] for name in bares}}
    urls = {"cnibot": bot.url, **{name: server.url for name, server in bares.items()}}
    try:
        # Warm-up, not measured: imports, clients, the first cluster listing, Bolt's first auth.test.
        for name, url in urls.items():
            burst(http, url, slack, args.command, 2, f"warm-{name.replace(' ', '-')}")
        slack.wait_for(lambda s: len(s.deliveries("/commands/T0TEAM/warm-cnibot")) >= 2, timeout=60)
        for r in range(args.rounds):
            order = list(urls.items())
            shift = r % len(order)  # each app goes first in turn
            for name, url in order[shift:] + order[:shift]:
                tag = f"{'bot' if name == 'cnibot' else name.replace(' ', '-')}{r}"
                acks[name] += burst(http, url, slack, args.command, args.concurrency, tag)
            prefix, want = f"/commands/T0TEAM/bot{r}-", args.concurrency
            slack.wait_for(lambda s, p=prefix, n=want: len(s.deliveries(p)) >= n, timeout=120)
    finally:
        http.close()
        for server in bares.values():
            server.stop()
        bot.stop()
        sim.stop()
        slack.stop()

    facts = sim.facts
    print(
        f"{args.concurrency} concurrent `/cni {args.command}` x {args.rounds} rounds; simulated cluster of "
        f"{facts['nodes']} nodes and {facts['pods']} pods in its own process"
    )
    print(f"{'app':<10} {'acks':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in acks.items():
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(f"{name:<10} {len(values):>5} {p50:>8.1f} {p99:>8.1f}")
    bot_acks = acks["cnibot"]
    for name in bares:
        ratio50 = percentile(bot_acks, 0.5) / percentile(acks[name], 0.5)
        ratio99 = percentile(bot_acks, 0.99) / percentile(acks[name], 0.99)
        print(f"ratio cnibot / {name}: p50 {ratio50:.2f}x, p99 {ratio99:.2f}x (target p99 <= 1.2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
