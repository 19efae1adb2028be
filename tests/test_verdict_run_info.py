"""The report's header: what ran, from run.json and campaign.yaml, never guessed."""

from __future__ import annotations

import json
from pathlib import Path

from verdict.run_info import render_header, run_info


def test_the_header_names_version_seed_target_command_and_campaign(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(
        json.dumps({"hothot_version": "0.1.0", "command": "hothot run q.yaml --set seed=7"})
    )
    (tmp_path / "campaign.yaml").write_text(
        "name: q\nseed: 7\ntarget: {kind: emulator, regions: [a, b], table: hothot-q}\n"
    )
    run = run_info(tmp_path)
    assert run["seed"] == 7 and run["target"]["regions"] == ["a", "b"]
    page = render_header(run)
    assert "hothot 0.1.0 · seed 7 · target emulator (a, b) table hothot-q" in page
    assert "<code>hothot run q.yaml --set seed=7</code>" in page
    assert "<details><summary>The campaign as run</summary><pre>name: q" in page


def test_what_nobody_recorded_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("{torn")
    assert run_info(tmp_path) == {}
    assert render_header({}) == ""
