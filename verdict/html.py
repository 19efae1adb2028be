"""report.html: one self-contained page (inline CSS and SVG, no script, no network) that an
SRE can attach to a release ticket: the gate on top, then what was lost, where, and why."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from units import format_duration, parse_duration, plural, show_percent
from verdict.cost import price_sheet, table_rows
from verdict.junit import budget_figure, budget_name, interval_text, show
from verdict.latency_report import render_latency
from verdict.plots import lag_svg, latency_svg, load_timeline, timeline_svg
from verdict.run_info import render_header

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.banner{padding:12px 16px;border-radius:6px;font-size:20px;font-weight:700;margin:12px 0}
.banner.pass{background:#dafbe1}.banner.fail{background:#ffebe9}
.banner.untrusted{background:#fff1c2;color:#7a4b00;border:2px solid #bf8700}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px;margin:8px 0}
.alarm{background:#ffebe9;border:2px solid #cf222e;padding:8px 12px;border-radius:6px;margin:8px 0}
.muted{color:#777}.legend{font-size:12px;color:#555;margin-bottom:8px}.legend span{margin-right:14px}
svg.plot{width:100%;height:auto;border:1px solid #eee}
details{margin:6px 0}summary{cursor:pointer}code{font-size:12px}
body{padding:0 12px}p,li,summary,pre,code{overflow-wrap:anywhere}
@media (max-width:720px){table{display:block;overflow-x:auto;width:auto;max-width:100%}
th,td{white-space:nowrap}table.budgets td:nth-child(-n+2){white-space:normal;overflow-wrap:anywhere}
body{margin:12px auto}.banner{font-size:17px}}
"""

KIND_TITLES = {
    "lost_update": "Lost updates: acknowledged writes that the final state silently dropped",
    "conflict": "Conflicts: writes that replaced the same version without seeing each other",
    "skew_inverted": "Skew-inverted wins: last-writer-wins kept the older write",
    "divergence": "Divergent keys: regions still disagree after quiescence",
    "value_mismatch": "Value check disagrees with the version graph (a bug somewhere)",
    "stale_read": "Stale reads beyond the staleness bound",
}


def _cell(c: Any) -> str:
    """Counts with thousands separators, as the terminal prints them."""
    return f"{c:,}" if isinstance(c, int) and not isinstance(c, bool) else str(c)


def _table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _t(x: Any) -> str:
    if x is None:  # e.g. the pred of a write that found no item
        return "—"
    if isinstance(x, float):
        return f"{x:.3f}"
    return _cell(x) if isinstance(x, int) else escape(str(x))


def _facts(rest: dict[str, Any]) -> str:
    """An example's remaining fields as words (`staleness 1.708s`), not a Python dict."""
    parts = []
    for k, v in rest.items():
        if k.endswith("_s") and isinstance(v, int | float):
            parts.append(f"{escape(k[:-2].replace('_', ' '))} {format_duration(v)}")
        else:
            parts.append(f"{escape(k.replace('_', ' '))} {_t(v)}")
    return f"<p>{' · '.join(parts)}</p>"


def _overlap(windows: list[dict[str, Any]]) -> bool:
    spans = sorted(
        (w["start"], w["heal"] if w["heal"] is not None else float("inf"))
        for w in windows
        if w["id"] != "outside"
    )
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))


def _budgets(data: dict[str, Any]) -> str:
    if not data["budgets"]:
        return '<p class="muted">No budgets: the verdict passes by definition.</p>'
    rows = []
    for b in data["budgets"]:
        status = (
            '<span class="pass">PASS</span>' if b["passed"] else '<span class="fail">FAIL</span>'
        )
        if b["no_data"]:
            status += ' <span class="muted">(no data)</span>'
        rows.append(
            [escape(budget_name(b)), escape(budget_figure(b)), show(b["max"], b["unit"]), status]
        )
    note = (
        '<p class="muted">Observed figures carry their 95% interval (rates: Wilson; '
        "percentiles: order statistics); a budget with a confidence holds only when the "
        "interval's upper bound at that level is within the limit.</p>"
    )
    return _table(["budget", "observed", "limit", "result"], rows, "budgets") + note


