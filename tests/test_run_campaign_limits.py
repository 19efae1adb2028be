"""Campaign files from anyone (issue 16, case 4): a size limit, an alias-expansion limit,
undecodable or absurdly nested files, duplicate keys, absurd counts and report paths leaving
the working directory are each refused with one clear line and exit 2, never a traceback."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hothot.campaign import CampaignError, load_campaign
from loadgen.spec import MAX_KEYS, MAX_USERS_PER_REGION, MAX_ZIPF_KEYS
from tests.run_fixtures import campaign, hothot, write_campaign
from units import parse_duration, parse_rate, parse_size
from units.yamlpos import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

VALID = "name: x\nduration: 10s\nworkloads: [{kind: profile, keys: 10}]\n"

LAUGHS = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(9)
)


def _problems(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(CampaignError) as caught:
        load_campaign(path, overrides)
    return "\n".join(caught.value.problems)


def _write(tmp_path: Path, content: str | bytes, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "not UTF-8 text"),
        (b"name: x\nduration: \xff\xfe10s\n", ":2: not UTF-8 text (byte 0xff"),
        (b"name: x\x00\n", "not a text file: character #x0000"),
        ("[" * 100_000, f"nested deeper than {MAX_DEPTH} levels"),
        ("a:\n" + "".join("  " * i + f"b{i}:\n" for i in range(1, 200)), "nested deeper"),
        (LAUGHS + VALID, f"more than {MAX_NODES:,} values once aliases are expanded"),
        ("a: &a [1, *a]\n" + VALID, "alias *a is inside its own anchor"),
        ("{{{{{{{{{{{\n", "not valid YAML"),
        ("---\n" + VALID + "---\n" + VALID, "not valid YAML"),
        ("x: !!python/object/apply:os.system [echo]\n" + VALID, "not valid YAML"),
    ],
    ids=[
        "binary",
        "bad-utf8",
        "nul",
        "100k-brackets",
        "deep-block",
        "billion-laughs",
        "recursive-alias",
        "unclosed",
        "two-documents",
        "python-tag",
    ],
)
def test_unusable_file_is_one_line(tmp_path: Path, content: str | bytes, needle: str) -> None:
    path = _write(tmp_path, content)
    problems = _problems(path)
    assert needle in problems, problems
    assert problems.startswith(str(path)) and "\n" not in problems, problems


def test_file_above_the_size_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID + "#" * MAX_FILE_BYTES + "\n")
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in _problems(path)


def test_billion_laughs_is_refused_quickly_and_small(tmp_path: Path) -> None:
    """`hothot validate` took 5 GB and 60 s on this before; now one line, exit 2, at once."""
    path = _write(tmp_path, LAUGHS + VALID)
    started = time.monotonic()
    done = hothot("validate", str(path), timeout=60, preexec_fn=_at_most_1_5_gib)
    assert time.monotonic() - started < 30
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and "aliases are expanded" in done.stderr
    assert "Traceback" not in done.stderr


def _at_most_1_5_gib() -> None:
    """The child's address space: far from the gigabytes of the expanded document."""
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**29, 3 * 2**29))


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x01binary", "[" * 100_000])
def test_validate_exits_2_without_traceback(tmp_path: Path, content: str | bytes) -> None:
    done = hothot("validate", str(_write(tmp_path, content)))
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_moderate_aliases_still_work(tmp_path: Path) -> None:
    """Anchors and merge keys are YAML a campaign may use: only expansion is bounded."""
    text = (
        "common: &w {kind: profile, keys: 10}\n"
        "name: x\nduration: 10s\n"
        "workloads: [{<<: *w, name: a}, {<<: *w, name: b}]\n"
    )
    data = yaml.safe_load(text)
    del data["common"]
    path = write_campaign(tmp_path, data)
    assert [w.name for w in load_campaign(path).workloads] == ["a", "b"]


def test_duplicate_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "name: x\nduration: 10s\nname: y\n"
        "workloads:\n  - {kind: profile, keys: 5, keys: 6}\nwriters:\n  per_region: 2\n"
        "  per_region: 3\n",
    )
    problems = _problems(path).splitlines()
    assert problems == [
        f"{path}:3: name: key 'name' is given twice in one mapping (first at line 1); "
        "YAML would keep only the last",
        f"{path}:5: workloads[0].keys: key 'keys' is given twice in one mapping (first at "
        "line 5); YAML would keep only the last",
        f"{path}:8: writers.per_region: key 'per_region' is given twice in one mapping "
        "(first at line 7); YAML would keep only the last",
    ]


