"""Other ways to read the verdict's history, measured beside the baseline on the same shards.

Why this exists: the verdict's native reader was chosen among these (docs/performance.md). Each candidate runs in a fresh process, one thread
(CPU seconds: the machine is shared), best of two runs; memory is the growth of max RSS over
the first run:

- `orjson`: `orjson.loads` per line (the baseline of bench/verdict.py);
- `native`: the verdict's native scanner (verdict._scan): parsing, checking and exact interning
  into columns in one C pass (what the verdict now reads with);
- `pyarrow`, `polars`, `duckdb`: their NDJSON readers into columns, when installed (none is a
  hothot dependency); `duckdb+intern` also numbers keys and vids exactly in first-seen order
  with SQL (aggregate, window, joins back) and fetches the numbers as numpy arrays.

Usage: python bench/verdict_readers.py [--ops 1000000] [--keys 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.verdict import generate  # noqa: E402

FIELDS = {
    "op": "VARCHAR", "region": "VARCHAR", "outcome": "VARCHAR", "workload": "VARCHAR",
    "key": "VARCHAR", "vid": "VARCHAR", "pred": "VARCHAR", "t_invoke": "DOUBLE",
    "t_complete": "DOUBLE", "final": "BOOLEAN",
}  # fmt: skip

CHILD = """
import resource, sys, time
from pathlib import Path
sys.path[0:0] = [sys.argv[3], sys.argv[3] + "/bench"]
name, root = sys.argv[1], Path(sys.argv[2])
files = sorted(str(p) for p in (root / "history").glob("*.jsonl"))
FIELDS = %r

def run():
    if name == "orjson":
        from bench_parse import parse_only
        parse_only(root)
    elif name == "native":
        from bench_parse import native_scan
        native_scan(root)
    elif name == "pyarrow":
        import pyarrow as pa, pyarrow.json as pj
        pa.set_cpu_count(1)
        schema = pa.schema([(k, {"VARCHAR": pa.string(), "DOUBLE": pa.float64(),
                                 "BOOLEAN": pa.bool_()}[v]) for k, v in FIELDS.items()])
        opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        for f in files:
            pj.read_json(f, read_options=pj.ReadOptions(use_threads=False), parse_options=opts)
    elif name == "polars":
        import polars as pl
        kinds = {"VARCHAR": pl.String, "DOUBLE": pl.Float64, "BOOLEAN": pl.Boolean}
        for f in files:
            pl.read_ndjson(f, schema={k: kinds[v] for k, v in FIELDS.items()})
    elif name.startswith("duckdb"):
        import duckdb
        con = duckdb.connect()
        con.execute("SET threads=1")
        con.execute("SET enable_progress_bar=false")
        cols = "{" + ",".join(f"'{k}':'{v}'" for k, v in FIELDS.items()) + "}"
        scan = f"read_json({files!r}, format='newline_delimited', columns={cols})"
        if name == "duckdb":
            con.execute(f"SELECT count(*), count(key), count(vid), sum(t_invoke) FROM {scan}")
            return
        con.execute(f"CREATE TABLE h AS SELECT * FROM {scan}")
        con.execute(
            "CREATE TABLE vids AS WITH occ AS ("
            " SELECT vid AS s, 2*rowid AS pos FROM h WHERE vid <> ''"
            " UNION ALL SELECT pred, 2*rowid+1 FROM h WHERE pred <> ''),"
            " firsts AS (SELECT s, min(pos) AS first FROM occ GROUP BY s)"
            " SELECT s, (row_number() OVER (ORDER BY first) - 1)::INTEGER AS id FROM firsts")
        con.execute(
            "CREATE TABLE keys AS WITH firsts AS (SELECT key AS s, min(rowid) AS first FROM h"
            " WHERE key IS NOT NULL GROUP BY key)"
            " SELECT s, (row_number() OVER (ORDER BY first) - 1)::INTEGER AS id FROM firsts")
        con.execute(
            "SELECT k.id, v.id, p.id, h.t_invoke, h.t_complete FROM h"
            " LEFT JOIN keys k ON h.key = k.s LEFT JOIN vids v ON h.vid = v.s"
            " LEFT JOIN vids p ON h.pred = p.s ORDER BY h.rowid").fetchnumpy()

base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.process_time()
try:
    run()
except ImportError:
    print("absent")
    raise SystemExit
best = time.process_time() - t  # the first run pays the imports; a second may be faster
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
t = time.process_time()
run()
print(min(best, time.process_time() - t), grown * 1024)
"""

CANDIDATES = (
    "orjson", "native", "pyarrow", "polars", "duckdb", "duckdb+intern",
)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=100_000)
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory(prefix="hothot-bench-") as tmp:
        t = time.perf_counter()
        n = generate(Path(tmp), args.ops, args.keys)
        print(f"generated {n:,} operations in {time.perf_counter() - t:.1f}s")
        base = None
        for name in CANDIDATES:
            child = [sys.executable, "-c", CHILD % (FIELDS,), name, tmp, here]
            env = os.environ | {"POLARS_MAX_THREADS": "1", "OMP_NUM_THREADS": "1"}
            out = subprocess.run(child, capture_output=True, text=True, env=env, check=True)
            if out.stdout.strip() == "absent":
                print(f"{name:15} not installed")
                continue
            took_s, grown_s = out.stdout.split()[-2:]
            took, grown = float(took_s), float(grown_s)
            base = base or took
            print(
                f"{name:15} {took:5.2f}s CPU  ratio {took / base:4.2f}  "
                f"(max RSS growth of a first run, imports included: {grown / n:4.0f} B/op)"
            )


if __name__ == "__main__":
    main()