def _load(data: dict[str, Any]) -> str:
    """Requested, delivered and dropped per region, and the intensity per workload."""
    load = data.get("load") or {}
    if load.get("model") == "open":
        shape = f"{load.get('rate') or 0:g}/s per region" if not load.get("stages") else "stages"
        head = f"<p>Open model ({escape(shape)}, at most {load.get('max_in_flight')} in flight per region).</p>"
    elif load.get("model") == "closed":
        head = (
            f"<p>Closed model ({load.get('users_per_region')} users per region, each as fast as "
            "the target answers): the intensity depends on the machine.</p>"
        )
    else:
        head = '<p class="muted">No load.json: requested and dropped operations unknown.</p>'
    if load.get("aborted"):
        head += f'<div class="alarm"><b>Load stopped early</b>: {escape(load["aborted"])}</div>'
    rows = [
        [escape(r), _t(f.get("requested")), f.get("delivered", 0), f.get("dropped", 0),
         interval_text(f.get("dropped_rate_ci95"), "rate") or "—", f.get("peak_in_flight", 0),
         escape(f.get("bottleneck") or "")]
        for r, f in sorted((load.get("regions") or {}).items())
    ]  # fmt: skip
    table = _table(
        ["region", "requested", "delivered", "dropped", "dropped rate (95%)", "peak in flight",
         "bottleneck"], rows,
    ) if rows else ""  # fmt: skip
    intensity = [
        [escape(name), _t(w.get("keys")), _t(w.get("writes_per_key_per_s"))]
        for name, w in sorted((load.get("workloads") or {}).items())
    ]
    return head + table + _table(["workload", "keys", "writes per key per second"], intensity)


def _unknown(w: dict[str, Any]) -> str:
    """Unknown outcomes, and how many of them the history showed happened after all."""
    n, seen = w["writes_unknown"], w["unknown_resolved"]
    return f"{n} ({seen} seen since)" if seen else str(n)


def _workloads(data: dict[str, Any]) -> str:
    rows = []
    for name, w in sorted(data["workloads"].items()):
        vc = w.get("value_check")
        value = "—"
        if vc:
            value = f"{vc.get('lost_by_value', 0)} by value / {vc.get('lost_by_graph', 0)} by graph"
            if vc.get("disagreements"):
                value += (
                    f' <span class="fail">({plural(vc["disagreements"], "key")} disagree)</span>'
                )
        rows.append(
            [
                escape(name or "(none)"),
                w["writes_ok"],
                w.get("writes_failed", 0),
                _unknown(w),
                w["conflicts"],
                _rate(w, "conflict_rate"),
                w["lost_updates"],
                _rate(w, "lost_update_rate"),
                w["skew_inverted"],
                w["divergent_keys"],
                value,
            ]
        )
    head = ["workload", "writes ok", "writes failed", "unknown", "conflicts", "conflict rate"]
    head += ["lost", "lost rate"]
    return _table([*head, "skew-inverted", "divergent keys", "counter/cart check"], rows)


#: how anomalies are tied to fault windows, in one sentence (docs/verdict.md says the same)
ATTRIBUTION = (
    "A lost update counts in every fault window that overlaps its exposure, from its "
    "invocation until it was overwritten (its region held the winning branch, or the write "
    "that beat it arrived there); conflicts, skew-inverted wins and stale reads count in the "
    "windows open when they were invoked."
)


#: an apply or heal this much later than asked is shown with the time it was asked for
LATE_S = 0.5


def _asked(window: dict[str, Any], t0: float) -> str:
    """' (asked +8.0s → +14.0s)' when the start or heal came LATE_S or more after the schedule
    asked for it (an FIS experiment takes a while to start and to stop), else ''."""
    pairs = [(window.get("requested_start"), window["start"])]
    pairs.append((window.get("requested_heal"), window["heal"]))
    if not any(a is not None and t is not None and t - a >= LATE_S for a, t in pairs):
        return ""
    asked = [f"+{a - t0:.1f}s" if a is not None else "?" for a, _ in pairs]
    return f" (asked {asked[0]} → {asked[1]})"


def _rate(row: dict[str, Any], name: str) -> str:
    """`2.1% [1.9%, 2.3%]`: the rate and its 95 % interval, in percent as every rate."""
    ci = row.get(f"{name}_ci95")
    interval = f" [{show_percent(ci[0], 3)}, {show_percent(ci[1], 3)}]" if ci else ""
    return f"{show_percent(row[name])}{interval}"