def _with(tmp_path: Path, **fields: Any) -> Path:
    return write_campaign(tmp_path, campaign(**fields))


@pytest.mark.parametrize(
    ("fields", "where", "needle"),
    [
        (
            {"writers": {"per_region": 10**23}},
            "writers.per_region",
            f"less than or equal to {MAX_USERS_PER_REGION}",
        ),
        (
            {"workloads": [{"kind": "profile", "keys": 10**38 - 1}]},
            "workloads[0].keys",
            f"less than or equal to {MAX_KEYS}",
        ),
        (
            {"workloads": [{"kind": "profile", "keys": MAX_ZIPF_KEYS + 1, "key_distribution": "zipf"}]},
            "workloads[0]",
            f"more than {MAX_ZIPF_KEYS:,}",
        ),
        ({"workloads": [{"kind": "profile", "item_size": "1MB"}]}, "item_size", "409600"),
        ({"writers": {"spawn_rate": 1e300}}, "writers.spawn_rate", "less than or equal"),
        ({"writers": {"retries": 10**6}}, "writers.retries", "less than or equal to 10"),
        ({"writers": {"timeout": "10h"}}, "writers.timeout", "less than or equal to 600"),
        ({"duration": 10**400}, "duration", "not a finite number"),
        ({"duration": float("nan")}, "duration", "not a finite number"),
        ({"duration": "9000h"}, "duration", "beyond a year"),
        ({"seed": 10**30}, "seed", "less than or equal"),
        ({"observe": {"probe_interval": 1e-300}}, "observe.probe_interval", "greater than"),
        ({"verdict": {"examples": 10**12}}, "verdict.examples", "less than or equal"),
        (
            {"budgets": [{"metric": "conflict_rate", "max": float("nan")}]},
            "budgets[0].max",
            "finite",
        ),
        (
            {"target": {"replication": {"delay": "2h"}}},
            "target.replication.delay",
            "less than or equal to 600",
        ),
        (
            {
                "chaos": [
                    {"at": "1s", "for": "2s", "fault": "clock_skew", "region": "us-east-1",
                     "offset": "1s", "strobe": 1e-320}
                ]
            },
            "chaos[0].strobe",
            "within 1ms..24h",
        ),
        (
            {
                "chaos": [
                    {"at": "1s", "for": "2s", "fault": "clock_skew", "region": "us-east-1",
                     "offset": "1s", "drift_ppm": float("nan")}
                ]
            },
            "chaos[0].drift_ppm",
            "exceeds",
        ),
    ],
)  # fmt: skip
def test_absurd_values_are_refused_with_their_maximum(
    tmp_path: Path, fields: dict[str, Any], where: str, needle: str
) -> None:
    problems = _problems(_with(tmp_path, **fields))
    assert where in problems and needle in problems, problems


@pytest.mark.parametrize(
    "directory", ["../../../../etc/cron.d", "/etc/hothot", "reports/../../x", "a/../../b"]
)
def test_report_dir_outside_the_working_directory_is_refused(
    tmp_path: Path, directory: str
) -> None:
    problems = _problems(_with(tmp_path, report={"dir": directory}))
    assert "report.dir" in problems and "--report-dir" in problems, problems


def test_report_dir_inside_is_fine(tmp_path: Path) -> None:
    assert load_campaign(_with(tmp_path, report={"dir": "out/reports"})).report.dir == (
        "out/reports"
    )


def test_set_values_are_bounded_like_files(tmp_path: Path) -> None:
    path = _with(tmp_path)
    levels = ["&l0 [1,1,1,1,1,1,1,1,1]"] + [
        f"&l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)
    ]
    problems = _problems(path, [f"target.regions=[{', '.join(levels)}]"])
    assert problems.startswith("--set target.regions:") and "aliases are expanded" in problems
    deep = "[" * 10_000
    assert "nested deeper" in _problems(path, [f"seed={deep}"])


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (parse_duration, float("inf")),
        (parse_duration, "9" * 400 + "s"),
        (parse_size, float("nan")),
        (parse_size, 10**400),
        (parse_rate, float("inf")),
        (parse_rate, 10**400),
        (parse_rate, "2000000/s"),
    ],
)
def test_units_are_finite(parse: Any, value: Any) -> None:
    with pytest.raises(ValueError, match=r"not a finite number|beyond|above"):
        parse(value)
