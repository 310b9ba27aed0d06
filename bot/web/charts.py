"""Server-rendered SVG charts: plain data in, an `<svg>` string out. Pure; no JavaScript, no CDN.

- `progress_chart`: cumulative claimed / submitted / completed per day (three lines over days).
- `track_chart`: one horizontal bar per track, the layers nested (tasks > claimed > submitted >
  completed, each a subset of the one before), so a track's bar reads as its funnel.

Every text (track names, dates, labels) is escaped; colours come from CSS classes (`s-claimed`,
`s-submitted`, `s-completed`, `s-tasks`) the page styles, so the charts follow its theme.
"""

from __future__ import annotations

from datetime import date
from html import escape

SERIES = ("claimed", "submitted", "completed")


def _scale(v: int) -> tuple[int, int]:
    """(top of the axis, tick step) for values up to `v`: a step of 1, 2 or 5 x 10^k, at most five
    steps, the top the first multiple of the step at or above `v` (at least 1)."""
    m = 1
    while True:
        for f in (1, 2, 5):
            step = f * m
            if -(-max(v, 1) // step) <= 5:
                return -(-max(v, 1) // step) * step, step
        m *= 10


def progress_chart(
    days: list[date],
    values: dict[str, list[int]],
    labels: dict[str, str],
    *,
    width: int = 480,
    height: int = 220,
    title: str = "",
) -> str:
    """Lines of cumulative counts over days. `values[name][i]` is the count at `days[i]`;
    `labels` names each series in the page's language."""
    left, right, top, bottom = 36, 10, 10, 46
    w, h = width - left - right, height - top - bottom
    peak, step = _scale(max((max(v, default=0) for v in values.values()), default=0))
    n = len(days)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: int) -> float:
        return top + h - h * v / peak

    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    for v in range(0, peak + 1, step):  # horizontal grid and y labels
        yy = y(v)
        parts.append(f'<line class="grid" x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        parts.append(f'<text class="tick" x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v}</text>')
    if n:
        every = max(1, (n + 4) // 5)  # at most 5 date labels
        for i in range(0, n, every):
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{top + h + 16}" text-anchor="middle">'
                f"{escape(days[i].strftime('%m-%d'))}</text>"
            )
    for name in SERIES:
        vals = values.get(name, [])
        if not vals:
            continue
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
        if n == 1:
            parts.append(f'<circle class="s-{name}" cx="{x(0):.1f}" cy="{y(vals[0]):.1f}" r="5"/>')
        else:
            parts.append(f'<polyline class="line s-{name}" points="{pts}"/>')
    lx = left
    for name in SERIES:  # legend
        text = escape(labels.get(name, name))
        parts.append(f'<rect class="s-{name}" x="{lx}" y="{height - 14}" width="10" height="10" rx="2"/>')
        parts.append(f'<text class="legend" x="{lx + 14}" y="{height - 5}">{text}</text>')
        lx += 26 + 7 * len(labels.get(name, name)) + (6 * sum(1 for ch in labels.get(name, name) if ord(ch) > 0x2E80))
    parts.append("</svg>")
    return "".join(parts)


def track_chart(rows: list[tuple[str, int, int, int, int]], labels: dict[str, str], *, width: int = 480, title: str = "") -> str:
    """One bar per (name, tasks, claimed, submitted, completed); bars share one scale (the largest track)."""
    bar, gap, top, label_w = 18, 26, 6, 0
    height = top + len(rows) * (bar + gap) + 24
    peak = max((r[1] for r in rows), default=0) or 1
    x0, w = 8, width - 16
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    for i, (name, tasks, claimed, submitted, completed) in enumerate(rows):
        y = top + i * (bar + gap) + 14
        parts.append(f'<text class="label" x="{x0}" y="{y - 4}">{escape(name)}</text>')
        for cls, v in (("tasks", tasks), ("claimed", claimed), ("submitted", submitted), ("completed", completed)):
            if v:
                parts.append(
                    f'<rect class="s-{cls}" x="{x0 + label_w}" y="{y}" width="{w * v / peak:.1f}" '
                    f'height="{bar}" rx="3"><title>{escape(labels.get(cls, cls))}: {v}</title></rect>'
                )
    lx = x0
    ly = height - 8
    for cls in ("tasks", *SERIES):
        text = labels.get(cls, cls)
        parts.append(f'<rect class="s-{cls}" x="{lx}" y="{ly - 9}" width="10" height="10" rx="2"/>')
        parts.append(f'<text class="legend" x="{lx + 14}" y="{ly}">{escape(text)}</text>')
        lx += 26 + 7 * len(text) + 6 * sum(1 for ch in text if ord(ch) > 0x2E80)
    parts.append("</svg>")
    return "".join(parts)