def _faults(data: dict[str, Any]) -> str:
    conv = {c["window"]: c for c in data["convergence"]}
    t0 = data["timeline"]["t0"]
    rows = []
    for w in data["faults"]:
        a = w["anomalies"]
        if w["id"] == "outside":
            when, label, converged = "—", "outside any fault window", "—"
        else:
            heal = w["heal"]
            end = f"+{heal - t0:.1f}s" if heal is not None else "(not healed)"
            when = f"+{w['start'] - t0:.1f}s → {end}" + _asked(w, t0)
            label = escape(f"{w['fault']} {w['target']}")
            c = conv.get(w["id"], {}).get("converged_s")
            converged = format_duration(c) if c is not None else "—"
        counts = [
            a.get(k, 0) for k in ("lost_updates", "conflicts", "skew_inverted", "stale_reads")
        ]
        rows.append([label, when, *counts, converged])
    head = ["fault", "window (from run start)", "lost", "conflicts", "skew-inverted", "stale reads"]
    table = _table([*head, "converged after heal"], rows) + f'<p class="muted">{ATTRIBUTION}</p>'
    if _overlap(data["faults"]):
        table += (
            '<p class="muted">Some windows overlap: an anomaly inside two windows counts in '
            "each, so the rows add up to more than the totals.</p>"
        )
    return table


def _written(value: Any) -> str | None:
    """What a write put in, as its workload recorded it (DESIGN §4 `value`): a counter's
    increment (+1), a cart's element, the attributes of an attribute-level write."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:+g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items())
    return str(value)


def _evidence(ex: dict[str, Any], t0: float, is_open: bool = False) -> str:
    """One anomaly with its writes; times are seconds from the run's first operation."""
    summary = escape(f"{ex['key']} at +{ex['t'] - t0:.3f}s")
    faults = ", ".join(ex.get("faults") or []) or "none"
    exposed = ex.get("exposed_until")
    during = "during its exposure" if exposed is not None else "active"
    body = f"<p>faults {during}: {escape(faults)}</p>"
    if exposed is not None:
        body += f"<p>exposed until +{exposed - t0:.3f}s</p>"
    if ex.get("writes"):
        keys = ["role", "vid", "region", "op", "written", "pred", "t_invoke", "t_complete"]
        keys.append("outcome")
        rel = [
            {**w, "t_invoke": w["t_invoke"] - t0, "t_complete": w["t_complete"] - t0,
             "written": _written(w.get("value"))}
            for w in ex["writes"]
        ]  # fmt: skip
        body += _table(keys, [[_t(w.get(k)) for k in keys] for w in rel])
    if "regions" in ex:
        body += _table(
            ["region", "final vid", "attributes"],
            [[escape(r), _t(v["vid"]), escape(str(v["attrs"]))] for r, v in ex["regions"].items()],
        )
    shown = {"key", "t", "writes", "faults", "regions", "exposed_until"}
    rest = {k: v for k, v in ex.items() if k not in shown}
    if rest:
        body += _facts(rest)
    return f"<details{' open' if is_open else ''}><summary>{summary}</summary>{body}</details>"


def _examples(data: dict[str, Any]) -> str:
    out = [
        f'<p class="muted">Times are seconds from the first operation (unix {data["timeline"]["t0"]:.3f}).</p>'
    ]
    t0 = data["timeline"]["t0"]
    for kind, title in KIND_TITLES.items():
        items = data["examples"].get(kind)
        if items:
            out.append(
                f"<h3>{escape(title)}</h3>"
                + "".join(_evidence(e, t0, i == 0) for i, e in enumerate(items))
            )
    return "".join(out) if len(out) > 1 else '<p class="pass">No anomalies.</p>'


def _witness(data: dict[str, Any]) -> str:
    """The store's own conflict log beside the verdict (pglogical)."""
    w = data["witness"]
    rows = [
        ["conflict-log entries", w["log_entries"]],
        ["causal overwrites excluded", w["causal_excluded"]],
        ["resolved conflicts (deduplicated)", w["resolved_conflicts"]],
        ["discarded versions", w["discarded_versions"]],
        ["updates skipped (no row to update)", w["skipped_updates"]],
        ["lost updates (verdict)", w["lost_updates"]],
        ["lost updates the log shows discarded", w["lost_found_discarded"]],
        ["lost updates on a branch the log shows discarded", w["lost_on_discarded_branch"]],
        ["discarded, yet not lost (a descendant won)", w["discarded_not_lost"]],
    ]
    table = _table(["figure", "count"], rows)
    if data.get("witness_mismatch"):
        return (
            '<div class="alarm"><b>WITNESS MISMATCH</b>: '
            f"{w['lost_not_in_log']} lost updates of the verdict are on no branch the store's "
            "conflict log shows discarded: a bug in hothot or a log that missed entries; the gate "
            f"fails (exit 2). Examples: <code>{escape(str(w.get('examples', [])[:5]))}</code>"
            "</div>" + table
        )
    return (
        '<p class="pass">Every lost update of the verdict is on a branch the store\'s own '
        "conflict log shows discarded.</p>" + table
    )


