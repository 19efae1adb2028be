"""Suite-wide settings. Each part's fixtures live in tests/<part>_fixtures.py."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# A shared 2-core machine: timing-based health checks and deadlines only add flakiness.
settings.register_profile(
    "hothot", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("hothot")
