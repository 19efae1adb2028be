"""The projected bill of a campaign: what the tested write pattern costs at production scale.

`CostAccumulator` sees every history record once (the verdict streams them), tallies the
capacity units each region's own clients consumed, and hands per-region unit rates scaled by
`cost.production_scale` to `verdict.cost.bill`, the same arithmetic as `hothot cost`.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from typing import Any

from verdict.cost import (
    BOUNDARY_SLACK,
    KB,
    CostSpec,
    RegionLoad,
    bill,
    boundary_advice,
    mode_advice,
    price_sheet,
    read_units,
    replica_advice,
    table_rows,
    write_units,
)

WRITE_OPS = frozenset({"put", "update", "delete"})


@dataclass
class RegionTally:
    """Counts at campaign scale for one region's own clients."""

    writes: int = 0
    write_units: float = 0.0
    replicated_units: float = 0.0
    replicated_bytes: int = 0
    billed_bytes: int = 0  # sum of max(before, after) over writes
    just_over: int = 0  # writes <= BOUNDARY_SLACK bytes over a 1 KB boundary
    just_over_replicated: int = 0
    reads: int = 0
    read_units: float = 0.0  # as the campaign read (ConsumedCapacity when returned)
    read_units_strong: float = 0.0
    read_units_eventual: float = 0.0


def _charged(record: dict[str, Any]) -> tuple[bool, bool]:
    """(consumes capacity, replicates). Unknown outcomes count as happened (the bill is an
    upper bound); a failed condition still consumes write units but replicates nothing."""
    outcome = record.get("outcome")
    if outcome in ("ok", "unknown"):
        return True, True
    failed_condition = outcome == "fail" and "ConditionalCheck" in str(record.get("error", ""))
    return failed_condition, False


