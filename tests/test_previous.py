"""graphkit report --previous: ring ids carry over, new rings get ids never used, each ring says how it changed."""

from __future__ import annotations

import csv
import json

import polars as pl
from click.testing import CliRunner

from graphkit.history import carry_ring_ids
from graphkit.model import Report, Ring
from graphkit.report import SavedReport
from graphkit_cli.main import cli


def _report(*rings: Ring) -> Report:
    members = [(m, r.ring_id) for r in rings for m in r.members]
    scores = pl.DataFrame({"user_id": [m for m, _ in members], "score": [0.9] * len(members),
                           "ring_id": [r for _, r in members]}, schema={"user_id": pl.Utf8, "score": pl.Float64,
                                                                         "ring_id": pl.Utf8})
    return Report(tuple(rings), scores, {}, {"as_of": "2024-05-03T00:00:00Z"})


def test_an_id_of_a_ring_that_went_quiet_is_never_given_again():
    earlier = SavedReport(None, {"summary": {}, "rings": [
        {"ring_id": "R0001", "members": ["q1", "q2", "q3"]}, {"ring_id": "R0002", "members": ["a", "b", "c"]}]},
        pl.DataFrame())
    today = carry_ring_ids(_report(Ring("R0001", 1, 0.9, ("n1", "n2", "n3"), 1.0),
                                   Ring("R0002", 2, 0.8, ("a", "b", "c"), 1.0)), earlier)
    assert [(r.ring_id, r.status) for r in today.rings] == [("R0003", "new"), ("R0002", "stable")]
    assert today.ring_counter == 3
    assert dict(today.user_scores.select("user_id", "ring_id").rows())["n1"] == "R0003"
    # the next day, R0003 goes quiet and another new ring comes: it gets R0004, not R0001 or R0003
    saved = SavedReport(None, today.to_json_dict("graphkit test"), pl.DataFrame())
    after = carry_ring_ids(_report(Ring("R0001", 1, 0.9, ("z1", "z2", "z3"), 1.0)), saved)
    assert [r.ring_id for r in after.rings] == ["R0004"] and after.ring_counter == 4


def _run(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result


def test_report_with_previous_keeps_the_ids_of_the_rings_it_continues(tmp_path, fixtures_dir):
    demo = str(fixtures_dir / "demo")
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    _run(["report", demo, "--out", str(day1), "--until", "2024-05-20", "--no-html", "-q"])
    _run(["report", demo, "--out", str(day2), "--previous", str(day1), "-q"])
    before = {r["ring_id"]: set(r["members"]) for r in json.loads((day1 / "rings.json").read_text())["rings"]}
    doc = json.loads((day2 / "rings.json").read_text())
    assert doc["ring_counter"] >= len(before)
    for ring in doc["rings"]:
        assert ring["status"] in ("new", "stable", "grown", "shrunk", "merged", "split")
        if ring["ring_id"] in before:  # a carried id: the ring it continues had these members
            overlap = len(before[ring["ring_id"]] & set(ring["members"])) / len(before[ring["ring_id"]] | set(ring["members"]))
            assert overlap >= 0.3 and ring["ring_id"] in ring["previous_ids"] + [ring["ring_id"]]
        else:
            assert int(ring["ring_id"][1:]) > max(int(r[1:]) for r in before)
        assert ring["first_seen"] is not None
    # every file of the report uses the same ids
    members = {(row["ring_id"], row["user_id"]) for row in csv.DictReader((day2 / "members.csv").open())}
    assert members == {(r["ring_id"], m) for r in doc["rings"] for m in r["members"]}
    scores = {row["user_id"]: row["ring_id"] for row in csv.DictReader((day2 / "scores.csv").open()) if row["ring_id"]}
    assert scores == {m: r["ring_id"] for r in doc["rings"] for m in r["members"]}
    assert {p.stem for p in (day2 / "rings").glob("*.html")} <= {r["ring_id"] for r in doc["rings"]}


def test_the_same_data_with_itself_as_previous_keeps_every_id_and_is_stable(tmp_path, fixtures_dir):
    demo = str(fixtures_dir / "demo")
    a, b = tmp_path / "a", tmp_path / "b"
    _run(["report", demo, "--out", str(a), "--no-html", "-q"])
    _run(["report", demo, "--out", str(b), "--previous", str(a), "--no-html", "-q"])
    first = json.loads((a / "rings.json").read_text())
    second = json.loads((b / "rings.json").read_text())
    assert [r["ring_id"] for r in second["rings"]] == [r["ring_id"] for r in first["rings"]]
    assert {r["status"] for r in second["rings"]} == {"stable"}
    assert all(r["first_seen"] == first["summary"]["as_of"] for r in second["rings"])
    assert "ring_counter" not in first and "status" not in first["rings"][0]  # without --previous: as before


def test_a_previous_that_is_not_a_report_is_one_line_before_any_work(tmp_path, fixtures_dir):
    result = CliRunner().invoke(cli, ["report", str(fixtures_dir / "demo"), "--out", str(tmp_path / "o"),
                                      "--previous", str(fixtures_dir / "demo"), "-q"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "not a graphkit report" in result.output
    assert not (tmp_path / "o").exists()
