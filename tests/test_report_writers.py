"""The output-contract writers on a hand-built Report (independent of the pipeline)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest

import graphkit.report.writers as writers
import graphkit.viz
from graphkit.report.store import STORE_FILES
from graphkit.errors import InputError
from graphkit.io import Tables
from graphkit.report import ReportFiles, check_out_dir, write_report

from _report_data import BIG_ID, FARM, HOST, NASTY_ID, ZERO_ID, frames, make_report


@pytest.fixture()
def report():
    return make_report()


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_write_report_writes_the_contract_files(report, tmp_path):
    out = tmp_path / "out"
    files = write_report(report, out, html=False)
    assert isinstance(files, ReportFiles)
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    store = [f"graph/{name}" for name in STORE_FILES]  # the report's store (issue 15)
    assert written == [*store, "members.csv", "rejected/gifts.csv", "report.md", "rings.csv", "rings.json", "scores.csv"]
    assert files.index_html is None
    assert files.rejected == (out / "rejected" / "gifts.csv",)
    assert all(p.is_file() for p in files.paths())


def test_rings_json_follows_the_contract(report, tmp_path):
    write_report(report, tmp_path / "out", html=False, generator="graphkit 0.1.0")
    text = (tmp_path / "out" / "rings.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    doc = json.loads(text)
    assert list(doc)[:5] == ["schema_version", "generator", "params", "summary", "rings"]
    assert doc["schema_version"] == 1 and doc["generator"] == "graphkit 0.1.0"
    assert doc["params"] == report.params
    first = doc["rings"][0]
    assert list(first)[:9] == ["ring_id", "rank", "score", "members", "size", "coins_total", "beneficiaries",
                                "signals", "reasons"]
    assert first["score"] == 0.9312
    assert [r["rank"] for r in doc["rings"]] == [1, 2]
    assert [r["score"] for r in doc["rings"]] == sorted((r["score"] for r in doc["rings"]), reverse=True)
    assert BIG_ID in first["members"] and NASTY_ID in first["members"]  # ids as text, not escaped
    assert first["beneficiaries"][0]["user_id"] == HOST


def test_rings_json_writes_non_finite_floats_as_null(tmp_path):
    base = make_report()
    ring = base.rings[0]
    broken = type(ring)(**{**ring.__dict__, "signals": {"x": float("nan")}})
    report = type(base)(**{**base.__dict__, "rings": (broken,)})
    write_report(report, tmp_path / "out", html=False)
    doc = json.loads((tmp_path / "out" / "rings.json").read_text())  # strict JSON parses
    assert doc["rings"][0]["signals"] == {"x": None}


def test_rings_csv_writes_coin_totals_beyond_38_digits():
    """A corrupt coins column (1e60 coins) once failed the writer after the whole analysis (Decimal(38) overflow)."""
    base = make_report()
    huge = type(base.rings[0])(**{**base.rings[0].__dict__, "coins_total": 3e60})
    report = type(base)(**{**base.__dict__, "rings": (huge, base.rings[1])})
    rows = list(csv.DictReader(io.StringIO(writers.rings_csv_text(report))))
    assert float(rows[0]["coins_total"]) == 3e60
    assert rows[1]["coins_total"] == "1500.00"


def test_scores_csv_has_every_account_and_ids_unchanged(report, tmp_path):
    write_report(report, tmp_path / "out", html=False)
    path = tmp_path / "out" / "scores.csv"
    assert path.read_text().splitlines()[0] == "user_id,score,ring_id,role"  # role appended after the contract
    rows = _csv_rows(path)
    ids = [r["user_id"] for r in rows]
    assert sorted(ids) == sorted(report.user_scores["user_id"].to_list())
    assert BIG_ID in ids and ZERO_ID in ids and NASTY_ID in ids
    by_id = {r["user_id"]: r for r in rows}
    assert by_id[BIG_ID]["ring_id"] == "R0001"
    assert by_id["u05"]["ring_id"] == ""  # empty outside rings
    assert by_id[BIG_ID]["score"] == "0.900000"  # 6 decimals: 4 for the evidence or ring, 2 for the exposure tie-break
    keys = [(-float(r["score"]), r["user_id"]) for r in rows]
    assert keys == sorted(keys)


def test_scores_csv_role_column_names_each_ring_member_s_part(report, tmp_path):
    write_report(report, tmp_path / "out", html=False)
    by_id = {r["user_id"]: r for r in _csv_rows(tmp_path / "out" / "scores.csv")}
    assert by_id[HOST]["role"] == "beneficiary"
    assert by_id[BIG_ID]["role"] == "member"
    assert by_id["u05"]["role"] == ""  # empty outside rings, like ring_id


def test_members_csv_lists_every_ring_member_with_its_ring_and_role(report, tmp_path):
    files = write_report(report, tmp_path / "out", html=False)
    assert files.members_csv == tmp_path / "out" / "members.csv"
    text = files.members_csv.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "ring_id,user_id,role"
    rows = _csv_rows(files.members_csv)
    assert [(r["ring_id"], r["user_id"]) for r in rows] == [
        (ring.ring_id, m) for ring in report.rings for m in ring.members]  # rank order, members as in rings.json
    roles = {(r["ring_id"], r["user_id"]): r["role"] for r in rows}
    assert roles[("R0001", HOST)] == "beneficiary" and roles[("R0001", BIG_ID)] == "member"
    assert roles[("R0002", "a")] == "beneficiary"


def test_scores_csv_order_does_not_depend_on_input_order(report, tmp_path):
    shuffled = report.user_scores.sample(fraction=1.0, shuffle=True, seed=3)
    assert shuffled["user_id"].to_list() != report.user_scores["user_id"].to_list()
    other = type(report)(**{**report.__dict__, "user_scores": shuffled})
    write_report(report, tmp_path / "a", html=False)
    write_report(other, tmp_path / "b", html=False)
    assert (tmp_path / "a" / "scores.csv").read_bytes() == (tmp_path / "b" / "scores.csv").read_bytes()


def test_rings_csv_one_row_per_ring(report, tmp_path):
    write_report(report, tmp_path / "out", html=False)
    rows = _csv_rows(tmp_path / "out" / "rings.csv")
    assert [r["ring_id"] for r in rows] == ["R0001", "R0002"]
    assert list(rows[0])[:5] == ["ring_id", "rank", "score", "size", "coins_total"]
    assert rows[0]["score"] == "0.9312" and rows[0]["coins_total"] == "5000.00" and rows[0]["size"] == "6"
    assert rows[0]["top_signals"].startswith("shared_device_ratio=0.8")
    assert rows[1]["beneficiaries"] == "a"


def test_same_report_gives_byte_identical_files(tmp_path):
    write_report(make_report(), tmp_path / "a", html=False)
    write_report(make_report(), tmp_path / "b", html=False)
    for name in ("rings.json", "rings.csv", "scores.csv", "members.csv", "report.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_rewrite_replaces_a_previous_report(report, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(graphkit.viz, "write_views", _fake_views([]), raising=False)
    write_report(report, out)
    (out / "rings" / "R0099.html").write_text("a ring of an older run")
    (out / "rejected" / "users.csv").write_text("rejected rows of an older run")
    write_report(report, out, html=False)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "graph", *(f"graph/{name}" for name in STORE_FILES),
        "members.csv", "rejected", "rejected/gifts.csv", "report.md", "rings.csv", "rings.json", "scores.csv"
    ]


def test_rewrite_keeps_the_files_an_investigator_added(report, tmp_path):
    out = tmp_path / "out"
    write_report(report, out, html=False)
    (out / "case-notes.md").write_text("R0001: escalated to payments")
    (out / "evidence").mkdir()
    (out / "evidence" / "chat.png").write_bytes(b"\x89PNG")
    write_report(report, out, html=False)
    assert (out / "case-notes.md").read_text() == "R0001: escalated to payments"
    assert (out / "evidence" / "chat.png").read_bytes() == b"\x89PNG"
    assert (out / "rings.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("rings_json", ["{}", "not json", '{"generator": "other tool", "schema_version": 1}',
                                        '{"generator": "graphkit 0.1.0"}', "[1, 2]"])
def test_refuses_a_folder_whose_rings_json_graphkit_did_not_write(report, tmp_path, rings_json):
    out = tmp_path / "p"
    (out / "src").mkdir(parents=True)
    (out / "rings.json").write_text(rings_json)
    (out / "src" / "main.py").write_text("x")
    with pytest.raises(InputError, match=r"rings\.json was not written by graphkit"):
        write_report(report, out, html=False)
    assert (out / "src" / "main.py").read_text() == "x"
    assert (out / "rings.json").read_text() == rings_json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_leaves_no_partial_output(report, tmp_path, monkeypatch, error):
    def boom(*args, **kwargs):
        raise error

    monkeypatch.setattr(writers, "render_markdown", boom)
    out = tmp_path / "out"
    with pytest.raises(type(error)):
        write_report(report, out, html=False)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left behind


def test_interrupted_rewrite_keeps_the_previous_report(report, tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_report(report, out, html=False)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writers, "scores_csv_text", boom)
    with pytest.raises(KeyboardInterrupt):
        write_report(report, out, html=False)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_refuses_to_replace_a_folder_that_is_not_a_report(report, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a graphkit report"):
        write_report(report, out, html=False)
    assert (out / "notes.txt").read_text() == "keep me"


def test_refuses_a_file_and_the_data_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_out_dir(tmp_path / "f")
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(InputError, match="input data"):
        check_out_dir(tmp_path, data_dir=data)
    with pytest.raises(InputError, match="input data"):
        check_out_dir(data, data_dir=data)
    check_out_dir(tmp_path / "new", data_dir=data)  # a new folder is fine


def test_empty_report_writes_valid_files(tmp_path):
    tables = Tables.from_frames(gifts=frames()["gifts"].head(3))
    report = make_report(tables)
    report = type(report)(**{**report.__dict__, "rings": ()})
    write_report(report, tmp_path / "out", html=False)
    assert json.loads((tmp_path / "out" / "rings.json").read_text())["rings"] == []
    assert (tmp_path / "out" / "rings.csv").read_text().splitlines() == [
        "ring_id,rank,score,size,coins_total,kind,beneficiaries,top_signals,first_reason"
    ]
    assert "No ring was found" in (tmp_path / "out" / "report.md").read_text()


def _fake_views(calls):
    def write_views(report, out_dir, *, top=None, redactor=None, config=None):
        calls.append({"top": top, "redactor": redactor})
        out_dir = Path(out_dir)
        (out_dir / "rings").mkdir()
        (out_dir / "index.html").write_text("<html></html>")
        for ring in report.rings[:top]:
            (out_dir / "rings" / f"{ring.ring_id}.html").write_text("<html></html>")
        return out_dir / "index.html"

    return write_views


def test_html_views_are_written_by_graphkit_viz(report, tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(graphkit.viz, "write_views", _fake_views(calls), raising=False)
    redactor = graphkit.viz.Redactor(b"k" * 32)
    files = write_report(report, tmp_path / "out", top=1, redactor=redactor)
    assert calls == [{"top": 1, "redactor": None}, {"top": 1, "redactor": redactor}]  # the report, its shared copy
    assert files.redacted == tmp_path / "out" / "redacted"
    assert (files.redacted / "rings" / "R0001.html").is_file()
    assert files.index_html == tmp_path / "out" / "index.html"
    assert files.ring_views == (tmp_path / "out" / "rings" / "R0001.html",)
    md = (tmp_path / "out" / "report.md").read_text()
    assert "(<rings/R0001.html>)" in md  # the ring's section links its view
    assert "R0002.html" not in md  # only the top 1 is described and drawn


def test_markdown_lists_the_rings_with_evidence(report, tmp_path):
    write_report(report, tmp_path / "out", html=False)
    md = (tmp_path / "out" / "report.md").read_text()
    assert md.startswith("# graphkit report\n")
    for heading in ("## Data", "## Method", "## Rings", "### 1. Ring R0001: score 0.93", "### 2. Ring R0002"):
        assert heading in md
    assert "| gifts | (frame) | 33 | 32 | 1 |" in md  # rows read, accepted, rejected
    assert "1 row broke the data contract (1 negative coins in gifts)" in md
    assert "6 accounts" in md and "5,000 coins sent by the members" in md
    assert "h1 received 5,000 (100% of the ring's coins" in md
    assert "a → b → c → a" in md
    farm = md.split("### 1.")[1].split("### 2.")[0]
    table = [line for line in farm.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| member | role | score | account age (days) | devices")
    assert table[1].startswith("| h1 | beneficiary |")  # beneficiaries first
    big = next(line for line in table if BIG_ID in line)
    assert big == f"| {BIG_ID} | member | 0.90 | 1 | 1 (1) |"  # created 03-01, first gift 03-02 10:00: 1.4 d
    assert "| f5 | member | 0.90 | 1 | 1 (0) |" in table  # f5's device is not shared


def test_markdown_members_table_is_capped(report, tmp_path):
    from graphkit.report import render_markdown

    md = render_markdown(report, max_members=2)
    assert "And 4 more members (all are in `rings.json`)." in md


def test_markdown_of_attacker_ids_renders_no_link_or_html(report):
    from markdown_it import MarkdownIt

    from graphkit.report import render_markdown

    md = render_markdown(report)
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<a href" not in html.replace('<a href="#', "")  # only the rings table's in-page anchors
    assert "<b>" not in html and "<img" not in html and "<em>" not in html
    assert "e.vil" in html  # shown as text
    assert "x|y_*[a](http://e.vil)&lt;b&gt;`" in html  # the id reads as it is, pipes included
