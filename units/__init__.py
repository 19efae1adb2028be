"""Units of the campaign file and the spellings every part shares: durations, sizes, rates
and replication links.

The leaf of the house (docs/architecture.md): it imports nothing of ours, so `chaos`,
`loadgen`, `verdict`, `globaltable` and `hothot` may all import it. DynamoDB item sizing is in
`units.items`, YAML with line positions in `units.yamlpos`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

#: what a duration may be written as (also the campaign JSON Schema's pattern)
DURATION_PATTERN = r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$"
_DURATION = re.compile(DURATION_PATTERN)
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


#: no duration of a campaign is longer (each field has its own, tighter bound)
MAX_DURATION_S = 366 * 24 * 3600.0
#: no rate of a campaign is higher (each field may have a tighter bound)
MAX_RATE_PER_S = 1_000_000.0


def parse_duration(value: Any) -> float:
    """'800ms' / '45s' / '2m' / '1h' / 1.5 -> seconds. Bare numbers are seconds. Finite and at
    most a year either way: more is a typo, and inf or nan breaks every comparison."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = _finite(value, "duration")
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = _finite(m.group(1), "duration") * _SECONDS[m.group(2)]
    if seconds is None:
        raise ValueError(f"expected a duration like 800ms, 45s or 2m, got {value!r}")
    if not abs(seconds) <= MAX_DURATION_S:
        raise ValueError(f"duration {_shown(value)} is beyond a year")
    return seconds


def _finite(value: Any, what: str) -> float:
    """float(value), refusing inf, nan and integers too large for a float."""
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits
        number = float("inf")
    if not -float("inf") < number < float("inf"):
        raise ValueError(f"{what} {_shown(value)} is not a finite number")
    return number


def _shown(value: Any) -> str:
    """A value as messages quote it: a long one (a 400-digit number) cut short."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def format_duration(seconds: float) -> str:
    if seconds != 0 and abs(seconds) < 1:
        return f"{round(seconds * 1000, 3):g}ms"
    return f"{round(seconds, 3):g}s"


def show_duration(seconds: float) -> str:
    """A duration as a report shows it: ms below a second, s above, three significant
    digits (177ms, 1.25ms, 10.9s), so columns of them read alike. `format_duration` keeps
    full precision for campaign files."""
    if seconds != 0 and abs(seconds) < 1:
        return f"{seconds * 1000:.3g}ms"
    return f"{seconds:.3g}s" if abs(seconds) < 1000 else f"{seconds:,.0f}s"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 fault`, `2 faults`, `0 keys`: the count and the word agreeing with it."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def show_percent(fraction: float, digits: int = 4) -> str:
    """A rate as a report shows it, in percent with up to `digits` significant digits:
    0.16052 -> 16.05%, 0.001 -> 0.1%, 0 -> 0%."""
    return f"{fraction * 100:.{digits}g}%"


#: what a size may be written as, any case (also the campaign JSON Schema's pattern)
SIZE_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*([Bb]|[KkMm][Bb]|[KkMm][Ii][Bb])?\s*$"
_SIZE = re.compile(SIZE_PATTERN)
_BYTES = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024 * 1024, "mib": 1024 * 1024, None: 1}


def parse_size(value: Any) -> int:
    """'1KB' / '0.5KB' / '700B' / 700 -> bytes. 1 KB = 1,024 bytes, as DynamoDB counts."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 700B or 1.5KB, got {value!r}")
    if isinstance(value, int | float):
        return int(_finite(value, "size"))
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            unit = m.group(2).lower() if m.group(2) else None
            return int(round(_finite(m.group(1), "size") * _BYTES[unit]))
    raise ValueError(f"expected a size like 700B or 1.5KB, got {value!r}")


#: what a rate may be written as: events per second, minute or hour (also the JSON Schema's)
RATE_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|m|h))?\s*$"
_RATE = re.compile(RATE_PATTERN)


def parse_rate(value: Any) -> float:
    """'200/s' / '600/m' / '50/h' / 200 -> events per second. Bare numbers are per second;
    a negative rate is refused here, its bounds are the field's business."""
    rate: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        rate = _finite(value, "rate")
        if rate < 0:
            raise ValueError(f"a rate cannot be negative, got {value!r}")
    elif isinstance(value, str):
        m = _RATE.match(value)
        if m:
            rate = _finite(m.group(1), "rate") / _SECONDS[m.group(2) or "s"]
    if rate is None:
        raise ValueError(f"expected a rate like 200/s or 600/m, got {value!r}")
    if rate > MAX_RATE_PER_S:
        raise ValueError(f"rate {_shown(value)} is above {MAX_RATE_PER_S:,.0f}/s")
    return rate


def format_rate(per_second: float) -> str:
    return f"{round(per_second, 3):g}/s"


#: pydantic field types: accept "800ms" or a number of seconds, store float seconds
Duration = Annotated[float, BeforeValidator(parse_duration)]
#: accept "1.5KB" or a number of bytes, store int bytes
Size = Annotated[int, BeforeValidator(parse_size)]
#: accept "200/s" or a number per second, store float events per second
Rate = Annotated[float, BeforeValidator(parse_rate)]


def link_name(source: str, target: str) -> str:
    """The one spelling of a replication link everywhere: verdict.json, budgets, metrics."""
    return f"{source}->{target}"
