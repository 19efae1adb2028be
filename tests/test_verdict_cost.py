"""The cost model against hand-computed bills (the arithmetic is in the comments).

Default prices (verdict/prices.json): on-demand $0.625 per million write and replicated write
units, $0.125 per million read units; provisioned $0.00065 per WCU-hour and rWCU-hour,
$0.00013 per RCU-hour; storage $0.25 per GB-month (25 GB free); 730 hours a month.
One unit per second for a month on-demand: 3600 * 730 = 2,628,000 units -> writes
2.628 * 0.625 = $1.6425, reads 2.628 * 0.125 = $0.3285.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from units import parse_size
from verdict.cost import CostSpec, parse_price_overrides, read_units, write_units
from verdict.cost_calculator import estimate

WRITE_MONTH = 1.6425  # $ for one write unit per second for a month, on-demand
READ_MONTH = 0.3285


def usd(result: dict, line: str = "total", region: str | None = None) -> float:
    entry = result["total"] if region is None else result["regions"][region]
    return entry["monthly_usd"][line]


@pytest.mark.parametrize(
    ("size", "old", "units"),
    [
        (1024, 0, 1),  # exactly 1 KB
        (1023, 0, 1),  # just under
        (1025, 0, 2),  # just over: a whole second unit
        (0, 0, 1),  # an empty write still costs a unit
        (2048, 0, 2),
        (500, 3000, 3),  # update: the larger of before (3000 B -> 3) and after
        (0, 1500, 2),  # delete: the item removed
    ],
)
def test_write_units_round_up_per_kb(size: int, old: int, units: int) -> None:
    assert write_units(size, old) == units


@pytest.mark.parametrize(
    ("size", "strong", "eventual"),
    [(0, 1, 0.5), (4096, 1, 0.5), (4097, 2, 1.0), (9000, 3, 1.5)],
)
def test_read_units_per_4kb_half_for_eventual(size: int, strong: float, eventual: float) -> None:
    assert read_units(size, "strong") == strong
    assert read_units(size, "eventual") == eventual


def test_fractional_sizes_parse_to_bytes_and_round_up() -> None:
    assert parse_size("1.5KB") == 1536 and write_units(parse_size("1.5KB")) == 2
    assert parse_size("0.5KB") == 512 and write_units(parse_size("0.5KB")) == 1
    assert write_units(parse_size("1.001KB")) == 2  # 1025 B


def test_two_regions_one_kb_on_demand() -> None:
    # 10 writes/s of exactly 1 KB in each of 2 regions: 10 app units/s per region, and each
    # region receives the other's 10 replicated units/s. Per region 10 * 1.6425 = $16.425 of
    # writes and $16.425 of replicated writes; the table: 4 * 16.425 = $65.70.
    r = estimate(writes_per_second=10, item_size=1024, regions=["a", "b"])
    assert r["regions"]["a"]["write_units_per_s"] == 10
    assert r["regions"]["a"]["replicated_write_units_per_s"] == 10
    assert usd(r, "writes", "a") == pytest.approx(16.425)
    assert usd(r, "replicated_writes", "b") == pytest.approx(16.425)
    assert usd(r) == pytest.approx(65.70)


def test_three_regions_just_over_one_kb() -> None:
    # 1025 B = 2 units. 10 writes/s per region: 20 app units/s, 2 * 20 = 40 replicated units/s
    # per region. Per region 20 * 1.6425 = 32.85 + 40 * 1.6425 = 65.70 -> 98.55; total 295.65.
    # Trimming to 1024 B halves every write line: saves 295.65 / 2 = 147.825.
    r = estimate(writes_per_second=10, item_size=1025, regions=3)
    assert r["total"]["replicated_write_units_per_s"] == 120
    assert usd(r, region="region-2") == pytest.approx(98.55)
    assert usd(r) == pytest.approx(295.65)
    boundary = next(a for a in r["advice"] if a["kind"] == "boundary")
    assert boundary["saved_usd"] == pytest.approx(147.825)
    assert boundary["share_just_over"] == 1.0


def test_four_regions_just_under_one_kb_has_no_boundary_advice() -> None:
    # 1023 B = 1 unit; 5 writes/s: 5 app + 3 * 5 = 15 replicated units/s per region:
    # 20 * 1.6425 = 32.85 per region, 131.40 in all.
    r = estimate(writes_per_second=5, item_size=1023, regions=4)
    assert usd(r, region="region-4") == pytest.approx(32.85)
    assert usd(r) == pytest.approx(131.40)
    assert "boundary" not in {a["kind"] for a in r["advice"]}


@pytest.mark.parametrize(("consistency", "units", "dollars"), [("strong", 300, 98.55), ("eventual", 150, 49.275)])  # fmt: skip
def test_reads_over_4kb(consistency: str, units: float, dollars: float) -> None:
    # 9000 B = 3 blocks of 4 KB: 100 reads/s -> 300 strong or 150 eventual units/s;
    # 300 * 0.3285 = 98.55, 150 * 0.3285 = 49.275 (one region: no replicated writes).
    spec = CostSpec(read_consistency=consistency)
    r = estimate(writes_per_second=0, reads_per_second=100, item_size=9000, regions=1, spec=spec)
    assert r["total"]["read_units_per_s"] == units
    assert usd(r, "reads") == pytest.approx(dollars)
    assert usd(r, "writes") == 0  # no writes, no write bill


def test_read_item_size_defaults_to_item_size() -> None:
    a = estimate(writes_per_second=1, reads_per_second=10, item_size=5000, regions=1)
    b = estimate(writes_per_second=1, reads_per_second=10, item_size=5000, read_item_size=100, regions=1)  # fmt: skip
    assert a["total"]["read_units_per_s"] == 10 * 1.0  # 5000 B: 2 blocks, eventual: 1
    assert b["total"]["read_units_per_s"] == 10 * 0.5


def test_provisioned() -> None:
    # 2 regions, 10 writes/s of 1 KB, 100 eventual reads/s of 4 KB: per region 10 WCU,
    # 10 rWCU, 50 RCU. 10 * 730 * 0.00065 = 4.745 each for writes and replicated writes,
    # 50 * 730 * 0.00013 = 4.745 for reads; 3 * 4.745 * 2 regions = 28.47.
    spec = CostSpec(mode="provisioned")
    r = estimate(writes_per_second=10, reads_per_second=100, item_size=1024, regions=2, spec=spec)
    assert r["mode"] == "provisioned"
    for line in ("writes", "replicated_writes", "reads"):
        assert usd(r, line, "region-1") == pytest.approx(4.745)
    assert usd(r) == pytest.approx(28.47)


def test_break_even_utilization() -> None:
    # provisioned per unit-hour 0.00065 vs on-demand 3600 * 0.625e-6 = 0.00225 -> 28.9%;
    # reads 0.00013 vs 3600 * 0.125e-6 = 0.00045 -> the same 28.9%.
    r = estimate(writes_per_second=10, reads_per_second=40, item_size=1024, regions=3)
    mode = next(a for a in r["advice"] if a["kind"] == "mode")
    assert mode["break_even_utilization"] == pytest.approx(0.00065 / 0.00225)
    assert mode["on_demand_usd"] == pytest.approx(usd(r))


@pytest.mark.parametrize(("free", "per_region"), [(False, 10.0), (True, 3.75)])
def test_storage_per_region(free: bool, per_region: float) -> None:
    # 40 GB in each of 3 replicas: 40 * 0.25 = $10 per region; with the free tier the first
    # 25 GB are free: (40 - 25) * 0.25 = $3.75.
    spec = CostSpec(storage_gb=40, free_tier=free)
    r = estimate(writes_per_second=0, item_size=100, regions=3, spec=spec)
    assert usd(r, "storage", "region-3") == pytest.approx(per_region)
    assert usd(r) == pytest.approx(3 * per_region)


def test_storage_under_the_free_tier_costs_nothing() -> None:
    spec = CostSpec(storage_gb=10, free_tier=True)
    assert usd(estimate(writes_per_second=0, item_size=1, regions=2, spec=spec)) == 0


def test_price_overrides() -> None:
    # rWRU at the pre-November-2024 1.5x: 0.9375. 2 regions, 10 writes/s of 1 KB:
    # writes 2 * 16.425 = 32.85, replicated 2 * 10 * 2.628 * 0.9375 = 49.275.
    spec = CostSpec(prices=parse_price_overrides(["on_demand_replicated_write_per_million=0.9375"]))
    r = estimate(writes_per_second=10, item_size=1024, regions=2, spec=spec)
    assert usd(r, "replicated_writes") == pytest.approx(49.275)
    assert usd(r, "writes") == pytest.approx(32.85)


def test_transfer_priced_when_given() -> None:
    # 1 write/s of 1 KB, 2 regions: each ships 1024 B/s to the other: 1024 * 2,628,000 / 2^30
    # GB a month per region = 2.50626 GB; at $0.02/GB both regions: 2 * 0.0501253.
    spec = CostSpec(prices={"transfer_gb": 0.02})
    r = estimate(writes_per_second=1, item_size=1024, regions=2, spec=spec)
    gb = 1024 * 2_628_000 / 2**30
    assert r["total"]["transfer_gb_per_month"] == pytest.approx(2 * gb)
    assert usd(r, "transfer") == pytest.approx(2 * gb * 0.02)


def test_replica_advice_routing_vs_removing() -> None:
    # 3 regions, 10 writes/s of 1 KB: 60 replicated units/s. One replica fewer: the same 30
    # writes/s reach 1 other replica -> 30 units/s: saves 30 * 1.6425 = 49.275.
    r = estimate(writes_per_second=10, item_size=1024, regions=3)
    rep = next(a for a in r["advice"] if a["kind"] == "replicas")
    assert rep["replicated_write_units_per_s"] == 60
    assert rep["saved_per_replica_removed_usd"] == pytest.approx(49.275)
    assert "unchanged" in rep["text"]


def test_single_region_has_no_replication() -> None:
    r = estimate(writes_per_second=10, item_size=1024, regions=1)
    assert usd(r, "replicated_writes") == 0
    assert "replicas" not in {a["kind"] for a in r["advice"]}


def test_answer_line_is_one_sentence_with_the_bill() -> None:
    r = estimate(writes_per_second=10, item_size=1024, regions=2)
    assert r["answer"].count("\n") == 0
    assert "$65.70/month on-demand" in r["answer"]
    assert "50% of it replicated writes" in r["answer"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"writes_per_second": -1, "item_size": 10}, "writes per second"),
        (
            {"writes_per_second": 1, "reads_per_second": float("nan"), "item_size": 10},
            "reads per second",
        ),  # fmt: skip
        ({"writes_per_second": 1, "item_size": 400 * 1024 + 1}, "400 KB"),
        ({"writes_per_second": 1, "item_size": 10, "regions": 0}, "regions"),
    ],
)
def test_bad_calculator_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        estimate(**kwargs)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"prices": {"wcu": 1}}, "unknown price 'wcu'"),
        ({"prices": {"storage_gb_month": -1}}, "must be positive"),
        ({"mode": "reserved"}, "mode"),
        ({"production_scale": 0}, "production_scale"),
        ({"storage": 3}, "storage"),
        # YAML's .nan/.inf would otherwise print a bill of $nan or $inf
        ({"prices": {"storage_gb_month": float("nan")}}, "must be a finite number"),
        ({"prices": {"hours_per_month": float("inf")}}, "must be a finite number"),
        ({"production_scale": float("inf")}, "(?s)production_scale.*finite"),
        ({"storage_gb": float("nan")}, "(?s)storage_gb.*finite"),
    ],
)
def test_bad_cost_section(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CostSpec.model_validate(raw)


@pytest.mark.parametrize("pair", ["storage_gb_month", "storage_gb_month=cheap", "nope=1"])
def test_bad_price_override(pair: str) -> None:
    with pytest.raises(ValueError, match="storage_gb_month|nope"):
        parse_price_overrides([pair])


def test_gsi_writes_are_billed_again_in_every_replica() -> None:
    # 10 writes/s of 1.5 KB (2 units) per region, 3 regions, 2 GSIs of ALL projection: each
    # write costs 2 GSIs * 2 units = 4 index units in its own region and in each of the 2
    # other replicas, so every region pays 3 * 10 * 4 = 120 index units/s at the write price.
    spec = CostSpec(gsis=2)
    result = estimate(writes_per_second=10, item_size=1536, regions=3, spec=spec)
    assert result["inputs"]["index_units_per_write"] == 4
    for entry in result["regions"].values():
        assert entry["index_write_units_per_s"] == 120
        assert entry["monthly_usd"]["index_writes"] == pytest.approx(120 * WRITE_MONTH)
    plain = estimate(writes_per_second=10, item_size=1536, regions=3)
    assert usd(result) == pytest.approx(usd(plain) + 3 * 120 * WRITE_MONTH)
    # KEYS_ONLY-like entries of 100 B: one unit per GSI
    small = estimate(
        writes_per_second=10, item_size=1536, regions=3, spec=CostSpec(gsis=2, gsi_item_bytes=100)
    )
    assert small["total"]["index_write_units_per_s"] == 3 * 3 * 10 * 2
