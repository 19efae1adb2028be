"""Suite-wide settings, and every part's fixtures.

Each part's fixtures live in tests/<part>_fixtures.py and reach every test module through
`pytest_plugins` below: a test names a fixture as a parameter and imports only plain helpers
(classes, functions, constants), never a fixture and never another test module
(tests/test_imports.py checks both).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = [
    "tests.globaltable_fixtures",  # emulator, fast_emu, east_ddb, east_table, start_emulator
    "tests.chaos_fixtures",  # chaos_emulator, clean_emulator, stubbed_fis
    "tests.verdict_fixtures",  # history
    "tests.disk_fixtures",  # small_disk
]

# A shared 2-core machine: timing-based health checks and deadlines only add flakiness.
settings.register_profile(
    "hothot", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
# In CI (`CI=true`, as .ci/run sets) every property test draws the same examples on every run,
# so CI's verdict on a commit does not depend on the day's luck; runs elsewhere draw fresh ones,
# and what they find is pinned with @example (CONTRIBUTING.md).
settings.register_profile("hothot-ci", parent=settings.get_profile("hothot"), derandomize=True)
settings.load_profile("hothot-ci" if os.environ.get("CI") == "true" else "hothot")
