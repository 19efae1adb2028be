"""Suite-wide settings. Each part's fixtures live in tests/<part>_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.verdict_fixtures import HistoryBuilder

# A shared 2-core machine: timing-based health checks and deadlines only add flakiness.
settings.register_profile(
    "hothot", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("hothot")


@pytest.fixture
def history(tmp_path: Path) -> HistoryBuilder:
    """A report directory to build by hand (tests/verdict_fixtures.py)."""
    return HistoryBuilder(tmp_path / "report")
