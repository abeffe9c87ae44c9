"""The benchmark matrix: sizes x seeds x tools, AMLSim, HTML views; results merged into ``results.json``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.child import ChildResult, run_child
from benchmarks.data import OUT, ROOT, platform_dir, users_for

__all__ = ["machine", "versions", "run_suite", "run_views", "quality_of", "load_results", "save_results"]

MAX_RSS_MB = 16 * 1024
"""Children are killed above this resident memory (the target at 10^7 gifts is 8 GB)."""
PACKAGES = ("polars", "igraph", "networkx", "pandas", "numpy", "pyarrow", "scipy")


def machine() -> dict[str, Any]:
    """Cores, memory and CPU model of this machine."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "cpu": model,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    """Installed versions of graphkit and the packages it runs on."""
    found = {"graphkit": metadata.version("graphkit")}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def load_results(path: Path) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"runs": [], "amlsim": {}, "views": []}


def save_results(results: dict[str, Any], path: Path) -> None:
    results["runs"].sort(key=lambda r: (r["gifts"], r["seed"], r["tool"], r.get("variant", "")))
    path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def quality_of(out_dir: Path, truth: Path | None = None, labels: Any = None) -> dict[str, Any]:
    """Ring and user-level quality of one output folder (graphkit's own evaluator, for both tools)."""
    from graphkit.evaluate import evaluate, evaluate_output

    if truth is not None:
        ev = evaluate_output(out_dir, truth)
    else:
        import polars as pl

        scores = pl.read_csv(out_dir / "scores.csv", schema_overrides={"user_id": pl.Utf8, "ring_id": pl.Utf8})
        ev = evaluate([], scores, None, labels=labels)
    d = ev.to_dict()
    keep = ("k", "planted_rings", "reported_rings", "ring_recall", "ring_precision", "recall_by_kind", "recall_by_size",
            "lookalikes_reported", "user_auc", "user_average_precision", "precision_at")
    out = {k: d[k] for k in keep}
    out["missed"] = [f"{m['ring_id']} {m['kind']} ({m['size']}, best overlap {m['overlap']:.0%})"
                     for m in d["rings"] if m["found_by"] is None]
    return out


def _record(child: ChildResult, timeout_s: float | None) -> dict[str, Any]:
    rec: dict[str, Any] = {"ok": child.ok, "wall_s": round(child.wall_s, 2), "peak_rss_mb": round(child.peak_rss_mb)}
    reached = [line for line in child.stderr_tail.splitlines() if line.startswith("stage ")]
    if not child.ok and reached:
        rec["reached"] = reached[-1]
    if child.timed_out:
        rec["status"] = f"timed out after {timeout_s:.0f} s"
    elif child.over_memory:
        rec["status"] = f"killed: resident memory above the {MAX_RSS_MB / 1024:.0f} GB guard"
    if "reached" in rec:
        rec["status"] += f" (in {rec['reached']})"
    elif not child.ok:
        rec["status"] = f"failed (exit {child.returncode}): {child.stderr_tail.splitlines()[-1:] or ''}"
    else:
        rec["status"] = "ok"
        rec.update({k: child.data[k] for k in ("stages", "total_s", "users", "gifts", "rings") if k in child.data})
    return rec


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _key(run: dict[str, Any]) -> tuple:
    return run["tool"], run["gifts"], run["seed"], run.get("variant", "")


def _replace_run(results: dict[str, Any], run: dict[str, Any]) -> None:
    results["runs"] = [r for r in results["runs"] if _key(r) != _key(run)] + [run]


def run_suite(args: argparse.Namespace) -> None:
    """Run the matrix of ``args`` (see ``python -m benchmarks run -h``); update results.json and RESULTS.md."""
    from benchmarks.results import write_results_md

    params = getattr(args, "params", None) or []
    ring_size_max = getattr(args, "ring_size_max", None)
    variant = " ".join(sorted(params) + ([f"ring-size-max {ring_size_max}"] if ring_size_max else []))
    results = load_results(args.results)
    results["machine"] = machine()
    results["versions"] = versions()
    for gifts in args.sizes:
        seeds = args.seeds if gifts <= args.all_seeds_max else args.seeds[:1]
        for seed in seeds:
            _say(f"synth {gifts:,} gifts, seed {seed}")
            t = time.perf_counter()
            data = platform_dir(gifts, seed, ring_size_max=ring_size_max)
            _say(f"  data ready in {time.perf_counter() - t:.0f} s: {data}")
            truth = data / "truth.json"
            tools = ["graphkit"] + ([] if args.no_baseline or variant or gifts > args.baseline_max else ["baseline"])
            for tool in tools:
                out = OUT / (f"{tool}-{gifts}-s{seed}" + ("-variant" if variant else ""))
                cmd = [tool, str(data), str(out), "--seed", str(seed)]
                if tool == "graphkit":
                    cmd += [a for p in params for a in ("--set", p)]
                if tool == "graphkit" and args.no_html:
                    cmd.append("--no-html")
                timeout = args.timeout if tool == "graphkit" else args.baseline_timeout
                _say(f"  {tool} ...")
                child = run_child(cmd, timeout_s=timeout, cwd=ROOT, max_rss_mb=MAX_RSS_MB)
                run = {"tool": tool, "gifts": gifts, "seed": seed, "users_generated": users_for(gifts),
                       **({"variant": variant} if variant and tool == "graphkit" else {}),
                       **({"ring_size_max": ring_size_max} if ring_size_max else {}),
                       **_record(child, timeout)}
                if child.ok:
                    run["quality"] = quality_of(out, truth)
                _replace_run(results, run)
                save_results(results, args.results)
                q = run.get("quality", {})
                _say(f"  {tool}: {run['status']}, {run['wall_s']:.1f} s, {run['peak_rss_mb'] / 1024:.2f} GB"
                     + (f", ring recall {q['ring_recall']:.2f} precision {q['ring_precision']:.2f} "
                        f"user AP {q['user_average_precision']}" if q else ""))
            if not args.no_baseline and not variant and gifts > args.baseline_max:
                _replace_run(results, {"tool": "baseline", "gifts": gifts, "seed": seed, "ok": False,
                                       "users_generated": users_for(gifts),
                                       "status": f"not run (the baseline runs up to --baseline-max {args.baseline_max:.0e} gifts)"})
                save_results(results, args.results)
    if not args.no_amlsim:
        results["amlsim"] = run_amlsim(args.amlsim)
        save_results(results, args.results)
    if not args.no_views:
        results["views"] = _views()
        save_results(results, args.results)
    if not getattr(args, "no_history", False):
        run_history_into(results, args.results)
    if not getattr(args, "no_learn", False):
        run_learn(args.results, args.amlsim)
    _say(f"wrote {write_results_md(args.results)}")


def run_history_into(results: dict[str, Any], results_path: Path, *, days: int = 7, users: int = 20_000,
                     gifts: int = 140_000, seed: int = 0) -> None:
    """Rings over time (:func:`benchmarks.bench_history.run_history`) under ``benchmarks/out/history``,
    stored in ``results["history"]``."""
    import shutil

    from benchmarks.bench_history import run_history

    root = OUT / "history"
    shutil.rmtree(root, ignore_errors=True)
    _say(f"history: synth --days {days}, {users:,} users, {gifts:,} gifts, seed {seed}, reported day by day")
    results["history"] = run_history(root, days=days, users=users, gifts=gifts, seed=seed)
    save_results(results, results_path)
    h = results["history"]
    _say(f"  ids kept {h['ids_kept']}, statuses agree {h['status_agreement']}, re-formed {h['reformed']}")


def run_learn(results_path: Path, amlsim: Path | None, *, gifts: int = 100_000, seeds: tuple[int, ...] = (0, 1, 2)) -> None:
    """The learning benchmark (:mod:`benchmarks.bench_learn`), stored in results.json under ``learning``."""
    from benchmarks.bench_learn import run_learning
    from benchmarks.results import write_results_md

    _say(f"learning: AMLSim and synth {gifts:,} gifts, seeds {', '.join(map(str, seeds))}")
    results = load_results(results_path)
    results["learning"] = {**run_learning(amlsim_dir(amlsim), gifts=gifts, seeds=seeds),
                           "machine": machine(), "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    save_results(results, results_path)
    _say(f"wrote {write_results_md(results_path)}")


def amlsim_dir(given: Path | None) -> Path | None:
    """The AMLSim sample: ``--amlsim`` or ``<repo>/../shared/datasets/amlsim-20k``."""
    for path in ([given] if given else []) + [ROOT.parent / "shared" / "datasets" / "amlsim-20k",
                                              Path("/work/shared/datasets/amlsim-20k")]:
        if path is not None and (path / "transactions.csv").is_file():
            return path
    return None


def run_amlsim(given: Path | None) -> dict[str, Any]:
    """Both tools on the AMLSim sample; user-level ROC AUC and average precision against ``isFraud``."""
    from graphkit.io import read_tables

    data = amlsim_dir(given)
    if data is None:
        return {"status": "not run: AMLSim sample not found (pass --amlsim PATH)"}
    mapping = ROOT / "fixtures" / "amlsim.toml"
    labels = read_tables(data, columns=mapping).users.select("user_id", "label")
    found: dict[str, Any] = {"data": str(data), "accounts": labels.height,
                             "bad": int((labels["label"] == "bad").sum())}
    for tool in ("graphkit", "baseline"):
        out = OUT / f"{tool}-amlsim"
        _say(f"AMLSim: {tool} ...")
        child = run_child([tool, str(data), str(out), "--columns", str(mapping)]
                          + (["--no-html"] if tool == "graphkit" else []), timeout_s=900, cwd=ROOT)
        rec = _record(child, 900)
        if child.ok:
            q = quality_of(out, labels=labels)
            rec["quality"] = {k: q[k] for k in ("user_auc", "user_average_precision", "precision_at")}
        found[tool] = rec
        _say(f"  {tool}: {rec['status']} {rec.get('quality', '')}")
    found["single_features"] = _single_features(data, mapping, labels)
    return found


def _single_features(data: Path, mapping: Path, labels: Any) -> dict[str, dict[str, float]]:
    """ROC AUC / AP of single per-account counts, as a yardstick for what the data gives away."""
    import polars as pl

    from graphkit.evaluate import average_precision, roc_auc
    from graphkit.io import read_tables

    gifts = read_tables(data, columns=mapping).gifts
    feats = (
        labels.select("user_id")
        .join(gifts.group_by(pl.col("receiver_id").alias("user_id")).agg(
            pl.len().alias("gifts_in"), pl.col("sender_id").n_unique().alias("senders")), on="user_id", how="left")
        .join(gifts.group_by(pl.col("sender_id").alias("user_id")).agg(
            pl.len().alias("gifts_out"), pl.col("receiver_id").n_unique().alias("receivers")), on="user_id", how="left")
        .fill_null(0)
        .join(labels, on="user_id")
    )
    y = (feats["label"] == "bad").to_numpy()
    found = {}
    for col in ("gifts_in", "senders", "gifts_out", "receivers"):
        s = feats[col].cast(pl.Float64).to_numpy()
        found[col] = {"auc": round(roc_auc(y, s), 4), "ap": round(average_precision(y, s), 4)}
    return found


def _views() -> list[dict[str, Any]]:
    child = run_child(["views-child"], timeout_s=900, cwd=ROOT)
    if not child.ok:
        return [{"status": f"not run: {child.stderr_tail.splitlines()[-1:] or 'failed'}"}]
    return child.data["views"]


def run_views(results_path: Path) -> None:
    """Measure the view draw times and store them in results.json."""
    results = load_results(results_path)
    results["views"] = _views()
    save_results(results, results_path)
    for v in results["views"]:
        print(v)
