"""`cnibot audit export`: the append-only audit of change transitions as JSON lines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TextIO

from storage.changes import ChangeRepository

_RELATIVE = re.compile(r"([0-9]{1,6})([hdw])", re.ASCII)
# An audit older than this is not a relative span anyone means (and a bigger one overflows datetime).
MAX_SPAN = timedelta(days=3660)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `2w`, or an ISO date/time (UTC when no zone is given)."""
    text = text.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        span = int(match.group(1)) * _UNITS[match.group(2)]
        if span > MAX_SPAN:
            raise ValueError(f"--since goes back at most {MAX_SPAN.days} days; give a date instead")
        return now - span
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since wants e.g. 7d, 24h or 2026-11-01 (got {text[:30]!r})") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def export_audit(repo: ChangeRepository, since: datetime, out: TextIO) -> int:
    """Write every audit event at or after ``since``, oldest first, one JSON object per line."""
    count = 0
    for entry in repo.events_since(since):
        out.write(json.dumps(entry.to_json(), sort_keys=True) + "\n")
        count += 1
    return count
