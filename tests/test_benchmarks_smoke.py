"""The benchmark scripts run end to end on a tiny platform (so they cannot silently rot).

Nothing here is timed: speed is measured by ``python -m benchmarks``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from benchmarks.baseline import run_baseline
from benchmarks.child import run_child
from benchmarks.data import ROOT
from benchmarks.results import render
from benchmarks.runner import run_graphkit
from benchmarks.suite import quality_of
from graphkit.synth import generate


@pytest.fixture(scope="module")
def platform_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "platform"
    generate(users=2_000, gifts=12_000, seed=3).write(path, format="parquet")
    return path


def test_graphkit_runner_times_every_stage_and_writes_the_contract(platform_dir: Path, tmp_path: Path) -> None:
    result = run_graphkit(platform_dir, tmp_path / "gk", html=True)
    assert list(result["stages"]) == ["read", "build", "communities", "detectors", "scoring", "writing", "html"]
    assert all(v >= 0 for v in result["stages"].values())
    assert result["gifts"] == 12_000
    assert (tmp_path / "gk" / "index.html").is_file()
    quality = quality_of(tmp_path / "gk", platform_dir / "truth.json")
    assert quality["planted_rings"] > 0
    assert 0.0 <= quality["ring_recall"] <= 1.0
    assert quality["user_average_precision"] is not None


def test_baseline_writes_what_the_evaluator_reads(platform_dir: Path, tmp_path: Path) -> None:
    result = run_baseline(platform_dir, tmp_path / "bl")
    doc = json.loads((tmp_path / "bl" / "rings.json").read_text())
    assert doc["rings"] and [r["rank"] for r in doc["rings"]] == list(range(1, len(doc["rings"]) + 1))
    scores = [r["score"] for r in doc["rings"]]
    assert scores == sorted(scores, reverse=True)
    assert result["rings"] == len(doc["rings"])
    quality = quality_of(tmp_path / "bl", platform_dir / "truth.json")
    assert quality["k"] == 2 * quality["planted_rings"]


def test_child_process_reports_json_wall_time_and_peak_memory(platform_dir: Path, tmp_path: Path) -> None:
    child = run_child(["baseline", str(platform_dir), str(tmp_path / "bl")], timeout_s=300, cwd=ROOT)
    assert child.ok, child.stderr_tail
    assert child.data["tool"] == "baseline"
    assert child.peak_rss_mb > 10 and child.wall_s > 0


def test_results_markdown_has_the_tables(platform_dir: Path, tmp_path: Path) -> None:
    gk = run_graphkit(platform_dir, tmp_path / "gk", html=False)
    run = {"tool": "graphkit", "gifts": 12_000, "seed": 0, "ok": True, "wall_s": 5.0, "peak_rss_mb": 300,
           **gk, "quality": quality_of(tmp_path / "gk", platform_dir / "truth.json")}
    text = render({"machine": {"cores": 2}, "versions": {"graphkit": "0"}, "runs": [run,
                  {"tool": "baseline", "gifts": 12_000, "seed": 0, "ok": False, "status": "timed out after 900 s"}]})
    assert "## Speed and memory" in text and "## Detection quality" in text
    assert "timed out after 900 s" in text


def test_results_markdown_has_recall_by_size_band_for_big_ring_platforms(platform_dir: Path, tmp_path: Path) -> None:
    gk = run_graphkit(platform_dir, tmp_path / "gk", html=False)
    quality = quality_of(tmp_path / "gk", platform_dir / "truth.json")
    planted = sum(band["planted"] for band in quality["recall_by_size"].values())
    assert planted == quality["planted_rings"]
    run = {"tool": "graphkit", "gifts": 12_000, "seed": 0, "ok": True, "wall_s": 5.0, "peak_rss_mb": 300,
           "variant": "ring-size-max 2000", "ring_size_max": 2000, **gk, "quality": quality}
    text = render({"machine": {"cores": 2}, "versions": {"graphkit": "0"}, "runs": [run]})
    section = text.split("## Big rings: recall by ring size")[1]
    band, got = next(iter(quality["recall_by_size"].items()))
    assert f"{band} accounts" in section and f"({got['found']} of {got['planted']})" in section


@pytest.mark.parametrize("exit_code", [0, 1])
def test_the_spark_benchmark_writes_nothing_into_the_checkout(exit_code: int, tmp_path: Path, monkeypatch) -> None:
    """Its reports, cluster and driver folder go to a scratch folder (the notebook test watches the checkout).

    No Spark here: the cluster and the driver are stand-ins that write where they are told, as the real ones do.
    """
    from contextlib import contextmanager

    import graphkit.evaluate
    from benchmarks import bench_spark
    from benchmarks.spark_cluster import Cluster

    written: list[Path] = []
    driver_folders: list[Path] = []

    @contextmanager
    def cluster(folder: Path, **_options):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "master.log").write_text("Registering worker\n")
        written.append(folder)
        yield Cluster(url="spark://127.0.0.1:1", env={}, worker_pids=())

    def driver(cmd: list[str], env: dict[str, str], worker_pids: tuple[int, ...], **options) -> dict:
        out = Path(cmd[cmd.index("--out") + 1])
        out.mkdir(parents=True)
        (out / "rings.json").write_text("{}")
        written.append(out)
        driver_folders.append(Path(options.get("cwd", ROOT)))
        return {"wall_s": 0.0, "exit": exit_code}

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # TMPDIR, read once
    monkeypatch.setattr(bench_spark, "platform_dir", lambda gifts, seed: tmp_path / "data")
    monkeypatch.setattr(bench_spark, "standalone_cluster", cluster)
    monkeypatch.setattr(bench_spark, "_sampled", driver)
    monkeypatch.setattr(graphkit.evaluate, "evaluate_output",
                        lambda out, truth: type("Quality", (), {"ring_recall": 1.0, "ring_precision": 1.0})())
    rows = bench_spark.run_spark_bench([1000, 2000], 0, 2, "1g", "1g")
    assert [row["exit"] for row in rows] == [exit_code] * 2
    inside = [p for p in written + driver_folders if p.resolve().is_relative_to(ROOT)]
    assert not inside, f"the Spark benchmark wrote into the checkout: {inside}"
    scratch = {p.resolve() for p in driver_folders}
    assert len(scratch) == 1 and all(p.resolve().parent in scratch for p in written), (scratch, written)
    assert next(iter(scratch)).parent == (tmp_path / "tmp").resolve()
    assert scratch.pop().exists() == (exit_code != 0), "removed after a run that succeeded, kept after a failure"
