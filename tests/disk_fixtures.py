"""A small tmpfs for tests of what happens when the disk is full (ENOSPC) or read-only
(EROFS). Mounting needs root (or CAP_SYS_ADMIN): where it cannot mount, the test is skipped
with a message saying so. `small_disk` reaches every test through tests/conftest.py:

    def test_something(small_disk):
        report = small_disk.path / "report"
        ...
        small_disk.fill()          # no byte left
        small_disk.read_only()     # remount read-only
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class SmallDisk:
    path: Path

    def fill(self, leave: int = 0) -> None:
        """Write a filler file until the filesystem refuses (ENOSPC), then give `leave` bytes
        back (a page at least, when not 0): room for part of a write."""
        filler = self.path / "filler"
        with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 4096)
        if leave:
            os.truncate(filler, max(0, filler.stat().st_size - leave))

    def free(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.path))


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 2 MiB tmpfs at tmp_path/disk, unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    try:
        done = _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where))
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a small tmpfs to fill ({exc}): needs root or CAP_SYS_ADMIN")
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs to fill ({done.stderr.strip()}): needs root or "
            "CAP_SYS_ADMIN"
        )
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)
