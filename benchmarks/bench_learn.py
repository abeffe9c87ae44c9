"""Learning from labels (``graphkit train``, ``report --model``): grouped cross-validation and held-out platforms.

- AMLSim sample: grouped 5-fold cross-validation on its ``isFraud`` labels
  (goal of issue 17: average precision >= 0.80).
- graphkit synth: a model trained on one platform (its ``users.label``),
  grouped 5-fold cross-validation there, then applied to platforms of other
  seeds that it never saw: ring recall and precision and user-level quality
  of ``report`` with and without ``--model``, against each platform's truth.json.

Run by ``python -m benchmarks learn`` (and by ``make bench``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

__all__ = ["run_learning"]


def _train(data: Path, labels_path: Path, columns: Path | None, folds: int) -> tuple[Any, dict[str, Any]]:
    from graphkit import Config, analyze, read_tables
    from graphkit.learn import read_labels, train_model

    start = time.perf_counter()
    report = analyze(read_tables(data, columns=columns), Config(), workers=1)
    analysed = time.perf_counter()
    model, cv = train_model(report, read_labels(labels_path, columns=columns), folds=folds, labels_path=labels_path)
    done = time.perf_counter()
    return model, {"cross_validation": cv.to_dict(), "analyze_s": round(analysed - start, 1),
                   "train_s": round(done - analysed, 1), "features": len(model.features),
                   "labelled": model.training["labelled"], "bad": model.training["bad"]}


def _held_out(data: Path, model: Any) -> dict[str, Any]:
    from graphkit import Config, analyze, read_tables
    from graphkit.evaluate import evaluate
    from graphkit.learn import learned_scorer

    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    tables = read_tables(data)
    found = {}
    for name, learned in (("without model", None), ("with model", learned_scorer(model, digest="bench"))):
        start = time.perf_counter()
        report = analyze(tables, Config(), workers=1, learned=learned)
        wall = time.perf_counter() - start
        ev = evaluate([r.members for r in report.rings], report.user_scores, truth)
        found[name] = {"ring_recall": round(ev.ring_recall, 4), "ring_precision": round(ev.ring_precision, 4),
                       "rings": len(report.rings), "lookalikes_reported": len(ev.lookalikes_reported),
                       "user_auc": round(ev.auc or 0.0, 4), "user_average_precision": round(ev.average_precision or 0.0, 4),
                       "wall_s": round(wall, 1)}
    return found


def run_learning(amlsim: Path | None, *, gifts: int = 100_000, seeds: tuple[int, ...] = (0, 1, 2),
                 folds: int = 5) -> dict[str, Any]:
    """The measurements of the module notes, as a dict for ``results.json`` (key ``learning``)."""
    from benchmarks.data import ROOT, platform_dir

    found: dict[str, Any] = {"folds": folds}
    if amlsim is not None:
        mapping = ROOT / "fixtures" / "amlsim.toml"
        _, found["amlsim"] = _train(amlsim, amlsim / "nodes.csv", mapping, folds)
    else:
        found["amlsim"] = {"status": "not run: AMLSim sample not found (pass --amlsim PATH)"}
    train_dir = platform_dir(gifts, seeds[0])
    users = sorted(train_dir.glob("users.*"))[0]  # synth writes users.label: bad for ring members
    model, found["synth_train"] = _train(train_dir, users, None, folds)
    found["synth_train"].update(gifts=gifts, seed=seeds[0])
    found["synth_held_out"] = [{"gifts": gifts, "seed": seed, **_held_out(platform_dir(gifts, seed), model)}
                               for seed in seeds[1:]]
    return found
