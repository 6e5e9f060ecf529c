from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.sample_thinning import plan_thinning

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def every_15_minutes(days: int) -> list[tuple[int, datetime]]:
    start = NOW - timedelta(days=days)
    return [(i, start + timedelta(minutes=15 * i)) for i in range(days * 96 + 1)]


def test_full_resolution_for_two_days_hourly_to_thirty_then_daily() -> None:
    samples = every_15_minutes(40)
    plan = plan_thinning(samples, NOW)
    kept = [t for i, t in samples if i not in set(plan.drop)]
    recent = [t for t in kept if NOW - t <= timedelta(days=2)]
    hourly = [t for t in kept if timedelta(days=2) < NOW - t <= timedelta(days=30)]
    daily = [t for t in kept if NOW - t > timedelta(days=30)]
    assert len(recent) == 2 * 96 + 1
    assert len({t.replace(minute=0) for t in hourly}) == len(hourly)  # one per hour
    assert 28 * 24 - 1 <= len(hourly) <= 28 * 24 + 1
    assert len({t.date() for t in daily}) == len(daily)  # one per day
    assert 10 <= len(daily) <= 11
    assert len(kept) < 1000 < len(samples)


def test_the_newest_sample_of_a_bucket_is_kept_and_the_others_merge_into_it() -> None:
    base = NOW - timedelta(days=5)
    hour = base.replace(minute=0)
    samples = [(1, hour + timedelta(minutes=5)), (2, hour + timedelta(minutes=20)), (3, hour + timedelta(minutes=50))]
    plan = plan_thinning(samples, NOW)
    assert plan.drop == [1, 2]
    assert plan.merge_into == {3: [1, 2]}


def test_thinning_twice_drops_nothing_more() -> None:
    samples = every_15_minutes(40)
    first = plan_thinning(samples, NOW)
    survivors = [(i, t) for i, t in samples if i not in set(first.drop)]
    assert plan_thinning(survivors, NOW).drop == []
