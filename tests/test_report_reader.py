"""read_report: the one reader of an earlier report, and its one-line errors."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit.errors import InputError, NotFoundError
from graphkit.model import Report
from graphkit.report import read_report, read_scores, write_report
from graphkit_cli.main import cli


@pytest.fixture()
def out(tmp_path):
    scores = pl.DataFrame({"user_id": ["007", "b"], "score": [0.9, 0.1], "ring_id": ["R0001", None]})
    folder = tmp_path / "out"
    write_report(Report((), scores, {}, {}), folder, html=False)
    return folder


def test_ids_come_back_as_written(out):
    saved = read_report(out)
    assert saved.scores["user_id"].to_list() == ["007", "b"]  # a leading zero survives
    assert saved.scores.schema["score"] == pl.Float64


def test_a_report_from_another_schema_version_is_one_line_naming_the_version(out):
    doc = json.loads((out / "rings.json").read_text())
    doc["schema_version"] = 99
    (out / "rings.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="schema_version 99, but this graphkit reads schema_version 1"):
        read_report(out)
    result = CliRunner().invoke(cli, ["eval", str(out), "--truth", str(out / "scores.csv")])
    assert result.exit_code == 2, result.output
    assert "schema_version 99" in result.output and "Traceback" not in result.output


def test_scores_older_than_the_role_column_read_with_null_roles(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("user_id,score,ring_id\na,0.5,R0001\n")
    assert read_scores(path).row(0) == ("a", 0.5, "R0001", None)


def test_a_score_that_is_not_a_number_is_one_clear_error(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("user_id,score,ring_id\na,high,\n")
    with pytest.raises(InputError, match="'score' holds values that are not numbers"):
        read_scores(path)


def test_an_unknown_ring_names_the_reports_rings(out):
    with pytest.raises(NotFoundError, match="R0042 is not a ring of .*its rings: none"):
        read_report(out).ring("R0042")
