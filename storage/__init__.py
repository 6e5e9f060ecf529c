"""Persistence: SQLAlchemy models and repositories (history, diagnoses, changes, digests)."""

from __future__ import annotations

import importlib
import pkgutil


def load_all_models() -> None:
    """Import every module of this package so that Base.metadata knows every table (Alembic, drift tests)."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("migrate",):
            importlib.import_module(f"{__name__}.{module.name}")
