"""How many history records per second `LiveMetrics.observe` takes (the master may see 20k/s).

    python -m bench.observe_metrics [N]

Prints records/s for a realistic mix (3 regions, writes on shared keys with provisional
conflict tracking, reads, probes) and its ratio to the 20k/s target.
"""

from __future__ import annotations

import argparse
import random
import time

from loadgen.metrics import LiveMetrics


def records(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    regions = ["us-east-1", "us-west-2", "eu-west-1"]
    heads: dict[str, tuple[str | None, str | None]] = {}  # key -> (head, its pred)
    out = []
    for i in range(n):
        region = rng.choice(regions)
        key = f"profile#{rng.randrange(200)}"
        t = i * 0.0001
        roll = rng.random()
        if roll < 0.02:
            out.append(
                {"op": "probe", "region": region, "target": regions[0], "lag": 0.8, "outcome": "ok"}
            )
            continue
        if roll < 0.3:
            out.append(
                {
                    "id": f"w:{i}",
                    "region": region,
                    "workload": "profile",
                    "key": key,
                    "op": "get",
                    "vid": heads.get(key),
                    "t_invoke": t,
                    "t_complete": t + 0.002,
                    "outcome": "ok",
                }
            )
            continue
        # now and then a region writes from a stale replica: a conflict with the last write
        pred, last = heads.get(key, (None, None))
        if rng.random() < 0.05:
            pred = last
        vid = f"w:{i}"
        heads[key] = (vid, pred)
        out.append(
            {
                "id": vid,
                "region": region,
                "workload": "profile",
                "key": key,
                "op": "put",
                "vid": vid,
                "pred": pred,
                "t_invoke": t,
                "t_complete": t + 0.003,
                "outcome": "ok",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000, help="records to observe")
    n = parser.parse_args().n
    batch = records(n)
    live = LiveMetrics("bench")
    start = time.perf_counter()
    for record in batch:
        live.observe(record)
    rate = n / (time.perf_counter() - start)
    print(f"LiveMetrics.observe: {rate:,.0f} records/s ({rate / 20_000:.1f}x the 20k/s target)")


if __name__ == "__main__":
    main()
