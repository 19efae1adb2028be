"""The runner keeps `/metrics` up until Prometheus has taken the run's final figures twice."""

from __future__ import annotations

import threading
import time
import urllib.request

from loadgen.metrics import LiveMetrics


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return answer.read().decode()


def test_the_last_scrape_sees_the_final_figures() -> None:
    live = LiveMetrics("scraped")
    port = live.serve(0)
    seen: list[str] = []
    stop = threading.Event()

    def prometheus() -> None:  # a scraper every 0.2 s, as Prometheus would
        while not stop.is_set():
            seen.append(scrape(port))
            stop.wait(0.2)

    scraper = threading.Thread(target=prometheus, daemon=True)
    scraper.start()
    try:
        while len(seen) < 2:
            time.sleep(0.05)
        live.budgets([("lost_update_rate", 0.25, 0.0)])  # set as the run ends
        before = len(seen)
        assert live.last_scrape() is True
        final = 'hothot_budget_observed{budget="lost_update_rate",campaign="scraped",state="final"}'
        # held for two scrapes: a rule evaluated between any two of them sees the verdict
        assert len(seen) - before >= 2
        assert all(f"{final} 0.25" in text for text in seen[-2:])
    finally:
        stop.set()
        scraper.join(timeout=5)
        live.close()


def test_nothing_scraping_or_not_serving_means_no_wait() -> None:
    live = LiveMetrics("alone")
    assert live.last_scrape() is False  # not serving
    live.serve(0)
    try:
        assert live.last_scrape() is False  # serving, but no scraper ever came
    finally:
        live.close()
