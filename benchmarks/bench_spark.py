"""The Spark engine at growing sizes (issue 14): wall time, the driver's and the executors' peak memory.

``python -m benchmarks spark [--gifts 1e6,3e6,1e7] [--seed 0] [--units 8]`` (``make bench-spark``) runs
``graphkit report --engine spark`` on the benchmarks' synth platforms (:func:`benchmarks.data.platform_dir`,
Parquet) against a standalone cluster on 127.0.0.1 (:mod:`benchmarks.spark_cluster`: one worker with every
core), and writes every figure to ``benchmarks/spark-results.json``. The reports, the cluster's logs and work
folders and the driver's working folder go to a scratch folder of the run's own under ``TMPDIR``
(``gk-bench-spark-*``, as the other benchmarks' scratch files), removed when every run succeeded: never into the
checkout, where a test (``tests/test_notebooks.py``) checks that nothing writes while the notebooks run.

The driver (graphkit's CLI and the JVM it starts) and the executors (started by the worker, with their Python
workers) run in different process groups, so their resident memory is sampled apart every half second: the
driver's peak must stay roughly flat as the gifts grow, while the executors hold the units' graph work.
Ring recall and precision (``graphkit eval``, top 2 x planted) check that the answer is the local engine's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.child import rss_mb
from benchmarks.data import ROOT, platform_dir
from benchmarks.spark_cluster import standalone_cluster

__all__ = ["run_spark_bench"]


def _sampled(cmd: list[str], env: dict[str, str], worker_pids: tuple[int, ...], cwd: Path) -> dict[str, Any]:
    """Run ``cmd`` (the driver) in ``cwd``, in its own process group; its wall time and both sides' peak RSS, in GB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    workers = set(worker_pids)
    driver_peak = executor_peak = 0.0
    while proc.poll() is None:
        driver_peak = max(driver_peak, rss_mb(lambda pid, ppid, pgrp: pgrp == proc.pid))
        # the executors run in the worker's process group; the worker's own JVM is not the report's work
        executor_peak = max(executor_peak, rss_mb(lambda pid, ppid, pgrp: pgrp in workers and pid not in workers))
        time.sleep(0.5)
    _, err = proc.communicate()
    return {"wall_s": round(time.perf_counter() - start, 1), "driver_peak_rss_gb": round(driver_peak / 1024, 2),
            "executor_peak_rss_gb": round(executor_peak / 1024, 2), "exit": proc.returncode,
            "load": round(os.getloadavg()[0], 1),
            "stderr": err.decode("utf-8", "replace")[-2000:] if proc.returncode else ""}


def run_spark_bench(sizes: list[int], seed: int, units: int, executor_memory: str, driver_memory: str) -> list[dict[str, Any]]:
    """One Spark report per size on a fresh one-worker cluster; the figures of each run.

    Everything a run writes but the figures goes to a new scratch folder under ``TMPDIR``; it is removed
    when every run succeeded, else kept (and named on stderr) with the cluster's logs.
    """
    from graphkit.evaluate import evaluate_output

    cores = os.cpu_count() or 2
    scratch = Path(tempfile.mkdtemp(prefix="gk-bench-spark-"))
    rows = []
    for gifts in sizes:
        data = platform_dir(gifts, seed)
        out = scratch / f"spark-{gifts}-s{seed}-u{units}"
        with standalone_cluster(scratch / f"spark-cluster-{gifts}", workers=1, cores=cores,
                                memory=executor_memory) as cluster:
            cmd = [sys.executable, "-m", "graphkit_cli", "report", str(data), "--out", str(out), "--engine", "spark",
                   "--spark-master", cluster.url, "--spark-units", str(units), "--no-html", "-q", "--json",
                   "--spark-conf", f"spark.executor.memory={executor_memory}",
                   "--spark-conf", f"spark.driver.memory={driver_memory}",
                   "--spark-conf", f"spark.sql.shuffle.partitions={max(2 * cores, units)}",
                   "--spark-conf", "spark.driver.host=127.0.0.1"]
            row = {"gifts": gifts, "seed": seed, "units": units, "cores": cores, "executor_memory": executor_memory,
                   **_sampled(cmd, cluster.env, cluster.worker_pids, cwd=scratch)}
        if row["exit"] == 0:
            quality = evaluate_output(out, data / "truth.json")
            row.update(ring_recall=round(quality.ring_recall, 3), ring_precision=round(quality.ring_precision, 3))
        rows.append(row)
        print(json.dumps(row), flush=True)
    if all(row["exit"] == 0 for row in rows):
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        print(f"kept {scratch} (reports and the cluster's logs) for the failed runs", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks spark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifts", type=lambda s: [int(float(x)) for x in s.split(",")], default=[1_000_000],
                        help="comma-separated gift counts [1e6]; the issue's rows are 1e6,3e6,1e7")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", type=int, default=8, help="--spark-units [8]")
    parser.add_argument("--executor-memory", default="14g", help="the worker's and executor's memory [14g]")
    parser.add_argument("--driver-memory", default="2g", help="the driver JVM's heap [2g]")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "spark-results.json")
    args = parser.parse_args(argv)
    rows = run_spark_bench(args.gifts, args.seed, args.units, args.executor_memory, args.driver_memory)
    previous = json.loads(args.results.read_text()) if args.results.is_file() else {}
    for row in rows:
        previous[f"{row['gifts']}-s{row['seed']}-u{row['units']}"] = row
    args.results.write_text(json.dumps(previous, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