def _truth(data: dict[str, Any]) -> str:
    if "witness" in data:
        return _witness(data)
    if "truth" not in data:
        return '<p class="muted">No ground truth in this report (the target was not a hothot emulator).</p>'
    t, tot = data["truth"], data["totals"]
    rows = [
        ["conflicts", tot["conflicts"], _t(t["conflicts"])],
        ["lost updates", tot["lost_updates"], _t(t["lost_updates"])],
    ]
    table = _table(["figure", "verdict (client-side history)", "emulator truth"], rows)
    if data["truth_mismatch"]:
        diff = data.get("truth_diff", {})
        return (
            '<div class="alarm"><b>TRUTH MISMATCH</b>: the history-based verdict and the emulator '
            + (
                "disagree; the history is partial, so the emulator may have seen writes whose "
                "records were lost."
                if data["partial"]
                else "disagree. This is a bug in hothot (recorder, emulator or checker) or a table "
                "that held other writes, not a property of the table; the gate fails (exit 2)."
            )
            + f" Keys differing: {diff.get('keys_differing', '?')}.</div>"
            + table
            + f"<p><code>{escape(str(diff.get('examples', [])[:5]))}</code></p>"
        )
    return (
        '<p class="pass">The verdict agrees exactly with the emulator\'s ground truth.</p>' + table
    )


def _failed_why(tot: dict[str, Any]) -> str:
    """`: ReplicatedWriteConflictException 455, …` - what the target said, when it refused."""
    failed = tot.get("failed_by_error") or {}
    return (": " + ", ".join(f"{escape(e)} {n}" for e, n in failed.items())) if failed else ""


