"""The graphkit side of a benchmark: ``graphkit report`` step by step, timed per stage.

Runs in a child process (:mod:`benchmarks.child`) and prints one JSON line
with the stage times. The steps are those of ``graphkit report``
(``graphkit_cli.report.run_report``): read the tables, :func:`graphkit.analyze`
(its ``progress`` callback marks the start of build, communities, detect and
score), write the contract's files, then the HTML views.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["run_graphkit"]


def run_graphkit(data_dir: Path, out_dir: Path, *, columns: Path | None = None, html: bool = True,
                 seed: int = 0, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run graphkit's report on ``data_dir`` into ``out_dir``; return the stage times in seconds.

    ``params`` overrides :class:`graphkit.Config` fields (an experiment; the default run has none).
    """
    from graphkit import Config, analyze, read_tables
    from graphkit.report import write_report

    config = Config(seed=seed).replace(**(params or {}))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    stages: dict[str, float] = {}
    start = time.perf_counter()
    tables = read_tables(data_dir, columns=columns, max_bad_share=config.max_bad_share)
    stages["read"] = time.perf_counter() - start

    marks: list[tuple[str, float]] = []

    def mark(stage: str) -> None:
        marks.append((stage, time.perf_counter()))
        # on stderr, so that a run killed for time or memory still tells which stage it reached
        print(f"stage {stage} at {marks[-1][1] - start:.1f} s", file=sys.stderr, flush=True)

    report = analyze(tables, config, progress=mark)
    done = time.perf_counter()
    for (stage, at), (_, until) in zip(marks, marks[1:] + [("", done)]):
        stages[{"detect": "detectors", "score": "scoring"}.get(stage, stage)] = until - at

    t = time.perf_counter()
    write_report(report, out_dir, html=False, top=config.top)
    stages["writing"] = time.perf_counter() - t
    if html:
        from graphkit.viz import write_views

        t = time.perf_counter()
        write_views(report, out_dir, top=config.top)
        stages["html"] = time.perf_counter() - t
    return {
        "tool": "graphkit",
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "total_s": round(time.perf_counter() - start, 3),
        "users": int(report.summary["users"]),
        "gifts": int(report.summary["gifts"]),
        "rings": len(report.rings),
    }
