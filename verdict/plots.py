"""Inline SVG plots for report.html, drawn in Python: the report must open offline, so no
charting library from a CDN and no script."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from units import parse_duration, show_duration

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 900, 280, 64, 64, 16, 44
COLORS = {
    "ops": "#4477aa", "failed": "#aa3377", "unknown": "#666666", "conflicts": "#ee7733",
    "lost_updates": "#cc3311", "fault": "#bbbbbb",
}  # fmt: skip


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 covering `top`: steps of 1, 2, 2.5 or 5 times a power of ten
    (0, 2.5, 5, 7.5, 10 rather than 0, 2.826, 5.652)."""
    if not top > 0 or not math.isfinite(top):
        return [0.0, 1.0]
    rough = top / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    steps = math.ceil(top / step - 1e-9)
    if steps * step < top:  # float rounding on the last step
        steps += 1
    return [round(i * step, 12) if step >= 1e-9 else i * step for i in range(steps + 1)]


def _tick(v: float) -> str:
    return f"{v:,.6g}"


def _per_second(values: list[int], width: float, span: float) -> list[float]:
    """Counts per bucket as rates; the last bucket covers only what the history reaches, and
    one that covers under a quarter of its width is left out rather than drawn as a dive."""
    if not values:
        return []
    last = span - (len(values) - 1) * width
    rates = [v / width for v in values]
    if 0 < last < width:
        if last < width / 4:
            return rates[:-1]
        rates[-1] = values[-1] / last
    return rates


def load_timeline(data: dict[str, Any]) -> dict[str, Any]:
    """verdict.json's timeline up to the load's end (its measured length, load.json's, else
    the campaign's duration, after the first operation): the calls in flight when the load
    stopped complete a moment later, and a bucket of those few stragglers looked like an
    outage at the end of every plot."""
    timeline = data["timeline"]
    try:
        elapsed = (data.get("load") or {}).get("elapsed_s")
        duration = parse_duration(elapsed or (data.get("campaign") or {}).get("duration"))
    except (TypeError, ValueError):
        return timeline
    width, span = timeline["bucket_s"], timeline.get("span_s") or 0.0
    if not duration or span <= duration or width <= 0:
        return timeline
    keep = max(1, math.ceil(duration / width - 1e-9))
    cut = {k: v[:keep] for k, v in timeline.items() if isinstance(v, list)}
    return {**timeline, **cut, "span_s": duration}


def _line(values: list[float], y_of: Any, x_of: Any, color: str, dash: str = "") -> str:
    """`x_of` takes the bucket's index; each value is drawn at its bucket's middle."""
    pts = " ".join(f"{x_of(i + 0.5):.1f},{y_of(v):.1f}" for i, v in enumerate(values))
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{color}" stroke-width="2"{extra} points="{pts}"/>'


def _gapped_lines(
    values: list[float | None], width: float, x_of: Any, y_of: Any, color: str, dash: str
) -> list[str]:
    """One polyline per run of known values: a bucket without a value is a gap, not a dive."""
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{x_of((i + 0.5) * width):.1f},{y_of(v):.1f}")
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return [
        f'<polyline fill="none" stroke="{color}" stroke-width="2"{extra} points="{" ".join(run)}"/>'
        for run in runs
        if run
    ]


#: the timeline's series: key, legend, axis (left/right), dash
SERIES = (
    ("ops", "operations/s", "left", ""),
    ("failed", "failed writes/s", "right", "2,2"),
    ("unknown", "unknown writes/s", "right", "8,3"),
    ("conflicts", "conflicts/s", "right", ""),
    ("lost_updates", "lost updates/s", "right", "5,3"),
)


def _fault_bands(faults: list[dict[str, Any]], x_of: Any, t0: float, end: float) -> list[str]:
    plot_h = HEIGHT - PAD_T - PAD_B
    out = []
    for w in faults:
        if "start" not in w:
            continue
        a = min(max(w["start"] - t0, 0.0), end)
        b = min(max((w["heal"] if w.get("heal") is not None else t0 + end) - t0, 0.0), end)
        label = escape(f"{w['fault']} {w['target']}")
        out.append(
            f'<rect class="fault" x="{x_of(a):.1f}" y="{PAD_T}" width="{max(x_of(b) - x_of(a), 1):.1f}" '
            f'height="{plot_h}" fill="{COLORS["fault"]}" fill-opacity="0.3"><title>{label}</title></rect>'
            f'<text x="{x_of(a) + 3:.1f}" y="{PAD_T + 12}" font-size="11" fill="#555">{label}</text>'
        )
    return out


