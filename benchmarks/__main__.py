"""``python -m benchmarks``: graphkit against a hand-written pandas + networkx pipeline.

Commands (``python -m benchmarks COMMAND -h`` for options):

``run`` (the default, what ``make bench`` does)
    For each size and seed: generate (or reuse) a synth platform, run
    graphkit and the baseline in child processes (wall time, per-stage time,
    peak RSS from the OS), judge both outputs with
    :func:`graphkit.evaluate.evaluate_output`; then AMLSim and the HTML view
    timing. Results are merged into ``benchmarks/results.json`` (keyed by
    tool, size and seed) and ``benchmarks/RESULTS.md`` is rewritten.
``graphkit DATA OUT`` / ``baseline DATA OUT``
    One run of one tool, printing a JSON line (what ``run`` calls in a child).
``views``
    Draw time of HTML views in headless Chromium.
``history``
    Rings over time: ``graphkit synth --days 7`` reported day by day with
    ``--previous`` and diffed, judged against ``timeline.json``, and its fan
    clubs judged benign and held back with ``--labels``
    (:mod:`benchmarks.bench_history`; ``run`` does it too unless ``--no-history``).
``learn``
    Learning from labels: grouped cross-validation on AMLSim and synth, and a
    synth-trained model on held-out synth platforms (``benchmarks/bench_learn.py``).
``results``
    Rewrite ``RESULTS.md`` from ``results.json``.
``flags``
    What the flags table adds on synth platforms, with and without it, and the
    held-out-flags protocol (``benchmarks/bench_flags.py``).
``store``
    Investigation questions at scale (issue 15): a 1-hour window report, ``expand``/``path``/``show``
    from a report's store, the whole report, Parquet store against DuckDB (:mod:`benchmarks.bench_store`).

Examples: ``python -m benchmarks run --sizes 1e5 --seeds 0 --no-amlsim --no-views``;
the big-ring size bands of issue 21: ``python -m benchmarks run --sizes 1e6,1e7 --seeds 0,1,2
--all-seeds-max 1e7 --ring-size-max 2000 --no-baseline --no-amlsim --no-views --no-html``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.data import ROOT

__all__ = ["main", "parse_params"]


def _sizes(text: str) -> list[int]:
    return [int(float(s)) for s in text.split(",") if s.strip()]


def _ints(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def parse_params(items: list[str]) -> dict[str, object]:
    """``["cogift_stream_cap=50"]`` -> ``{"cogift_stream_cap": 50}`` (values parsed as TOML scalars)."""
    import tomllib

    return {k.strip(): tomllib.loads(f"v = {v.strip()}")["v"] for k, v in (item.split("=", 1) for item in items)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="the benchmark matrix (default)")
    run.add_argument("--sizes", type=_sizes, default=_sizes("1e5,1e6,1e7"), help="gift counts [1e5,1e6,1e7]")
    run.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="synth seeds [0,1,2]")
    run.add_argument("--all-seeds-max", type=float, default=1e6,
                     help="sizes above this run the first seed only [1e6]")
    run.add_argument("--baseline-max", type=float, default=1e6, help="largest size the baseline runs at [1e6]")
    run.add_argument("--baseline-timeout", type=float, default=900.0, help="seconds before the baseline is killed [900]")
    run.add_argument("--timeout", type=float, default=3600.0, help="seconds before a graphkit run is killed [3600]")
    run.add_argument("--no-html", action="store_true", help="skip the HTML views in the graphkit runs")
    run.add_argument("--no-baseline", action="store_true", help="graphkit only")
    run.add_argument("--no-amlsim", action="store_true", help="skip the AMLSim sample")
    run.add_argument("--no-views", action="store_true", help="skip the Chromium view timing")
    run.add_argument("--no-history", action="store_true", help="skip rings over time (synth --days 7)")
    run.add_argument("--no-learn", action="store_true", help="skip the learning benchmark (graphkit train)")
    run.add_argument("--amlsim", type=Path, default=None,
                     help="AMLSim sample folder [<repo>/../shared/datasets/amlsim-20k]")
    run.add_argument("--set", dest="params", action="append", default=[], metavar="NAME=VALUE",
                     help="graphkit runs: override a Config field; recorded as a separate variant")
    run.add_argument("--ring-size-max", type=int, default=None, metavar="N",
                     help="platforms from graphkit synth --ring-size-max N (rings of 5 to N accounts, big look-alikes); "
                          "recorded as their own variant, judged per size band (issue 21)")
    run.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")

    for name in ("graphkit", "baseline"):
        one = sub.add_parser(name, help=f"one {name} run (prints a JSON line)")
        one.add_argument("data", type=Path)
        one.add_argument("out", type=Path)
        one.add_argument("--columns", type=Path, default=None)
        one.add_argument("--seed", type=int, default=0)
        if name == "graphkit":
            one.add_argument("--no-html", action="store_true")
            one.add_argument("--set", dest="params", action="append", default=[], metavar="NAME=VALUE",
                             help="override a Config field (an experiment), e.g. --set cogift_stream_cap=50")

    learn = sub.add_parser("learn", help="graphkit train: grouped cross-validation, held-out synth platforms")
    learn.add_argument("--amlsim", type=Path, default=None,
                       help="AMLSim sample folder [<repo>/../shared/datasets/amlsim-20k]")
    learn.add_argument("--gifts", type=float, default=1e5, help="synth size in gifts [1e5]")
    learn.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="synth seeds: train on the first [0,1,2]")
    learn.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")
    views = sub.add_parser("views", help="HTML view draw time in headless Chromium")
    views.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")
    sub.add_parser("views-child", help=argparse.SUPPRESS)
    hist = sub.add_parser("history", help="rings over time: synth --days, reported day by day with --previous "
                          "(and --labels once its fan clubs are judged benign)")
    hist.add_argument("--days", type=int, default=7)
    hist.add_argument("--users", type=int, default=20_000)
    hist.add_argument("--gifts", type=int, default=140_000)
    hist.add_argument("--seed", type=int, default=0)
    hist.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")
    flags = sub.add_parser("flags", help="synth with flags: scores with and without them, held-out flags")
    flags.add_argument("--sizes", type=_sizes, default=_sizes("1e5,1e6"), help="gift counts [1e5,1e6]")
    flags.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="synth seeds [0,1,2]")
    flags.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")
    sub.add_parser("store", help="investigation questions: window report, expand/path/show --report, the store's "
                                 "format (options: python -m benchmarks store -h)", add_help=False)
    sub.add_parser("spark", help="graphkit report --engine spark on a standalone cluster on 127.0.0.1: wall time, "
                                 "driver and executor peak memory (options: python -m benchmarks spark -h)", add_help=False)
    res = sub.add_parser("results", help="rewrite RESULTS.md from results.json")
    res.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "spark":  # its own options (benchmarks.bench_spark)
        from benchmarks.bench_spark import main as spark_main

        return spark_main(argv[1:])
    if argv and argv[0] == "store":  # its own options (benchmarks.bench_store)
        from benchmarks.bench_store import main as store_main

        return store_main(argv[1:])
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    args = _parser().parse_args(argv)
    if args.command == "graphkit":
        from benchmarks.runner import run_graphkit

        print(json.dumps(run_graphkit(args.data, args.out, columns=args.columns, html=not args.no_html,
                                      seed=args.seed, params=parse_params(args.params))), flush=True)
    elif args.command == "baseline":
        from benchmarks.baseline import run_baseline

        print(json.dumps(run_baseline(args.data, args.out, columns=args.columns, seed=args.seed)), flush=True)
    elif args.command == "views":
        from benchmarks.suite import run_views

        run_views(args.results)
    elif args.command == "views-child":
        from benchmarks.bench_views import measure

        print(json.dumps({"views": measure()}), flush=True)
    elif args.command == "history":
        from benchmarks.results import write_results_md
        from benchmarks.suite import load_results, run_history_into

        results = load_results(args.results)
        run_history_into(results, args.results, days=args.days, users=args.users, gifts=args.gifts, seed=args.seed)
        print(write_results_md(args.results))
    elif args.command == "flags":
        from benchmarks.bench_flags import run_flags

        run_flags(args.sizes, args.seeds, args.results)
    elif args.command == "learn":
        from benchmarks.suite import run_learn

        run_learn(args.results, args.amlsim, gifts=int(args.gifts), seeds=tuple(args.seeds))
    elif args.command == "results":
        from benchmarks.results import write_results_md

        print(write_results_md(args.results))
    else:
        from benchmarks.suite import run_suite

        run_suite(args)


if __name__ == "__main__":
    main()
