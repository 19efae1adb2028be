"""scripts/flakes.py counts failed runs of each module, and says so in its exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_failing_run_is_counted_and_fails_the_script(tmp_path: Path) -> None:
    (tmp_path / "test_passes.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "test_fails.py").write_text("def test_no():\n    assert False\n")
    modules = [str(tmp_path / "test_passes.py"), str(tmp_path / "test_fails.py")]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "flakes.py"), "--runs", "1", "--burners", "1",
         "--log-dir", str(tmp_path / "logs"), *modules],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "flakes: 1 of 2 module runs under 1 CPU burners" in done.stdout
    assert [p.name for p in (tmp_path / "logs").iterdir()] == ["test_fails-run1.log"]
    assert "assert False" in (tmp_path / "logs" / "test_fails-run1.log").read_text()
