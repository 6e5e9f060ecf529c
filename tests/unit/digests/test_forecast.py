from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.digests.forecast import EXHAUSTED, NO_GROWTH, TOO_LITTLE_DATA, forecast_exhaustion, humane_days
from bot.domain.capacity_samples import Point

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def draining(
    free_now: int, per_day: float, *, days: float = 7, every: timedelta = timedelta(minutes=15)
) -> list[Point]:
    points = []
    t = NOW - timedelta(days=days)
    while t <= NOW:
        age_days = (NOW - t).total_seconds() / 86400
        points.append((t, round(free_now + per_day * age_days)))
        t += every
    return points


def test_a_subnet_draining_at_a_known_rate_runs_out_when_the_arithmetic_says() -> None:
    forecast = forecast_exhaustion(draining(300, 100), NOW)
    assert forecast.drain_per_day == pytest.approx(100, rel=0.01)
    assert forecast.days_left == pytest.approx(3.0, rel=0.01)
    assert forecast.text == "3.0"


def test_noise_around_a_drain_still_finds_it() -> None:
    rng = random.Random(7)
    points = [(t, free + rng.randint(-20, 20)) for t, free in draining(2000, 50)]
    forecast = forecast_exhaustion(points, NOW)
    assert forecast.days_left == pytest.approx(40, rel=0.1)


@pytest.mark.parametrize("per_day", [0.0, -30.0, 0.2])
def test_flat_growing_or_barely_moving_subnets_do_not_run_out(per_day: float) -> None:
    forecast = forecast_exhaustion(draining(5000, per_day), NOW)
    assert (forecast.days_left, forecast.reason, forecast.text) == (None, NO_GROWTH, "n/a")


def test_noise_without_a_trend_is_no_growth() -> None:
    rng = random.Random(3)
    points = [(t, 4000 + rng.randint(-200, 200)) for t, _ in draining(0, 0)]
    assert forecast_exhaustion(points, NOW).reason == NO_GROWTH


def test_too_few_samples_or_too_short_a_history_is_too_little_data() -> None:
    assert forecast_exhaustion(draining(500, 100, days=0.1), NOW).reason == TOO_LITTLE_DATA  # 2.4 h
    assert forecast_exhaustion(draining(500, 100)[-3:], NOW).reason == TOO_LITTLE_DATA
    assert forecast_exhaustion([], NOW).text == "n/a"


def test_only_the_fit_window_counts() -> None:
    # Growing for weeks, then draining for the last 7 days: the recent drain decides.
    old = [(NOW - timedelta(days=30 - d), 1000 + 10 * d) for d in range(20)]
    forecast = forecast_exhaustion(old + draining(700, 100), NOW)
    assert forecast.days_left == pytest.approx(7, rel=0.02)


def test_an_empty_subnet_is_out_now() -> None:
    forecast = forecast_exhaustion(draining(0, 100), NOW)
    assert (forecast.days_left, forecast.reason, forecast.text) == (0.0, EXHAUSTED, "0 (out now)")


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (0.2, "about 5 hours"),
        (1.0, "about 1 day"),
        (3.2, "about 3 days"),
        (20, "about 3 weeks"),
        (200, "about 7 months"),
    ],
)
def test_humane_days(days: float, text: str) -> None:
    assert humane_days(days) == text
