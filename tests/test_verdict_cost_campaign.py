"""The campaign's projected bill: CostAccumulator over history records vs the calculator."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.cost_fixtures import REGIONS, get, total, uniform, write
from verdict.budgets import METRICS
from verdict.cost import CostSpec
from verdict.cost_calculator import estimate
from verdict.cost_campaign import CostAccumulator
from verdict.html import cost_section
from verdict.spec import BudgetSpec

#: dollars a month for one unit per second, by hand from verdict/prices.json (us-east-1):
#: on demand 3600 s x 730 h / 1e6 x $ per million, provisioned 730 h x $ per unit-hour
MONTH_S = 3600 * 730
PER_UNIT_S = {
    "on-demand": {"write": MONTH_S / 1e6 * 0.625, "read": MONTH_S / 1e6 * 0.125},
    "provisioned": {"write": 730 * 0.00065, "read": 730 * 0.00013},
}


def hand_bill(
    regions: int, wps: float, rps: float, size: int, mode: str, consistent: bool
) -> float:
    """The monthly total of `wps` writes and `rps` reads per second of `size` bytes in each
    of `regions` regions: a write is 1 unit per started KB (at least 1) in its region and
    again in each other replica, a read 1 per started 4 KB (at least 1), half if eventual."""
    write_units = max(1, -(-size // 1024))
    read_units = max(1, -(-size // 4096)) / (1 if consistent else 2)
    written = regions * wps * write_units * regions  # own region + (regions - 1) replicas
    read = regions * rps * read_units
    return written * PER_UNIT_S[mode]["write"] + read * PER_UNIT_S[mode]["read"]


def test_projection_equals_the_calculator() -> None:
    # 10 s, 5 writes/s and 10 eventual reads/s of 1500 B per region, at 1/100 of production:
    # production is 500 writes/s and 1000 reads/s per region; the calculator must agree.
    acc = CostAccumulator()
    uniform(acc, REGIONS, duration=10, wps=5, rps=10, size=1500)
    spec = CostSpec(production_scale=100, storage_gb=50)
    projected = acc.result(10.0, REGIONS, spec)
    calc = estimate(writes_per_second=500, reads_per_second=1000, item_size=1500,
                    regions=REGIONS, spec=spec)  # fmt: skip
    for region in REGIONS:
        for line, dollars in calc["regions"][region]["monthly_usd"].items():
            assert projected["regions"][region]["monthly_usd"][line] == pytest.approx(dollars)
    assert total(projected) == pytest.approx(total(calc))
    # by hand, per region: 500 writes/s x 2 units (1,500 B) = 1,000 units/s x $1.6425 =
    # $1,642.50; 2 x 1,000 replicated units/s from the others = $3,285.00; 1,000 eventual
    # reads/s x 0.5 unit x $0.3285 = $164.25; 50 GB x $0.25 = $12.50: $5,104.25
    lines = {"writes": 1642.5, "replicated_writes": 3285.0, "reads": 164.25, "storage": 12.5}
    for region in REGIONS:
        usd = projected["regions"][region]["monthly_usd"]
        assert {line: usd[line] for line in lines} == pytest.approx(lines)
    assert total(projected) == pytest.approx(3 * 5104.25)
    assert projected["measured"]["us-east-1"]["writes_per_s"] == pytest.approx(5)
    assert projected["measured"]["us-east-1"]["mean_billed_item_bytes"] == 1500
    assert projected["answer"].startswith(
        "The rig's measured traffic × 100 (cost.production_scale) over 3 regions: $"
    )


@settings(max_examples=30)
@given(
    size=st.integers(0, 400 * 1024),
    regions=st.integers(1, 4),
    wps=st.integers(0, 4),
    rps=st.integers(0, 4),
    scale=st.floats(0.5, 1000),
    mode=st.sampled_from(["on-demand", "provisioned"]),
    consistent=st.booleans(),
)
def test_projection_equals_the_calculator_for_any_uniform_traffic(
    size: int, regions: int, wps: int, rps: int, scale: float, mode: str, consistent: bool
) -> None:
    names = REGIONS[:regions] + ["ap-south-1"][: max(0, regions - 3)]
    acc = CostAccumulator()
    uniform(acc, names, duration=3, wps=wps, rps=rps, size=size, consistent=consistent)
    spec = CostSpec(production_scale=scale, mode=mode)
    projected = acc.result(3.0, names, spec)
    read_spec = spec.model_copy(update={"read_consistency": "strong" if consistent else "eventual"})
    calc = estimate(writes_per_second=wps * scale, reads_per_second=rps * scale,
                    item_size=size, regions=names, spec=read_spec)  # fmt: skip
    assert total(projected) == pytest.approx(total(calc))
    by_hand = hand_bill(regions, wps * scale, rps * scale, size, mode, consistent)
    assert total(projected) == pytest.approx(by_hand)


def test_updates_bill_the_larger_image_and_capacity_wins() -> None:
    # one region, 1 s: an update shrinking a 3000 B item to 100 B bills 3 units; a write
    # whose target returned ConsumedCapacity 7 bills 7 (transactional, say), but it still
    # replicates at its size's units (1) -> app 10 units, replicated 3 + 1 = 4 units.
    acc = CostAccumulator()
    acc.observe(write("a", 1.0, 100, old=3000))
    acc.observe(write("a", 1.5, 100, capacity=7.0))
    loads = acc.loads(1.0, ["a", "b"], CostSpec())
    assert loads[0].write_units == 10
    assert loads[0].replicated_units == 4
    assert loads[1].write_units == 0


def test_what_counts_and_what_does_not() -> None:
    acc = CostAccumulator()
    acc.observe(write("a", 1.0, 100))  # counts: 1 app, 1 replicated
    acc.observe(write("a", 1.0, 100, outcome="unknown"))  # may have happened: counted
    acc.observe(write("a", 1.0, 2000, outcome="fail", error="ConditionalCheckFailedException"))
    # ^ a failed condition consumes 2 units, replicates nothing
    acc.observe(write("a", 1.0, 100, outcome="fail", error="ValidationException"))  # nothing
    acc.observe(get("a", 1.0, 100, final=True))  # the harness's final read
    acc.observe(write("a", 1.0, 100, key="hh#hb#a"))  # a lag heartbeat
    acc.observe({"op": "probe", "region": "a", "outcome": "ok", "t_complete": 1.0})
    acc.observe(get("a", 1.0, 100, outcome="fail"))  # a failed read
    acc.observe(get("a", 1.0, 5000, consistent=True))  # 2 strong units
    acc.observe(get("a", 1.0, 5000, capacity=0.5))  # ConsumedCapacity as returned
    (load,) = acc.loads(1.0, ["a"], CostSpec())
    assert load.write_units == 1 + 1 + 2
    assert load.replicated_units == 1 + 1
    assert load.read_units == 2 + 0.5
    assert acc.tallies["a"].writes == 3 and acc.tallies["a"].reads == 2


def test_read_consistency_override_reprices_reads() -> None:
    # 4 strong reads/s of 5000 B (2 units each) priced as eventual: 4 units/s
    acc = CostAccumulator()
    uniform(acc, ["a"], duration=1, wps=0, rps=4, size=5000, consistent=True)
    as_run = acc.loads(1.0, ["a"], CostSpec())[0].read_units
    eventual = acc.loads(1.0, ["a"], CostSpec(read_consistency="eventual"))[0].read_units
    assert (as_run, eventual) == (8, 4)


def test_boundary_advice_measures_the_share_just_over() -> None:
    # 2 regions, 1 s: per region 3 writes of 1100 B (76 B over: 2 units) and 1 of 900 B.
    # Share just over: 6 / 8. Trimming saves 1 app + 1 replicated unit for each of the 6
    # writes: 12 units/s for a month on-demand = 12 * 1.6425 = $19.71.
    acc = CostAccumulator()
    for region in ("a", "b"):
        for size in (1100, 1100, 1100, 900):
            acc.observe(write(region, 1.0, size))
    result = acc.result(1.0, ["a", "b"], CostSpec())
    boundary = next(a for a in result["advice"] if a["kind"] == "boundary")
    assert boundary["share_just_over"] == pytest.approx(0.75)
    assert boundary["saved_usd"] == pytest.approx(19.71)


def test_no_boundary_advice_when_sizes_sit_well_inside_a_unit() -> None:
    acc = CostAccumulator()
    uniform(acc, ["a", "b"], duration=2, wps=2, rps=0, size=1500)
    assert "boundary" not in {a["kind"] for a in acc.result(2.0, ["a", "b"], CostSpec())["advice"]}


def test_peak_to_average_from_bursty_traffic() -> None:
    # inner seconds 1..4 carry 1, 1, 6, 0 writes (the edges are dropped): mean 2, peak 6 -> 3x
    acc = CostAccumulator()
    for second, count in enumerate([5, 1, 1, 6, 0, 5]):
        for i in range(count):
            acc.observe(write("a", 100 + second + i / 10, 100))
    assert acc.peak_to_average() == pytest.approx(3.0)
    mode = next(a for a in acc.result(6.0, ["a"], CostSpec())["advice"] if a["kind"] == "mode")
    assert mode["peak_to_average"] == pytest.approx(3.0)
    assert "3.00x the average" in mode["text"]


@pytest.mark.timeout(20)
def test_one_wild_timestamp_does_not_walk_every_second_it_spans() -> None:
    """A record stamped decades away (a hand-edited or broken history) made the peak walk
    ~1.7e9 idle seconds; idle seconds count as 0 without being listed."""
    acc = CostAccumulator()
    for second, count in enumerate([5, 1, 1, 6, 0, 5]):
        for i in range(count):
            acc.observe(write("a", 100 + second + i / 10, 100))
    acc.observe(write("a", 1_764_300_000.12, 100))
    span = 1_764_300_000 - 100 - 1  # seconds strictly between the first and the last
    assert acc.peak_to_average() == pytest.approx(6 / ((1 + 1 + 6 + 0 + 5) / span))


def test_regions_seen_in_the_history_but_not_listed_are_billed_too() -> None:
    acc = CostAccumulator()
    acc.observe(write("x-extra-1", 1.0, 100))
    result = acc.result(1.0, ["a"], CostSpec())
    assert set(result["regions"]) == {"a", "x-extra-1"}


@pytest.mark.parametrize(("duration", "regions"), [(0.0, ["a"]), (1.0, [])])
def test_bad_result_arguments(duration: float, regions: list[str]) -> None:
    with pytest.raises(ValueError, match="cost:"):
        CostAccumulator().result(duration, regions, CostSpec())


def test_render_html_is_an_inline_fragment() -> None:
    acc = CostAccumulator()
    uniform(acc, ["a", "b"], duration=3, wps=2, rps=2, size=1100)
    result = acc.result(3.0, ["a", "b"], CostSpec(production_scale=10))
    fragment = cost_section(result)
    assert fragment.startswith("<section") and fragment.endswith("</section>")
    assert not re.search(r"<(script|link|img)\b|src=|href=", fragment)
    assert f"${total(result):,.2f}" in fragment
    assert "&lt;" not in fragment and "<td>a</td>" in fragment
    assert "1 KB boundary" in fragment  # the advice is shown


def test_cost_per_month_budget_metric() -> None:
    acc = CostAccumulator()
    uniform(acc, ["a", "b"], duration=1, wps=10, rps=0, size=1024)
    result = acc.result(1.0, ["a", "b"], CostSpec())
    # per region 10 app + 10 replicated units/s: 20 * 1.6425 = 32.85; both regions 65.70
    metric = METRICS["cost_per_month"]()
    findings = SimpleNamespace(cost=result)
    whole = BudgetSpec.model_validate({"metric": "cost_per_month", "max": 100})
    one = BudgetSpec.model_validate({"metric": "cost_per_month", "max": 100, "region": "b"})
    assert metric.observe(findings, whole) == pytest.approx(65.70)  # type: ignore[arg-type]
    assert metric.observe(findings, one) == pytest.approx(32.85)  # type: ignore[arg-type]
    assert metric.observe(SimpleNamespace(cost=None), whole) is None  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cannot be filtered by workload"):
        BudgetSpec.model_validate({"metric": "cost_per_month", "max": 1, "workload": "x"})


def test_reads_without_a_size_take_their_units_from_consumed_capacity() -> None:
    # loadgen records ConsumedCapacity, not the size, on gets: an eventual read that cost 1.5
    # units (9 KB) is 3 units strong; a strong read that cost 2 is 1 unit eventual.
    acc = CostAccumulator()
    acc.observe(get("a", 1.0, 0, capacity=1.5))
    acc.observe(get("a", 1.0, 0, consistent=True, capacity=2.0))
    assert acc.loads(1.0, ["a"], CostSpec(read_consistency="strong"))[0].read_units == 3 + 2
    assert acc.loads(1.0, ["a"], CostSpec(read_consistency="eventual"))[0].read_units == 1.5 + 1


@pytest.mark.parametrize("gsi_bytes", [None, 100])
def test_projection_with_gsis_equals_the_calculator(gsi_bytes: int | None) -> None:
    acc = CostAccumulator()
    uniform(acc, REGIONS, duration=10, wps=5, rps=0, size=1500)
    spec = CostSpec(production_scale=100, gsis=3, gsi_item_bytes=gsi_bytes)
    projected = acc.result(10.0, REGIONS, spec)
    calc = estimate(writes_per_second=500, item_size=1500, regions=REGIONS, spec=spec)
    for region in REGIONS:
        assert projected["regions"][region]["monthly_usd"]["index_writes"] == pytest.approx(
            calc["regions"][region]["monthly_usd"]["index_writes"]
        )
    assert projected["total"]["monthly_usd"]["index_writes"] > 0
    assert total(projected) == pytest.approx(total(calc))


def test_a_store_capacity_figure_already_holds_the_local_gsi_writes() -> None:
    """ConsumedCapacity includes the writing region's GSI writes: only the other replicas'
    are added for such a write."""
    acc = CostAccumulator()
    acc.observe(write("us-east-1", 1000.0, 500, capacity=3.0))  # 1 table + 2 GSI units
    acc.observe(write("us-east-1", 1002.0, 500))  # no figure: 1 unit, GSIs added
    result = acc.result(10.0, REGIONS, CostSpec(gsis=2))
    east = result["regions"]["us-east-1"]
    assert east["write_units_per_s"] == pytest.approx((3 + 1) / 10)
    assert east["index_write_units_per_s"] == pytest.approx(2 / 10)  # only the plain write's
    west = result["regions"]["us-west-2"]
    assert west["index_write_units_per_s"] == pytest.approx(2 * 2 / 10)  # both writes, 2 GSIs
