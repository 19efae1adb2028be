"""A new user's mistakes on the command line: each names the culprit, not a bystander."""

from __future__ import annotations

import io
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
