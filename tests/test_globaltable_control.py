"""The control API, /metrics and the `hothot emulate` command itself."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from globaltable.control import ControlError
from tests.globaltable_fixtures import launch

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"


@pytest.fixture(scope="module")
def emu() -> Any:
    running = launch("--replication-delay", "20ms", "--replication-jitter", "10ms")
    running.create_table("ctl", EAST)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _heal(emu: Any) -> Any:
    yield
    emu.control_client.heal_all()


def test_state_reflects_faults_and_heals(emu):
    cc = emu.control_client
    state = cc.state()
    assert state["regions"] == [EAST, WEST, EU] and state["mode"] == "eventual"
    assert state["links"][f"{EAST}->{WEST}"] == {
        "delay_s": 0.02,
        "jitter_s": 0.01,
        "paused": False,
        "backlog": 0,
    }
    skew = cc.apply({"fault": "clock_skew", "region": EU, "offset_s": 2.5})
    delay = cc.apply(
        {"fault": "replication_delay", "from": WEST, "to": EU, "delay_s": 3, "jitter_s": 0.5}
    )
    cc.apply({"fault": "partition", "regions": [EAST, EU], "one_way": True})
    cc.apply({"fault": "region_latency", "region": WEST, "latency_s": 0.05})
    state = cc.state()
    assert state["clocks"][EU] == pytest.approx(2.5)
    assert state["links"][f"{WEST}->{EU}"]["delay_s"] == 3
    assert (
        state["links"][f"{EAST}->{EU}"]["paused"] and not state["links"][f"{EU}->{EAST}"]["paused"]
    )
    assert state["latency"] == {WEST: 0.05}
    assert set(state["faults"]) == {skew, delay, *set(state["faults"]) - {skew, delay}}
    assert len(state["faults"]) == 4
    cc.heal(skew)
    assert cc.state()["clocks"][EU] == 0.0
    assert cc.state()["links"][f"{WEST}->{EU}"]["delay_s"] == 3  # healing one keeps the others
    cc.heal_all()
    state = cc.state()
    assert state["faults"] == {} and state["latency"] == {}
    assert not any(link["paused"] for link in state["links"].values())


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"fault": "meteor"}, "unknown fault"),
        ({"fault": "partition", "regions": [EAST]}, "regions"),
        ({"fault": "partition", "regions": [EAST, "mars-1"]}, "mars-1"),
        ({"fault": "partition", "regions": [EAST, EAST]}, "itself"),
        ({"fault": "clock_skew", "region": EAST}, "offset_s"),
        ({"fault": "clock_skew", "region": EAST, "offset_s": "soon"}, "offset_s"),
        ({"fault": "replication_delay", "from": EAST, "to": WEST, "delay_s": -1}, "delay_s"),
        ({"fault": "region_outage", "region": EAST, "extra": 1}, "extra"),
        ({"fault": "region_outage", "region": EAST, "label": 7}, "label"),
        ({"fault": "region_outage", "region": EAST, "label": ""}, "label"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_bad_fault_calls_are_400_with_a_clear_message(emu, body, needle):
    with pytest.raises(ControlError) as exc:
        emu.control_client.apply(body)
    assert exc.value.status == 400
    assert needle in str(exc.value)


def test_a_fault_keeps_the_label_it_was_applied_with(emu):
    """The applier's own name for a fault, so one that died before reading the id finds it."""
    cc = emu.control_client
    named = cc.apply({"fault": "region_latency", "region": EAST, "latency_s": 0.01,
                      "label": "f1-latency@run7"})  # fmt: skip
    plain = cc.apply({"fault": "region_latency", "region": WEST, "latency_s": 0.01})
    faults = cc.state()["faults"]
    assert (faults[named]["label"], faults[plain]["label"]) == ("f1-latency@run7", None)


def test_other_bad_control_calls(emu):
    cc = emu.control_client
    with pytest.raises(ControlError, match="no active fault") as exc:
        cc.heal("f999")
    assert exc.value.status == 400
    with pytest.raises(ControlError, match="no table"):
        cc.truth("nope")
    with pytest.raises(ControlError, match="timeout_s"):
        cc._call("POST", "/quiesce", {"timeout_s": "forever"})
    with pytest.raises(ControlError, match="no control call") as exc:
        cc._call("GET", "/bogus")
    assert exc.value.status == 404
    with pytest.raises(ControlError, match="not valid JSON"):
        request = urllib.request.Request(emu.control + "/faults", data=b"{oops", method="POST")
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as err:
            raise ControlError(err.read().decode(), err.code) from None


def test_region_outage_answers_503_and_stops_replication_both_ways(emu):
    cc = emu.control_client
    fid = cc.apply({"fault": "region_outage", "region": EU})
    with pytest.raises(ClientError) as exc:
        emu.client(EU).get_item(TableName="ctl", Key={"pk": {"S": "x"}})
    assert exc.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    emu.client(EAST).put_item(TableName="ctl", Item={"pk": {"S": "out"}})
    links = cc.state()["links"]
    assert links[f"{EAST}->{EU}"]["paused"] and links[f"{EU}->{WEST}"]["paused"]
    assert links[f"{EAST}->{EU}"]["backlog"] == 1
    cc.heal(fid)
    assert cc.quiesce(10)["converged"]
    assert emu.client(EU).get_item(TableName="ctl", Key={"pk": {"S": "out"}})["Item"]


def test_metrics_names_and_promtool(emu, tmp_path):
    emu.client(WEST).put_item(TableName="ctl", Item={"pk": {"S": "m"}})
    with pytest.raises(ClientError):
        emu.client(WEST).get_item(TableName="missing-table", Key={"pk": {"S": "m"}})
    emu.control_client.apply({"fault": "clock_skew", "region": EAST, "offset_s": -1.5})
    assert emu.control_client.quiesce(10)["converged"]
    text = emu.control_client.metrics()
    assert (
        'hothot_emulator_requests_total{operation="PutItem",region="us-west-2",status="200"}'
        in text
    )
    assert (
        'hothot_emulator_requests_total{operation="GetItem",region="us-west-2",status="400"}'
        in text
    )
    assert 'hothot_emulator_replication_backlog{source="us-west-2",target="eu-west-1"} 0.0' in text
    assert (
        'hothot_emulator_replication_apply_lag_seconds_count{source="us-west-2",target="us-east-1"}'
        in text
    )
    assert 'hothot_emulator_clock_offset_seconds{region="us-east-1"} -1.5' in text
    assert "hothot_emulator_lww_overwrites_total" in text
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed")
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_region_latency_delays_answers(emu):
    import time

    emu.control_client.apply({"fault": "region_latency", "region": WEST, "latency_s": 0.3})
    client = emu.client(WEST)
    start = time.monotonic()
    client.list_tables()
    assert time.monotonic() - start >= 0.3


def test_emulate_rejects_bad_options_and_stops_on_sigterm():
    bad = subprocess.run(
        [sys.executable, "-m", "hothot", "emulate", "--replication-delay", "soon"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "--replication-delay" in bad.stderr and "800ms" in bad.stderr
    emu = launch("--regions", "a-1,b-1")
    assert list(emu.regions) == ["a-1", "b-1"]
    emu.process.send_signal(signal.SIGTERM)
    assert emu.process.wait(timeout=10) == 0
