"""What ran: the report's header (hothot version, seed, target, command line, the campaign).

`hothot run` writes `run.json` (version, command line) beside `campaign.yaml` (the campaign as
run). A report directory from before `run.json` existed, or one put together by hand, still
gets a header from what is there; a figure nobody recorded is left out, never guessed.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import yaml

from verdict.report_dir import CAMPAIGN_FILE, RUN_FILE

#: the campaign text kept in verdict.json at most (a huge random-chaos schedule is cut)
MAX_CAMPAIGN_CHARS = 20_000


def run_info(report_dir: Path) -> dict[str, Any]:
    """{hothot_version, command, seed, target, campaign} as far as the directory says."""
    out: dict[str, Any] = {}
    path = report_dir / RUN_FILE
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        if isinstance(recorded, dict):
            out |= {k: recorded[k] for k in ("hothot_version", "command") if k in recorded}
    path = report_dir / CAMPAIGN_FILE
    if path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        out["campaign"] = text[:MAX_CAMPAIGN_CHARS]
        try:
            campaign = yaml.safe_load(text)
        except yaml.YAMLError:
            campaign = None
        if isinstance(campaign, dict):
            if "seed" in campaign:
                out["seed"] = campaign["seed"]
            target = campaign.get("target")
            if isinstance(target, dict):
                out["target"] = {k: target[k] for k in ("kind", "regions", "table") if k in target}
    return out


def render_header(run: dict[str, Any]) -> str:
    """One line of facts, the command line, and the campaign as run (collapsed)."""
    facts = []
    if "hothot_version" in run:
        facts.append(f"hothot {run['hothot_version']}")
    if "seed" in run:
        facts.append(f"seed {run['seed']}")
    target = run.get("target") or {}
    if target:
        regions = ", ".join(map(str, target.get("regions", [])))
        facts.append(
            f"target {target.get('kind', '?')} ({regions}) table {target.get('table', '?')}"
        )
    out = f'<p class="muted">{html.escape(" · ".join(facts))}</p>' if facts else ""
    if run.get("command"):
        out += f"<p><code>{html.escape(str(run['command']))}</code></p>"
    if run.get("campaign"):
        out += (
            "<details><summary>The campaign as run</summary>"
            f"<pre>{html.escape(str(run['campaign']))}</pre></details>"
        )
    return out