def _when(data: dict[str, Any]) -> str:
    """Which run this is, for the release ticket: its start (UTC) and planned duration."""
    t0 = data["timeline"]["t0"]
    if not t0:
        return ""
    start = datetime.fromtimestamp(t0, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:  # a hand-written campaign.yaml may still say `2m`
        length = f" for {format_duration(parse_duration(data['campaign']['duration']))}"
    except (KeyError, ValueError):
        length = ""
    return f"run of {start}{length} · "


def _banner(data: dict[str, Any]) -> str:
    """UNTRUSTED (never green) with its reasons, else PASSED/FAILED and the budgets held."""
    if not data.get("trusted", True):
        reasons = "".join(f"<li>{escape(r['message'])}</li>" for r in data["untrusted"])
        return (
            '<div class="banner untrusted">UNTRUSTED: these figures cannot gate a release '
            f"(exit 2)</div><ul>{reasons}</ul>"
        )
    ok = data["passed"]
    failed = sum(not b["passed"] for b in data["budgets"])
    held = (
        f"budgets held: {len(data['budgets']) - failed} of {len(data['budgets'])}"
        if data["budgets"]
        else "no budgets set"
    )
    return f'<div class="banner {"pass" if ok else "fail"}">{"PASSED" if ok else "FAILED"}: {held}</div>'


def _warnings(data: dict[str, Any]) -> list[str]:
    warnings = []
    if data["partial"]:
        warnings.append(
            '<div class="warn">Partial history: the run did not end cleanly; figures cover what was recorded.</div>'
        )
    lost_workers = (data.get("workers") or {}).get("lost") or []
    if lost_workers:
        detail = data["workers"]["detail"]
        unsent = sum(int(detail[w].get("unsent", 0)) for w in lost_workers)
        warnings.append(
            f'<div class="warn">Lost workers: {escape(", ".join(lost_workers))} stopped reporting '
            f"mid-run; at least {unsent} of their operations never reached the master.</div>"
        )
    if data.get("truth_mismatch"):
        warnings.append('<div class="alarm"><b>TRUTH MISMATCH</b>: see "Ground truth" below.</div>')
    if data.get("witness_mismatch"):
        warnings.append(
            '<div class="alarm"><b>WITNESS MISMATCH</b>: see "Ground truth" below.</div>'
        )
    if data["history"]["skipped_lines"]:
        warnings.append(
            f'<div class="warn">{data["history"]["skipped_lines"]} history lines were unreadable'
            " and skipped.</div>"
        )
    return warnings


def _lag(data: dict[str, Any]) -> list[str]:
    rows = [
        [escape(k), *(format_duration(v[q]) for q in ("p50", "p95", "p99", "max")), v["count"]]
        for k, v in sorted(data["lag"].items())
    ]
    table = _table(["link", "p50", "p95", "p99", "max", "probes"], rows) if rows else ""
    return ["<h2>Replication lag per link</h2>", lag_svg(data["lag"]), table]


def _stale(data: dict[str, Any]) -> list[str]:
    stale = data["stale_reads"]
    rows = [
        [escape(r), v.get("count", 0), v.get("stale", 0),
         *(format_duration(v[q]) if q in v else "—" for q in ("p50", "p99", "max"))]
        for r, v in stale["regions"].items()
    ]  # fmt: skip
    head = ["region", "reads", "stale", "p50 staleness", "p99", "max"]
    table = _table(head, rows) if rows else '<p class="muted">No reads.</p>'
    return [f"<h2>Stale reads (bound {format_duration(stale['bound_s'])})</h2>", table]


def _cost_heading(result: dict[str, Any]) -> str:
    if "production_rate" in result.get("basis", ""):
        return "at the stated production rate"
    return f"the rig's measured traffic × {result.get('production_scale', 1):g}"


def cost_section(result: dict[str, Any] | None) -> str:
    """The projected bill (`verdict.cost_campaign.CostAccumulator.result`) as a section."""
    if not result:
        return '<h2>Projected cost</h2><p class="muted">No traffic to price.</p>'
    head, rows = table_rows(result)
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c).replace(chr(10), '<br>')}</td>" for c in row) + "</tr>"
        for row in rows
    )
    advice = "".join(f"<li>{escape(a['text'])}</li>" for a in result.get("advice", []))
    note = result.get("transfer_note")
    transfer = f"<p><strong>{escape(note)}</strong></p>" if note else ""
    taken = escape(str(result.get("prices_taken", price_sheet().taken)))
    return (
        '<section class="hothot-cost"><h2>Projected cost on DynamoDB global tables: '
        f"{escape(_cost_heading(result))}</h2>"
        f"<p><strong>{escape(result.get('answer', ''))}</strong></p>"
        f'<table style="border-collapse:collapse;text-align:right"><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table>{transfer}"
        f"<ul>{advice}</ul>"
        f"<p><small>Prices taken {taken} (verdict/prices.json), mode {escape(result['mode'])}."
        "</small></p></section>"
    )


def render_html(data: dict[str, Any]) -> str:
    """The whole page from verdict.json's content."""
    tot, hist = data["totals"], data["history"]
    sections = [
        f"<h1>hothot verdict: {escape(str(data['name']))}</h1>",
        f'<p class="muted">{_when(data)}regions '
        f"{escape(', '.join(map(str, data['campaign']['regions'])))} · {plural(hist['records'], 'record')} "
        f"in {plural(hist['shards'], 'shard')} · {plural(hist['keys'], 'key')}</p>",
        render_header(data.get("run") or {}),
        _banner(data),
        *_warnings(data),
        "<h2>Budgets</h2>",
        _budgets(data),
        "<h2>Load</h2>",
        _load(data),
        "<h2>Per workload</h2>",
        f"<p>{tot['writes_ok']:,} acknowledged writes ({tot.get('writes_failed', 0):,} failed"
        f"{_failed_why(tot)}), {plural(tot['conflicts'], 'conflict')}, "
        f"<b>{plural(tot['lost_updates'], 'lost update')}</b>, "
        f"{plural(tot['skew_inverted'], 'skew-inverted win')}, "
        f"{plural(tot['divergent_keys'], 'divergent key')}.</p>",
        _workloads(data),
        "<h2>Client latency per operation and region</h2>",
        render_latency(data.get("latency") or {}),
        "<h2>Timeline</h2>",
        timeline_svg(load_timeline(data), data["faults"]),
        "<h2>Write latency over time</h2>",
        latency_svg(load_timeline(data), data["faults"]),
        "<h2>Faults and what happened inside them</h2>",
        _faults(data),
        *_lag(data),
        *_stale(data),
        cost_section(data.get("cost")),
        "<h2>First examples of each anomaly</h2>",
        _examples(data),
        "<h2>Ground truth</h2>",
        _truth(data),
    ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>hothot verdict: {escape(str(data['name']))}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
