"""Lag probes measure a 500 ms link black-box, also under a 2 s clock skew; failover and the
table checks against the real emulator."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loadgen.client import Boto3Client
from loadgen.conditions import ClientConditions
from loadgen.dynamo import DynamoStore
from loadgen.probes import LagProbes
from loadgen.recorder import RecordIds
from loadgen.recording import RecordingClient
from loadgen.table import TableUnusable, check_table, create_table
from tests.globaltable_fixtures import RunningEmulator, launch
from verdict.history import Op

TABLE = "hothot-probes"


@pytest.fixture(scope="module")
def slow_link() -> Iterator[RunningEmulator]:
    emu = launch("--replication-delay", "500ms", "--replication-jitter", "0ms")
    client = Boto3Client("us-east-1", emu.regions["us-east-1"])
    create_table(client, TABLE, emu.regions["us-east-1"])
    yield emu
    emu.stop()


def _client_for(emu: RunningEmulator) -> Any:
    return lambda region: DynamoStore(
        Boto3Client(region, emu.regions[region], timeout_s=5.0), TABLE
    )


def _p50_by_link(records: list[dict[str, Any]], kind: str) -> dict[str, float]:
    lags: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if r["probe"] == kind:
            lags[f"{r['region']}->{r['target']}"].append(r["lag"])
    return {link: statistics.median(values) for link, values in lags.items()}


def wait_until(done: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g}s"
        time.sleep(0.05)


def _observed(records: list[dict[str, Any]], writes: int = 6, per_link: int = 5) -> bool:
    """The 6 sampled writes seen in both other regions, and `per_link` heartbeats on each of
    the 6 links."""
    kinds = Counter((r["probe"], r["region"], r["target"]) for r in list(records))
    beats = [n for (kind, _, _), n in kinds.items() if kind == "heartbeat"]
    sampled = sum(n for (kind, _, _), n in kinds.items() if kind == "sample")
    return sampled >= 2 * writes and len(beats) == 6 and min(beats) >= per_link


def round_trip(emu: RunningEmulator) -> float:
    """The slowest region's median GetItem time, now: what a probe's poll adds at most."""
    medians = []
    for region in emu.regions:
        client = Boto3Client(region, emu.regions[region])
        times = []
        for _ in range(5):
            began = time.monotonic()
            client.call("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "rtt"}}})
            times.append(time.monotonic() - began)
        medians.append(statistics.median(times))
    return max(medians)


@pytest.mark.slow
def test_probes_measure_the_link_delay_with_and_without_clock_skew(
    slow_link: RunningEmulator,
) -> None:
    regions = list(slow_link.regions)
    conditions = ClientConditions()
    records: list[dict[str, Any]] = []
    ids = RecordIds("p0")
    probes = LagProbes(regions, _client_for(slow_link), ids, records.append, conditions, sample=1.0)
    writer = RecordingClient(
        home=regions[0],
        table=TABLE,
        ids=ids,
        sink=probes.offer,
        conditions=conditions,
        client_for=_client_for(slow_link),
    )
    probes.start()
    try:
        for phase in ("plain", "skewed"):
            if phase == "skewed":
                slow_link.control_client.apply(
                    {"fault": "clock_skew", "region": regions[2], "offset_s": 2.0}
                )
                conditions.set_clock(regions[2], 2.0)
            del records[:]
            for i in range(6):
                rec = writer.record("profile", f"profile#{i}", Op.PUT)
                writer.send(
                    rec, "PutItem", {"Item": {"pk": {"S": rec["key"]}, "hh_vid": {"S": rec["id"]}}}
                )
                time.sleep(0.2)
            # every sampled write seen in both other regions, every link's heartbeats observed
            wait_until(lambda: _observed(records), f"{phase}: all probes observed")
            seen = list(records)
            # 500 ms, give or take a poll's round trip on each side and a 200 ms margin (the
            # skew would be 2 s off); the polls' own period (<= 50 ms) is inside the margin
            low, high = 0.5 - 0.2, 0.5 + 0.2 + 2 * round_trip(slow_link)
            heartbeats = _p50_by_link(seen, "heartbeat")
            assert len(heartbeats) == 6, f"{phase}: links observed {sorted(heartbeats)}"
            for link, p50 in heartbeats.items():
                assert low <= p50 <= high, f"{phase}: heartbeat p50 on {link} = {p50:.3f}s"
            samples = _p50_by_link(seen, "sample")
            assert len(samples) == 2, f"{phase}: sampled links {sorted(samples)}"
            for link, p50 in samples.items():
                assert low <= p50 <= high, f"{phase}: sampled p50 on {link} = {p50:.3f}s"
    finally:
        probes.stop()
        slow_link.control_client.heal_all()
    assert all(r["op"] == "probe" and r["id"].startswith("p0:") for r in records)


@pytest.mark.parametrize(("policy", "expected"), [("us-west-2", "us-west-2"), (None, None)])
def test_failover_moves_writes_while_the_home_region_is_down(
    slow_link: RunningEmulator, policy: str | None, expected: str | None
) -> None:
    conditions = ClientConditions()
    records: list[dict[str, Any]] = []
    calls = RecordingClient(
        home="us-east-1",
        table=TABLE,
        ids=RecordIds("f0"),
        sink=records.append,
        conditions=conditions,
        client_for=_client_for(slow_link),
        failover_to=policy,
    )

    def put() -> dict[str, Any]:
        rec = calls.record("home_region", "home_region#0", Op.PUT)
        calls.send(rec, "PutItem", {"Item": {"pk": {"S": rec["key"]}, "hh_vid": {"S": rec["id"]}}})
        return dict(rec)

    conditions.set_outage("us-east-1", True)
    first, second = put(), put()
    assert (first["outcome"], first["error"], first["region"]) == (
        "fail",
        "ClientFault:outage",
        "us-east-1",
    )
    if expected is None:
        assert (second["outcome"], second["region"]) == ("fail", "us-east-1")
    else:
        assert (second["outcome"], second["region"]) == ("ok", expected)
    conditions.set_outage("us-east-1", False)


def test_table_checks_name_the_table_and_the_endpoint(slow_link: RunningEmulator) -> None:
    url = slow_link.regions["eu-west-1"]
    client = Boto3Client("eu-west-1", url)
    with pytest.raises(TableUnusable) as info:
        check_table(client, "hothot-missing", url)
    assert "hothot-missing" in str(info.value) and url in str(info.value)
    assert create_table(client, "hothot-made", url) is True
    assert create_table(client, "hothot-made", url) is False
    check_table(client, "hothot-made", url)
    dead = Boto3Client("eu-west-1", "http://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(TableUnusable, match="cannot reach"):
        check_table(dead, "hothot-made", "http://127.0.0.1:9")


@pytest.mark.slow
def test_heartbeats_held_by_a_partition_show_its_length(slow_link: RunningEmulator) -> None:
    """A 2 s partition holds the link's heartbeats; after the heal the ones written first
    arrive ~2 s late, and the probes must report that, not just the newest heartbeat's lag."""
    regions = list(slow_link.regions)
    records: list[dict[str, Any]] = []
    probes = LagProbes(
        regions, _client_for(slow_link), RecordIds("p1"), records.append,
        ClientConditions(), interval=0.1,
    )  # fmt: skip
    probes.start()
    try:
        time.sleep(1.5)
        fault = slow_link.control_client.apply({"fault": "partition", "regions": regions[:2]})
        time.sleep(2.0)
        slow_link.control_client.heal(fault)
        time.sleep(1.5)
    finally:
        probes.stop()
    held = [r["lag"] for r in records if r["region"] == regions[0] and r["target"] == regions[1]]
    free = [r["lag"] for r in records if r["region"] == regions[0] and r["target"] == regions[2]]
    assert max(held) >= 2.0  # 2 s held + the 500 ms link
    assert max(free) < 1.2
    assert len(held) >= 0.8 * len(free)  # every held heartbeat is observed, not just the last


