"""Loadgen pieces that need no server: specs, clocks and client faults, keys, seeds, failover."""

from __future__ import annotations

import random
import time

import pytest
from pydantic import ValidationError

from loadgen.conditions import ClientConditions, ClientFault
from loadgen.failover import failover_target, nearest
from loadgen.plan import LoadPlan, user_rng
from loadgen.spec import ObserveSpec, WorkloadSpec, WritersSpec
from loadgen.workloads import KeyChooser, Workload, build_workloads, resolve
from loadgen.workloads.items import Profile

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


class Custom(Profile):
    """A user's own workload, resolved by dotted path in the tests below."""


def test_spec_units_and_defaults() -> None:
    w = WritersSpec.model_validate({"per_region": 2, "timeout": "800ms", "think_time": "1s"})
    assert (w.timeout, w.think_time, w.retries, w.failover) == (0.8, 1.0, 0, "none")
    assert ObserveSpec.model_validate({"probe_interval": "50ms"}).probe_interval == 0.05
    spec = WorkloadSpec.model_validate({"kind": "counter", "item_size": "1KB", "increment": 3})
    assert (spec.name, spec.item_size, spec.options["increment"]) == ("counter", 1024, 3)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"kind": "profle"}, "unknown workload kind 'profle'"),
        ({"kind": "counter", "incremnt": 2}, "incremnt"),
        ({"kind": "split_attributes", "attributes": []}, "attributes"),
        ({"kind": "profile", "key_distribution": "pareto"}, "key_distribution"),
        ({"kind": "no.such.Module"}, "cannot import"),
        ({"kind": "random.Random"}, "not a subclass"),
        ({"kind": "profile", "name": "a#b"}, "may not contain '#'"),
    ],
)
def test_bad_workload_specs_name_the_problem(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        WorkloadSpec.model_validate(data)
    assert fragment in str(info.value)


def test_writers_reject_unknown_fields_and_bad_failover() -> None:
    with pytest.raises(ValidationError, match="per_regoin"):
        WritersSpec.model_validate({"per_regoin": 3})
    with pytest.raises(ValidationError, match="failover"):
        WritersSpec.model_validate({"failover": "us east"})


def test_user_class_by_dotted_path() -> None:
    assert resolve(f"{__name__}.Custom") is Custom
    assert resolve(f"{__name__}:Custom") is Custom
    spec = WorkloadSpec.model_validate({"kind": f"{__name__}.Custom"})
    assert spec.name == "Custom"
    assert WorkloadSpec.model_validate({"kind": f"{__name__}:Custom"}).name == "Custom"
    assert isinstance(build_workloads([spec], REGIONS)["Custom"], Workload)


def test_plan_rejects_a_failover_region_outside_the_campaign() -> None:
    with pytest.raises(ValueError, match="ap-south-1"):
        LoadPlan(
            regions=REGIONS,
            endpoints=dict.fromkeys(REGIONS),
            table="t",
            seed=1,
            writers=WritersSpec(failover="ap-south-1"),
            workloads=[WorkloadSpec(kind="profile")],
        )


def test_clock_offset_drift_and_strobe() -> None:
    c = ClientConditions()
    c.set_clock("eu-west-1", 2.0)
    assert c.now("eu-west-1") - c.now("us-east-1") == pytest.approx(2.0, abs=0.5)
    c.set_clock("eu-west-1", 0.0, drift_ppm=1e6)  # one extra second per second
    t0 = c.now("eu-west-1") - time.time()
    time.sleep(0.05)
    assert c.now("eu-west-1") - time.time() > t0
    c.set_clock("eu-west-1", 5.0, strobe_period_s=0.2)
    offsets = set()
    for _ in range(30):
        offsets.add(round(c.now("eu-west-1") - time.time()))
        time.sleep(0.02)
    assert offsets == {0, 5}
    c.clear_clock("eu-west-1")
    assert c.now("eu-west-1") == pytest.approx(time.time(), abs=0.5)  # 5 s skew gone


def test_outage_and_partition_refuse_calls_client_side() -> None:
    c = ClientConditions()
    c.set_outage("us-east-1", True)
    with pytest.raises(ClientFault) as info:
        c.check("us-east-1")
    assert info.value.code == "ClientFault:outage"
    c.set_outage("us-east-1", False)
    c.check("us-east-1")
    c.set_partition(["us-east-1", "eu-west-1"], True)
    c.check("eu-west-1", "eu-west-1")  # a region's own writers still reach it
    with pytest.raises(ClientFault, match="partition"):
        c.check("eu-west-1", "us-east-1")
    c.set_partition(["us-east-1", "eu-west-1"], False)
    c.check("eu-west-1", "us-east-1")
    with pytest.raises(ValueError, match="two distinct"):
        c.set_partition(["us-east-1"], True)


def test_nearest_failover_follows_the_distance_table() -> None:
    assert nearest("us-east-1", REGIONS) == "us-west-2"
    assert nearest("eu-west-1", REGIONS) == "us-east-1"
    assert nearest("r2", ["r1", "r2", "r3"]) == "r1"  # unknown names: campaign order
    assert failover_target("none", "us-east-1", REGIONS) is None
    assert failover_target("eu-west-1", "us-east-1", REGIONS) == "eu-west-1"
    assert failover_target("eu-west-1", "eu-west-1", REGIONS) is None


def test_key_choice_replays_and_zipf_is_skewed() -> None:
    uniform, zipf = KeyChooser(100), KeyChooser(100, "zipf", 1.2)
    a = [zipf.choose(random.Random(3)) for _ in range(5)]
    assert a == [zipf.choose(random.Random(3)) for _ in range(5)]
    rng_u, rng_z = random.Random(1), random.Random(1)
    hot_u = sum(uniform.choose(rng_u) < 5 for _ in range(2000))
    hot_z = sum(zipf.choose(rng_z) < 5 for _ in range(2000))
    assert hot_z > 3 * hot_u


def test_user_generators_depend_on_seed_region_and_index() -> None:
    draws = {
        args: [user_rng(*args).random() for _ in range(3)]
        for args in [
            (7, "us-east-1", 0),
            (8, "us-east-1", 0),
            (7, "eu-west-1", 0),
            (7, "us-east-1", 1),
        ]
    }
    assert len({tuple(v) for v in draws.values()}) == 4
    assert draws[(7, "us-east-1", 0)] == [user_rng(7, "us-east-1", 0).random() for _ in range(3)]


def test_home_region_keys_belong_to_their_region() -> None:
    spec = WorkloadSpec(kind="home_region", keys=30)
    workload = build_workloads([spec], REGIONS)["home_region"]
    rng = random.Random(5)
    for i, region in enumerate(REGIONS):
        keys = {workload.choose_key(rng, region) for _ in range(200)}
        assert keys and all(int(k.split("#")[1]) % 3 == i for k in keys)
        assert all(int(k.split("#")[1]) < 30 for k in keys)


def test_home_region_needs_a_key_per_region() -> None:
    with pytest.raises(ValueError, match="at least one key per region"):
        build_workloads([WorkloadSpec(kind="home_region", keys=2)], REGIONS)


def test_reader_rejects_unknown_targets() -> None:
    specs = [WorkloadSpec(kind="profile"), WorkloadSpec(kind="reader", workloads=["counter"])]
    with pytest.raises(ValueError, match="counter"):
        build_workloads(specs, REGIONS)
