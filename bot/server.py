"""`cnibot serve`: HTTP mode through uvicorn, or Socket Mode with the probes still on HTTP.

Graceful shutdown on SIGTERM (or Ctrl-C): uvicorn stops accepting and lets in-flight HTTP requests finish;
then Socket Mode disconnects, the scheduler starts no new job, and command work already acked (the answers
still to be posted to Slack) and running jobs finish. All of it within DRAIN_SECONDS of the signal, which
the Helm chart's terminationGracePeriodSeconds covers. A second signal during the drain ends the process
at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from bot import __version__
from bot.app import Cnibot, build_cnibot
from bot.config import Settings, redact_url, redacted
from bot.logs import event
from bot.services import Services
from bot.web import uvicorn_config

log = logging.getLogger("cnibot.server")

# One budget from the signal to the end of the drain; matches uvicorn's timeout_graceful_shutdown.
DRAIN_SECONDS = 20.0
EXIT_UNFINISHED = 1


class _Server(uvicorn.Server):
    """uvicorn's server, noting when the stop signal came so the whole drain shares one deadline."""

    stop_requested_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        super().handle_exit(sig, frame)


class _SecondSignalExits:
    """Our handler for SIGTERM and SIGINT around uvicorn's own.

    uvicorn re-raises the signal after its HTTP drain; with the default action the process would end there,
    before the acked command work has posted its answers. This handler ignores that re-raise and ends the
    process only on a signal that arrives during the drain (an impatient second Ctrl-C or kill).
    """

    def __init__(self) -> None:
        self.draining = False

    def __call__(self, sig: int, frame: FrameType | None) -> None:
        if self.draining:
            os._exit(128 + sig)

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self)


def wait_all(waits: dict[str, Callable[[], None]], deadline: float) -> list[str]:
    """Run each blocking wait on its own thread; the names of those not done by `deadline` (monotonic)."""
    threads = {name: threading.Thread(target=fn, name=f"drain-{name}", daemon=True) for name, fn in waits.items()}
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    return [name for name, thread in threads.items() if thread.is_alive()]


def serve(settings: Settings, *, socket_mode: bool = False) -> int:
    bot = build_cnibot(settings)
    event(log, "settings", logging.DEBUG, settings=redacted(settings))
    handler = None
    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert bot.bolt is not None or settings.slack_app_token is not None
        if bot.bolt is None:
            from bot.slack_app import build_bolt_app

            bot.bolt = build_bolt_app(bot.services, bot.runner)
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        handler = SocketModeHandler(bot.bolt, app_token)
        handler.connect()  # non-blocking; the HTTP server below keeps /healthz, /readyz and /metrics up
    signals = _SecondSignalExits()
    if threading.current_thread() is threading.main_thread():
        signals.install()
    server = _Server(uvicorn_config(bot.web, settings.host, settings.port))
    bot.services.scheduler.start()
    log.info("%s", startup_line(bot, settings, socket_mode))
    threading.Thread(target=_warm_up, args=(bot,), name="warm-up", daemon=True).start()
    try:
        server.run()
    finally:
        signals.draining = True
        stopped_at = server.stop_requested_at or time.monotonic()
        if handler is not None:
            handler.close()  # no new Socket Mode events while the rest drains
        unfinished = _drain(bot, stopped_at + DRAIN_SECONDS)
        bot.services.connections.close()  # stop the node and pod watches
        bot.services.repos.dispose()
        elapsed = round(time.monotonic() - stopped_at, 2)
    if unfinished:
        event(log, "stopped before work finished", logging.WARNING, unfinished=unfinished, seconds=elapsed)
        logging.shutdown()
        # Worker threads are joined at interpreter exit; leave now, as the deadline promised.
        os._exit(EXIT_UNFINISHED)
    event(log, "stopped", seconds=elapsed)
    return 0


def startup_line(bot: Cnibot, settings: Settings, socket_mode: bool) -> str:
    """What an operator needs to know at start, in one line: where it listens, the database, the clusters,
    the jobs."""
    where = f"http://{settings.host}:{settings.port}"
    mode = f"Socket Mode (probes on {where})" if socket_mode else f"{where}/slack/events"
    jobs = bot.services.scheduler.job_ids()
    digests = sum(1 for j in jobs if j.startswith("digest:"))
    return (
        f"cnibot {__version__} serving {mode}; database {redact_url(settings.database_url)}; "
        f"clusters {', '.join(bot.services.clusters.names)}; {len(jobs)} jobs scheduled"
        + (f" ({digests} digest subscriptions)" if digests else "")
    )


def _warm_up(bot: Cnibot) -> None:
    """Build each cluster's clients and fill its node and pod caches now (botocore loads its models; listing
    100k pods takes seconds), so the first /cni command does not pay for it. Ends with one line saying which
    clusters answered."""
    reachable, unreachable = [], []
    for cluster in bot.services.clusters.configs:
        conn = bot.services.connections.get(cluster)
        try:
            if conn.default_region():
                conn.aws()
            nodes = conn.nodes.items()
            conn.pods.items()
        except Exception as exc:  # the command that needs it will report the problem properly
            unreachable.append(f"{cluster.name} ({exc})")
        else:
            reachable.append(f"{cluster.name} ({len(nodes)} nodes)")
    parts = [f"reachable: {', '.join(reachable)}"] if reachable else []
    parts += [f"NOT reachable: {', '.join(unreachable)}"] if unreachable else []
    log.log(logging.WARNING if unreachable else logging.INFO, "clusters %s", "; ".join(parts))


def hand_over_applies(services: Services) -> None:
    """Rollout watches stop at their next poll and release their apply lease: another replica finishes them
    at once instead of after the lease runs out. Writes in progress finish first."""
    services.stopping.set()
    for thread in list(services.apply_threads):
        thread.join()


def _drain(bot: Cnibot, deadline: float) -> list[str]:
    waits: dict[str, Callable[[], None]] = {
        "scheduled jobs": lambda: bot.services.scheduler.shutdown(wait=True),
        "applies": lambda: hand_over_applies(bot.services),
    }
    work = bot.services.work
    if work is not None:
        # Queued work still runs: every request in it was acked, so someone is waiting for its answer.
        waits["command work"] = lambda: work.shutdown(wait=True)
    return wait_all(waits, deadline)
