"""A stand-in for the runner, for the chaos healing tests: runs a Timeline against an already
running emulator, with signal healing installed, and prints "active" once every scheduled
fault is applied. Exit 130 when interrupted (after healing), 0 when the schedule ran out.

usage: chaos_driver.py CONTROL_URL REPORT_DIR SCHEDULE_JSON
"""

from __future__ import annotations

import json
import sys
import threading

from chaos import ChaosSpec, expand
from chaos.injectors import build
from chaos.timeline import Timeline, install_signal_healing
from loadgen.conditions import ClientConditions

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
    except KeyboardInterrupt:
        return 130
    finally:
        timeline.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
