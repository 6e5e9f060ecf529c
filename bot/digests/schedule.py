"""When a digest is due: `daily HH:MM`, `weekdays HH:MM` or `weekly DAY HH:MM` in an IANA time zone.

A period is identified by its scheduled instant in UTC. Every replica computes the same instant for the same
wall-clock schedule, so the instant is the claim key that makes a digest post exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAILY = "daily"
WEEKDAYS = "weekdays"
WEEKLY = "weekly"
KINDS = (DAILY, WEEKDAYS, WEEKLY)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME = time(9, 0)

_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)  # ASCII: \d and int() take every script's digits


class ScheduleError(ValueError):
    """A schedule or time zone that cannot be read; the message is fit for the user."""


@dataclass(frozen=True)
class Schedule:
    kind: str  # DAILY | WEEKDAYS | WEEKLY
    at: time  # wall-clock time in `timezone`
    timezone: str = "UTC"
    weekday: int | None = None  # 0 = Monday; WEEKLY only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ScheduleError(f"unknown schedule kind {self.kind!r}")
        if (self.kind == WEEKLY) != (self.weekday is not None):
            raise ScheduleError("a weekly schedule needs a day, and only a weekly one")
        zone(self.timezone)

    @property
    def text(self) -> str:
        """Canonical form, as stored and as the user types it: "weekly mon 09:00"."""
        hhmm = self.at.strftime("%H:%M")
        if self.kind == WEEKLY:
            assert self.weekday is not None
            return f"{WEEKLY} {DAY_NAMES[self.weekday]} {hhmm}"
        return f"{self.kind} {hhmm}"

    def describe(self) -> str:
        return f"{self.text} {self.timezone}"

    def runs_on(self, day: date) -> bool:
        if self.kind == WEEKDAYS:
            return day.weekday() < 5
        if self.kind == WEEKLY:
            return day.weekday() == self.weekday
        return True

    def cron_fields(self) -> dict[str, str | int]:
        """Keyword arguments for APScheduler's CronTrigger (with timezone=self.timezone)."""
        day_of_week = {DAILY: "*", WEEKDAYS: "mon-fri"}.get(self.kind)
        if day_of_week is None:
            assert self.weekday is not None
            day_of_week = DAY_NAMES[self.weekday]
        return {"day_of_week": day_of_week, "hour": self.at.hour, "minute": self.at.minute}

    def instant_on(self, day: date) -> datetime:
        """The UTC instant of this schedule's wall-clock time on a local date.

        A time skipped by a DST jump is read with the offset before the jump (so 02:30 becomes 03:30 local),
        a repeated time as its first occurrence: deterministic, so every replica agrees.
        """
        local = datetime.combine(day, self.at, tzinfo=zone(self.timezone))
        return local.astimezone(UTC)

    def period_at(self, now: datetime) -> datetime:
        """The latest scheduled instant at or before `now`."""
        local_day = now.astimezone(zone(self.timezone)).date()
        for back in range(0, 9):
            day = local_day - timedelta(days=back)
            if self.runs_on(day):
                instant = self.instant_on(day)
                if instant <= now:
                    return instant
        raise AssertionError("every schedule runs at least once a week")

    def next_after(self, now: datetime) -> datetime:
        """The first scheduled instant strictly after `now`."""
        local_day = now.astimezone(zone(self.timezone)).date()
        for ahead in range(0, 9):
            day = local_day + timedelta(days=ahead)
            if self.runs_on(day):
                instant = self.instant_on(day)
                if instant > now:
                    return instant
        raise AssertionError("every schedule runs at least once a week")

    def previous_before(self, instant: datetime) -> datetime:
        """The scheduled instant before `instant` (the period a digest's changes are measured from)."""
        return self.period_at(instant - timedelta(seconds=1))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"`{name[:64]}` is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)"
        ) from None


def parse_schedule(words: Sequence[str], timezone: str = "UTC") -> Schedule:
    """`daily 09:00`, `weekdays 08:30`, `weekly mon 09:00`; no words = daily 09:00."""
    tokens = [w.lower() for w in words]
    if not tokens:
        return Schedule(DAILY, DEFAULT_TIME, timezone)
    kind, rest = tokens[0], tokens[1:]
    if kind not in KINDS:
        raise ScheduleError(f"`{words[0][:20]}` is not a schedule: use daily HH:MM, weekdays HH:MM or weekly DAY HH:MM")
    weekday = None
    if kind == WEEKLY:
        if not rest:
            raise ScheduleError("weekly needs a day: weekly mon 09:00")
        weekday = parse_day(rest[0])
        rest = rest[1:]
    if len(rest) > 1:
        raise ScheduleError(f"unexpected `{' '.join(rest[1:])[:40]}` after the time")
    at = parse_time(rest[0]) if rest else DEFAULT_TIME
    return Schedule(kind, at, timezone, weekday)


def parse_day(word: str) -> int:
    """mon, Monday, TUE ...: three letters at least, case-insensitive."""
    lowered = word.lower()
    for index, full in enumerate(_FULL_DAYS):
        if len(lowered) >= 3 and full.startswith(lowered):
            return index
    raise ScheduleError(f"`{word[:20]}` is not a day of the week (mon, tue, ... sun)")


_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_time(word: str) -> time:
    match = _TIME.fullmatch(word)
    if not match:
        raise ScheduleError(f"`{word[:20]}` is not a time: use 24-hour HH:MM, e.g. 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def schedule_from_text(text: str, timezone: str) -> Schedule:
    """Read back a stored canonical schedule."""
    return parse_schedule(text.split(), timezone)
