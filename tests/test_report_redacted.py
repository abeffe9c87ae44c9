"""``report --redact-key``: OUT_DIR/redacted/ is a complete shareable bundle without a single real id.

The normal report stays in OUT_DIR with the real ids (the investigator's own
copy); OUT_DIR/redacted/ holds every file of the report again, with keyed
pseudonyms for accounts, devices, IPs, streams and gifts, also inside the
reason sentences. The checks walk every file of the bundle and look for every
id of the input.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit.io import read_tables
from graphkit.report import write_report
from graphkit.viz import Redactor, load_or_create_key
from graphkit_cli.main import cli

from _report_data import BIG_ID, HOST, NASTY_ID, ZERO_ID, make_report

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
KEY = "ab" * 32


def _input_ids(data_dir: Path) -> set[str]:
    """Every id of the input: accounts, hosts, devices, IPs, streams, gifts (rejected rows included)."""
    tables = read_tables(data_dir)
    ids: set[str] = set()
    for name in ("users", "streams", "devices", "gifts"):
        frames = [tables.table(name), tables.rejected.get(name, pl.DataFrame())]
        for frame in frames:
            for column in ("user_id", "host_id", "sender_id", "receiver_id", "device_id", "ip", "stream_id", "gift_id"):
                if column in frame.columns:
                    ids |= set(frame.get_column(column).cast(pl.Utf8).drop_nulls().to_list())
    return ids


def _tokens(text: str) -> set[str]:
    """Whole words as the redactor sees them (ids are matched as whole words, never inside a pseudonym)."""
    runs = re.findall(r"[\w.:-]+", text)
    return set(runs) | {r.rstrip(".") for r in runs} | {p for r in runs for p in r.split(":")}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("redact")
    key = root / "keys" / "case.key"
    key.parent.mkdir()
    key.write_text(KEY + "\n")
    out = root / "out"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--redact-key", str(key), "-q"])
    assert result.exit_code == 0, result.output
    return out, Redactor(bytes.fromhex(KEY)), result


def test_the_redacted_bundle_holds_every_file_of_the_report(demo_report):
    out, _, result = demo_report
    bundle = out / "redacted"
    # graph/ is the report's local store for follow-up questions (where its data is): not part of what is shared
    mine = {p.relative_to(out) for p in _files(out) if p.relative_to(out).parts[0] not in ("redacted", "graph")}
    shared = {p.relative_to(bundle) for p in _files(bundle)}
    assert mine == shared
    assert {"rings.json", "rings.csv", "scores.csv", "members.csv", "report.md", "index.html"} <= {
        str(p) for p in shared}
    assert f"{bundle}" in result.stdout  # the command says where the shareable copy is


def test_no_id_of_the_input_appears_in_any_file_of_the_redacted_bundle(demo_report):
    out, _, _ = demo_report
    ids = _input_ids(DEMO)
    assert len(ids) > 10_000
    assert len(_files(out / "redacted")) > 5
    for path in _files(out / "redacted"):
        leaked = _tokens(path.read_text(encoding="utf-8")) & ids
        assert not leaked, f"{path.relative_to(out)} shows real ids: {sorted(leaked)[:5]}"


def test_the_report_itself_keeps_the_real_ids(demo_report):
    out, _, _ = demo_report
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    assert set(doc["rings"][0]["members"]) <= _input_ids(DEMO)
    assert _tokens((out / "rings" / "R0001.html").read_text(encoding="utf-8")) & _input_ids(DEMO)


def test_pseudonyms_agree_across_the_bundle_and_map_back_with_the_key(demo_report):
    out, red, _ = demo_report
    real = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    shared = json.loads((out / "redacted" / "rings.json").read_text(encoding="utf-8"))
    assert [r["ring_id"] for r in shared["rings"]] == [r["ring_id"] for r in real["rings"]]
    for a, b in zip(real["rings"], shared["rings"]):
        assert sorted(red.pseudonym(m) for m in a["members"]) == b["members"]
        assert [red.pseudonym(x["user_id"]) for x in a["beneficiaries"]] == [x["user_id"] for x in b["beneficiaries"]]
        assert (a["score"], a["size"], a["coins_total"], a["signals"]) == (b["score"], b["size"], b["coins_total"],
                                                                         b["signals"])
    first = red.pseudonym(real["rings"][0]["beneficiaries"][0]["user_id"])
    assert first in (out / "redacted" / "report.md").read_text(encoding="utf-8")
    assert first in (out / "redacted" / "rings" / "R0001.html").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO((out / "redacted" / "scores.csv").read_text(encoding="utf-8"))))
    real_rows = list(csv.DictReader(io.StringIO((out / "scores.csv").read_text(encoding="utf-8"))))
    assert {red.pseudonym(r["user_id"]): (r["score"], r["ring_id"], r["role"]) for r in real_rows} == {
        r["user_id"]: (r["score"], r["ring_id"], r["role"]) for r in rows}


def test_the_key_must_stay_outside_the_report(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--redact-key", str(out / "k.key"),
                                      "--no-html", "-q"])
    assert result.exit_code == 2 and "must not be inside" in result.stderr


def test_hostile_ids_and_rejected_rows_are_redacted_too(tmp_path):
    """Ids that markdown and HTML escape, and rows the reader rejected, leave no trace in the bundle."""
    red = load_or_create_key(tmp_path / "k.key")
    report = make_report()
    write_report(report, tmp_path / "out", redactor=red, html=False)
    bundle = tmp_path / "out" / "redacted"
    assert (bundle / "rejected" / "gifts.csv").is_file()
    ids = {BIG_ID, ZERO_ID, NASTY_ID, HOST, "dev-farm", "10.0.0.1", "u00", "h2"}
    for path in _files(bundle):
        text = path.read_text(encoding="utf-8")
        assert not _tokens(text) & ids, path
        assert "e.vil" not in text and BIG_ID not in text, path
    rejected = list(csv.DictReader(io.StringIO((bundle / "rejected" / "gifts.csv").read_text(encoding="utf-8"))))
    assert rejected[0]["sender_id"] == red.pseudonym("u00") and rejected[0]["reason"]
    loop = json.loads((bundle / "rings.json").read_text(encoding="utf-8"))["rings"][1]
    assert loop["money_path"] == [red.pseudonym(u) for u in ("a", "b", "c", "a")]
    assert loop["reasons"] == [f"1,500 coins went round {' → '.join(red.pseudonym(u) for u in 'abca')}"]
