"""Healing on Ctrl-C, SIGTERM and interpreter exit, for a `Timeline` (chaos.timeline)."""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaos.timeline import Timeline


def install_signal_healing(timeline: Timeline, exit_code: int = 130) -> Callable[[], None]:
    """Heal on SIGINT/SIGTERM and at interpreter exit. After healing, a signal goes on to the
    handler that was installed before (Python's Ctrl-C handler raises KeyboardInterrupt);
    where there was none, SystemExit(exit_code). Returns a function that undoes this.
    Signal handlers can only be set from the main thread; elsewhere only atexit is used."""
    atexit.register(timeline.stop)
    previous: dict[int, Any] = {}

    def interrupt(signum: int, frame: FrameType | None) -> None:
        before = previous.get(signum)
        if callable(before):
            before(signum, frame)
            return
        raise SystemExit(exit_code)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        hub = _gevent_hub_unless_main()
        if hub is None:
            timeline.stop()
            interrupt(signum, frame)
            return

        # Under gevent the handler runs in whichever greenlet is current: the event loop,
        # where nothing may block, or a user's greenlet, which an exception would merely
        # kill. Heal from a greenlet of our own, then interrupt the main greenlet.
        def heal_then_interrupt() -> None:
            timeline.stop()
            try:
                interrupt(signum, frame)
            except BaseException as exc:
                hub.handle_system_error(type(exc), exc)

        sys.modules["gevent"].spawn(heal_then_interrupt)

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)

    def uninstall() -> None:
        atexit.unregister(timeline.stop)
        for signum, before in previous.items():
            signal.signal(signum, before)

    return uninstall


def _gevent_hub_unless_main() -> Any:
    """gevent's hub in a monkey-patched process (Locust's) when a greenlet other than the
    main one is running, else None. gevent is looked up, never imported."""
    gevent = sys.modules.get("gevent")
    if gevent is None or not gevent.monkey.is_module_patched("threading"):
        return None
    hub = gevent.get_hub()
    return None if gevent.getcurrent() is hub.parent else hub
