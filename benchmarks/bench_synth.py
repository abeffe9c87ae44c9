"""Speed of the synthetic platform generator (``graphkit.synth.generate``).

Times generation (and, with ``--write``, writing Parquet) at 1e5, 1e6 and 1e7
gifts, with ten gifts per user. Not a test: nothing is asserted.

Run:  .venv/bin/python benchmarks/bench_synth.py [--sizes 1e5,1e6,1e7] [--write]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from graphkit.synth import generate


def bench(gifts: int, write: bool, seed: int = 0) -> dict:
    users = max(1_000, gifts // 10)
    t = time.perf_counter()
    platform = generate(users=users, gifts=gifts, seed=seed)
    result = {"users": users, "gifts": gifts, "generate_s": time.perf_counter() - t,
              "rings": len(platform.truth["rings"]), "devices": platform.devices.height}
    if write:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            platform.write(Path(tmp) / "platform", format="parquet")
            result["write_parquet_s"] = time.perf_counter() - t
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6,1e7", help="comma-separated gift counts")
    parser.add_argument("--write", action="store_true", help="also time writing Parquet")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        r = bench(int(float(size)), args.write)
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        extra = f", write parquet {r['write_parquet_s']:.1f} s" if "write_parquet_s" in r else ""
        print(f"{r['gifts']:>12,} gifts {r['users']:>10,} users {r['rings']:>5} rings: "
              f"generate {r['generate_s']:.1f} s{extra} (peak RSS so far {peak_gb:.1f} GB)", flush=True)


if __name__ == "__main__":
    main()
