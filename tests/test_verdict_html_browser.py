"""report.html in headless Chromium at a desktop width (1400 px) and a phone's (390 px): nothing
runs past the page's edge, nothing logs an error, and a screenshot is taken at each width
(kept under the test's tmp directory, and in $HOTHOT_SCREENSHOTS when set, to look at)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.verdict_fixtures import CHROMIUM, HistoryBuilder, eventful
from verdict.analyze import analyze
from verdict.spec import BudgetSpec

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)"),
]
#: what the probe reports: the frame's layout width, elements past its right edge that no
#: scrolling box holds, every error or console.error of the page, and how far the budget
#: table scrolls (its PASS/FAIL column must show without scrolling, on a phone too)
PROBE = """<script>
window.__errors=[];window.addEventListener('error',e=>__errors.push(String(e.message)));
const _ce=console.error;console.error=(...a)=>{__errors.push(a.join(' '));_ce(...a)};
window.addEventListener('load',()=>{const w=document.documentElement.clientWidth;const wide=[];
for(const el of document.body.querySelectorAll('*')){const r=el.getBoundingClientRect();
if(r.right<=w+1)continue;let p=el.parentElement,held=false;
while(p){const x=getComputedStyle(p).overflowX;if(x==='auto'||x==='scroll'){held=true;break}
p=p.parentElement}if(!held)wide.push(el.tagName+'.'+el.className+' '+Math.round(r.right))}
const b=document.querySelector('table.budgets');
parent.postMessage(JSON.stringify({width:w,scroll:document.documentElement.scrollWidth,
wide:wide.slice(0,20),errors:__errors,budgets_scroll:b.scrollWidth-b.clientWidth}),'*')});
</script>"""
#: a frame exactly as wide as the device (headless windows have a minimum width)
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="{src}" style="width:{width}px;height:20000px;border:0"></iframe>
<pre id="out"></pre><script>addEventListener('message',e=>{{
document.getElementById('out').textContent=e.data}})</script></body></html>"""
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"  # a fresh one each time
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", *args],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip


@pytest.mark.parametrize("width", [1400, 390])
def test_the_report_fits_the_screen_without_errors(
    history: HistoryBuilder, tmp_path: Path, width: int
) -> None:
    report = eventful(history)
    budgets = [BudgetSpec(metric="lost_updates", max=0)]
    budgets.append(BudgetSpec(metric="lost_update_rate", max=0, workload="profile"))
    analyze(report, budgets)
    html = (report / "report.html").read_text()
    probed = report / "probed.html"
    probed.write_text(html.replace("<head>", "<head>" + PROBE, 1))
    frame = report / "frame.html"
    frame.write_text(FRAME.format(src=probed.name, width=width))
    proc = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", frame.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="out">([^<]+)</pre>', proc.stdout)
    assert found, "the probe did not report"
    page = json.loads(found.group(1).replace("&quot;", '"'))
    assert page["width"] == width
    assert page["wide"] == [] and page["scroll"] <= width, page
    assert page["errors"] == []
    assert page["budgets_scroll"] <= 1, page
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    shot = tmp_path / f"report-{width}.png"
    proc = chromium(tmp_path, f"--window-size={width},2400", f"--screenshot={shot}",
                    (report / "report.html").as_uri())  # fmt: skip
    assert proc.returncode == 0 and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    keep = os.environ.get("HOTHOT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
