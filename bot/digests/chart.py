"""The digest's chart: free addresses per subnet over the last seven days, as a PNG.

matplotlib's object API with the Agg canvas, never pyplot: no global figure state, so charts can be drawn
from several scheduler threads at once, and no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from bot.digests.model import SubnetHistory

CHART_DAYS = 7
MAX_LINES = 10  # more lines than this are unreadable; the fullest subnets are the ones that matter


def free_ips_chart(
    histories: Sequence[SubnetHistory], now: datetime, *, title: str = "", days: int = CHART_DAYS
) -> bytes | None:
    """PNG bytes, or None when no subnet has two points in the window to draw a line through."""
    since = now - timedelta(days=days)
    lines = []
    for history in histories:
        points = [(t, free) for t, free in history.points if since <= t <= now]
        if len(points) >= 2:
            lines.append((history, points))
    if not lines:
        return None
    # The subnets closest to running out first.
    lines.sort(key=lambda item: (item[1][-1][1] / max(item[0].usable, 1), item[0].subnet_id))
    lines = lines[:MAX_LINES]

    figure = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for history, points in lines:
        times = [t for t, _ in points]
        values = [free for _, free in points]
        axes.plot(times, values, label=f"{history.subnet_id} ({history.az})", linewidth=1.6)  # type: ignore[arg-type]
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_xlim(since, now)  # type: ignore[arg-type]
    axes.set_ylim(bottom=0)
    axes.set_ylabel("free IPs")
    axes.set_title(title or f"Free IPs per subnet, last {days} days (UTC)")
    axes.grid(True, alpha=0.3)
    # Legend beside the plot: it never hides a line, and a fixed layout saves a second draw.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    figure.subplots_adjust(left=0.08, right=0.68, top=0.92, bottom=0.1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
