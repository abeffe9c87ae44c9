"""The Spark engine's own outputs: per-account scores and rejected rows as Parquet, staged for the report."""

from __future__ import annotations

import os
from pathlib import Path

from graphkit.engines.spark.engine import SparkResult

__all__ = ["stage_outputs", "staging_folder"]


def staging_folder(out_dir: str | Path) -> Path:
    """A new folder beside ``out_dir`` for the executors' Parquet outputs (remove it when done)."""
    out_dir = Path(out_dir)
    staging = out_dir.parent / f".{out_dir.name}.spark-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=False)
    return staging


def stage_outputs(result: SparkResult, staging: Path) -> dict[str, Path]:
    """``rejected/`` (Parquet, written by the executors) into ``staging``, beside the scores :func:`analyze` wrote there.

    Returns ``{entry: folder}`` for :func:`graphkit.report.write_report`
    ``staged``, which moves them into the report before it is swapped in, so
    that a failed run leaves the previous report as it was.
    """
    staged = {"scores": staging / "scores"}
    written = [name for name, frame in result.rejected.items() if not frame.isEmpty()]
    if written:
        staged["rejected"] = staging / "rejected"
        for name in written:
            result.rejected[name].coalesce(1).write.mode("error").parquet(str(staged["rejected"] / f"{name}.parquet"))
    return staged