def _y_grid(ticks: list[float], y_of: Any, label: Any, fill: str = "") -> list[str]:
    """Horizontal gridlines at the left axis' ticks, each labelled with `label(tick)`."""
    colour = f' fill="{fill}"' if fill else ""
    out = []
    for v in ticks:
        y = y_of(v)
        out.append(
            f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - PAD_R}" y2="{y:.1f}" stroke="#e4e4e4"/>'
        )
        out.append(
            f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end"{colour}>{label(v)}</text>'
        )
    return out


def _time_axis(end: float, x_of: Any, gridlines: bool) -> list[str]:
    """The baseline and its ticks in seconds since the first operation (`x_of` takes seconds),
    with faint vertical gridlines if asked."""
    base = PAD_T + HEIGHT - PAD_T - PAD_B
    out = [f'<line x1="{PAD_L}" y1="{base}" x2="{WIDTH - PAD_R}" y2="{base}" stroke="#333"/>']
    for t in nice_ticks(end, 8):
        if t <= end + 1e-9:
            x = x_of(t)
            if gridlines:
                out.append(
                    f'<line x1="{x:.1f}" y1="{PAD_T}" x2="{x:.1f}" y2="{base}" stroke="#f0f0f0"/>'
                )
            out.append(
                f'<text x="{x:.1f}" y="{base + 14}" font-size="11" text-anchor="middle">{_tick(t)}</text>'
            )
    return out


def _axis_titles(left: str, left_fill: str = "") -> str:
    """The time axis' title and the left axis' (turned a quarter)."""
    mid = PAD_T + (HEIGHT - PAD_T - PAD_B) / 2
    fill = f' fill="{left_fill}"' if left_fill else ""
    return (
        f'<text x="{PAD_L + (WIDTH - PAD_L - PAD_R) / 2:.1f}" y="{HEIGHT - 4}" font-size="11" text-anchor="middle">seconds since the first operation</text>'
        f'<text x="12" y="{mid:.1f}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {mid:.1f})"{fill}>{left}</text>'
    )


def timeline_svg(timeline: dict[str, Any], faults: list[dict[str, Any]]) -> str:
    """Operations per second (left axis); failed and unknown writes, conflicts and lost
    updates per second (right axis); fault windows shaded and labelled; round ticks and
    gridlines on both axes."""
    width = timeline["bucket_s"]
    n = len(timeline["ops"])
    span = timeline.get("span_s", n * width) or n * width
    rates = {key: _per_second(timeline.get(key, []), width, span) for key, *_ in SERIES}
    end = max(len(rates["ops"]) * width, width)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    left = nice_ticks(max(rates["ops"], default=0.0))
    right = nice_ticks(max((v for k, *_ in SERIES[1:] for v in rates[k]), default=0.0))

    def x_of(t: float) -> float:
        return PAD_L + plot_w * t / end

    def y_left(v: float) -> float:
        return PAD_T + plot_h - plot_h * v / left[-1]

    def y_right(v: float) -> float:
        return PAD_T + plot_h - plot_h * v / right[-1]

    parts = [f'<svg class="plot" role="img" aria-label="timeline" viewBox="0 0 {WIDTH} {HEIGHT}">']
    parts += _y_grid(left, y_left, _tick, COLORS["ops"])
    for v in right:
        parts.append(
            f'<text x="{WIDTH - PAD_R + 4}" y="{y_right(v) + 4:.1f}" font-size="11" fill="{COLORS["lost_updates"]}">{_tick(v)}</text>'
        )
    parts += _fault_bands(faults, x_of, timeline["t0"], end)
    for key, _, axis, dash in SERIES:
        y_of = y_left if axis == "left" else y_right
        parts.append(_line(rates[key], y_of, lambda i: x_of(i * width), COLORS[key], dash))
    parts += _time_axis(end, x_of, gridlines=True)
    parts.append(
        _axis_titles("operations/s", COLORS["ops"])
        + f'<text x="{WIDTH - 10}" y="{PAD_T + plot_h / 2:.1f}" font-size="11" text-anchor="middle" transform="rotate(90 {WIDTH - 10} {PAD_T + plot_h / 2:.1f})" fill="{COLORS["lost_updates"]}">anomalies, errors/s</text>'
    )
    parts.append("</svg>")
    spans = "".join(
        f'<span style="color:{COLORS[key]}">&#9632; {label}{" (right axis)" if axis == "right" else ""}</span> '
        for key, label, axis, _ in SERIES
    )
    note = (
        f"averaged over {width:g}-second buckets up to the load's end (the last one over what "
        "it covers)"
    )
    return (
        "".join(parts)
        + f'<div class="legend">{spans}<span style="color:#999">&#9632; fault windows</span> · {note}</div>'
    )


