"""The digest's chart: one small panel per subnet with the share of its addresses in use, each on its own
scale, the exhaustion forecast drawn ahead, the subnets at risk first and in red. As a PNG.

A shared axis of free addresses hides what matters: a /26 at 0 free is a flat line on the axis under a /20
with 8,000 free. Per-subnet panels of percent used show every subnet's movement, whatever its size.

matplotlib's object API with the Agg canvas, never pyplot: no global figure state, so charts can be drawn
from several scheduler threads at once, and no display is needed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.digests.forecast import EXHAUSTED, Forecast, forecast_exhaustion, humane_days
from bot.digests.outlook import RISK_DAYS, WATCH_DAYS, WATCH_PERCENT, Level
from bot.domain.capacity_samples import SubnetHistory

if TYPE_CHECKING:
    # matplotlib (~40 MB and a second to import) loads when the first chart is drawn, not when serve starts.
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CHART_DAYS = 7
MAX_PANELS = 10  # more panels than this are unreadable; the subnets closest to running out are the ones shown
MAX_AHEAD = timedelta(days=7)  # how far ahead a forecast is drawn at most
MIN_PAD = 1.0  # percentage points above and below a panel's line, so that no line sits on a frame
MIN_SPAN = 5.0  # percentage points: the least height of a panel's scale
HISTORY_GID, FORECAST_GID = "history", "forecast"
COLORS = {Level.AT_RISK: "#c62828", Level.WATCH: "#ef6c00", Level.HEALTHY: "#1565c0"}


@dataclass(frozen=True)
class Panel:
    """What one subnet's panel shows: its percent-used points and, when it is draining, the forecast."""

    history: SubnetHistory
    times: tuple[datetime, ...]
    used: tuple[float, ...]  # percent of usable addresses in use
    forecast: Forecast
    level: Level

    @property
    def label(self) -> str:
        """Two lines: which subnet and how big; how many are free and when they run out."""
        free = self.history.points[-1][1] if self.history.points else 0
        if self.forecast.reason == EXHAUSTED or free <= 0:
            outlook = "out of IPs now"
        elif self.forecast.days_left is not None:
            outlook = f"runs out in {humane_days(self.forecast.days_left)}"
        else:
            outlook = "no exhaustion forecast"
        return f"{self.history.subnet_id} ({self.history.az}), {self.history.usable:,} IPs\n{free:,} free, {outlook}"


def free_ips_chart(
    histories: Sequence[SubnetHistory],
    now: datetime,
    *,
    title: str = "",
    days: int = CHART_DAYS,
    levels: Mapping[str, Level] | None = None,
) -> bytes | None:
    """PNG bytes, or None when no subnet has a sample in the window. `levels`: the digest's verdict per
    subnet (at risk, watch), so the chart and the text agree; computed from the forecast when absent."""
    figure = chart_figure(histories, now, title=title, days=days, levels=levels)
    if figure is None:
        return None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(
    histories: Sequence[SubnetHistory],
    now: datetime,
    *,
    title: str = "",
    days: int = CHART_DAYS,
    levels: Mapping[str, Level] | None = None,
) -> Figure | None:
    """The chart as a matplotlib Figure (tests read the plotted data from it)."""
    panels = _panels(histories, now, days, levels or {})
    if not panels:
        return None
    start = min(p.times[0] for p in panels)
    ahead = _ahead(panels)
    # The x-axis covers the data there is (a first digest has an hour, not a week), plus the forecasts.
    left = min(start, now - timedelta(hours=1))
    right = now + ahead

    columns = 1 if len(panels) <= 3 else 2
    rows = math.ceil(len(panels) / columns)
    # Constrained layout keeps titles and tick labels inside the picture whatever the number of panels.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0 if columns == 1 else 12.0, 2.2 * rows + 0.8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    locator = AutoDateLocator(minticks=3, maxticks=7)
    for index, axes in enumerate(grid.flat):
        if index >= len(panels):
            axes.set_visible(False)
            above = grid.flat[index - columns]
            above.tick_params(labelbottom=True)  # the panel above is the bottom of its column now
            above.set_xlabel("time (UTC)")
            continue
        _draw(axes, panels[index], now, right)
        axes.set_xlim(left, right)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    for axes in grid[-1]:
        axes.set_xlabel("time (UTC)")
    for axes in grid[:, 0]:
        axes.set_ylabel("% used")
    span = _span_text(now - start)
    heading = title or "Share of each subnet's IPs in use"
    figure.suptitle(f"{heading}, last {span} (UTC); dashed: forecast", fontsize="medium")
    return figure


