"""Migrations and the history store, on SQLite and on Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage import load_all_models, migrate
from storage.db import make_engine, make_session_factory
from storage.history import HistoryRepository
from storage.models import Base


def test_upgrade_downgrade_upgrade_and_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
        assert "command_log" in inspect(engine).get_table_names()

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert "command_log" not in inspect(engine).get_table_names()

        migrate.upgrade(engine)
        load_all_models()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_history_round_trip_keeps_utc_and_order(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    repo = HistoryRepository(make_session_factory(engine))
    base = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    for i, user in enumerate(["U1", "U2", "U1"]):
        repo.record_command(
            correlation_id=f"c{i}",
            source="slack",
            user_id=user,
            user_name=user.lower(),
            team_id="T",
            channel_id="C",
            cluster="prod",
            subcommand="history",
            text=f"history {i}",
            outcome="ok",
            duration_ms=10 + i,
            created_at=base + timedelta(minutes=i),
        )
    everything = repo.recent_commands(limit=10)
    assert [e.text for e in everything] == ["history 2", "history 1", "history 0"]
    assert everything[0].created_at == base + timedelta(minutes=2)
    assert everything[0].created_at.tzinfo is not None
    only_u1 = repo.recent_commands(user_id="U1", limit=10)
    assert [e.correlation_id for e in only_u1] == ["c2", "c0"]
    assert len(repo.recent_commands(limit=1)) == 1
    engine.dispose()


def test_naive_timestamps_are_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    repo = HistoryRepository(make_session_factory(engine))
    with pytest.raises(Exception, match="naive"):
        repo.record_command(
            correlation_id="x",
            source="cli",
            user_id="u",
            user_name=None,
            team_id=None,
            channel_id=None,
            cluster=None,
            subcommand="help",
            text="help",
            outcome="ok",
            duration_ms=1,
            created_at=datetime(2026, 1, 1),
        )
    assert repo.recent_commands() == []
    engine.dispose()
