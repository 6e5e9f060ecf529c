"""Logging set-up: one JSON object per line (production) or readable text (terminal).

Request context (correlation id, user, command) travels in a ContextVar so every line of a request carries it.
Secrets never reach the logs: tokens look like xox?-..., and are masked by a filter as a last line of defence.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("cnibot_log_context", default={})  # noqa: B039
# Slack tokens, EKS bearer tokens (a presigned STS URL: enough to act as the bot), passwords in URLs.
_SECRET = re.compile(r"\b(xox[abposr]-|xapp-|k8s-aws-v1\.)[A-Za-z0-9_-]+|(://[^:/@\s]+):[^@\s]+@")


def _mask(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) + "***") if m.group(1) else (m.group(2) + ":***@"), text)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = _context.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _mask(record.getMessage()),
        }
        out.update(getattr(record, "ctx", {}))
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info:
            out["exc"] = _mask(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ctx = getattr(record, "ctx", {})
        extra = getattr(record, "fields", None) or {}
        tail = " ".join(f"{k}={v}" for k, v in {**ctx, **extra}.items())
        line = f"{record.levelname[0]} {record.name}: {_mask(record.getMessage())}" + (f"  [{tail}]" if tail else "")
        if record.exc_info:
            line += "\n" + _mask(self.formatException(record.exc_info))
        return line


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries stay at WARNING unless we debug.
    for noisy in (
        "botocore",
        "boto3",
        "urllib3",
        "kubernetes",
        "slack_bolt",
        "slack_sdk",
        "uvicorn.access",
        # Start-up chatter an operator cannot act on (one line per job, "Uvicorn running on ..."):
        # `cnibot serve` logs its own summary instead.
        "uvicorn.error",
        "apscheduler",
        "matplotlib",  # "generated new fontManager" on a fresh home directory
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)


def event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event; fields become JSON keys."""
    logger.log(level, msg, extra={"fields": fields})
