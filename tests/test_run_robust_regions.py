"""An `endpoints` target with a control URL whose emulator does not serve the campaign's regions
(or serves them at other URLs) is refused before any load: no history, no fault, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.run_fixtures import campaign, hothot, write_campaign


def _run(tmp_path: Path, emu: Any, regions: list[str], endpoints: dict[str, str]) -> Any:
    data = campaign(
        "regions",
        duration="5s",
        target={
            "kind": "endpoints",
            "regions": regions,
            "table": "hothot-regions",
            "endpoints": endpoints,
            "control": emu.control,
        },
        chaos=[{"at": "0s", "for": "4s", "fault": "region_outage", "region": regions[-1]}],
    )
    report = tmp_path / "report"
    done = hothot("run", str(write_campaign(tmp_path, data)), "--report-dir", str(report))
    return done, report


def _nothing_happened(emu: Any, report: Path) -> None:
    assert not (report / "history").exists()
    assert not (report / "chaos.jsonl").exists()
    assert emu.control_client.state()["faults"] == {}


def test_region_the_emulator_lacks_is_refused(emulator: Any, tmp_path: Path) -> None:  # noqa: F811
    url = emulator.regions["eu-west-1"]
    endpoints = {**emulator.regions, "ap-south-1": url}
    del endpoints["eu-west-1"]
    done, report = _run(tmp_path, emulator, ["us-east-1", "us-west-2", "ap-south-1"], endpoints)
    assert done.returncode == 2, done.stderr[-3000:]
    err = " ".join(done.stderr.split())
    assert "target unusable" in err
    assert f"region ap-south-1 (endpoint {url}) is not a region of the emulator" in err
    assert "serves us-east-1, us-west-2, eu-west-1" in err
    _nothing_happened(emulator, report)
    # refused before the table was touched
    assert emulator.control_client.state()["tables"] == []


def test_urls_swapped_between_regions_are_refused(emulator: Any, tmp_path: Path) -> None:  # noqa: F811
    endpoints = dict(emulator.regions)
    endpoints["us-east-1"], endpoints["us-west-2"] = endpoints["us-west-2"], endpoints["us-east-1"]
    done, report = _run(tmp_path, emulator, ["us-east-1", "us-west-2", "eu-west-1"], endpoints)
    assert done.returncode == 2, done.stderr[-3000:]
    err = " ".join(done.stderr.split())
    assert f"region us-east-1: endpoint {endpoints['us-east-1']} serves region us-west-2" in err, (
        err
    )
    _nothing_happened(emulator, report)
