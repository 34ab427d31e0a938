"""The weekly chart: conversations opened per day (bars) and median time to first response (line)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on a server

from matplotlib.figure import Figure

from threadline_reporter.reports import Report


def weekly_chart(report: Report) -> bytes:
    """PNG bytes. Built on a Figure (not pyplot), so concurrent reports share no global state."""
    days = [d for d, _ in report.figures.per_day_opened]
    opened = [n for _, n in report.figures.per_day_opened]
    ttfr = dict(report.figures.per_day_median_ttfr_seconds)
    minutes = [None if ttfr.get(d) is None else float(ttfr[d] or 0) / 60 for d in days]
    labels = [d[5:] for d in days]

    fig = Figure(figsize=(7, 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(labels, opened, color="#4a90d9", label="conversations opened")
    ax.set_ylabel("conversations")
    ax.set_title(f"#{report.channel_name} · {report.period_label}")
    right = ax.twinx()
    points = [(i, m) for i, m in enumerate(minutes) if m is not None]
    if points:
        right.plot([labels[i] for i, _ in points], [m for _, m in points], color="#d9534f", marker="o")
    right.set_ylabel("median first response (min)", color="#d9534f")
    right.set_ylim(bottom=0)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
