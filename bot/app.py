"""Composition root: the only place that knows every concrete part."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.clusters import ClusterDirectory
from bot.config import Settings, redact_url
from bot.runner import CommandRunner
from bot.services import Services
from commands import build_registry
from commands.registry import Registry
from storage import migrate
from storage.db import (
    HISTORY_BUSY_SECONDS,
    START_BUSY_SECONDS,
    database_problem,
    make_engine,
)
from storage.repositories import Repositories

if TYPE_CHECKING:
    # Only `serve` (build_cnibot) needs these: imported there, so that `cnibot ask` starts without them.
    from slack_bolt import App
    from slack_sdk import WebClient
    from starlette.applications import Starlette

log = logging.getLogger("cnibot.app")


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    problem = None
    if settings.migrate_on_start:
        log.debug("migrating %s", redact_url(settings.database_url))
        # A short busy wait: a database locked by another process must not hold up the start.
        migrating = make_engine(settings.database_url, busy_timeout=START_BUSY_SECONDS)
        try:
            if not migrate.at_head(migrating):  # a quick check first: Alembic loads only when there is work
                migrate.upgrade(migrating)
        except (SQLAlchemyError, OSError) as exc:
            problem = database_problem(exc)
            log.warning(
                "CNIBOT_DATABASE_URL %s: %s. Commands still answer, without history; fix the database and restart.",
                redact_url(settings.database_url),
                problem,
            )
        finally:
            migrating.dispose()
    return Services(
        settings=settings,
        repos=Repositories.open(engine, history_writes=_history_engine(settings, engine)),
        clusters=ClusterDirectory(settings),
        database_problem=problem,
    )


def _history_engine(settings: Settings, engine: Engine) -> Engine:
    """History rows wait for a locked SQLite file briefly: they are written after the answer, and a worker
    thread held for the full busy wait is one less for the next command."""
    if settings.is_sqlite and ":memory:" not in settings.database_url:
        return make_engine(settings.database_url, busy_timeout=HISTORY_BUSY_SECONDS)
    return engine


def _cluster_problems(clusters: ClusterDirectory) -> dict[str, str]:
    from bot.gateways.connections import credentials_problem

    problems = {}
    for cluster in clusters.configs:
        problem = credentials_problem(cluster)
        if problem:
            log.warning("cluster %s cannot be reached: %s", cluster.name, problem)
            problems[cluster.name] = problem
    return problems


def _warn_open_clusters(clusters: ClusterDirectory) -> None:
    """A cluster with no access rules answers anyone in the workspace, from any channel: say so at start."""
    for cluster in clusters.configs:
        if cluster.open_to_workspace:
            log.warning(
                "cluster %s has no access rules: anyone in the Slack workspace can read it from any channel or DM "
                "(set clusters[].access in CNIBOT_CONFIG; see README, Access rules)",
                cluster.name,
            )


def build_runner(registry: Registry | None = None) -> CommandRunner:
    return CommandRunner(registry or build_registry())


@dataclass
class Cnibot:
    services: Services
    runner: CommandRunner
    bolt: App | None
    web: Starlette


def build_cnibot(
    settings: Settings, *, slack_client: WebClient | None = None, registry: Registry | None = None
) -> Cnibot:
    from bot.allocator import tune_allocator
    from bot.changes.jobs import register_change_jobs
    from bot.changes.notify import slack_client_from
    from bot.digests.service import install_digests
    from bot.gateways.pool import install_live_refresh
    from bot.slack_app import build_bolt_app
    from bot.web import build_web_app

    tune_allocator()  # a served bot runs for weeks: big response buffers go back to the system when freed
    services = build_services(settings)
    # Served: say at start which cluster cannot be reached, and keep saying it on /readyz.
    services.cluster_problems = _cluster_problems(services.clusters)
    _warn_open_clusters(services.clusters)
    runner = build_runner(registry)
    # One Web API client for everything posted outside a request: approvals, change threads, digests.
    services.slack_client = slack_client or slack_client_from(settings)
    bolt = None
    if settings.slack_signing_secret is not None:
        bolt = build_bolt_app(services, runner, client=services.slack_client)
    register_change_jobs(services)  # builds the change service, once
    install_live_refresh(services.connections, services.scheduler)
    if bolt is not None or slack_client is not None:  # digests post only where Slack is served or given
        install_digests(services)
    return Cnibot(services=services, runner=runner, bolt=bolt, web=build_web_app(services, bolt))
