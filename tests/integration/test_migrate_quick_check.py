"""The quick schema check that spares a terminal command Alembic (issue 15 item 4) agrees with Alembic."""

from __future__ import annotations

from pathlib import Path

from storage import migrate
from storage.db import make_engine


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert migrate.head_from_files() == migrate.head_revision()


def test_at_head_only_after_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    assert not migrate.at_head(engine)
    migrate.upgrade(engine)
    assert migrate.at_head(engine)
    migrate.downgrade(engine, "-1")
    assert not migrate.at_head(engine)


def test_an_unreadable_database_is_not_at_head(tmp_path: Path) -> None:
    assert not migrate.at_head(make_engine(f"sqlite:///{tmp_path / 'missing' / 'h.db'}"))
