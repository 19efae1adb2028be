"""Inline SVG plots for report.html, drawn in Python: the report must open offline, so no
charting library from a CDN and no script."""

from __future__ import annotations

from html import escape
from typing import Any

from units import format_duration

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 900, 260, 56, 80, 16, 34
COLORS = {"ops": "#4477aa", "conflicts": "#ee7733", "lost_updates": "#cc3311", "fault": "#bbbbbb"}


def _nice_max(v: float) -> float:
    return v if v > 0 else 1.0


def _polyline(values: list[int], scale: float, x_of: Any, color: str, dash: str = "") -> str:
    plot_h = HEIGHT - PAD_T - PAD_B
    pts = " ".join(
        f"{x_of(i + 0.5):.1f},{PAD_T + plot_h - v * scale:.1f}" for i, v in enumerate(values)
    )
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{color}" stroke-width="2"{extra} points="{pts}"/>'


def timeline_svg(timeline: dict[str, Any], faults: list[dict[str, Any]]) -> str:
    """Operations per bucket (left axis), conflicts and lost updates (right axis), with fault
    windows shaded and labelled."""
    ops, conf, lost = timeline["ops"], timeline["conflicts"], timeline["lost_updates"]
    n = max(len(ops), 1)
    t0, width = timeline["t0"], timeline["bucket_s"]
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x_of(i: float) -> float:
        return PAD_L + plot_w * i / n

    left = _nice_max(max(ops, default=0))
    right = _nice_max(max([*conf, *lost, 0]))
    parts = [f'<svg class="plot" role="img" aria-label="timeline" viewBox="0 0 {WIDTH} {HEIGHT}">']
    for w in faults:
        if "start" not in w:
            continue
        a = (w["start"] - t0) / width
        b = ((w["heal"] if w.get("heal") is not None else t0 + n * width) - t0) / width
        a, b = max(0.0, min(a, n)), max(0.0, min(b, n))
        label = escape(f"{w['fault']} {w['target']}")
        parts.append(
            f'<rect class="fault" x="{x_of(a):.1f}" y="{PAD_T}" width="{max(x_of(b) - x_of(a), 1):.1f}" '
            f'height="{plot_h}" fill="{COLORS["fault"]}" fill-opacity="0.3"><title>{label}</title></rect>'
            f'<text x="{x_of(a) + 3:.1f}" y="{PAD_T + 12}" font-size="11" fill="#555">{label}</text>'
        )
    parts.append(_polyline(ops, plot_h / left, x_of, COLORS["ops"]))
    parts.append(_polyline(conf, plot_h / right, x_of, COLORS["conflicts"]))
    parts.append(_polyline(lost, plot_h / right, x_of, COLORS["lost_updates"], "5,3"))
    base = PAD_T + plot_h
    parts.append(f'<line x1="{PAD_L}" y1="{base}" x2="{WIDTH - PAD_R}" y2="{base}" stroke="#333"/>')
    parts.append(
        f'<text x="4" y="{PAD_T + 10}" font-size="11" fill="{COLORS["ops"]}">{left:g} ops</text>'
    )
    parts.append(
        f'<text x="{WIDTH - PAD_R + 4}" y="{PAD_T + 10}" font-size="11" fill="{COLORS["lost_updates"]}">{right:g} anomalies</text>'
    )
    for i in range(0, 6):
        t = n * width * i / 5
        parts.append(
            f'<text x="{x_of(n * i / 5):.1f}" y="{HEIGHT - 12}" font-size="11" text-anchor="middle">+{t:.0f}s</text>'
        )
    parts.append("</svg>")
    legend = (
        f'<div class="legend"><span style="color:{COLORS["ops"]}">&#9632; operations per {width:g}s</span> '
        f'<span style="color:{COLORS["conflicts"]}">&#9632; conflicts</span> '
        f'<span style="color:{COLORS["lost_updates"]}">&#9632; lost updates (dashed)</span> '
        '<span style="color:#999">&#9632; fault windows</span></div>'
    )
    return "".join(parts) + legend


def lag_svg(lag: dict[str, dict[str, float]]) -> str:
    """One row per link: a bar to p50, whiskers to p95 / p99, a dot at max (log-free, linear)."""
    if not lag:
        return '<p class="muted">No lag probes in this history.</p>'
    row_h, label_w = 26, 190
    height = PAD_T + row_h * len(lag) + 24
    top = max(s["max"] for s in lag.values()) or 1.0
    plot_w = WIDTH - label_w - PAD_R

    def x_of(v: float) -> float:
        return label_w + plot_w * v / top

    parts = [
        f'<svg class="plot" role="img" aria-label="replication lag" viewBox="0 0 {WIDTH} {height}">'
    ]
    for i, (link, s) in enumerate(sorted(lag.items())):
        y = PAD_T + i * row_h
        title = escape(
            f"{link}: p50 {format_duration(s['p50'])}, p95 {format_duration(s['p95'])}, "
            f"p99 {format_duration(s['p99'])}, max {format_duration(s['max'])}"
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
    for i in range(0, 5):
        v = top * i / 4
        parts.append(
            f'<text x="{x_of(v):.1f}" y="{axis_y}" font-size="11" text-anchor="middle">{format_duration(v)}</text>'
        )
    parts.append("</svg>")
    legend = '<div class="legend">bar: p50 · ticks: p95, p99 · red dot: max</div>'
    return "".join(parts) + legend
