"""Shared fixtures: databases (SQLite and Postgres), the fake Slack, and a running bot."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from simulator.fake_slack import FakeSlack
from tests.support.bot import RunningBot, start_bot

# A command abandoned at its deadline may still log from its thread after pytest has closed that test's captured
# stream; the line is lost either way, so do not print "--- Logging error ---" tracebacks for it.
logging.raiseExceptions = False

SIGNING_SECRET = "test-signing-secret"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get("CNIBOT_TEST_POSTGRES_URL", DEFAULT_PG)


def _postgres_or_skip() -> str:
    url = postgres_base_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # pragma: no cover - depends on the machine
        message = f"Postgres at {make_url(url).render_as_string(hide_password=True)} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: Postgres is required)")
        pytest.skip(message)
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A Postgres URL whose search_path is a fresh schema, dropped afterwards."""
    base = _postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cnibot.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cnibot.db'}"
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlack) -> FakeSlack:
    fake_slack_server.reset()
    return fake_slack_server


@pytest.fixture
def bot_factory(fake_slack: FakeSlack, sqlite_url: str) -> Iterator[Callable[..., RunningBot]]:
    started: list[RunningBot] = []

    def make(**overrides: Any) -> RunningBot:
        settings: dict[str, Any] = {
            "database_url": sqlite_url,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_bot_token": "xoxb-test-token",
            "slack_api_url": fake_slack.api_url,
        }
        settings.update(overrides)
        registry = settings.pop("registry", None)
        bot = start_bot(settings, fake_slack, SIGNING_SECRET, registry=registry)
        started.append(bot)
        return bot

    yield make
    for bot in started:
        bot.stop()


@pytest.fixture
def bot(bot_factory: Callable[..., RunningBot]) -> RunningBot:
    return bot_factory()
