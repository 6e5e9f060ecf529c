"""Every repository of one deployment's database, opened once by the composition root (bot/app.py).

Features take the repository they need from here; none builds its own session factory or repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from storage.capacity_samples import SampleRepository
from storage.changes import ChangeRepository
from storage.db import make_session_factory
from storage.diagnoses import DiagnosisRepository
from storage.digests import DigestRepository
from storage.history import HistoryRepository


@dataclass(frozen=True)
class Repositories:
    engine: Engine  # for readiness checks, migrations in tests and shutdown; features use the repositories
    history: HistoryRepository
    diagnoses: DiagnosisRepository
    changes: ChangeRepository
    digests: DigestRepository
    samples: SampleRepository
    history_engine: Engine  # the same engine, or one with a shorter SQLite busy wait for history writes

    @classmethod
    def open(cls, engine: Engine, *, history_writes: Engine | None = None) -> Repositories:
        """``history_writes``: the engine history rows are written through (a shorter SQLite busy wait)."""
        sessions = make_session_factory(engine)
        history_engine = history_writes or engine
        return cls(
            engine=engine,
            history=HistoryRepository(sessions, writes=make_session_factory(history_engine)),
            diagnoses=DiagnosisRepository(sessions),
            changes=ChangeRepository(sessions),
            digests=DigestRepository(sessions),
            samples=SampleRepository(sessions),
            history_engine=history_engine,
        )

    def dispose(self) -> None:
        self.engine.dispose()
        if self.history_engine is not self.engine:
            self.history_engine.dispose()
