from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.digests.schedule import DAILY, WEEKDAYS, WEEKLY, Schedule, ScheduleError, parse_schedule, schedule_from_text


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("words", "tz", "text"),
    [
        ([], "UTC", "daily 09:00"),
        (["daily", "7:05"], "UTC", "daily 07:05"),
        (["weekdays", "08:30"], "Europe/Berlin", "weekdays 08:30"),
        (["Weekly", "Monday", "09:00"], "UTC", "weekly mon 09:00"),
        (["weekly", "fri"], "UTC", "weekly fri 09:00"),
    ],
)
def test_parse_gives_the_canonical_text(words: list[str], tz: str, text: str) -> None:
    schedule = parse_schedule(words, tz)
    assert schedule.text == text
    assert schedule_from_text(schedule.text, tz) == schedule


@pytest.mark.parametrize(
    ("words", "tz", "fragment"),
    [
        (["hourly"], "UTC", "not a schedule"),
        (["daily", "25:00"], "UTC", "not a time"),
        (["daily", "9"], "UTC", "not a time"),
        (["weekly"], "UTC", "needs a day"),
        (["weekly", "mo", "09:00"], "UTC", "not a day"),
        (["daily", "09:00", "extra"], "UTC", "unexpected"),
        (["daily"], "Mars/Olympus", "not an IANA time zone"),
    ],
)
def test_bad_schedules_say_what_is_wrong(words: list[str], tz: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        parse_schedule(words, tz)


def test_daily_period_is_the_latest_instant_at_or_before_now() -> None:
    schedule = Schedule(DAILY, time(9, 0), "Europe/Berlin")  # 08:00 UTC in winter
    assert schedule.period_at(utc(2026, 1, 15, 8, 0)) == utc(2026, 1, 15, 8, 0)
    assert schedule.period_at(utc(2026, 1, 15, 7, 59)) == utc(2026, 1, 14, 8, 0)
    assert schedule.next_after(utc(2026, 1, 15, 8, 0)) == utc(2026, 1, 16, 8, 0)
    assert schedule.previous_before(utc(2026, 1, 15, 8, 0)) == utc(2026, 1, 14, 8, 0)


def test_weekdays_skip_the_weekend() -> None:
    schedule = Schedule(WEEKDAYS, time(9, 0), "UTC")
    saturday = utc(2026, 1, 17, 12, 0)
    assert schedule.period_at(saturday) == utc(2026, 1, 16, 9, 0)  # Friday
    assert schedule.next_after(saturday) == utc(2026, 1, 19, 9, 0)  # Monday


def test_weekly_runs_on_its_day_in_its_zone() -> None:
    # Monday 00:30 in Tokyo is Sunday 15:30 UTC.
    schedule = Schedule(WEEKLY, time(0, 30), "Asia/Tokyo", weekday=0)
    assert schedule.next_after(utc(2026, 1, 14, 0, 0)) == utc(2026, 1, 18, 15, 30)
    assert schedule.cron_fields() == {"day_of_week": "mon", "hour": 0, "minute": 30}


def test_dst_keeps_the_wall_clock_time() -> None:
    schedule = Schedule(DAILY, time(9, 0), "Europe/Berlin")
    assert schedule.instant_on(date(2026, 3, 28)) == utc(2026, 3, 28, 8, 0)  # CET
    assert schedule.instant_on(date(2026, 3, 30)) == utc(2026, 3, 30, 7, 0)  # CEST


def test_a_skipped_local_time_is_read_the_same_way_everywhere() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: read with the offset before the jump.
    schedule = Schedule(DAILY, time(2, 30), "Europe/Berlin")
    assert schedule.instant_on(date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