def test_finished_sample_pollers_are_not_kept(slow_link: RunningEmulator) -> None:
    """A soak samples ~7 writes a second: each poller's thread used to stay in a list for the
    whole run (the runner grew ~3 MiB a minute)."""
    regions = list(slow_link.regions)
    records: list[dict[str, Any]] = []
    ids = RecordIds("p2")
    conditions = ClientConditions()
    probes = LagProbes(regions, _client_for(slow_link), ids, records.append, conditions, sample=1.0)
    writer = RecordingClient(
        home=regions[0], table=TABLE, ids=ids, sink=probes.offer, conditions=conditions,
        client_for=_client_for(slow_link),
    )  # fmt: skip
    probes.start()
    try:
        heartbeats = probes.running()
        assert heartbeats == 3 + 6  # a writer per region, an observer per link
        for i in range(12):
            rec = writer.record("profile", f"poll#{i}", Op.PUT)
            writer.send(
                rec, "PutItem", {"Item": {"pk": {"S": rec["key"]}, "hh_vid": {"S": rec["id"]}}}
            )
        assert probes.running() > heartbeats
        sampled = lambda: sum(r["probe"] == "sample" for r in list(records)) >= 2 * 12  # noqa: E731
        wait_until(sampled, "every sampled write seen in both other regions")
        wait_until(lambda: probes.running() == heartbeats, "the pollers gone", timeout=5.0)
    finally:
        probes.stop()