def _panels(histories: Sequence[SubnetHistory], now: datetime, days: int, levels: Mapping[str, Level]) -> list[Panel]:
    since = now - timedelta(days=days)
    panels = []
    for history in histories:
        points = [(t, free) for t, free in history.points if since <= t <= now]
        if not points or history.usable <= 0:
            continue
        forecast = forecast_exhaustion(points, now)
        level = levels.get(history.subnet_id) or _level(forecast, points[-1][1], history.usable)
        used = tuple(100.0 * (history.usable - free) / history.usable for _, free in points)
        panels.append(Panel(history, tuple(t for t, _ in points), used, forecast, level))
    # At risk first, soonest out first; then the fullest.
    panels.sort(
        key=lambda p: (
            -p.level.rank,
            p.forecast.days_left if p.forecast.days_left is not None else math.inf,
            -p.used[-1],
            p.history.subnet_id,
        )
    )
    return panels[:MAX_PANELS]


def _level(forecast: Forecast, free: int, usable: int) -> Level:
    days = forecast.days_left
    if free <= 0 or (days is not None and days <= RISK_DAYS):
        return Level.AT_RISK
    if (days is not None and days <= WATCH_DAYS) or 100.0 * (usable - free) / usable >= WATCH_PERCENT:
        return Level.WATCH
    return Level.HEALTHY


def _ahead(panels: Sequence[Panel]) -> timedelta:
    """How far right of now the axis goes: to the furthest forecast drawn, a week at most."""
    days = [p.forecast.days_left for p in panels if p.forecast.days_left and p.forecast.days_left > 0]
    return min(timedelta(days=max(days)), MAX_AHEAD) if days else timedelta(0)


def _forecast_line(panel: Panel, now: datetime, right: datetime) -> tuple[list[datetime], list[float]]:
    """Percent used from now along the fitted drain, to 100% or the right edge, whichever comes first."""
    drain = panel.forecast.drain_per_day
    days_left = panel.forecast.days_left
    if not drain or days_left is None or days_left <= 0 or right <= now:
        return [], []
    usable = panel.history.usable
    free_now = panel.history.points[-1][1]
    horizon = min(days_left, (right - now).total_seconds() / 86400)
    end_used = 100.0 * (usable - (free_now - drain * horizon)) / usable
    return [now, now + timedelta(days=horizon)], [panel.used[-1], min(end_used, 100.0)]


def _draw(axes: Axes, panel: Panel, now: datetime, right: datetime) -> None:
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    color = COLORS[panel.level]
    risky = panel.level != Level.HEALTHY
    times, used = list(panel.times), list(panel.used)
    width, marker = (2.4 if risky else 1.6), ("o" if len(times) == 1 else None)
    # gid names the lines for whoever reads the figure back (the tests do).
    axes.plot(times, used, color=color, linewidth=width, marker=marker, gid=HISTORY_GID)  # type: ignore[arg-type]
    ahead_t, ahead_y = _forecast_line(panel, now, right)
    if ahead_t:
        axes.plot(ahead_t, ahead_y, color=color, linestyle="--", linewidth=1.6, gid=FORECAST_GID)  # type: ignore[arg-type]
        if ahead_y[-1] >= 100.0:
            axes.plot([ahead_t[-1]], [100.0], marker="x", color=color, markersize=8)  # type: ignore[arg-type]
    low, high = panel_range(used + ahead_y)
    axes.set_ylim(low, high)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=4))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=100))
    # No tick beyond what a share can be: the pad above 100% only keeps a full subnet's line off the frame.
    ticks = {float(t) for t in axes.get_yticks() if 0 <= t <= 100 and low <= t <= high}
    axes.set_yticks(sorted(ticks | ({100.0} if low <= 100.0 <= high else set())))
    if high >= 100.0:
        axes.axhline(100.0, color="#9e9e9e", linewidth=0.8, linestyle=":")  # full
    axes.axvline(now, color="#9e9e9e", linewidth=0.8)  # type: ignore[arg-type]
    axes.grid(True, alpha=0.3)
    axes.set_title(panel.label, fontsize="small", loc="left", color=color if risky else "black")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def panel_range(values: Sequence[float]) -> tuple[float, float]:
    """A panel's own scale: the line's range, padded so the line stays off the frame, and at least
    MIN_SPAN points tall so that noise of a few addresses does not look like a trend."""
    low, high = min(values), max(values)
    pad = max((high - low) * 0.15, (MIN_SPAN - (high - low)) / 2, MIN_PAD)
    low, high = low - pad, high + pad
    if high > 100.0 + MIN_PAD:  # keep the span, move it down: nothing is more than 100% used
        low, high = low - (high - 100.0 - MIN_PAD), 100.0 + MIN_PAD
    if low < -MIN_PAD:
        low, high = -MIN_PAD, high + (-MIN_PAD - low)
    return low, high


def _span_text(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours < 1.5:
        return f"{max(round(hours * 60), 1)} min"
    if hours < 48:
        return f"{round(hours)} hours"
    return f"{round(hours / 24)} days"
