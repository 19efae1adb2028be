"""The emulator `hothot run` starts takes its mode's replication defaults unless the campaign
sets `target.replication`: an MRSC campaign without it ran every write at MREC's 0.8 s."""

from __future__ import annotations

import pytest

from hothot.target import start_emulator
from hothot.targetspec import TargetSpec


@pytest.mark.parametrize(
    ("target", "delay"),
    [
        ({"mode": "strong"}, 0.03),
        ({"mode": "eventual"}, 0.8),
        ({"mode": "strong", "replication": {"delay": "200ms", "jitter": "0ms"}}, 0.2),
    ],
)
def test_link_delays_follow_the_mode_unless_set(target: dict[str, object], delay: float) -> None:
    emulator = start_emulator(TargetSpec.model_validate(target), seed=1)
    try:
        assert emulator.control is not None
        links = emulator.control_client().state()["links"]
        assert {round(link["delay_s"], 6) for link in links.values()} == {delay}
    finally:
        emulator.close()
