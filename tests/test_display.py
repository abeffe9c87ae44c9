"""Ids with bidi controls, zero-width characters and line separators: shown escaped, kept exact in data files."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.util.display import display_text
from graphkit.viz.network import vis_network_js
from graphkit_cli.main import cli

from _report_data import FARM, HOST, LOOP, frames

HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def _hidden(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in HIDDEN]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=30))
def test_the_display_form_has_no_hidden_character_and_is_stable(text):
    shown = display_text(text)
    assert not _hidden(shown), (text, shown)
    assert display_text(shown) == shown
    if not _hidden(text):
        assert shown == text, "visible text is shown as it is"


def test_display_form_of_known_spoofs():
    assert display_text("u1\u202etxt.exe") == "u1\\u202etxt.exe"
    assert display_text("ad\u200bmin") == "ad\\u200bmin"
    assert display_text("a\u2028b\u2029c") == "a\\u2028b\\u2029c"
    assert display_text("\u2066x\u2069\ufeff") == "\\u2066x\\u2069\\ufeff"
    assert display_text("x\x1b[31m\r\n") == "x\\x1b[31m\\r\\n"
    assert display_text("\U000e0041") == "\\U000e0041"  # a tag character: invisible


SPOOFS = {
    FARM[0]: "f1\u202egnp.exe",      # right-to-left override: the rest reads backwards
    FARM[1]: "f2\u200b",             # zero-width space: looks like "f2"
    FARM[2]: "f3\u2028f3b",          # line separator
    HOST: "h1\u2066\u2069\u200f",    # isolates and a right-to-left mark
    LOOP[0]: "a\u2029b",             # paragraph separator
}


@pytest.fixture(scope="module")
def spoofed(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("spoof")
    data = root / "data"
    data.mkdir()
    for name, frame in frames().items():
        cols = [c for c in ("user_id", "sender_id", "receiver_id") if c in frame.columns]
        frame.with_columns(pl.col(c).replace(SPOOFS) for c in cols).write_csv(data / f"{name}.csv")
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(root / "out"), "-q"])
    assert result.exit_code == 0, result.output + result.stderr
    return root / "out", result.output


def test_data_files_keep_every_id_exactly(spoofed):
    out, _ = spoofed
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    members = {m for ring in doc["rings"] for m in ring["members"]}
    assert SPOOFS[HOST] in members and SPOOFS[FARM[0]] in members
    with open(out / "scores.csv", newline="", encoding="utf-8") as fh:
        ids = {row["user_id"] for row in csv.DictReader(fh)}
    assert set(SPOOFS.values()) <= ids


def test_the_terminal_shows_ids_escaped(spoofed):
    _, stdout = spoofed
    assert not _hidden(stdout.replace("\n", "")), [hex(ord(c)) for c in _hidden(stdout.replace("\n", ""))]
    assert "h1\\u2066\\u2069" in stdout  # the column may be cut with an ellipsis after it


def test_report_md_shows_ids_escaped(spoofed):
    out, _ = spoofed
    text = (out / "report.md").read_text(encoding="utf-8")
    assert not _hidden(text.replace("\n", "")), [hex(ord(c)) for c in _hidden(text.replace("\n", ""))]
    # the Markdown source escapes the backslash: it renders as h1\u2066...
    assert "h1\\\\u2066\\\\u2069\\\\u200f" in text
    assert "f1\\\\u202egnp.exe" in text


def test_html_views_show_ids_escaped(spoofed):
    out, _ = spoofed
    pages = [out / "index.html", *sorted((out / "rings").glob("*.html"))]
    assert len(pages) > 1
    for page in pages:
        # the inlined vis-network library has such characters in its own whitespace patterns: not data
        html = page.read_text(encoding="utf-8").replace(vis_network_js(), "")
        assert not _hidden(html.replace("\n", "")), (page.name, [hex(ord(c)) for c in _hidden(html.replace("\n", ""))])
    ring = (out / "rings" / "R0001.html").read_text(encoding="utf-8")
    data = json.loads(ring.split('id="gk-data">', 1)[1].split("</script>", 1)[0])
    labels, tips = data["nodes"]["label"], "\n".join(data["nodes"]["tip"])
    assert "h1\\u2066\\u2069\\u200f" in labels, "the label shows the escaped id"
    assert f"account:{SPOOFS[HOST]}" in data["nodes"]["id"], "node ids (for search and links) stay exact"
    assert not _hidden("".join(labels)) and not _hidden(tips.replace("\n", ""))
    assert re.search(r"account h1\\u2066\\u2069\\u200f\n", tips)


def test_an_error_line_shows_a_hidden_character_escaped(tmp_path: Path):
    data = tmp_path / "data\u202eevil"
    data.mkdir()
    (data / "gifts.csv").write_text("sender_id,receiver\u2028_id\na,b\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(data)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not _hidden(result.stderr.rstrip("\n")), repr(result.stderr)
    assert "data\\u202eevil" in result.stderr