class CostAccumulator:
    """Feed it every history record with `observe`, then ask for `result`."""

    def __init__(self) -> None:
        self.tallies: dict[str, RegionTally] = {}
        self._units_per_second: Counter[int] = Counter()

    def observe(self, record: dict[str, Any]) -> None:
        op = record.get("op")
        key = str(record.get("key", ""))
        if record.get("final") or key.startswith("hh#") or op not in (*WRITE_OPS, "get"):
            return  # harness traffic (final reads, heartbeats, probes) is not the workload's
        consumes, replicates = _charged(record)
        if not consumes or (op == "get" and record.get("outcome") != "ok"):
            return
        tally = self.tallies.setdefault(str(record.get("region", "?")), RegionTally())
        capacity = record.get("capacity")
        size = int(record.get("item_bytes") or 0)
        if op == "get":
            consistent = bool(record.get("consistent"))
            strong, eventual = read_units(size, "strong"), read_units(size, "eventual")
            if capacity and not size:  # size unrecorded: the store's figure says it
                strong = float(capacity) * (1 if consistent else 2)
                eventual = strong / 2
            tally.reads += 1
            tally.read_units += (
                float(capacity) if capacity else (strong if consistent else eventual)
            )
            tally.read_units_strong += strong
            tally.read_units_eventual += eventual
            units = strong if consistent else eventual
        else:
            billed = max(size, int(record.get("old_bytes") or 0))
            units = write_units(billed)
            over = billed % KB
            just_over = billed > KB and 0 < over <= BOUNDARY_SLACK
            tally.writes += 1
            tally.billed_bytes += billed
            tally.write_units += float(capacity) if capacity else units
            tally.just_over += just_over
            if replicates:
                tally.replicated_units += units
                tally.replicated_bytes += size
                tally.just_over_replicated += just_over
        self._units_per_second[int(float(record.get("t_complete", 0.0)))] += units

    def peak_to_average(self) -> float | None:
        """Busiest whole second over the mean second, first and last (partial) seconds
        dropped; None when the campaign is too short to say."""
        if len(self._units_per_second) < 3:
            return None
        first, last = min(self._units_per_second), max(self._units_per_second)
        inner = [self._units_per_second.get(s, 0.0) for s in range(first + 1, last)]
        mean = sum(inner) / len(inner)
        return max(inner) / mean if mean > 0 else None

    def loads(self, duration_s: float, regions: list[str], spec: CostSpec) -> list[RegionLoad]:
        """Per-region unit rates at production scale."""
        rate = spec.production_scale / duration_s
        out = []
        for region in regions:
            t = self.tallies.get(region, RegionTally())
            reads = {
                None: t.read_units,
                "strong": t.read_units_strong,
                "eventual": t.read_units_eventual,
            }[spec.read_consistency]
            out.append(
                RegionLoad(
                    region,
                    t.write_units * rate,
                    t.replicated_units * rate,
                    reads * rate,
                    t.replicated_bytes * rate,
                )
            )
        return out

    def result(self, duration_s: float, regions: list[str], spec: CostSpec) -> dict[str, Any]:
        """The projected monthly bill (`bill`'s shape) plus what was measured and advice."""
        if duration_s <= 0:
            raise ValueError(f"cost: campaign duration must be positive, got {duration_s}")
        if not regions:
            raise ValueError("cost: the campaign has no regions")
        regions = list(regions) + sorted(set(self.tallies) - set(regions))
        loads = self.loads(duration_s, regions, spec)
        result = bill(loads, spec)
        result["production_scale"] = spec.production_scale
        result["prices_taken"] = price_sheet().taken
        result["measured"] = {
            region: {
                "writes_per_s": t.writes / duration_s,
                "reads_per_s": t.reads / duration_s,
                "mean_billed_item_bytes": t.billed_bytes / t.writes if t.writes else 0.0,
                "write_units_per_write": t.write_units / t.writes if t.writes else 0.0,
                "just_over_boundary": t.just_over,
            }
            for region, t in self.tallies.items()
        }
        advice = [mode_advice(loads, spec, self.peak_to_average())]
        if (rep := replica_advice(loads, spec)) is not None:
            advice.append(rep)
        writes = sum(t.writes for t in self.tallies.values())
        just_over = sum(t.just_over for t in self.tallies.values())
        if just_over:
            rate = spec.production_scale / duration_s
            trimmed = [
                RegionLoad(
                    ld.region,
                    ld.write_units - self.tallies[ld.region].just_over * rate,
                    ld.replicated_units - self.tallies[ld.region].just_over_replicated * rate,
                    ld.read_units,
                    ld.replicated_bytes,
                )
                if ld.region in self.tallies
                else ld
                for ld in loads
            ]
            advice.append(boundary_advice(loads, trimmed, spec, just_over / writes))
        result["advice"] = advice
        usd = result["total"]["monthly_usd"]
        share = usd["replicated_writes"] / usd["total"] if usd["total"] else 0.0
        result["answer"] = (
            f"At {spec.production_scale:g}x the campaign's traffic over {len(regions)} regions, "
            f"this write pattern costs ${usd['total']:,.2f}/month {result['mode']}, "
            f"{share:.0%} of it replicated writes."
        )
        return result


def render_html(result: dict[str, Any]) -> str:
    """An inline HTML fragment (no external assets) for report.html."""
    head, rows = table_rows(result)
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(c).replace(chr(10), '<br>')}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    advice = "".join(f"<li>{html.escape(a['text'])}</li>" for a in result.get("advice", []))
    taken = html.escape(str(result.get("prices_taken", price_sheet().taken)))
    return (
        '<section class="hothot-cost"><h2>Projected cost on DynamoDB global tables</h2>'
        f"<p><strong>{html.escape(result.get('answer', ''))}</strong></p>"
        f'<table style="border-collapse:collapse;text-align:right"><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
        f"<ul>{advice}</ul>"
        f"<p><small>Prices taken {taken} (verdict/prices.json), mode {html.escape(result['mode'])}."
        "</small></p></section>"
    )
