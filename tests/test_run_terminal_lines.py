"""hothot's own lines: `--version`, and Locust's warnings folded into `note:` lines."""

from __future__ import annotations

import importlib.metadata
import logging

import pytest

from hothot.locust_logs import folded_locust_logs
from tests.run_fixtures import hothot

CPU = (
    "CPU usage above 90%! This may constrain your throughput and may even give inconsistent "
    "response time measurements! See https://docs.locust.io/en/stable/running-distributed.html"
)


def test_version_says_the_installed_version() -> None:
    proc = hothot("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"hothot {importlib.metadata.version('hothot')}"
    assert "--version" in hothot("--help").stdout


def test_locust_cpu_warnings_become_one_note_and_nothing_raw(
    capsys: pytest.CaptureFixture[str],
) -> None:
    notes: list[str] = []
    runners = logging.getLogger("locust.runners")  # where Locust's CPU monitor logs
    with folded_locust_logs(notes.append):
        for _ in range(3):
            runners.warning(CPU)
        runners.warning("CPU usage was too high at some point during the test! See ...")
        runners.info("Ramping to 24 users at a rate of 1.00 per second")
        logging.getLogger("locust.main").error("Unknown thing happened\nwith a traceback")
    assert notes == [
        "the load machine's CPU went above 90 % (Locust): the rig may be what limits the load "
        "it delivers and the latencies it measures; spread the load with --workers N",
        "Locust: Unknown thing happened",
    ]
    err = capsys.readouterr().err
    assert "CPU usage" not in err and "Ramping" not in err
    # afterwards Locust's logger is as it was
    assert logging.getLogger("locust").propagate is True
