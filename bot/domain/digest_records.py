"""Digest subscriptions and claims as the features see them (the rows behind them: storage/digest_tables.py).

Plain records, so commands can name them without loading the database layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Claim states.
CLAIMED = "claimed"
POSTED = "posted"
FAILED = "failed"  # Slack refused the post: nothing was posted, so it may be retried within the grace window
SKIPPED = "skipped"  # claimed, then found not worth posting (e.g. no sample at all)
UNCERTAIN = "uncertain"  # the post may or may not have gone out (a timeout): never retried


@dataclass(frozen=True)
class Subscription:
    id: int
    cluster: str
    channel: str
    schedule: str
    timezone: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Claim:
    id: int
    subscription_id: int
    period: datetime
    status: str
    claimed_by: str
    claimed_at: datetime
    attempts: int
    late: bool
    finished_at: datetime | None
    channel_id: str | None
    message_ts: str | None
    error: str | None
    summary: dict[str, Any] | None
