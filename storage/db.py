"""Engine and sessions. No module-level engine: the composition root builds one from Settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# How long SQLite waits for a lock: commands and changes, the start's migration, and history rows (written
# after the answer, so a locked file never delays one and a worker thread is not held for long).
BUSY_SECONDS = 15.0
START_BUSY_SECONDS = 2.0
HISTORY_BUSY_SECONDS = 2.0
# Postgres: a lock held elsewhere is waited for at most this long, any statement at most the second.
PG_LOCK_TIMEOUT_SECONDS = 5.0
PG_STATEMENT_TIMEOUT_SECONDS = 15.0
PG_POOL_WAIT_SECONDS = 5.0


def database_problem(exc: BaseException) -> str:
    """One line on why the database cannot be used, without the URL (it may hold a password)."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()).split("[SQL:", 1)[0].strip()
    return f"{type(orig).__name__}: {text[:200]}" if text else type(orig).__name__


def make_engine(url: str, *, busy_timeout: float = BUSY_SECONDS, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        # Several threads write history concurrently; wait for the lock instead of failing at once.
        connect_args = {"timeout": busy_timeout, "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        busy_ms = round(busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                # WAL + NORMAL: commits stay atomic and the file consistent; a power cut may lose the last
                # few commits, which is fine for history and halves the commit time on the answer path.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    # All connections stuck on a hung server: the next caller gives up instead of queueing for 30 s.
    kwargs.setdefault("pool_timeout", PG_POOL_WAIT_SECONDS)
    # A failing database must not hang a command: give up connecting quickly.
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("connect_timeout", 5)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _pg_timeouts(dbapi_conn: Any, _record: Any) -> None:
        # Session settings (not the URL's `options`, which may carry a search_path): a lock held elsewhere or
        # a runaway statement ends in an error the caller handles, never in a thread waiting forever.
        cur = dbapi_conn.cursor()
        cur.execute(f"SET lock_timeout = '{round(PG_LOCK_TIMEOUT_SECONDS * 1000)}ms'")
        cur.execute(f"SET statement_timeout = '{round(PG_STATEMENT_TIMEOUT_SECONDS * 1000)}ms'")
        cur.execute("SET idle_in_transaction_session_timeout = '60s'")
        cur.close()
        dbapi_conn.commit()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
