"""Investigation questions at scale (issue 15): a 1-hour window report, expand/path/show from a report's store,
the whole report, and the store's format (Parquet sorted by key against DuckDB with an index).

``python -m benchmarks store [--gifts 1e6] [--seed 0] [--compare-with /path/to/other/checkout/.venv/bin/graphkit]``
(``make bench-store``) prints a JSON report and writes it to ``benchmarks/store-results.json``. Each
command runs as its own process, timed from start to exit (interpreter start included), with the peak
RSS of the process and its waited-for children from ``wait4``.

The platform is the benchmarks' synth platform (:func:`benchmarks.data.platform_dir`), its gifts and
device sightings sorted by time and written in row groups of 100,000 rows, as a warehouse export by
day would be.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.data import CACHE, OUT, ROOT, platform_dir

__all__ = ["measure", "run_store_bench", "sorted_platform", "store_formats"]

ROW_GROUP = 100_000


def sorted_platform(gifts: int, seed: int) -> Path:
    """The synth platform of ``gifts`` and ``seed`` with gifts and devices sorted by time (cached)."""
    import polars as pl

    source = platform_dir(gifts, seed)
    path = CACHE / f"{source.name}-by-time"
    if (path / "gifts.parquet").is_file():
        return path
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, column in (("gifts", "sent_at"), ("devices", "seen_at")):
        pl.read_parquet(source / f"{name}.parquet").sort(column, maintain_order=True).write_parquet(
            tmp / f"{name}.parquet", row_group_size=ROW_GROUP)
    for name in ("users", "streams"):
        shutil.copy(source / f"{name}.parquet", tmp / f"{name}.parquet")
    tmp.rename(path)
    return path


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; its wall time, peak RSS (GB, ``wait4``'s ``ru_maxrss``), exit code and last stdout line."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # this command only: run in a fresh process (_measure_fresh)
    rss = usage.ru_maxrss / 1024**2
    cpu = usage.ru_utime + usage.ru_stime  # the load of other jobs stretches wall time, far less CPU time
    return {"cmd": " ".join(str(c) for c in cmd[1:]), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "peak_rss_gb": round(rss, 2), "load": round(os.getloadavg()[0], 1),
            "exit": proc.returncode, "stderr": err.decode("utf-8", "replace")[-300:] if proc.returncode else ""}


def _measure_fresh(cmd: list[str]) -> dict[str, Any]:
    """:func:`measure` in a fresh helper process, so that ``RUSAGE_CHILDREN`` holds this command only."""
    code = ("import json, sys; from benchmarks.bench_store import measure; "
            "print(json.dumps(measure(json.loads(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(cmd)], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def store_formats(store: Path, keys: list[str], *, rounds: int = 5) -> dict[str, Any]:
    """Edges of ``keys`` (both directions) from the Parquet store against a DuckDB copy with indexes.

    DuckDB is not a dependency of graphkit: this comparison runs only where it is installed.
    """
    import polars as pl

    result: dict[str, Any] = {"keys": len(keys)}
    parquet_bytes = sum((store / f"{n}.parquet").stat().st_size for n in ("edges", "edges_by_target"))

    def parquet_lookup() -> int:
        accounts = [k for k in keys if k.startswith("account:")]
        a = pl.scan_parquet(store / "edges.parquet").filter(pl.col("source").is_in(accounts)).collect()
        b = pl.scan_parquet(store / "edges_by_target.parquet").filter(pl.col("target").is_in(keys)).collect()
        return pl.concat([a, b]).unique(["source", "target", "relation"]).height

    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        rows = parquet_lookup()
        times.append(time.perf_counter() - t)
    result["parquet"] = {"lookup_ms_median": round(sorted(times)[len(times) // 2] * 1000, 1), "rows": rows,
                         "bytes": parquet_bytes, "build_s": None}
    try:
        import duckdb
    except ImportError:
        result["duckdb"] = "not installed (pip install duckdb to compare)"
        return result
    db = store.parent / "store-compare.duckdb"
    db.unlink(missing_ok=True)
    t = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE edges AS SELECT * FROM read_parquet('{store / 'edges.parquet'}')")
    con.execute("CREATE INDEX edges_source ON edges(source)")
    con.execute("CREATE INDEX edges_target ON edges(target)")
    con.close()
    build = time.perf_counter() - t
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        con = duckdb.connect(str(db), read_only=True)
        placeholders = ",".join("?" for _ in keys)
        rows = con.execute(
            f"SELECT DISTINCT * FROM edges WHERE source IN ({placeholders}) OR target IN ({placeholders})",
            keys + keys).fetchall().__len__()
        con.close()
        times.append(time.perf_counter() - t)
    result["duckdb"] = {"lookup_ms_median": round(sorted(times)[len(times) // 2] * 1000, 1), "rows": rows,
                        "bytes": db.stat().st_size, "build_s": round(build, 2), "version": duckdb.__version__}
    db.unlink(missing_ok=True)
    return result


def run_store_bench(gifts: int, seed: int, compare_with: Path | None) -> dict[str, Any]:
    """Every measurement of this module on one platform; ``compare_with``: another checkout's ``graphkit``
    (today's main), run on the same questions."""
    import polars as pl

    data = sorted_platform(gifts, seed)
    out = OUT / f"store-{gifts}-s{seed}"
    ours = [sys.executable, "-m", "graphkit_cli"]
    tools = {"branch": ours} | ({"main": [str(compare_with)]} if compare_with is not None else {})
    first = pl.scan_parquet(data / "gifts.parquet").select(pl.col("sent_at").min()).collect().item()
    since = (first + timedelta(days=10)).strftime("%Y-%m-%dT%H:00:00Z")
    until = (first + timedelta(days=10, hours=1)).strftime("%Y-%m-%dT%H:00:00Z")
    results: dict[str, Any] = {"gifts": gifts, "seed": seed, "data": str(data), "window": [since, until],
                               "load_before": os.getloadavg()}
    for name, cmd in tools.items():
        target = out / name
        shutil.rmtree(target, ignore_errors=True)
        results[f"{name}: 1-hour window report"] = _measure_fresh(
            cmd + ["report", str(data), "--out", str(target / "window"), "--since", since, "--until", until, "-q"])
        results[f"{name}: whole report"] = _measure_fresh(cmd + ["report", str(data), "--out", str(target / "whole"), "-q"])
    whole = out / "branch" / "whole"
    if compare_with is not None:
        results["rings identical to main"] = all(
            (whole / f).read_bytes() == (out / "main" / "whole" / f).read_bytes()
            for f in ("rings.json", "rings.csv", "scores.csv", "members.csv"))
    rings = json.loads((whole / "rings.json").read_text())["rings"]
    rng = random.Random(seed)
    scores = pl.read_csv(whole / "scores.csv", infer_schema=False)
    accounts = rng.sample(scores.get_column("user_id").to_list(), 4)
    member = rings[0]["members"][0] if rings else accounts[0]
    questions = {
        "expand 2 hops": ["expand", member, "--hops", "2"],
        "expand a ring": ["expand", rings[0]["ring_id"] if rings else member],
        "path": ["path", accounts[0], accounts[1]],
        "show": ["show", accounts[2], "--report", str(whole)],
    }
    for label, args in questions.items():
        extra = [] if label == "show" else ["--report", str(whole)]
        if label.startswith("expand"):
            extra += ["--out", str(out / "expand.html")]
        results[f"branch: {label} --report (store)"] = _measure_fresh(ours + args + extra)
        if label != "show":
            for name, cmd in tools.items():
                rings_from = ["--report", str(whole)] if label == "expand a ring" else []  # ring ids need a report
                results[f"{name}: {label} --data (tables)"] = _measure_fresh(cmd + args + ["--data", str(data)] + (
                    ["--out", str(out / "expand.html")] if label.startswith("expand") else []) + rings_from)
    results["interpreter start (python -c pass)"] = _measure_fresh([sys.executable, "-c", "pass"])
    results["graphkit --version"] = _measure_fresh(ours + ["--version"])
    store = whole / "graph"
    results["store bytes"] = sum(p.stat().st_size for p in store.iterdir())
    results["store rows"] = json.loads((store / "store.json").read_text())["rows"]
    nodes = pl.scan_parquet(store / "nodes.parquet").select("node_id").collect().get_column("node_id").to_list()
    for n in (1, 100):
        results[f"store formats ({n} random nodes)"] = store_formats(store, random.Random(1).sample(nodes, n))
    results["load_after"] = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifts", type=lambda s: int(float(s)), default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare-with", type=Path, default=None,
                        help="another checkout's graphkit executable (e.g. main's .venv/bin/graphkit)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "store-results.json")
    args = parser.parse_args(argv)
    results = run_store_bench(args.gifts, args.seed, args.compare_with)
    previous = json.loads(args.results.read_text()) if args.results.is_file() else {}
    previous[f"{args.gifts}-s{args.seed}"] = results
    args.results.write_text(json.dumps(previous, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
