"""`cnibot serve`: HTTP mode through uvicorn, or Socket Mode with the probes still on HTTP."""

from __future__ import annotations

import logging

import uvicorn

from bot.app import build_cnibot
from bot.config import Settings, redacted
from bot.logs import event
from bot.web import uvicorn_config

log = logging.getLogger("cnibot.server")


def serve(settings: Settings, *, socket_mode: bool = False) -> int:
    bot = build_cnibot(settings)
    event(log, "starting", mode="socket" if socket_mode else "http", settings=redacted(settings))
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
    server = uvicorn.Server(uvicorn_config(bot.web, settings.host, settings.port))
    bot.services.scheduler.start()
    try:
        server.run()
    finally:
        bot.services.scheduler.shutdown(wait=False)
        if handler is not None:
            handler.close()
        # Let command work already running finish before the process ends.
        if bot.bolt is not None:
            bot.bolt.listener_runner.listener_executor.shutdown(wait=True, cancel_futures=False)
    return 0
