"""Under CI every tool the suite relies on is present, so no test can pass CI by skipping.

Some tests skip where a binary is missing (prometheus, promtool, chromium, docker-compose) or
the native history reader was not compiled: right on a laptop, wrong in CI, where a skip would
hide that those tests never ran. `.ci/run` exports CI=true and installs the Debian packages
listed here; with CI set, anything missing fails here by name.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from pgtarget.clusters import ClusterError, find_binaries
from verdict import native_reader

TESTS = Path(__file__).resolve().parent
CI_RUN = TESTS.parent / ".ci" / "run"
#: (binary, its Debian package); `.ci/run` installs the package when the binary is missing
BINARIES = [
    ("prometheus", "prometheus"),
    ("promtool", "prometheus"),  # shipped in Debian's prometheus package
    ("chromium", "chromium"),
    ("docker-compose", "docker-compose"),
    ("cc", "gcc"),  # builds verdict._scan at `pip install`
    ("unshare", "util-linux"),  # the aws rehearsal's loopback-only network namespace
    ("ip", "iproute2"),  # brings its loopback up
]
#: names a test may look up instead of the listed one
ALIASES = {"chromium-browser": "chromium"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_tools() -> list[str]:
    missing = [f"{b} (Debian {pkg})" for b, pkg in BINARIES if shutil.which(b) is None]
    if native_reader._scan is None:
        missing.append("verdict._scan (not compiled: no C compiler at `pip install`)")
    try:  # the pglogical tests start real clusters (tests/pg_fixtures.py skips without them)
        find_binaries()
    except ClusterError as exc:
        missing.append(str(exc))
    return missing


def test_every_tool_the_suite_relies_on_is_installed_in_ci() -> None:
    missing = missing_tools()
    if missing and not in_ci():
        pytest.skip(f"not CI; tests that need these skip: {', '.join(missing)}")
    assert not missing, f"CI lacks {', '.join(missing)}: their tests would only skip"


def test_every_binary_a_test_looks_up_is_guarded() -> None:
    """A binary newly looked up by a test must be listed above (and installed by .ci/run)."""
    listed = {b for b, _ in BINARIES}
    looked_up = set()
    for path in TESTS.glob("*.py"):
        looked_up |= set(re.findall(r"""which\(\s*["']([^"']+)["']""", path.read_text()))
    assert looked_up, "the scan found no shutil.which lookups: is the pattern stale?"
    unguarded = {ALIASES.get(name, name) for name in looked_up} - listed
    assert not unguarded, f"tests look up {sorted(unguarded)}: add them to BINARIES"


def test_ci_run_sets_ci_and_installs_every_listed_package() -> None:
    script = CI_RUN.read_text()
    assert re.search(r"^export CI=true\b", script, re.MULTILINE), ".ci/run must export CI=true"
    for binary, package in BINARIES:
        assert f"{binary}:{package}" in script, f".ci/run does not install {package} for {binary}"
