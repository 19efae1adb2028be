"""Locust's log lines, said once in hothot's own words.

Locust logs through the standard `logging` module; with no handler configured, Python's
last-resort handler printed its warnings raw in the middle of hothot's progress ("CPU usage
above 90%! This may constrain your throughput..."), once per occurrence. While a run is on,
`folded_locust_logs(note)` takes over the `locust` logger: what matters is handed to `note`
(the runner's own `note:` lines, which the report keeps too) once per kind, the rest goes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

#: Locust message fragment -> what it means for a hothot run (None: say nothing)
KNOWN: tuple[tuple[str, str | None], ...] = (
    (
        "CPU usage above",
        "the load machine's CPU went above 90 % (Locust): the rig may be what limits the "
        "load it delivers and the latencies it measures; spread the load with --workers N",
    ),
    ("CPU usage was too high", None),  # Locust's end-of-run repeat of the above
    (
        "CPU usage threshold was exceeded on workers",
        "a worker machine's CPU went above 90 % (Locust): the rig may limit the load",
    ),
)


class FoldingHandler(logging.Handler):
    """Hands each kind of Locust warning to `note` once; other warnings once per text."""

    def __init__(self, note: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.note = note
        self.said: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        said = next((meaning for fragment, meaning in KNOWN if fragment in text), text)
        if said is None or said in self.said:
            return
        self.said.add(said)
        self.note(said if said != text else f"Locust: {text.splitlines()[0][:200]}")


@contextlib.contextmanager
def folded_locust_logs(note: Callable[[str], None]) -> Iterator[FoldingHandler]:
    """For the duration: Locust's warnings go to `note`, folded; nothing else of it shows."""
    logger = logging.getLogger("locust")
    handler = FoldingHandler(note)
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
