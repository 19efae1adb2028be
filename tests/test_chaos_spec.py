"""chaos: parsing the `chaos:` section and every validation message."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chaos import ChaosSpec, validate

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
ROLE = "arn:aws:iam::123456789012:role/hothot-fis"


def check(
    chaos: Any,
    kind: str = "emulator",
    control: bool = True,
    allow_aws: bool = False,
    duration: float = 60.0,
    regions: list[str] = REGIONS,
) -> list[str]:
    return validate(ChaosSpec.model_validate(chaos), regions, kind, control, allow_aws, duration)


def test_list_form_parses_durations_and_aliases() -> None:
    spec = ChaosSpec.model_validate(
        [
            {
                "at": "10s",
                "for": "15s",
                "fault": "clock_skew",
                "region": "eu-west-1",
                "offset": "2s",
            },
            {
                "at": 32,
                "for": "8s",
                "fault": "replication_delay",
                "from": "us-west-2",
                "to": "us-east-1",
                "delay": "3s",
                "jitter": "400ms",
            },
        ]
    )
    skew, delay = spec.faults
    assert (skew.at, skew.for_, skew.offset) == (10.0, 15.0, 2.0)
    assert (delay.from_, delay.to, delay.delay, delay.jitter) == (
        "us-west-2",
        "us-east-1",
        3.0,
        0.4,
    )
    assert spec.path(1) == "chaos[1]"
    assert skew.campaign_form() == {
        "at": "10s",
        "for": "15s",
        "fault": "clock_skew",
        "region": "eu-west-1",
        "offset": "2s",
    }
    assert check(spec.model_dump(by_alias=True)["faults"]) == []


def test_mapping_form_paths_and_random_names() -> None:
    spec = ChaosSpec.model_validate(
        {
            "faults": [{"at": 1, "for": 2, "fault": "region_outage", "region": "us-east-1"}],
            "random": {"faults": ["partition", {"fault": "clock_skew", "offset": "1s"}]},
        }
    )
    assert spec.path(0) == "chaos.faults[0]"
    assert [t.name for t in spec.random.faults] == ["partition", "clock_skew"]
    assert spec.random.mean_interval == 10.0


@pytest.mark.parametrize(
    ("chaos", "loc"),
    [
        ([{"fault": "meteor", "at": 1, "for": 1}], (0,)),
        (
            [{"fault": "partition", "at": 1, "for": 1, "regions": ["a", "b"], "colour": 1}],
            (0, "partition", "colour"),
        ),
        ([{"fault": "clock_skew", "at": "soon", "for": 1}], (0, "clock_skew", "at")),
        ({"random": {"faults": ["nope"]}}, ("random", "faults", 0)),
        ({"faults": [], "surprise": 1}, ("surprise",)),
    ],
)
def test_type_errors_point_at_the_field(chaos: Any, loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as err:
        ChaosSpec.model_validate(chaos)
    assert err.value.errors()[0]["loc"] == loc


def test_unknown_region_names_the_field_and_known_regions() -> None:
    errors = check(
        [
            {
                "at": 1,
                "for": 1,
                "fault": "replication_delay",
                "from": "us-east-1",
                "to": "mars-1",
                "delay": "1s",
            }
        ]
    )
    assert errors == [
        "chaos[0].to: unknown region 'mars-1'; the target's regions are us-east-1, us-west-2, eu-west-1"
    ]


def test_missing_fields() -> None:
    errors = check(
        [{"fault": "clock_skew", "region": "us-east-1"}, {"at": 0, "for": 1, "fault": "partition"}]
    )
    assert "chaos[0].at: missing; every fault needs at: and for:" in errors
    assert "chaos[0].for: missing; every fault needs at: and for:" in errors
    assert "chaos[0].offset: missing; clock_skew needs it" in errors
    assert "chaos[1].regions: missing; partition needs regions: [A, B] or region: A" in errors
    assert len(errors) == 4


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"at": -1, "for": 5}, "chaos[0].at: start -1s must be within 0s..24h"),
        ({"at": 1, "for": 0}, "chaos[0].for: length 0s must be within 0s..24h"),
        ({"at": 1, "for": "-5s"}, "chaos[0].for: length -5s must be within 0s..24h"),
        ({"at": 1, "for": "48h"}, "chaos[0].for: length 172800s must be within 0s..24h"),
        (
            {"at": 50, "for": 20},
            "chaos[0].for: window (50s..70s) ends after the run's duration 60s",
        ),
    ],
)
def test_bad_windows(fault: dict[str, Any], message: str) -> None:
    base = {"fault": "region_outage", "region": "us-east-1"}
    assert check([base | fault]) == [message]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            {"fault": "clock_skew", "region": "us-east-1", "offset": "2h"},
            "chaos[0].offset: clock offset 7200s is outside -3600s..3600s",
        ),
        (
            {"fault": "clock_skew", "region": "us-east-1", "offset": 1, "drift_ppm": 1e7},
            "chaos[0].drift_ppm: 1e+07 ppm exceeds ±100000 ppm",
        ),
        (
            {"fault": "clock_skew", "region": "us-east-1", "offset": 1, "strobe": "-1s"},
            "chaos[0].strobe: strobe period must be within 1ms..24h, got -1s",
        ),
        (
            {"fault": "replication_delay", "from": "us-east-1", "to": "us-east-1", "delay": 1},
            "chaos[0].to: a link needs two regions, got us-east-1 -> us-east-1",
        ),
        (
            {"fault": "replication_delay", "from": "us-east-1", "to": "eu-west-1", "delay": "-1s"},
            "chaos[0].delay: replication delay -1s is outside 0s..600s",
        ),
        (
            {"fault": "region_latency", "region": "us-east-1", "latency": "5m"},
            "chaos[0].latency: latency 300s is outside 0s..60s",
        ),
        (
            {"fault": "partition", "regions": ["us-east-1"]},
            "chaos[0].regions: needs two different regions, got ['us-east-1']",
        ),
        (
            {"fault": "partition", "regions": ["us-east-1", "eu-west-1"], "region": "us-east-1"},
            "chaos[0].regions: give either regions: [A, B] or region: A, not both",
        ),
    ],
)
def test_absurd_parameters(fault: dict[str, Any], message: str) -> None:
    assert check([{"at": 1, "for": 2} | fault]) == [message]


def test_contradicting_overlaps_but_not_touching_windows() -> None:
    outage = {"fault": "region_outage", "region": "eu-west-1"}
    errors = check([{"at": 10, "for": 10} | outage, {"at": 15, "for": 10} | outage])
    assert errors == [
        "chaos[1]: region_outage (15s..25s) contradicts chaos[0] region_outage (10s..20s): "
        "both hold region_outage:eu-west-1 at once"
    ]
    assert check([{"at": 10, "for": 10} | outage, {"at": 20, "for": 10} | outage]) == []
    # a partition of one region against all others overlaps a pair partition on its links
    errors = check(
        [
            {"at": 0, "for": 10, "fault": "partition", "region": "us-east-1"},
            {"at": 5, "for": 10, "fault": "partition", "regions": ["eu-west-1", "us-east-1"]},
        ]
    )
    assert len(errors) == 1 and "partition:eu-west-1->us-east-1" in errors[0]
    # different regions, or different kinds of fault on one region, do not contradict
    assert (
        check(
            [
                {"at": 0, "for": 10} | outage,
                {"at": 0, "for": 10, "fault": "region_outage", "region": "us-east-1"},
                {"at": 0, "for": 10, "fault": "clock_skew", "region": "eu-west-1", "offset": 1},
            ]
        )
        == []
    )


def test_faults_the_target_cannot_apply_name_fault_and_target() -> None:
    delay = [
        {
            "at": 1,
            "for": 1,
            "fault": "replication_delay",
            "from": "us-east-1",
            "to": "eu-west-1",
            "delay": 1,
        }
    ]
    assert check(delay, kind="aws", control=False, allow_aws=True) == [
        "chaos[0].fault: replication_delay cannot be applied on an aws target; only on "
        "emulator targets and endpoints targets with a control URL or pglogical targets"
    ]
    assert check(delay, kind="endpoints", control=False) == [
        "chaos[0].fault: replication_delay cannot be applied on an endpoints target without a "
        "control URL; only on emulator targets and endpoints targets with a control URL or "
        "pglogical targets"
    ]
    assert check(delay, kind="endpoints", control=True) == []
    one_way = [{"at": 1, "for": 1, "fault": "partition", "region": "us-east-1", "one_way": True}]
    assert check(one_way, kind="endpoints", control=False)[0].startswith(
        "chaos[0].one_way: a client-side partition"
    )
    assert check(one_way) == []


def test_fis_partition_needs_opt_in_role_and_one_replica() -> None:
    part = {"at": 1, "for": 5, "fault": "partition", "region": "eu-west-1"}
    errors = check([part], kind="aws", control=False, allow_aws=False)
    assert errors[0] == (
        "chaos[0].fault: partition on an aws target uses AWS FIS (chaos[0]); it needs allow_real_aws: true"
    )
    assert errors[1].startswith("chaos.aws.role_arn: missing; AWS FIS needs the IAM role")
    assert (
        check(
            {"faults": [part], "aws": {"role_arn": ROLE}}, kind="aws", control=False, allow_aws=True
        )
        == []
    )
    assert check(
        {"faults": [part], "aws": {"role_arn": "hothot-fis"}},
        kind="aws",
        control=False,
        allow_aws=True,
    ) == [
        "chaos.aws.role_arn: 'hothot-fis' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    ]
    pair = {"at": 1, "for": 5, "fault": "partition", "regions": ["us-east-1", "eu-west-1"]}
    errors = check(
        {"faults": [pair], "aws": {"role_arn": ROLE}}, kind="aws", control=False, allow_aws=True
    )
    assert errors == [
        "chaos.faults[0].regions: AWS FIS pauses a whole replica, so on a 3-region "
        "table a partition must isolate one region: use region: A"
    ]
    assert (
        check(
            {"faults": [pair], "aws": {"role_arn": ROLE}},
            kind="aws",
            control=False,
            allow_aws=True,
            regions=["us-east-1", "eu-west-1"],
        )
        == []
    )
    # clock skew on AWS acts on the writers' clock only: no FIS, no opt-in needed here
    assert (
        check(
            [{"at": 1, "for": 2, "fault": "clock_skew", "region": "eu-west-1", "offset": 1}],
            kind="aws",
            control=False,
        )
        == []
    )


def test_random_mode_checks() -> None:
    errors = check(
        {
            "random": {
                "faults": [{"fault": "region_outage", "region": "mars-1", "at": 1}],
                "mean_interval": 0,
                "mean_duration": "-1s",
            }
        }
    )
    assert errors == [
        "chaos.random.mean_interval: 0s must be within 0s..24h",
        "chaos.random.mean_duration: -1s must be within 0s..24h",
        "chaos.random.faults[0]: random templates take no at:/for:; windows are drawn",
        "chaos.random.faults[0].region: unknown region 'mars-1'; the target's regions are us-east-1, us-west-2, eu-west-1",
    ]
    assert check({"random": {"faults": []}}) == [
        "chaos.random.faults: empty; name at least one fault to draw"
    ]
    assert check({"random": {"faults": ["replication_delay"]}}, kind="aws", control=False)[
        0
    ].startswith(
        "chaos.random.faults[0].fault: replication_delay cannot be applied on an aws target"
    )


def test_what_a_pglogical_mesh_cannot_do_of_a_fault() -> None:
    """Each fault states what its injectors cannot do (`placement_problems`): pglogical's apply
    delay has no jitter, and a server clock jump past wal_sender_timeout drops the links."""
    faults = [
        {"at": 0, "for": 5, "fault": "replication_delay", "from": "us-east-1",
         "to": "eu-west-1", "delay": "1s", "jitter": "200ms"},
        {"at": 0, "for": 5, "fault": "clock_skew", "region": "us-east-1", "offset": "-31s"},
        {"at": 0, "for": 5, "fault": "clock_skew", "region": "eu-west-1", "offset": "30s"},
    ]  # fmt: skip
    assert check(faults, kind="pglogical", control=True) == [
        "chaos[0].jitter: pglogical's apply delay is one fixed value per link; no jitter",
        "chaos[1].offset: -31s is beyond ±30s on a pglogical mesh: a clock jump past "
        "wal_sender_timeout (60s) drops its links",
    ]
    assert check(faults[1:2], kind="emulator") == []  # the emulator's clock jumps freely


def test_faults_on_links_need_two_regions() -> None:
    for fault in ("partition", "replication_delay"):
        assert check({"random": {"faults": [fault]}}, regions=["us-east-1"]) == [
            "chaos.random.faults: links need at least two regions"
        ]
    assert check({"random": {"faults": ["region_latency"]}}, regions=["us-east-1"]) == []
