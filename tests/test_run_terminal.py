"""`hothot run` as users see it: at a real terminal (a pseudo-terminal 80 columns wide), and
with its output redirected (`hothot run … > out.txt`)."""

from __future__ import annotations

from pathlib import Path

from tests.run_fixtures import campaign, hothot, hothot_in_pty, write_campaign

WHY = "Strict on purpose: this campaign exits 1."
#: conflicts are certain on 20 hot keys written from three regions
STRICT = [{"metric": "conflict_rate", "max": 0}, {"metric": "divergent_keys", "max": 0}]


def test_at_a_terminal_80_columns_wide(tmp_path: Path) -> None:
    data = campaign("tty", duration="3s", budgets=STRICT, description=WHY)
    data["workloads"].append({"kind": "split_attributes", "weight": 1, "keys": 20})
    path = write_campaign(tmp_path, data)
    code, screen = hothot_in_pty("run", str(path), "--report-dir", str(tmp_path / "r"))
    assert code == 1, screen[-3000:]
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    header = [line for line in lines if "ops/s" in line and "errors/s" in line]
    assert header, screen[-3000:]  # the live table's column headers
    assert header[-1].split() == ["region", "ops/s", "errors/s", "ops", "errors"]
    # the verdict fits: nothing cut to "…", the longest workload name whole
    summary = lines[max(i for i, line in enumerate(lines) if "active faults" in line) :]
    assert not [line for line in summary if "…" in line], summary
    # every line up to the verdict's own (its report path and the exit line stay whole)
    end = next(i for i, line in enumerate(summary) if line.startswith(("FAILED", "PASSED")))
    assert max(len(line) for line in summary[:end]) <= 80, summary
    assert any(line.split()[:2] == ["workload", "writes"] for line in summary), summary
    assert any(line.split()[0] == "split_attributes" for line in summary), summary
    # the last line: the exit code, why, and the campaign's own word on it
    assert lines[-1].startswith("exit 1: 1 of 2 budgets failed: conflict_rate "), lines[-3:]
    assert lines[-1].endswith(f"> 0%. {WHY}") or WHY in " ".join(lines[-3:]), lines[-3:]


def test_the_verdict_goes_to_stdout_and_progress_to_stderr(tmp_path: Path) -> None:
    data = campaign("piped", duration="3s", budgets=STRICT)
    path = write_campaign(tmp_path, data)
    proc = hothot("run", str(path), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 1, proc.stderr[-3000:]
    out = proc.stdout
    assert "Budgets" in out and "conflict_rate" in out and "Workloads" in out
    assert out.rstrip().splitlines()[-1].startswith("exit 1: 1 of 2 budgets failed")
    assert "piped" in proc.stderr and "faults" in proc.stderr  # progress lines
    assert "Budgets" not in proc.stderr
