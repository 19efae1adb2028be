"""A stand-in for the runner, for the chaos healing tests: runs a Timeline against an already
running emulator, with signal healing installed, and prints "active" once every scheduled
fault is applied. Exit 130 when interrupted (after healing), 0 when the schedule ran out.

usage: chaos_driver.py CONTROL_URL REPORT_DIR SCHEDULE_JSON [gevent]
With `gevent`, the process is monkey-patched first, as Locust's runner process is.
"""

from __future__ import annotations

import sys

if sys.argv[4:] == ["gevent"]:
    from gevent import monkey

    monkey.patch_all()

import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from chaos import ChaosSpec, expand  # noqa: E402
from chaos.injectors import build  # noqa: E402
from chaos.timeline import Timeline, install_signal_healing  # noqa: E402
from loadgen.conditions import ClientConditions  # noqa: E402

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def main() -> int:
    control_url, report_dir, schedule = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    spec = ChaosSpec.model_validate(schedule)
    faults = expand(spec, seed=1, regions=REGIONS, duration=3600)
    active: set[str] = set()
    lock = threading.Lock()

    def on_change(fault: str, target: str, on: bool) -> None:
        with lock:
            (active.add if on else active.discard)(f"{fault} {target}")
            if on and len(active) == len(faults):
                print("active", flush=True)

    injectors = build("endpoints", REGIONS, control_url=control_url, conditions=ClientConditions())
    timeline = Timeline(faults, injectors, report_dir, on_change=on_change)
    install_signal_healing(timeline)
    try:
        timeline.start()
        while not timeline.wait(timeout=0.1):
            pass
        # stopped by a signal: under gevent the interruption reaches this greenlet only after
        # the healing greenlet is done, so wait for it rather than exit 0 in between
        for _ in range(300):
            if not timeline.stopped:
                break
            time.sleep(0.1)
    except KeyboardInterrupt:
        return 130
    finally:
        timeline.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
