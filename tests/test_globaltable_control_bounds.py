"""Every control-API value is bounded and an empty fault id is refused (issue 16, case 2);
a delay fault's heal re-times what it queued; /quiesce never says converged while regions
differ; an optional shared token guards the control API (case 7)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from globaltable import faults as bounds
from globaltable.control import ControlClient, ControlError
from globaltable.engine import GlobalTable
from globaltable.store import Entry
from tests.globaltable_fixtures import launch

EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"


@pytest.fixture(scope="module")
def emu() -> Any:
    running = launch("--replication-delay", "10ms", "--replication-jitter", "0ms")
    running.create_table("bounds", EAST)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _heal(request: pytest.FixtureRequest) -> Any:
    yield
    if "emu" in request.fixturenames:
        request.getfixturevalue("emu").control_client.heal_all()


DELAY = {"fault": "replication_delay", "from": EAST, "to": WEST, "delay_s": 1.0}
SKEW = {"fault": "clock_skew", "region": EU, "offset_s": 1.0}
LATENCY = {"fault": "region_latency", "region": WEST, "latency_s": 0.1}


@pytest.mark.parametrize(
    ("body", "field", "allowed"),
    [
        (DELAY | {"delay_s": "inf"}, "delay_s", "0..3600"),
        (DELAY | {"delay_s": 1e308}, "delay_s", "0..3600"),
        (DELAY | {"delay_s": 1e9}, "delay_s", "0..3600"),
        (DELAY | {"jitter_s": "Infinity"}, "jitter_s", "0..3600"),
        (DELAY | {"jitter_s": 3601}, "jitter_s", "0..3600"),
        (SKEW | {"strobe_period_s": 1e-320}, "strobe_period_s", "at least 0.001"),
        (SKEW | {"strobe_period_s": 86401}, "strobe_period_s", "0..86400"),
        (SKEW | {"offset_s": "nan"}, "offset_s", "-86400..86400"),
        (SKEW | {"offset_s": "-inf"}, "offset_s", "-86400..86400"),
        (SKEW | {"offset_s": 1e12}, "offset_s", "-86400..86400"),
        (SKEW | {"drift_ppm": 1e308}, "drift_ppm", "-1e+06..1e+06"),
        (LATENCY | {"latency_s": 1e6}, "latency_s", "0..600"),
        (LATENCY | {"latency_s": "inf"}, "latency_s", "0..600"),
    ],
)
def test_out_of_range_fault_is_refused_naming_field_and_range(emu, body, field, allowed):
    with pytest.raises(ControlError) as caught:
        emu.control_client.apply(body)
    assert caught.value.status == 400
    assert f"{field}:" in str(caught.value) and allowed in str(caught.value), caught.value
    assert emu.control_client.state()["faults"] == {}


def test_bounds_hold_at_their_maxima(emu):
    """The documented maxima themselves are accepted (bounds are inclusive)."""
    cc = emu.control_client
    cc.apply(DELAY | {"delay_s": bounds.MAX_DELAY_S, "jitter_s": bounds.MAX_DELAY_S})
    cc.apply(
        SKEW
        | {
            "offset_s": -bounds.MAX_OFFSET_S,
            "drift_ppm": bounds.MAX_DRIFT_PPM,
            "strobe_period_s": bounds.MIN_STROBE_S,
        }
    )
    cc.apply(LATENCY | {"latency_s": bounds.MAX_LATENCY_S})
    state = cc.state()  # the strobing clock and huge drift still compute
    assert len(state["faults"]) == 3 and isinstance(state["clocks"][EU], float)


def test_writes_and_state_survive_a_fast_strobe(emu):
    cc = emu.control_client
    cc.apply(SKEW | {"strobe_period_s": bounds.MIN_STROBE_S, "drift_ppm": 1000})
    emu.client(EU).put_item(TableName="bounds", Item={"pk": {"S": "strobe"}})
    assert cc.state()["faults"]


@pytest.mark.parametrize("path", ["/faults/", "/faults//", "/faults///"])
def test_delete_with_an_empty_fault_id_heals_nothing(emu, path):
    cc = emu.control_client
    fault = cc.apply(DELAY)
    request = urllib.request.Request(emu.control + path, method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    assert "empty" in json.loads(caught.value.read())["error"]
    assert list(cc.state()["faults"]) == [fault]


def test_heal_of_a_long_delay_retimes_what_it_queued(emu):
    """Images queued under a 1 h delay are due at most one (new) delay after the heal; before,
    they kept their due time and the link stayed unconverged for the hour."""
    cc = emu.control_client
    fault = cc.apply(DELAY | {"delay_s": bounds.MAX_DELAY_S})
    east = emu.client(EAST)
    for n in range(20):
        east.put_item(TableName="bounds", Item={"pk": {"S": f"held{n}"}, "n": {"N": str(n)}})
    assert cc.quiesce(0.3)["converged"] is False
    cc.heal(fault)
    assert cc.quiesce(5)["converged"] is True
    west = emu.client(WEST)
    assert west.get_item(TableName="bounds", Key={"pk": {"S": "held19"}})["Item"]["n"] == {
        "N": "19"
    }


def test_retime_keeps_per_item_order():
    """Two images of one item, the later one due earlier after re-timing, arrive in order."""
    gt = GlobalTable([EAST, WEST], delay_s=0.0, jitter_s=0.0)
    link = gt.links[(EAST, WEST)]
    link.delay_s = 100.0
    now = time.monotonic()
    first, second = Entry(b"1", 1, 1.0, EAST, "v1"), Entry(b"2", 1, 2.0, EAST, "v2")
    link.push(("t", "k"), first, now)
    link.delay_s = 50.0
    link.push(("t", "k"), second, now)  # per-item FIFO: queued behind `first`
    link.delay_s = 0.0
    link.retime(now)
    assert [entry for _, entry, _ in link.take_due(now + 0.01)] == [first, second]


def test_quiesce_never_says_converged_while_regions_differ():
    """Nothing queued, yet one region lacks a version (an image lost to a bug): converged is
    false and the answer names the key."""
    gt = GlobalTable([EAST, WEST], delay_s=0.0, jitter_s=0.0)
    from globaltable import tableops

    tableops.create_table(
        gt,
        EAST,
        {
            "TableName": "div",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    table = gt.tables["div"]
    table.replicas[EAST].put("lost", Entry(b'{"pk":{"S":"lost"}}', 10, 1.0, EAST, None))
    answer = asyncio.run(gt.quiesce(1.0))
    assert answer["converged"] is False
    assert answer["divergent_keys"] == 1 and answer["examples"] == ["div: lost"]
    table.replicas[WEST].put("lost", table.replicas[EAST].get("lost"))
    assert asyncio.run(gt.quiesce(1.0))["converged"] is True


# -- the shared token ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded() -> Any:
    running = launch(env={**os.environ, "HOTHOT_CONTROL_TOKEN": "s3cret-token"})
    yield running
    running.stop()


def test_control_calls_need_the_token(guarded):
    anonymous = ControlClient(guarded.control, token="")
    wrong = ControlClient(guarded.control, token="guess")
    for client in (anonymous, wrong):
        for call in (client.state, client.heal_all, lambda c=client: c.truth("t")):
            with pytest.raises(ControlError) as caught:
                call()
            assert caught.value.status == 401 and "HOTHOT_CONTROL_TOKEN" in str(caught.value)
        with pytest.raises(ControlError):
            client.apply({"fault": "region_outage", "region": EAST})
    right = ControlClient(guarded.control, token="s3cret-token")
    fault = right.apply({"fault": "region_outage", "region": EAST})
    assert list(right.state()["faults"]) == [fault]
    right.heal(fault)


def test_health_and_metrics_stay_open(guarded):
    """Liveness checks and Prometheus scrapes need no token (aggregate counters only)."""
    anonymous = ControlClient(guarded.control, token="")
    assert "hothot_emulator_requests_total" in anonymous.metrics()
    with urllib.request.urlopen(guarded.control + "/health", timeout=10) as answer:
        assert json.loads(answer.read()) == {"ok": True}


def test_token_is_taken_from_the_environment(guarded, monkeypatch):
    monkeypatch.setenv("HOTHOT_CONTROL_TOKEN", "s3cret-token")
    assert ControlClient(guarded.control).state()["faults"] == {}


def test_non_loopback_host_without_token_is_refused_before_binding():
    """192.0.2.1 (TEST-NET-1) is on no interface: were the refusal missing, binding would fail
    too, but with another message, and nothing is ever exposed."""
    env = {k: v for k, v in os.environ.items() if k != "HOTHOT_CONTROL_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "hothot", "emulate", "--host", "192.0.2.1", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""  # never served: no banner
    assert "HOTHOT_CONTROL_TOKEN" in done.stderr and "192.0.2.1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--replication-delay", "2h"), ("--replication-jitter", "3601s"),
     ("--replication-delay", "-1s"), ("--ttl-sweep-interval", "25h")],
)  # fmt: skip
def test_emulate_options_keep_the_control_apis_bounds(option, value):
    """Before, `--replication-delay 2h` served a link that /quiesce could not drain for hours
    (the control API refuses more than an hour)."""
    done = subprocess.run(
        [sys.executable, "-m", "hothot", "emulate", "--port", "0", "--control-port", "0",
         f"{option}={value}"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert option in done.stderr and "outside 0.." in done.stderr, done.stderr


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/x", "gopher://h", "", "http://"])
def test_control_client_takes_only_http_urls(url):
    with pytest.raises(ControlError, match="http"):
        ControlClient(url)
