"""``graphkit report`` on a platform whose account ids are an attacker's strings.

The real pipeline runs on the platform of ``_report_data`` with every id
replaced by a hostile one (CSV delimiters, quotes, line breaks, HTML, rich
and Markdown markup, a spreadsheet formula, surrounding spaces). Each output
file must carry the ids unchanged where it holds data (CSV, JSON) and render
them inert where it is read by people (Markdown, HTML).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

from _report_data import FARM, HOST, LOOP, frames

HOSTILE = {
    FARM[0]: 'f1,"quoted",x',
    FARM[1]: "f2\nsecond line\x1b[31m\x07",
    FARM[2]: "<img src=x onerror=alert(1)>",
    FARM[3]: "[red]f4[/red][link=http://e.vil]x[/link]",
    FARM[4]: '=HYPERLINK("http://e.vil","f5")',
    HOST: " h1\r\twith spaces ",
    LOOP[0]: "a](javascript:alert(1))",
    LOOP[1]: "<script>alert(2)</script>",
    LOOP[2]: "c;d|e\x1b[31m\x00",
}


def _hostile(frame: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in ("user_id", "sender_id", "receiver_id") if c in frame.columns]
    return frame.with_columns(pl.col(c).replace(HOSTILE) for c in cols)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    data.mkdir()
    for name, frame in frames().items():
        _hostile(frame).write_csv(data / f"{name}.csv")
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(root / "out"), "-q"])
    assert result.exit_code == 0, result.output + result.stderr
    return root / "out"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_rings_hold_the_hostile_ids_unchanged(out: Path) -> None:
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    members = {m for ring in doc["rings"] for m in ring["members"]}
    assert set(HOSTILE.values()) & members, "the planted rings are found with their hostile ids"
    assert members <= {u for u in members if u in set(HOSTILE.values()) or re.fullmatch(r"[\w]+", u)}


def test_scores_csv_round_trips_every_id(out: Path) -> None:
    rows = _rows(out / "scores.csv")
    assert list(rows[0]) == ["user_id", "score", "ring_id", "role"]  # the contract's columns first, role added
    ids = [r["user_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(HOSTILE.values()) <= set(ids)
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    ring_of = {m: ring["ring_id"] for ring in doc["rings"] for m in ring["members"]}
    assert {r["user_id"]: r["ring_id"] or None for r in rows} == {u: ring_of.get(u) for u in ids}


def test_rings_csv_parses_to_one_row_per_ring(out: Path) -> None:
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    rows = _rows(out / "rings.csv")
    assert [r["ring_id"] for r in rows] == [ring["ring_id"] for ring in doc["rings"]]
    for row, ring in zip(rows, doc["rings"]):
        assert row["first_reason"] == (ring["reasons"][0] if ring["reasons"] else "")
        assert row["beneficiaries"] == ";".join(b["user_id"] for b in ring["beneficiaries"])


def test_report_md_renders_ids_inert(out: Path) -> None:
    text = (out / "report.md").read_text(encoding="utf-8")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), "control characters from ids reach report.md"
    for raw in ("<img", "<script", "](javascript", "[link="):  # each only with its first character escaped
        assert not re.search(r"(?<!\\)" + re.escape(raw), text), raw


def test_html_views_render_ids_inert(out: Path) -> None:
    pages = [out / "index.html", *sorted((out / "rings").glob("*.html"))]
    assert len(pages) > 1
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<img src=x" not in html and "<script>alert" not in html, page.name
