"""``graphkit report`` end to end, with the real pipeline (graphkit.pipeline.analyze)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import graphkit
from graphkit_cli.main import cli

from _report_data import BIG_ID, ZERO_ID, write_data_dir

DEMO = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _ids(path: Path, *columns: str) -> set[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row[c] for row in csv.DictReader(fh) for c in columns if row.get(c)}


def test_same_input_gives_byte_identical_outputs(tmp_path):
    data = write_data_dir(tmp_path / "data")
    _run("report", data, "--out", tmp_path / "a", "--no-html", "-q")
    _run("report", data, "--out", tmp_path / "b", "--no-html", "-q")
    for name in ("rings.json", "rings.csv", "scores.csv", "members.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_ids_survive_from_input_to_scores_csv(tmp_path):
    data = write_data_dir(tmp_path / "data")
    _run("report", data, "--out", tmp_path / "out", "--no-html", "-q")
    scored = _ids(tmp_path / "out" / "scores.csv", "user_id")
    in_graph = _ids(data / "gifts.csv", "sender_id", "receiver_id") | _ids(data / "devices.csv", "user_id")
    assert BIG_ID in scored and ZERO_ID in scored
    assert in_graph <= scored  # every account in the graph has a score, its id unchanged
    doc = json.loads((tmp_path / "out" / "rings.json").read_text())
    assert {m for ring in doc["rings"] for m in ring["members"]} <= scored


def test_json_summary_matches_the_files(tmp_path):
    data = write_data_dir(tmp_path / "data")
    result = _run("report", data, "--out", tmp_path / "out", "--no-html", "-q", "--json")
    doc = json.loads(result.stdout)
    rings = json.loads((tmp_path / "out" / "rings.json").read_text())["rings"]
    assert [r["ring_id"] for r in doc["rings"]] == [r["ring_id"] for r in rings][: len(doc["rings"])]


def test_report_writes_the_views(tmp_path):
    data = write_data_dir(tmp_path / "data")
    _run("report", data, "--out", tmp_path / "out", "-q")
    out = tmp_path / "out"
    assert (out / "index.html").is_file()
    rings = json.loads((out / "rings.json").read_text())["rings"]
    for ring in rings:
        assert (out / "rings" / f"{ring['ring_id']}.html").is_file()


@pytest.mark.slow
def test_demo_runs_on_the_bundled_data(tmp_path):
    result = _run("demo", "--out", tmp_path / "demo", "-q")
    assert (tmp_path / "demo" / "index.html").is_file()
    assert "index.html in a browser" in result.stdout
    assert result.stdout.count("in a browser") == 1, f"say it once:\n{result.stdout}"
    assert json.loads((tmp_path / "demo" / "rings.json").read_text())["rings"], "the demo data has planted rings"


@pytest.mark.slow
def test_demo_outputs_are_byte_identical_across_processes(tmp_path):
    """The demo's real rings, written by this process and by a fresh one with another hash seed and one thread.

    Set iteration order (PYTHONHASHSEED) and polars' thread count are what
    would change between two runs of the same command; neither may change a
    byte of the contract files.
    """
    _run("report", DEMO, "--out", tmp_path / "a", "--no-html", "-q")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "POLARS_MAX_THREADS": "1"}
    code = "from graphkit_cli.main import cli; cli()"
    done = subprocess.run([sys.executable, "-c", code, "report", str(DEMO), "--out", str(tmp_path / "b"), "--no-html",
                           "-q"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rings = json.loads((tmp_path / "a" / "rings.json").read_text())["rings"]
    assert len(rings) >= 5 and all(r["members"] for r in rings), "the demo has real rings to compare"
    for name in ("rings.json", "rings.csv", "scores.csv", "report.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_failed_run_on_bad_rows_leaves_the_previous_report_and_the_next_run_works(tmp_path):
    """Issue 18.2, as reported: a good report, then fixtures/bad/too_many_bad_rows into the same folder."""
    out = tmp_path / "out"
    _run("report", write_data_dir(tmp_path / "data"), "--out", out, "--no-html", "-q")
    (out / "case-notes.md").write_text("checked R0001")
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = CliRunner().invoke(cli, ["report", str(DEMO.parent / "bad" / "too_many_bad_rows"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"the rejected rows are in {tmp_path / 'out.rejected'}/" in result.stderr
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert (tmp_path / "out.rejected" / "gifts.csv").read_text().count("\n") == 4  # header and 3 rows
    _run("report", tmp_path / "data", "--out", out, "--no-html", "-q")
    assert (out / "case-notes.md").read_text() == "checked R0001"
    assert not (tmp_path / "out.rejected").exists()
