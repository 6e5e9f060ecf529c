"""Composition root: the only place that knows every concrete part."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from starlette.applications import Starlette

from bot.changes.jobs import register_change_jobs
from bot.clusters import ClusterDirectory
from bot.config import Settings, redact_url
from bot.digests.service import install_digests
from bot.runner import CommandRunner
from bot.services import Services
from bot.slack_app import build_bolt_app
from bot.web import build_web_app
from commands import build_registry
from commands.registry import Registry
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.history import HistoryRepository

log = logging.getLogger("cnibot.app")


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    if settings.migrate_on_start:
        log.debug("migrating %s", redact_url(settings.database_url))
        migrate.upgrade(engine)
    return Services(
        settings=settings,
        engine=engine,
        history=HistoryRepository(make_session_factory(engine)),
        clusters=ClusterDirectory(settings),
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
    services = build_services(settings)
    runner = build_runner(registry)
    bolt = None
    if settings.slack_signing_secret is not None:
        bolt = build_bolt_app(services, runner, client=slack_client)
    register_change_jobs(services, bolt.client if bolt is not None else slack_client)
    install_digests(services, bolt.client if bolt is not None else slack_client)
    return Cnibot(services=services, runner=runner, bolt=bolt, web=build_web_app(services.engine, bolt))
