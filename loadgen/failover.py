"""Where a writer goes when its own region is unreachable (campaign `writers.failover`).

`nearest` means the closest other campaign region by great-circle distance between the AWS
regions' locations below (the order a latency-based DNS failover would pick); regions missing
from the table (emulator names like `r1`) rank after known ones, in campaign order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: approximate (latitude, longitude) of AWS regions
REGION_LOCATIONS: dict[str, tuple[float, float]] = {
    "us-east-1": (38.9, -77.4),  # N. Virginia
    "us-east-2": (40.0, -83.0),  # Ohio
    "us-west-1": (37.4, -121.9),  # N. California
    "us-west-2": (45.8, -119.7),  # Oregon
    "ca-central-1": (45.5, -73.6),  # Montreal
    "sa-east-1": (-23.5, -46.6),  # Sao Paulo
    "eu-west-1": (53.3, -6.3),  # Ireland
    "eu-west-2": (51.5, -0.1),  # London
    "eu-west-3": (48.9, 2.4),  # Paris
    "eu-central-1": (50.1, 8.7),  # Frankfurt
    "eu-north-1": (59.3, 18.1),  # Stockholm
    "eu-south-1": (45.5, 9.2),  # Milan
    "ap-northeast-1": (35.7, 139.7),  # Tokyo
    "ap-northeast-2": (37.6, 127.0),  # Seoul
    "ap-northeast-3": (34.7, 135.5),  # Osaka
    "ap-southeast-1": (1.3, 103.8),  # Singapore
    "ap-southeast-2": (-33.9, 151.2),  # Sydney
    "ap-south-1": (19.1, 72.9),  # Mumbai
}


def distance_km(a: str, b: str) -> float:
    """Great-circle distance between two known regions (haversine)."""
    (lat1, lon1), (lat2, lon2) = REGION_LOCATIONS[a], REGION_LOCATIONS[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest(region: str, regions: Sequence[str]) -> str | None:
    """The closest other region of `regions`, or None when there is no other."""
    others = [r for r in regions if r != region]
    if not others:
        return None
    known = region in REGION_LOCATIONS

    def rank(item: tuple[int, str]) -> tuple[int, float, int]:
        index, other = item
        if known and other in REGION_LOCATIONS:
            return (0, distance_km(region, other), index)
        return (1, 0.0, index)

    return min(enumerate(others), key=rank)[1]


def failover_target(policy: str, home: str, regions: Sequence[str]) -> str | None:
    """The region a writer homed in `home` uses while `home` is unreachable; None: stay."""
    if policy == "none":
        return None
    if policy == "nearest":
        return nearest(home, regions)
    if policy not in regions:
        raise ValueError(f"failover region {policy!r} is not one of the regions {list(regions)}")
    return None if policy == home else policy
