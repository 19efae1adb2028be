"""The progress view's per-region error count (`RegionStats.count` and the distributed
workers' batches both use `counts_as_error`): failed requests, not condition rejections.
Imports nothing of Locust, so the pytest process stays unpatched by gevent."""

from __future__ import annotations

from loadgen.recording import counts_as_error


def test_condition_rejections_are_not_progress_errors() -> None:
    """client_lww and guarded writes are built to be refused by their condition: counting
    those as errors made a healthy run look like a failing target."""
    records = [
        {"region": "r1", "outcome": "ok"},
        {"region": "r1", "outcome": "fail", "error": "ConditionalCheckFailedException"},
        {"region": "r1", "outcome": "fail", "error": "ProvisionedThroughputExceededException"},
        {"region": "r1", "outcome": "unknown", "error": "ReadTimeout"},
    ]
    assert [counts_as_error(r) for r in records] == [False, False, True, True]  # type: ignore[arg-type]
