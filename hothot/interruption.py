"""Ctrl-C and SIGTERM during a run: counted, never raised, so the run stops in order.

The first signal asks for an orderly stop (users stopped, faults healed, history flushed,
verdict written, marked partial); the second skips the waits (quiesce, final reads).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Interruption:
    """Ctrl-C / SIGTERM: the first asks for an orderly stop, the second skips the waits."""

    count: int = 0
    signals: list[str] = field(default_factory=list)
    _previous: dict[int, Any] = field(default_factory=dict)

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.count += 1
        self.signals.append(signal.Signals(signum).name)

    @property
    def asked(self) -> bool:
        return self.count > 0

    @property
    def hurried(self) -> bool:
        return self.count > 1
