"""What the flags table adds (issue 20): synth platforms with flags, each scored with and without them.

For each size and seed: ``graphkit synth --flags`` (chargebacks on 20% of the
members of half the planted rings, reports or chargebacks on 0.2% of honest
accounts), then in this process:

- ``analyze`` without the flags table and with it: ring recall and precision,
  how many of the flagged planted rings are found, user-level AP and AUC
  against the planted rings' members;
- the held-out-flags protocol (:func:`graphkit.evaluate.hide_flags`,
  :func:`graphkit.evaluate.held_out_flags`): every flag of a random half of the
  flagged accounts is hidden, the report runs on the other half, and the hidden
  accounts are ranked among the unflagged ones by the score, by ``known_bad``
  alone, and by the score of the run without any flags.

``python -m benchmarks flags [--sizes 1e5,1e6] [--seeds 0,1,2]`` stores the
rows under ``flags`` in ``results.json`` and rewrites ``RESULTS.md``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from graphkit import Config, analyze
from graphkit.evaluate import evaluate, held_out_flags, hide_flags
from graphkit.synth import generate
from graphkit.synth.flags import with_flags

from benchmarks.data import users_for

__all__ = ["measure", "render_flags", "run_flags"]


def measure(gifts: int, seed: int) -> dict[str, Any]:
    """One row of the table (see the module notes)."""
    started = time.perf_counter()
    platform = with_flags(generate(users=users_for(gifts), gifts=gifts, seed=seed), seed=seed)
    truth = platform.truth
    tables = platform.tables()
    config = Config(seed=seed)
    no_flags = dataclasses.replace(tables, flags=tables.flags.clear(), present=tables.present - {"flags"})
    row: dict[str, Any] = {"gifts": gifts, "seed": seed, "planted": len(truth["rings"]),
                           "flagged_rings": len(truth["flags"]["rings"]), "flags": tables.flags.height}
    for name, run_tables in (("without", no_flags), ("with", tables)):
        report = analyze(run_tables, config)
        ev = evaluate([r.members for r in report.rings], report.user_scores, truth,
                      ring_ids=[r.ring_id for r in report.rings])
        found = {m.ring_id for m in ev.matches if m.found_by is not None}
        row[name] = {
            "rings": len(report.rings), "ring_recall": round(ev.ring_recall, 4),
            "ring_precision": round(ev.ring_precision, 4),
            "flagged_rings_found": len(found & set(truth["flags"]["rings"])),
            "user_ap": round(ev.average_precision or 0.0, 4), "user_auc": round(ev.auc or 0.0, 4),
        }
        if name == "without":
            unflagged_scores = report.user_scores
    visible, hidden = hide_flags(tables.flags, seed=seed)
    held = analyze(dataclasses.replace(tables, flags=visible), config)
    row["held_out"] = {
        "hidden": int(hidden.len()),
        "score": held_out_flags(held.user_scores, tables.flags, hidden).to_dict(),
        "known_bad": held_out_flags(held.user_features, tables.flags, hidden, score="known_bad").to_dict(),
        "score_without_any_flags": held_out_flags(unflagged_scores, tables.flags, hidden).to_dict(),
    }
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def run_flags(sizes: list[int], seeds: list[int], results_path: Path) -> None:
    """Measure every size and seed, store them under ``flags`` in ``results_path``, rewrite RESULTS.md."""
    from benchmarks.results import write_results_md
    from benchmarks.suite import load_results, save_results

    results = load_results(results_path)
    rows = {(r["gifts"], r["seed"]): r for r in results.get("flags", [])}
    for gifts in sizes:
        for seed in seeds:
            print(f"flags: {gifts:,} gifts, seed {seed} ...", flush=True)
            rows[(gifts, seed)] = measure(gifts, seed)
            print(f"  {rows[(gifts, seed)]}", flush=True)
            results["flags"] = [rows[k] for k in sorted(rows)]
            save_results(results, results_path)
    print(write_results_md(results_path))


def render_flags(rows: list[dict[str, Any]]) -> list[str]:
    """The RESULTS.md section."""
    if not rows:
        return []
    lines = [
        "",
        "## Known-bad flags (`python -m benchmarks flags`, `benchmarks/bench_flags.py`)",
        "",
        "`graphkit synth --flags`: chargebacks on 20% of the members of half the planted rings, reports or "
        "chargebacks on 0.2% of honest accounts. The same platform scored without the flags table and with it; "
        "user AP/AUC against the planted rings' members. Held out: every flag of a random half of the flagged "
        "accounts is hidden; the hidden accounts are ranked among the accounts with no flag.",
        "",
        "| gifts | seed | flagged rings | ring recall without / with | ring precision without / with | "
        "flagged rings found without / with | user AP without / with | user AUC without / with | "
        "held out: AUC of score / known_bad / score without any flags | held out: AP of the same |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        w, f, h = r["without"], r["with"], r["held_out"]
        lines.append(
            f"| 10^{len(str(r['gifts'])) - 1} | {r['seed']} | {r['flagged_rings']} of {r['planted']} | "
            f"{w['ring_recall']:.2f} / {f['ring_recall']:.2f} | {w['ring_precision']:.2f} / {f['ring_precision']:.2f} | "
            f"{w['flagged_rings_found']} / {f['flagged_rings_found']} | {w['user_ap']:.3f} / {f['user_ap']:.3f} | "
            f"{w['user_auc']:.3f} / {f['user_auc']:.3f} | "
            f"{h['score']['auc']:.3f} / {h['known_bad']['auc']:.3f} / {h['score_without_any_flags']['auc']:.3f} | "
            f"{h['score']['average_precision']:.3f} / {h['known_bad']['average_precision']:.3f} / "
            f"{h['score_without_any_flags']['average_precision']:.3f} |"
        )
    return lines
