"""The runner keeps `/metrics` up until Prometheus has taken the run's final figures twice."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable

from loadgen.metrics import LiveMetrics


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return answer.read().decode()


def wait_until(done: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"no {what} within {timeout:g}s"
        time.sleep(0.02)


def test_the_last_scrape_sees_the_final_figures() -> None:
    live = LiveMetrics("scraped")
    port = live.serve(0)
    seen: list[str] = []  # one answer per scrape, in order: seen[i] is collection i
    stop = threading.Event()

    def prometheus() -> None:  # a scraper every 0.2 s, as Prometheus would
        while not stop.is_set():
            seen.append(scrape(port))
            stop.wait(0.2)

    scraper = threading.Thread(target=prometheus, daemon=True)
    scraper.start()
    try:
        wait_until(lambda: len(seen) >= 2, "two scrapes")
        live.budgets([("lost_update_rate", 0.25, 0.0)])  # set as the run ends
        before = len(seen)
        assert live.last_scrape() is True
        # last_scrape returns once the server collected; the scraper stores the answer later
        waited_for = live.scrapes.count
        wait_until(lambda: len(seen) >= waited_for, "stored answer of the awaited scrape")
        final = 'hothot_budget_observed{budget="lost_update_rate",campaign="scraped",state="final"}'
        # held for two scrapes: a rule evaluated between any two of them sees the verdict
        assert len(seen) - before >= 2
        assert all(f"{final} 0.25" in text for text in seen[waited_for - 2 : waited_for])
    finally:
        stop.set()
        scraper.join(timeout=5)
        live.close()


def test_a_scrape_is_noted_before_any_metric_is_read() -> None:
    """A scrape in progress while the final figures are set must not count as the one that
    took them: the clock is collected first, so every figure of a noted scrape is read
    after the moment it was noted."""
    live = LiveMetrics("order")
    live.budgets([("lost_update_rate", 0.25, 0.0)])
    read_before_noted = 0
    for _family in live.registry.collect():
        if not live.scrapes.times:
            read_before_noted += 1
    assert live.scrapes.times and read_before_noted == 0


def test_nothing_scraping_or_not_serving_means_no_wait() -> None:
    live = LiveMetrics("alone")
    assert live.last_scrape() is False  # not serving
    live.serve(0)
    try:
        assert live.last_scrape() is False  # serving, but no scraper ever came
    finally:
        live.close()


def test_a_soak_keeps_only_the_newest_scrape_times() -> None:
    """Prometheus scrapes a soak for hours: the clock keeps what `wait_for_next` reads."""
    live = LiveMetrics("soak")
    port = live.serve(0)
    try:
        for _ in range(3 * live.scrapes.KEEP):
            scrape(port)
        assert live.scrapes.count == 3 * live.scrapes.KEEP
        assert len(live.scrapes.times) == live.scrapes.KEEP
        assert live.scrapes.times == sorted(live.scrapes.times)
    finally:
        live.close()
