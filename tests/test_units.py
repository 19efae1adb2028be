"""The leaf package `units`: the campaign file's durations, sizes and rates, and the import
rule it exists for (every part may import it; it imports nothing of ours)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from units import (
    Duration,
    Rate,
    Size,
    format_duration,
    format_rate,
    link_name,
    parse_duration,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("800ms", 0.8), ("45s", 45.0), ("2m", 120.0), ("1h", 3600.0), (" 1.5 s ", 1.5), (3, 3.0),
     ("-2s", -2.0), ("7", 7.0)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "size"), [("1KB", 1024), ("0.5kb", 512), ("700B", 700),
                                            ("2MiB", 2 << 20), (700, 700)])  # fmt: skip
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("200/s", 200.0), ("600/m", 10.0), ("36/h", 0.01), ("12.5 / s", 12.5), ("50", 50.0),
     (0, 0.0), (2.5, 2.5)],
)  # fmt: skip
def test_rates(text: object, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize(
    ("parse", "bad"),
    [(parse_duration, "5 sec"), (parse_duration, True), (parse_size, "1GB"), (parse_size, "-1B"),
     (parse_rate, "200/d"), (parse_rate, "-5/s"), (parse_rate, -1), (parse_rate, False),
     (parse_rate, "fast")],
)  # fmt: skip
def test_bad_units_are_refused_with_an_example_of_the_right_spelling(parse, bad) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="expected a|cannot be negative"):
        parse(bad)


def test_formats_round_trip() -> None:
    assert (format_duration(0.8), format_duration(45), format_rate(200)) == (
        "800ms",
        "45s",
        "200/s",
    )
    for seconds in (0.25, 3.0, 90.0):
        assert parse_duration(format_duration(seconds)) == seconds
    assert parse_rate(format_rate(12.5)) == 12.5
    assert link_name("us-east-1", "eu-west-1") == "us-east-1->eu-west-1"


def test_field_types_validate_and_name_the_field() -> None:
    class Spec(BaseModel):
        every: Duration = 1.0
        item: Size = 0
        rate: Rate = 1.0

    spec = Spec.model_validate({"every": "250ms", "item": "1.5KB", "rate": "120/m"})
    assert (spec.every, spec.item, spec.rate) == (0.25, 1536, 2.0)
    with pytest.raises(ValidationError, match="rate"):
        Spec.model_validate({"rate": "lots"})
