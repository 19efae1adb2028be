"""Writing the report directory. A write it refuses (full disk, read-only, no permission)
becomes one `ReportUnwritable`, which ends a run with exit 2 and one line once its faults
are healed: never exit 1, which says a budget was exceeded, and never a traceback (issue 16).
"""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path


class ReportUnwritable(Exception):
    """The report directory refused a write; `str()` is the line to print."""


def unwritable(report_dir: Path | str, what: OSError | str) -> ReportUnwritable:
    """`what`: the refused write's OSError, or a writer's own account of it."""
    if isinstance(what, OSError):
        where = f"{what.filename}: " if what.filename else ""
        what = f"{where}{what.strerror or what}"
    return ReportUnwritable(
        f"the report directory {report_dir} cannot be written ({what}); faults were healed "
        "and the history is incomplete, so there is no verdict: free space or pick another "
        "--report-dir, and run again"
    )


def write_report_file(path: Path, data: bytes) -> None:
    """Write one report file whole, or remove what was written of it and raise
    ReportUnwritable (a truncated campaign.yaml or truth.json must not pass for the real one)."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        raise unwritable(path.parent, OSError(exc.errno, exc.strerror, str(path))) from None


#: errors that leave a file cut short
TRUNCATING = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def drop_verdict(report_dir: Path, exc: OSError) -> None:
    """After the disk ran out of room while the verdict was written, remove its files: a
    report directory holds the whole verdict or none of it, never a truncated verdict.json
    (other errors, a read refused, leave an earlier verdict alone)."""
    from verdict.analyze import JUNIT_FILE, REPORT_FILE, VERDICT_FILE

    if exc.errno not in TRUNCATING:
        return
    for name in (VERDICT_FILE, JUNIT_FILE, REPORT_FILE):
        with contextlib.suppress(OSError):
            (report_dir / name).unlink(missing_ok=True)
