"""Every malformed input in fixtures/bad/ gives its expected result through
`graphkit validate` (cases in fixtures/bad/cases.toml)."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad"
CASES = tomllib.loads((BAD / "cases.toml").read_text(encoding="utf-8"))["cases"]


def _validate(*args: str) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(cli, ["validate", *map(str, args)])


def _assert_one_line_error(result, expected: str) -> None:
    assert result.exit_code == 2, result.output + result.stderr
    assert result.stdout == "", result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("graphkit: error: "), lines[0]
    assert expected in lines[0], lines[0]


def test_every_case_directory_is_used() -> None:
    used = {case.get("dir", name) for name, case in CASES.items()}
    on_disk = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert on_disk == used


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_fixture(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    data_dir = BAD / case.get("dir", name)
    args = [a if not a.endswith(".toml") else str(tmp_path / a) for a in case.get("args", [])]
    for file_name, content in case.get("files", {}).items():
        (tmp_path / file_name).write_text(content)
    if case["exit_code"] == 2:
        _assert_one_line_error(_validate(data_dir, *args), case["error"])
        return
    assert case["exit_code"] == 0
    result = _validate(data_dir, *args, "--json", "--rejected", tmp_path)
    assert result.exit_code == 0, result.output + result.stderr
    summary = {t["table"]: t for t in json.loads(result.stdout)["tables"]}
    for table, stats in summary.items():
        assert stats["accepted"] + stats["rejected"] == stats["rows_read"]
        assert stats["rejected_by_reason"] == case.get("rejected", {}).get(table, {})
        assert stats["exact_duplicates"] == case.get("exact_duplicates", {}).get(table, 0)
        if table in case.get("time_range", {}):
            assert [stats["time_min"], stats["time_max"]] == case["time_range"][table]
    for table, rows in case.get("rejected_rows", {}).items():
        written = pl.read_csv(tmp_path / "rejected" / f"{table}.csv", infer_schema=False)
        assert written["row"].cast(pl.Int64).to_list() == rows
        assert written.columns[0] == "row" and written.columns[-1] == "reason"
    # the same rejected rows, as the human-readable summary shows them
    text = _validate(data_dir, *args).stdout
    for reasons in case.get("rejected", {}).values():
        for reason, count in reasons.items():
            assert f"{count:,} {reason}" in text


def test_non_utf8_byte_past_the_first_64_kib(tmp_path: Path) -> None:
    good = "".join(f"u{i:05d},h1,5,2024-05-01T10:00:00Z\n" for i in range(4000)).encode()
    assert len(good) > 1 << 16
    content = b"sender_id,receiver_id,coins,sent_at\n" + good + "u\xe9,h1,5,2024-05-01T10:00:00Z\n".encode("latin-1")
    (tmp_path / "gifts.csv").write_bytes(content)
    _assert_one_line_error(_validate(tmp_path), "gifts.csv: line 4002 has bytes that are not UTF-8")


def test_non_utf8_byte_in_gzipped_csv(tmp_path: Path) -> None:
    import gzip

    content = "sender_id,receiver_id,coins,sent_at\nu\xe9,h1,5,2024-05-01T10:00:00Z\n".encode("latin-1")
    (tmp_path / "gifts.csv.gz").write_bytes(gzip.compress(content))
    _assert_one_line_error(_validate(tmp_path), "gifts.csv.gz: line 2 has bytes that are not UTF-8")


def test_truly_empty_directory(tmp_path: Path) -> None:
    _assert_one_line_error(_validate(tmp_path), "no tables found")


def test_missing_data_directory(tmp_path: Path) -> None:
    _assert_one_line_error(_validate(tmp_path / "nowhere"), "nowhere: data directory not found")


def test_too_many_rejected_still_writes_every_tables_rejected_rows(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(BAD / "too_many_bad_rows", data)
    (data / "users.csv").write_text("user_id\nu001\nu001\n" + "".join(f"x{i}\n" for i in range(40)))
    result = _validate(data, "--rejected", tmp_path / "out")
    _assert_one_line_error(result, "gifts.csv: 3 of 10 rows rejected")
    gifts = pl.read_csv(tmp_path / "out" / "rejected" / "gifts.csv", infer_schema=False)
    assert gifts.select("row", "sender_id", "coins", "sent_at", "reason").rows() == [
        ("2", "u002", "-1", "2024-05-01T10:02:00Z", "negative coins"),
        ("5", "u005", "lots", "2024-05-01T10:05:00Z", "coins not a number"),
        ("9", "u009", "90", None, "missing sent_at"),
    ]
    # users was under the limit, and its rejected row is written too
    users = pl.read_csv(tmp_path / "out" / "rejected" / "users.csv", infer_schema=False)
    assert users.rows() == [("2", "u001", "duplicate user_id")]
