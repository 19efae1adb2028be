"""What a cost figure is: the rig's traffic scaled, or production's stated rate; transfer
said to be unpriced wherever a bill is shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hothot.cli import main as hothot_main
from tests.cost_fixtures import REGIONS, total, uniform
from verdict.cost import CostSpec, table_rows
from verdict.cost_calculator import estimate
from verdict.cost_campaign import CostAccumulator
from verdict.html import cost_section
from verdict.summary import cost_lines


def projection(**spec: object) -> dict:
    acc = CostAccumulator()
    uniform(acc, REGIONS, duration=10, wps=5, rps=10, size=1500)  # 15 operations/s per region
    return acc.result(10.0, REGIONS, CostSpec(**spec))


def test_a_stated_production_rate_scales_each_regions_measured_traffic_to_it() -> None:
    at_rate = projection(production_rate="1500/s", storage_gb=50)
    at_scale = projection(production_scale=100, storage_gb=50)
    calc = estimate(writes_per_second=500, reads_per_second=1000, item_size=1500,
                    regions=REGIONS, spec=CostSpec(storage_gb=50))  # fmt: skip
    assert total(at_rate) == pytest.approx(total(at_scale)) == pytest.approx(total(calc))
    assert at_rate["answer"].startswith(
        "At 1,500 operations/s per region (cost.production_rate; the rig measured 15.0/s per "
        "region), the same mix over 3 regions: $"
    )
    assert "stated production rate" in cost_section(at_rate)
    assert "the rig&#x27;s measured traffic × 100" in cost_section(at_scale)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"production_rate": "fast"}, "give operations per second, e.g. 2000/s"),
        ({"production_rate": "0/s"}, "greater than 0"),
        ({"production_rate": 10, "production_scale": 5}, "not both"),
    ],
)
def test_bad_production_rates_are_refused(spec: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CostSpec(**spec)


def test_an_unset_production_rate_as_the_resolved_campaign_writes_it() -> None:
    assert CostSpec.model_validate({"production_rate": None}).production_rate is None
    assert CostSpec.model_validate({"production_rate": "2000/s"}).production_rate == 2000


def test_transfer_is_said_to_be_unpriced_in_every_cost_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = projection()
    note = result["transfer_note"]
    assert result["transfer_priced"] is False and "is not priced" in note
    assert note in cost_section(result).replace("&#x27;", "'")
    _, rows = table_rows(result)
    assert all(row[5].endswith("not priced") for row in rows)
    assert cost_lines({"cost": result})[-1] == f"cost: {note}"
    assert hothot_main(["cost", "--writes-per-second", "10"]) == 0
    assert "Cross-region transfer (" in capsys.readouterr().out
    priced = projection(prices={"transfer_gb": 0.02})
    assert priced["transfer_priced"] is True and "transfer_note" not in priced
    assert priced["total"]["monthly_usd"]["transfer"] > 0
    assert len(cost_lines({"cost": priced})) == 1