def lag_svg(lag: dict[str, dict[str, float]]) -> str:
    """One row per link: a bar to p50, whiskers to p95 / p99, a dot at max (log-free, linear)."""
    if not lag:
        return '<p class="muted">No lag probes in this history.</p>'
    row_h, label_w = 26, 190
    height = PAD_T + row_h * len(lag) + 40
    ticks = nice_ticks(max(s["max"] for s in lag.values()))
    top = ticks[-1]
    plot_w = WIDTH - label_w - PAD_R

    def x_of(v: float) -> float:
        return label_w + plot_w * v / top

    parts = [
        f'<svg class="plot" role="img" aria-label="replication lag" viewBox="0 0 {WIDTH} {height}">'
    ]
    for i, (link, s) in enumerate(sorted(lag.items())):
        y = PAD_T + i * row_h
        title = escape(
            f"{link}: p50 {show_duration(s['p50'])}, p95 {show_duration(s['p95'])}, "
            f"p99 {show_duration(s['p99'])}, max {show_duration(s['max'])}"
        )
        parts.append(f"<g><title>{title}</title>")
        parts.append(f'<text x="4" y="{y + 15}" font-size="12">{escape(link)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{x_of(s["p50"]) - label_w:.1f}" height="14" fill="{COLORS["ops"]}"/>'
        )
        parts.append(
            f'<line x1="{x_of(s["p50"]):.1f}" y1="{y + 12}" x2="{x_of(s["p99"]):.1f}" y2="{y + 12}" stroke="#333"/>'
        )
        for q in ("p95", "p99"):
            parts.append(
                f'<line x1="{x_of(s[q]):.1f}" y1="{y + 6}" x2="{x_of(s[q]):.1f}" y2="{y + 18}" stroke="#333"/>'
            )
        parts.append(
            f'<circle cx="{x_of(s["max"]):.1f}" cy="{y + 12}" r="3.5" fill="{COLORS["lost_updates"]}"/></g>'
        )
    axis_y = PAD_T + row_h * len(lag) + 14
    for v in ticks:
        x = x_of(v)
        parts.insert(
            1, f'<line x1="{x:.1f}" y1="{PAD_T}" x2="{x:.1f}" y2="{axis_y - 10}" stroke="#e4e4e4"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{axis_y}" font-size="11" text-anchor="middle">{show_duration(v)}</text>'
        )
    parts.append(
        f'<text x="{label_w + plot_w / 2:.1f}" y="{axis_y + 16}" font-size="11" text-anchor="middle">'
        "replication lag (write acknowledged in the source to visible in the target)</text>"
    )
    parts.append("</svg>")
    legend = '<div class="legend">bar: p50 · ticks: p95, p99 · red dot: max</div>'
    return "".join(parts) + legend


def latency_svg(timeline: dict[str, Any], faults: list[dict[str, Any]]) -> str:
    """Acknowledged writes' latency over time: p50 and p99 per bucket (a gap where no write
    was acknowledged), fault windows shaded, round duration ticks."""
    width = timeline["bucket_s"]
    p50, p99 = timeline.get("write_latency_p50", []), timeline.get("write_latency_p99", [])
    known = [v for v in p99 if v is not None]
    if not known:
        return '<p class="muted">No acknowledged write to time.</p>'
    end = max(len(p99) * width, width)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    ticks = nice_ticks(max(known))

    def x_of(t: float) -> float:
        return PAD_L + plot_w * t / end

    def y_of(v: float) -> float:
        return PAD_T + plot_h - plot_h * v / ticks[-1]

    parts = [
        f'<svg class="plot" role="img" aria-label="write latency" viewBox="0 0 {WIDTH} {HEIGHT}">'
    ]
    parts += _y_grid(ticks, y_of, show_duration)
    parts += _fault_bands(faults, x_of, timeline["t0"], end)
    for values, color, dash in ((p50, COLORS["ops"], ""), (p99, COLORS["lost_updates"], "5,3")):
        parts += _gapped_lines(values, width, x_of, y_of, color, dash)
    parts += _time_axis(end, x_of, gridlines=False)
    parts.append(_axis_titles("write latency") + "</svg>")
    legend = (
        f'<div class="legend"><span style="color:{COLORS["ops"]}">&#9632; p50</span>'
        f'<span style="color:{COLORS["lost_updates"]}">&#9632; p99 (dashed)</span> of the writes '
        f"acknowledged in each {width:g}-second bucket, by invocation time</div>"
    )
    return "".join(parts) + legend
