"""A new user's mistakes on the command line: each names the culprit, not a bystander."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from hothot.cli import main
from tests.run_fixtures import campaign, write_campaign


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("duration=abc", "--set duration=abc: duration:"),
        ("duraton=5s", "--set duraton=5s: duraton:"),
        ("writers.per_region=x", "--set writers.per_region=x: writers.per_region:"),
    ],
)
def test_bad_set_override_names_the_override_not_the_file_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str, named: str
) -> None:
    """The file's line holds the value the override replaced: pointing there misleads."""
    path = write_campaign(tmp_path, campaign())
    assert main(["validate", str(path), "--set", override]) == 2
    err = capsys.readouterr().err
    assert named in err, err
    assert f"{path}:" not in err, err
    assert "Value error" not in err, err  # pydantic's wrapper says nothing to the user


def test_bad_set_of_a_list_entrys_field_names_the_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = campaign(budgets=[{"metric": "replication_lag_p99", "max": "3s"}])
    path = write_campaign(tmp_path, data)
    assert main(["validate", str(path), "--set", "budgets.0.max=fast"]) == 2
    err = capsys.readouterr().err
    assert "--set budgets.0.max=fast: budgets[0].max: expected a duration" in err, err
    assert f"{path}:" not in err, err


def test_bad_set_inside_a_list_entry_names_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The override made the entry as a whole wrong (a filter its metric does not take)."""
    data = campaign(budgets=[{"metric": "replication_lag_p99", "max": "3s"}])
    path = write_campaign(tmp_path, data)
    override = "budgets.0.workload=profile"
    assert main(["validate", str(path), "--set", override]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and f"(with --set {override})" in err, err
    assert "cannot be filtered by workload" in err, err


def test_file_errors_still_name_file_and_line_beside_an_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = campaign()
    data["writers"]["clinet"] = "fast"
    path = write_campaign(tmp_path, data)
    assert main(["validate", str(path), "--set", "duration=20s"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "writers.clinet" in err and "--set" not in err, err


def test_run_output_in_a_log_keeps_lines_whole(tmp_path: Path) -> None:
    """Under CI (stderr not a terminal) rich wrapped the run's header and the cost line at 80
    columns, splitting `… 3 \\nfaults → <report dir>` across lines."""
    from hothot.campaign import load_campaign
    from hothot.runner import CampaignRun

    c = load_campaign(write_campaign(tmp_path, campaign()))
    run = CampaignRun(c, report_dir=tmp_path / "report")
    assert not run.console.is_terminal  # pytest captures stderr
    run.console.file = out = io.StringIO()
    run.console.print("x" * 150 + " " + str(tmp_path / "report"))
    assert out.getvalue().count("\n") == 1, out.getvalue()


def test_master_bind_alone_is_refused_not_ignored(tmp_path: Path) -> None:
    """Without --workers/--expect-workers the run has no master: the address used to be
    dropped silently and the run went single-process."""
    path = write_campaign(tmp_path, campaign())
    # a subprocess: importing the run command gevent-patches the process that does it
    done = subprocess.run(
        [sys.executable, "-m", "hothot", "run", str(path), "--master-bind", "127.0.0.1:6000"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--master-bind: only a distributed run has a master" in done.stderr, done.stderr
    assert not list(tmp_path.glob("reports/*")), "nothing may run"


def test_validate_counts_workloads_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = campaign()
    data["workloads"] = data["workloads"][:1]
    assert main(["validate", str(write_campaign(tmp_path, data))]) == 0
    assert ", 1 workload\n" in capsys.readouterr().out


def test_set_accepts_the_bracket_paths_errors_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Errors say `budgets[0].max`; a user pasting that into --set meant budgets.0.max."""
    data = campaign(budgets=[{"metric": "replication_lag_p99", "max": "3s"}])
    path = write_campaign(tmp_path, data)
    assert main(["validate", str(path), "--set", "budgets[0].max=5s"]) == 0
    assert main(["validate", str(path), "--set", "budgets[0].max=fast"]) == 2
    assert "--set budgets[0].max=fast: budgets[0].max" in capsys.readouterr().err
