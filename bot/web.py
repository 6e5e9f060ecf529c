"""The HTTP server: /slack/events (Bolt), /healthz, /readyz, /metrics, on Starlette under uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.replays import RecentRequests
from bot.slack_gate import Refused, parse, read_capped, replay_key, verify
from storage.db import database_problem
from storage.migrate import current_revision, head_revision

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("cnibot.web")


def readiness(engine: Engine, cluster_problems: Mapping[str, str] | None = None) -> tuple[bool, dict[str, Any]]:
    """Ready = the database answers, its schema is at the newest migration, and every cluster's credentials
    load. Each part says what is wrong, naming the cluster."""
    ok, detail = _database_readiness(engine)
    if cluster_problems:
        detail["clusters"] = {name: f"cannot be reached: {problem}" for name, problem in cluster_problems.items()}
        ok = False
    return ok, detail


def _database_readiness(engine: Engine) -> tuple[bool, dict[str, Any]]:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
    except Exception as exc:
        return False, {"database": f"unavailable: {database_problem(exc)}", "history": "off"}
    head = head_revision()
    if current != head:
        return False, {"database": "ok", "schema": f"behind: at {current or 'empty'}, need {head}"}
    return True, {"database": "ok", "schema": "current"}


def build_web_app(services: Services, bolt: App | None) -> Starlette:
    engine = services.repos.engine

    secret = services.settings.slack_signing_secret
    handled = RecentRequests()

    async def slack_events(request: Request) -> Response:
        if bolt is None:
            return PlainTextResponse("Slack is not configured", status_code=503)
        if services.work is None:
            return await _slack_events(request)
        with services.work.serving_ack():
            return await _slack_events(request)

    async def _slack_events(request: Request) -> Response:
        assert bolt is not None
        try:
            body = await read_capped(request.headers, request.stream())
            # Signature first: nothing about an unsigned request is parsed or logged. The only check: Bolt's
            # own is off. No secret, nothing is signed: fail closed.
            verify(secret.get_secret_value() if secret is not None else "", request.headers, body)
            slack_request = parse(request.headers, body)
        except Refused as refused:
            return PlainTextResponse(refused.text, status_code=refused.status)
        if not handled.first_time(replay_key(slack_request)):
            # A retry (X-Slack-Retry-Num) or replay of a request this process already acked: ack, run nothing.
            metrics.SLACK_REPLAYS.inc()
            return Response(status_code=200)
        # Bolt's App is synchronous: dispatch on a worker thread so the event loop keeps serving.
        bolt_resp = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_resp)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        ok, detail = await run_in_threadpool(readiness, engine, services.cluster_problems)
        if services.slack_identity is not None:
            # Not a readiness condition: commands answer through response_url, which needs no Web API.
            detail["slack_web_api"] = services.slack_identity.status()
            services.slack_identity.refresh_in_background()
        return JSONResponse({"ready": ok, **detail}, status_code=200 if ok else 503)

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ]
    )


def uvicorn_config(web: Starlette, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        web,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # SIGTERM: stop accepting, let in-flight requests finish for up to this long.
        timeout_graceful_shutdown=20,
        lifespan="off",
    )


class BackgroundServer:
    """uvicorn in a thread on an ephemeral loopback port: for tests, benchmarks and `cnibot demo`."""

    def __init__(self, web: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        if port == 0:
            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn_config(web, host, port))
        self._thread = threading.Thread(target=self._server.run, name="cnibot-http", daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
