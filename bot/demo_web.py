"""`cnibot demo --web` and `cnibot console`: the bot and the console (a local page that plays Slack).

`demo --web` runs all of it in one process: the simulated cluster, the bot served on loopback exactly as
`cnibot serve` serves it (Bolt on /slack/events, its scheduler), and the console, whose strict fake Slack is
the bot's Slack Web API. `console` plays Slack for a bot that is already running.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.web import BackgroundServer

if TYPE_CHECKING:
    from bot.app import Cnibot
    from simulator.console.app import Console, DigestRunner
    from simulator.runner import SimulatedCluster
    from simulator.slack_workspace import Workspace

CONSOLE_PORT = 3100  # the page; the console's Slack Web API listens on the next port


def demo_settings(sim: SimulatedCluster, ws: Workspace, api_url: str, secret: str, database_url: str) -> Any:
    from bot.config import ApprovalPolicy, ClusterAuth, ClusterConfig, load_settings

    cluster = ClusterConfig(
        name=sim.cluster_name,
        region=sim.region,
        auth=ClusterAuth(mode="kubeconfig", kubeconfig=str(sim.kubeconfig_path)),
        write_enabled=True,
        approvals=ApprovalPolicy(approvers_channel=ws.channel_by_role("approvers").id, users=ws.approvers),
    )
    return load_settings(
        database_url=database_url,
        clusters=[cluster],
        slack_signing_secret=secret,
        slack_bot_token="xoxb-console",
        slack_api_url=api_url,
    )


def digest_runner(bot: Cnibot, cluster_name: str) -> DigestRunner:
    """What the scheduler does at a digest's time, done now: the channel is subscribed (as of yesterday, so
    today's period is due), the cluster sampled, and the subscription's post job run."""
    from bot.digests.service import DigestJobs
    from bot.digests.slack import SlackDigestSender
    from bot.digests.sources import sources_for

    services = bot.services
    assert services.slack_client is not None
    jobs = DigestJobs(services, SlackDigestSender(services.slack_client), sources=sources_for(services.repos))

    def run(channel: Any, user: Any) -> str:
        now = bot.services.clock()
        sub, _ = jobs.stores.digests.subscribe(
            cluster=cluster_name,
            channel=channel.id,
            schedule=f"daily {now:%H:%M}",
            timezone="UTC",
            user_id=user.id,
            now=now - timedelta(days=1),
        )
        jobs.sampling.sample(cluster_name)
        result = jobs.poster.run(sub.id)
        return f"Digest run for {cluster_name}: {result.outcome}" + (f" ({result.detail})" if result.detail else "")

    return run


@dataclass
class DemoWeb:
    bot: Cnibot
    console: Console
    bot_server: BackgroundServer
    page: BackgroundServer

    def stop(self) -> None:
        self.page.stop()
        self.bot.services.scheduler.shutdown(wait=False)
        self.bot_server.stop()
        self.bot.services.connections.close()
        if self.bot.services.work is not None:
            self.bot.services.work.shutdown(wait=True)
        self.bot.services.repos.dispose()
        self.console.close()


def start_demo_web(sim: SimulatedCluster, database_url: str, port: int = CONSOLE_PORT) -> DemoWeb:
    """The bot served as `cnibot serve` serves it, against `sim`, with the console as its Slack."""
    from bot.app import build_cnibot
    from bot.web import BackgroundServer
    from simulator.console.app import Console
    from simulator.slack_workspace import Workspace

    os.environ.update({k: v for k, v in sim.env().items() if k != "KUBECONFIG"})
    ws = Workspace()
    secret = secrets.token_hex(16)
    console = Console("", secret, workspace=ws).start_slack(port + 1 if port else 0)
    bot = build_cnibot(demo_settings(sim, ws, console.api_url, secret, database_url))
    server = BackgroundServer(bot.web).start()
    console.bot_url = server.url
    console.run_digest = digest_runner(bot, sim.cluster_name)
    bot.services.scheduler.start()
    page = BackgroundServer(console.web, port=port).start()
    return DemoWeb(bot, console, server, page)


def run_demo_web(sim: SimulatedCluster, port: int = CONSOLE_PORT) -> int:
    from bot.logs import configure_logging

    configure_logging("WARNING", "text")
    workdir = tempfile.mkdtemp(prefix="cnibot-demo-")
    demo = start_demo_web(sim, f"sqlite:///{workdir}/cnibot.db", port)
    try:
        return _wait(demo.console, demo.page.url, bot_url=demo.bot_server.url)
    finally:
        demo.stop()


def _wait(console: Console, page_url: str, bot_url: str) -> int:
    ws = console.workspace
    print(
        f"cnibot console: open {page_url} in a browser (Ctrl-C to stop).\n"
        f"  bot: {bot_url}/slack/events; console Slack Web API: {console.api_url}\n"
        f"  people: {', '.join(f'{u.name} ({u.role})' for u in ws.users)}\n"
        f"  channels: {', '.join(f'#{c.name} ({c.role})' for c in ws.channels)}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print()
    return 0


def console_main(argv: Sequence[str] | None = None) -> int:
    """`cnibot console --bot-url URL`: play Slack for a running `cnibot serve`."""
    p = argparse.ArgumentParser(prog="cnibot console", description=console_main.__doc__)
    p.add_argument("--bot-url", required=True, help="the running bot, e.g. http://127.0.0.1:3000")
    p.add_argument("--port", type=int, default=CONSOLE_PORT, help="the page's port; the Web API uses the next")
    args = p.parse_args(argv)
    secret = os.environ.get("SLACK_SIGNING_SECRET") or os.environ.get("CNIBOT_SLACK_SIGNING_SECRET")
    if not secret:
        print("cnibot console: set SLACK_SIGNING_SECRET to the bot's signing secret", flush=True)
        return 2
    if not _loopback(args.bot_url):
        print("cnibot console: --bot-url must be on loopback (127.0.0.1 or [::1])", flush=True)
        return 2
    from simulator.console.app import Console

    console = Console(args.bot_url, secret).start_slack(args.port + 1)
    page = BackgroundServer(console.web, port=args.port).start()
    print(f"Start the bot with CNIBOT_SLACK_API_URL={console.api_url} to reach this console.", flush=True)
    try:
        return _wait(console, page.url, bot_url=args.bot_url.rstrip("/"))
    finally:
        page.stop()
        console.close()


def _loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1")
