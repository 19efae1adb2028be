"""`hothot run` at a real terminal (a pseudo-terminal 80 columns wide)."""

from __future__ import annotations

from pathlib import Path

from tests.run_fixtures import campaign, hothot_in_pty, write_campaign


def test_the_live_table_shows_its_column_headers_at_80_columns(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, campaign("tty", duration="3s"))
    code, screen = hothot_in_pty("run", str(path), "--report-dir", str(tmp_path / "r"))
    assert code == 0, screen[-3000:]
    header = [line for line in screen.splitlines() if "ops/s" in line and "errors/s" in line]
    assert header, screen[-3000:]
    assert header[-1].split() == ["region", "ops/s", "errors/s", "ops", "errors"]
