"""``graphkit report`` and ``graphkit demo`` with CliRunner.

The pipeline is replaced by a stand-in that returns a hand-built Report for
the tables the command read, so these tests check the command itself:
options, stages, files, exit codes and error lines. The end-to-end runs with
the real pipeline are in test_cli_report_e2e.py.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import graphkit
import graphkit.report.writers as writers
import graphkit.viz
import graphkit_cli.report as report_cmd
from graphkit.report.store import STORE_FILES
from graphkit_cli.main import cli

from _report_data import BIG_ID, NASTY_ID, ZERO_ID, make_report, write_data_dir


@pytest.fixture()
def data_dir(tmp_path):
    return write_data_dir(tmp_path / "data")


@pytest.fixture()
def pipeline_calls(monkeypatch):
    """Stand in for graphkit.pipeline.analyze: records its calls, reports progress like it."""
    calls = []

    def analyze(tables, config, progress, workers, learned=None):
        calls.append({"tables": tables, "config": config, "workers": workers, "learned": learned})
        for stage in ("build", "communities", "detect", "score"):
            progress(stage)
        return make_report(tables, params=config.to_params())

    monkeypatch.setattr(report_cmd, "_analyze", analyze)
    return calls


@pytest.fixture()
def views(monkeypatch):
    calls = []

    def write_views(report, out_dir, *, top=None, redactor=None, config=None):
        calls.append({"top": top, "redactor": redactor})
        (Path(out_dir) / "rings").mkdir()
        (Path(out_dir) / "index.html").write_text("<html></html>")
        for ring in report.rings[:top]:
            (Path(out_dir) / "rings" / f"{ring.ring_id}.html").write_text("<html></html>")

    monkeypatch.setattr(graphkit.viz, "write_views", write_views, raising=False)
    return calls


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def _error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("graphkit: error: "), result.stderr
    return lines[0]


def test_report_writes_every_output(data_dir, tmp_path, pipeline_calls, views):
    out = tmp_path / "out"
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 0, result.output
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    store = [f"graph/{name}" for name in STORE_FILES]  # the report's store (issue 15)
    assert names == sorted([*store, "graph/source.json"]) + ["index.html", "members.csv", "rejected/gifts.csv", "report.md", "rings.csv",
                     "rings.json", "rings/R0001.html", "rings/R0002.html", "scores.csv"]
    assert "R0001" in result.stdout and "Top rings (2 of 2)" in result.stdout
    assert f"Open {out / 'index.html'} in a browser" in result.stdout
    for stage in report_cmd.STAGES:
        assert stage in result.stderr
    assert pipeline_calls[0]["config"].top == 50
    assert views == [{"top": 50, "redactor": None}]
    assert "(<rings/R0001.html>)" in (out / "report.md").read_text()


def test_report_keeps_19_digit_ids_from_input_to_scores_csv(data_dir, tmp_path, pipeline_calls):
    out = tmp_path / "out"
    result = invoke("report", data_dir, "--out", out, "--no-html", "--quiet")
    assert result.exit_code == 0, result.output
    with open(out / "scores.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ids = {r["user_id"] for r in rows}
    assert {BIG_ID, ZERO_ID, NASTY_ID} <= ids
    with open(data_dir / "users.csv", newline="", encoding="utf-8") as fh:
        assert ids >= {r["user_id"] for r in csv.DictReader(fh)}


def test_report_options_reach_the_config(data_dir, tmp_path, pipeline_calls, views, monkeypatch):
    config = tmp_path / "graphkit.toml"
    config.write_text("[params]\nhub_cap = 7\ntop = 9\n")
    key = tmp_path / "key.txt"
    keys = []
    redactor = graphkit.viz.Redactor(b"k" * 32)
    monkeypatch.setattr(graphkit.viz, "load_or_create_key",
                        lambda path, outside: keys.append((path, outside)) or redactor, raising=False)
    result = invoke("report", data_dir, "--out", tmp_path / "out", "--config", config, "--top", "1",
                    "--since", "2024-02-01", "--until", "1710000000", "--redact-key", key, "-q")
    assert result.exit_code == 0, result.output
    cfg = pipeline_calls[0]["config"]
    assert (cfg.hub_cap, cfg.top, cfg.since, cfg.until) == (7, 1, "2024-02-01", "1710000000")
    assert keys == [(key, tmp_path / "out")]  # the key must stay outside the shared folder
    assert views == [{"top": 1, "redactor": None}, {"top": 1, "redactor": redactor}]  # OUT and OUT/redacted
    assert "Top rings (1 of 2)" in result.stdout
    assert json.loads((tmp_path / "out" / "rings.json").read_text())["params"]["hub_cap"] == 7


def test_quiet_silences_progress(data_dir, tmp_path, pipeline_calls):
    result = invoke("report", data_dir, "--out", tmp_path / "out", "--no-html", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_json_prints_the_summary_for_scripts(data_dir, tmp_path, pipeline_calls):
    out = tmp_path / "out"
    result = invoke("report", data_dir, "--out", out, "--no-html", "--json", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["rings"] == 2
    assert [r["ring_id"] for r in doc["rings"]] == ["R0001", "R0002"]
    assert doc["rings"][0]["beneficiaries"] == ["h1"]
    assert doc["files"]["rings_json"] == str(out / "rings.json")
    assert doc["files"]["index_html"] is None


def test_terminal_table_shows_attacker_ids_as_text():
    from rich.console import Console

    console = Console(width=400, record=True, file=io.StringIO())
    console.print(report_cmd.rings_table(make_report(), 10))
    text = console.export_text()
    assert "x|y_*[a](http://e.vil)<b>`" in text  # not eaten as rich markup


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "'yesterday' is not a timestamp"),
        (["--top", "0"], "--top"),
    ],
)
def test_bad_option_values_exit_2(data_dir, tmp_path, pipeline_calls, args, message):
    result = invoke("report", data_dir, "--out", tmp_path / "out", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "out").exists()
    assert pipeline_calls == []


def test_missing_data_dir_is_one_line_exit_2(tmp_path, pipeline_calls):
    result = invoke("report", tmp_path / "nope", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "nope: data directory not found" in _error_line(result)
    assert not (tmp_path / "out").exists()


def test_bad_config_is_one_line_exit_2(data_dir, tmp_path, pipeline_calls):
    config = tmp_path / "graphkit.toml"
    config.write_text("[params]\nhub_cap = 'many'\n")
    result = invoke("report", data_dir, "--out", tmp_path / "out", "--config", config)
    assert result.exit_code == 2, result.output
    assert "hub_cap" in _error_line(result)


def _break_gifts(data_dir: Path) -> None:
    """Every gift row gets negative coins: too many rejected rows, the run fails."""
    gifts = (data_dir / "gifts.csv").read_text().splitlines()
    bad = [line.replace(",10.0,", ",-1.0,") for line in gifts[1:]]
    (data_dir / "gifts.csv").write_text("\n".join([gifts[0], *bad]) + "\n")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_too_many_rejected_rows_are_still_written(data_dir, tmp_path, pipeline_calls):
    _break_gifts(data_dir)
    out = tmp_path / "out"
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 2, result.output
    line = _error_line(result)
    assert "rows rejected" in line and f"the rejected rows are in {tmp_path / 'out.rejected'}/" in line
    assert not out.exists()  # a failed run writes no report folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out.rejected"]
    assert (tmp_path / "out.rejected" / "gifts.csv").read_text().count("negative coins") == 13
    assert pipeline_calls == []


def test_a_failed_run_keeps_the_previous_report_as_it_was(data_dir, tmp_path, pipeline_calls, views):
    out = tmp_path / "out"
    assert invoke("report", data_dir, "--out", out).exit_code == 0
    before = _snapshot(out)
    good = (data_dir / "gifts.csv").read_text()
    _break_gifts(data_dir)
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 2, result.output
    line = _error_line(result)
    assert f"the rejected rows are in {tmp_path / 'out.rejected'}/" in line
    assert f"the previous report in {out} is kept as it was" in line
    assert _snapshot(out) == before
    assert (tmp_path / "out.rejected" / "gifts.csv").read_text().count("negative coins") == 13
    # the data fixed, the next run replaces the report and the failed run's rejected rows
    (data_dir / "gifts.csv").write_text(good)
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]
    assert (out / "rejected" / "gifts.csv").read_text().count("negative coins") == 1


def test_the_failed_runs_folder_keeps_files_the_user_put_there(data_dir, tmp_path, pipeline_calls):
    (tmp_path / "out.rejected").mkdir()
    (tmp_path / "out.rejected" / "triage.md").write_text("mine")
    _break_gifts(data_dir)
    assert invoke("report", data_dir, "--out", tmp_path / "out").exit_code == 2
    assert (tmp_path / "out.rejected" / "triage.md").read_text() == "mine"
    assert (tmp_path / "out.rejected" / "gifts.csv").is_file()


def test_a_csv_of_the_users_in_the_failed_runs_folder_is_never_replaced_or_removed(data_dir, tmp_path, pipeline_calls):
    """A gifts.csv someone put in OUT_DIR.rejected/ is theirs: a failed run does not overwrite it, and the next
    good run does not delete it (only folders holding graphkit's marker are graphkit's)."""
    (tmp_path / "out.rejected").mkdir()
    (tmp_path / "out.rejected" / "gifts.csv").write_text("mine")
    good = tmp_path / "good"
    good.mkdir()
    for path in (data_dir.iterdir()):
        (good / path.name).write_bytes(path.read_bytes())
    assert invoke("report", good, "--out", tmp_path / "out").exit_code == 0
    assert (tmp_path / "out.rejected" / "gifts.csv").read_text() == "mine"
    _break_gifts(data_dir)
    result = invoke("report", data_dir, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "which graphkit did not write" in _error_line(result)
    assert (tmp_path / "out.rejected" / "gifts.csv").read_text() == "mine"


def test_a_file_in_the_failed_runs_place_is_kept_and_the_error_says_so(data_dir, tmp_path, pipeline_calls):
    (tmp_path / "out.rejected").write_text("someone's file")
    _break_gifts(data_dir)
    result = invoke("report", data_dir, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    line = _error_line(result)
    assert "rows rejected" in line and "the rejected rows were not written" in line
    assert f"{tmp_path / 'out.rejected'}: exists and is not a folder" in line
    assert (tmp_path / "out.rejected").read_text() == "someone's file"


def test_refuses_a_folder_with_a_rings_json_graphkit_did_not_write(data_dir, tmp_path, pipeline_calls):
    out = tmp_path / "p"
    (out / "src").mkdir(parents=True)
    (out / "rings.json").write_text("{}")
    (out / "src" / "main.py").write_text("x")
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"{out}: its rings.json was not written by graphkit" in _error_line(result)
    assert (out / "src" / "main.py").read_text() == "x"
    assert pipeline_calls == []


def test_case_notes_in_a_report_survive_the_next_run(data_dir, tmp_path, pipeline_calls, views):
    out = tmp_path / "out"
    assert invoke("report", data_dir, "--out", out).exit_code == 0
    (out / "case-notes.md").write_text("R0001 escalated")
    result = invoke("report", data_dir, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert (out / "case-notes.md").read_text() == "R0001 escalated"
    assert json.loads(result.stdout)["files"]["kept"] == [str(out / "case-notes.md")]  # it says what it kept


def test_an_out_dir_that_cannot_be_created_is_refused_before_the_analysis(data_dir, tmp_path, pipeline_calls):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "report"
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 2, result.output
    assert f"{out}: cannot write in {tmp_path / 'file'}" in _error_line(result)
    assert pipeline_calls == []


def test_files_of_a_report_follow_the_umask(data_dir, tmp_path, pipeline_calls):
    import os
    import stat

    previous = os.umask(0o027)
    try:
        result = invoke("report", data_dir, "--out", tmp_path / "out")  # the real views: written atomically
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert {k: v for k, v in modes.items() if v != (0o750 if (tmp_path / k).is_dir() else 0o640)} == {}
    assert "out/index.html" in modes


def test_refuses_an_out_dir_that_is_not_a_report(data_dir, tmp_path, pipeline_calls):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    result = invoke("report", data_dir, "--out", out)
    assert result.exit_code == 2, result.output
    assert "not a graphkit report" in _error_line(result)
    assert (out / "notes.txt").read_text() == "keep"
    assert pipeline_calls == []  # refused before the analysis


@pytest.mark.parametrize("where", [".", ".."])
def test_refuses_to_replace_the_data_dir(data_dir, pipeline_calls, where):
    result = invoke("report", data_dir, "--out", data_dir / where)
    assert result.exit_code == 2, result.output
    assert "holds the input data" in _error_line(result)
    assert (data_dir / "gifts.csv").is_file()


@pytest.mark.parametrize(("error", "code"), [(KeyboardInterrupt(), 130), (RuntimeError("disk on fire"), 1)])
def test_interrupted_report_leaves_no_partial_output(data_dir, tmp_path, pipeline_calls, monkeypatch, error, code):
    def boom(*args, **kwargs):
        raise error

    monkeypatch.setattr(writers, "render_markdown", boom)  # fails after rings.json etc. are written
    out = tmp_path / "out"
    result = invoke("report", data_dir, "--out", out, "--no-html")
    assert result.exit_code == code, result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no temporary folder either
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # the progress bars are cleared, one line stays
    assert ("interrupted" if code == 130 else "internal error: RuntimeError: disk on fire") in lines[0]


def test_debug_shows_the_traceback(data_dir, tmp_path, pipeline_calls, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writers, "render_markdown", boom)
    result = invoke("--debug", "report", data_dir, "--out", tmp_path / "out", "--no-html", "-q")
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)  # re-raised: python prints the traceback
    result = invoke("--debug", "report", tmp_path / "nope", "--out", tmp_path / "out")
    assert isinstance(result.exception, graphkit.GraphkitError)


def test_demo_reports_on_the_bundled_data(data_dir, tmp_path, pipeline_calls, views, monkeypatch):
    import graphkit_cli.demo as demo_cmd

    monkeypatch.setattr(demo_cmd, "demo_data_dir", lambda: data_dir)
    monkeypatch.chdir(tmp_path)
    result = invoke("demo", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "graphkit-demo" / "index.html").is_file() and (tmp_path / "graphkit-demo" / "rings.json").is_file()
    # said once (the demo repeated the report's line with the absolute path), with the path as given
    assert "Open graphkit-demo/index.html in a browser" in result.stdout and result.stdout.count("in a browser") == 1


def test_demo_without_the_fixture_is_one_line_exit_2(tmp_path, monkeypatch, pipeline_calls):
    fake_package = tmp_path / "site" / "graphkit"
    fake_package.mkdir(parents=True)
    monkeypatch.setattr(graphkit, "__file__", str(fake_package / "__init__.py"))
    result = invoke("demo", "--out", tmp_path / "demo")
    assert result.exit_code == 2, result.output
    assert "demo data not found" in _error_line(result)
    assert not (tmp_path / "demo").exists()


def test_workers_reach_the_pipeline_and_must_be_at_least_one(data_dir, tmp_path, pipeline_calls, views):
    assert invoke("report", data_dir, "--out", tmp_path / "a", "--workers", "1").exit_code == 0
    assert invoke("report", data_dir, "--out", tmp_path / "b").exit_code == 0
    assert [call["workers"] for call in pipeline_calls] == [1, None]
    result = invoke("report", data_dir, "--out", tmp_path / "c", "--workers", "0")
    assert result.exit_code == 2
    assert "--workers" in result.output
