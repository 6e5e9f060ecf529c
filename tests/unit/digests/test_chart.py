"""The chart shows every subnet, whatever its size: a /26 at 0 free is as visible as a /20 with thousands
free. Checked from the data matplotlib plots, not by eye."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from matplotlib.axes import Axes
from matplotlib.dates import date2num

from bot.digests.chart import FORECAST_GID, HISTORY_GID, chart_figure, free_ips_chart
from bot.domain.capacity_samples import SubnetHistory
from tests.unit.digests.factories import NOW


def history(subnet: str, usable: int, free_now: int, per_day: float, *, hours: int, noise: int = 0) -> SubnetHistory:
    rnd = random.Random(subnet)
    points = []
    for h in range(hours, -1, -1):
        free = free_now + per_day * h / 24 + (rnd.uniform(-noise, noise) if h else 0)
        points.append((NOW - timedelta(hours=h), max(0, min(usable, round(free)))))
    return SubnetHistory(subnet, "us-east-2a", usable, tuple(points))


MIXED = [
    history("subnet-huge18", 16379, 16000, 20, hours=7 * 24, noise=5),  # a /18, barely used
    history("subnet-big20", 4091, 3000, 150, hours=7 * 24, noise=20),  # a /20 draining: runs out in 3 weeks
    history("subnet-tiny26", 59, 0, 0, hours=7 * 24),  # a /26 with nothing left: what the headline is about
    history("subnet-pods22", 1019, 400, 100, hours=7 * 24, noise=5),  # runs out in 4 days
    history("subnet-mid24", 251, 100, 0, hours=7 * 24, noise=3),  # steady
]


def plotted(axes: Axes, gid: str) -> tuple[list[float], list[float]]:
    """The x (as matplotlib date numbers) and y of the panel's line named `gid`."""
    (line,) = [line for line in axes.get_lines() if line.get_gid() == gid]
    xs = [date2num(x) if isinstance(x, datetime) else float(x) for x in line.get_xdata()]
    return xs, [float(y) for y in line.get_ydata()]


def test_every_subnet_of_a_mixed_size_cluster_gets_a_visible_line_at_risk_first() -> None:
    figure = chart_figure(MIXED, NOW, title="prod")
    assert figure is not None
    panels = [a for a in figure.axes if a.get_visible()]
    assert len(panels) == len(MIXED)
    titles = [a.get_title(loc="left") for a in panels]
    # At risk first, soonest out first; the /26 that is out of IPs leads.
    assert [t.split(" ", 1)[0] for t in titles[:3]] == ["subnet-tiny26", "subnet-pods22", "subnet-big20"]
    assert "0 free, out of IPs now" in titles[0] and "runs out in about 4 days" in titles[1]
    by_subnet = {h.subnet_id: h for h in MIXED}
    for axes in panels:
        title = axes.get_title(loc="left")
        subnet = by_subnet[title.split(" ", 1)[0]]
        _, ys = plotted(axes, HISTORY_GID)
        low, high = axes.get_ylim()
        # Inside the frame, never on it (a flat line on the axis is what hid the /26 before) ...
        assert low < min(ys) and max(ys) < high, title
        # ... and its own movement fills a visible share of the panel, whatever the subnet's size.
        used_change = 100.0 * abs(subnet.points[0][1] - subnet.points[-1][1]) / subnet.usable
        if used_change >= 0.5:
            assert (max(ys) - min(ys)) / (high - low) >= 0.15, title


def test_the_forecast_is_drawn_ahead_to_exhaustion() -> None:
    figure = chart_figure(MIXED, NOW)
    assert figure is not None
    pods = next(a for a in figure.axes if "subnet-pods22" in a.get_title(loc="left"))
    xs, ys = plotted(pods, FORECAST_GID)
    assert xs[0] == date2num(NOW) and ys[-1] == 100.0  # from now to full
    assert 3.5 < xs[-1] - xs[0] < 4.5  # about four days ahead
    assert pods.get_xlim()[1] >= xs[-1]  # the axis reaches it


def test_the_x_axis_covers_the_data_there_is_with_a_time_label() -> None:
    first_hours = [history("subnet-big20", 4091, 3000, 150, hours=2), history("subnet-tiny26", 59, 0, 0, hours=2)]
    figure = chart_figure(first_hours, NOW)
    assert figure is not None
    panels = [a for a in figure.axes if a.get_visible()]
    left, _ = panels[0].get_xlim()
    assert abs(left - date2num(NOW - timedelta(hours=2))) < 1e-6  # two hours of data: two hours of axis, not a week
    assert panels[-1].get_xlabel() == "time (UTC)"
    assert "last 2 hours (UTC)" in figure.get_suptitle()
    png = free_ips_chart(first_hours, NOW)
    assert png is not None and png.startswith(b"\x89PNG")
    # A single sample (a first digest right after subscribing) is still drawn.
    assert free_ips_chart([history("subnet-a", 4091, 3000, 0, hours=0)], NOW) is not None
