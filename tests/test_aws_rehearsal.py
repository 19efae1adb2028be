"""The rehearsal of `target: aws` (tests/rehearse_aws.py) in a network namespace with only
loopback (`unshare -n`, as root): whatever hothot does, no connection can leave this machine.
The inner tests fail if any other interface exists; this one fails if the namespace cannot be
made (CI runs as root), so the rehearsal can never turn into a silent skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_aws_rehearsal_passes_with_only_loopback() -> None:
    assert shutil.which("unshare") and shutil.which("ip"), "the rehearsal needs unshare and ip"
    inner = (
        "ip link set lo up && exec "
        f"{sys.executable} -m pytest -q -o addopts= -p no:cacheprovider tests/rehearse_aws.py"
    )
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", inner],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-2000:]
