"""`faults.state`: the faults applied right now, with what undoes them (docs/chaos.md).

It must never claim less than what is applied (a fault missing from it would outlive a
SIGKILLed run unseen) and should not claim more (`hothot heal` would act on a healed fault).
On a full or read-only disk the atomic rewrite fails; what is written then is still true:

- a shorter list (after a heal) is written over the old file in place, which needs no new
  disk blocks (the file only shrinks; compact when the old file was, written by hand or by
  another tool);
- an empty list that cannot be written removes the file (no file means nothing is applied);
- a longer list (after an apply) that cannot be written raises `StateFileError`: the caller
  must undo that apply, since nothing would record it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import orjson

STATE_FILE = "faults.state"


class StateFileError(OSError):
    """faults.state could not be brought up to date; the message says what to do."""


def write_state(report_dir: Path, entries: list[dict[str, Any]]) -> None:
    """Make `report_dir/faults.state` hold `entries` (see the module's rules)."""
    path = Path(report_dir) / STATE_FILE
    data = orjson.dumps(entries, option=orjson.OPT_INDENT_2)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return
    except OSError as first:
        _remove(tmp)
        # a file written by hand or another tool may be compact: without indentation the
        # shorter list still fits where the old one was
        if _shrink_in_place(path, data) or _shrink_in_place(path, orjson.dumps(entries)):
            return
        if not entries:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
                return
        if _holds(path, data):  # a read-only disk, and nothing to change
            return
        error = StateFileError(
            f"{path} could not be rewritten ({first.strerror or first}); it may not match what "
            "is applied: heal with `hothot heal` once the disk is writable, or check the "
            "control API's GET /state"
        )
        error.errno = first.errno
        raise error from first


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _shrink_in_place(path: Path, data: bytes) -> bool:
    """Overwrite the file with `data` if that does not grow it (no new blocks needed)."""
    try:
        if not path.is_file() or path.stat().st_size < len(data):
            return False
        with path.open("r+b") as out:
            out.write(data)
            out.truncate(len(data))
            out.flush()
            os.fsync(out.fileno())
        return True
    except OSError:
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
