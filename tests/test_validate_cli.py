"""`graphkit validate DATA_DIR`: what it prints, what it writes, its exit code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from graphkit_cli.main import cli

GIFTS = (
    "sender_id,receiver_id,coins,sent_at,gift_id\n"
    "0042,h1,5,2024-05-01T10:00:00Z,g1\n"
    "u2,h1,-3,2024-05-01T11:00:00+02:00,g2\n"
    "u3,h2,7,not a time,g3\n"
    "u4,h2,1.5,1714600000,g1\n"
    + "".join(f"u{i},h{i % 3},1,2024-05-0{1 + i % 3}T00:00:00Z,x{i}\n" for i in range(5, 100))
)


def _run(*args) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(cli, ["validate", *map(str, args)])


def test_help_ends_with_an_example() -> None:
    result = _run("-h")
    assert result.exit_code == 0, result.output
    assert "Example: graphkit validate" in result.output


def test_prints_counts_reasons_time_range_and_distinct_ids(tmp_path: Path) -> None:
    (tmp_path / "gifts.csv").write_text(GIFTS)
    (tmp_path / "users.csv").write_text("user_id,created_at\n0042,2024-01-01\nh1,2023-12-31T23:00:00-01:00\n")
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output + result.stderr
    out = result.stdout
    assert "gifts: gifts.csv\n  rows read 99, accepted 96, rejected 3\n" in out
    assert "    1 duplicate gift_id\n    1 negative coins\n    1 unparseable sent_at\n" in out
    assert "  time range 2024-05-01 00:00:00 .. 2024-05-03 00:00:00 UTC\n" in out
    assert "  distinct sender_id 96, receiver_id 3, gift_id 96\n" in out
    assert "users: users.csv\n  rows read 2, accepted 2, rejected 0\n" in out
    assert "  time range 2024-01-01 00:00:00 .. 2024-01-01 00:00:00 UTC\n" in out
    assert "streams: absent\n" in out
    assert "3 rejected rows; add --rejected DIR to keep them." in out
    assert "can be analysed" in out
    assert result.stderr == ""


def test_json_summary(tmp_path: Path) -> None:
    (tmp_path / "gifts.csv").write_text(GIFTS)
    result = _run(tmp_path, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    summary = json.loads(result.stdout)
    (gifts,) = summary["tables"]
    assert gifts["rows_read"] == 99 and gifts["accepted"] == 96 and gifts["rejected"] == 3
    assert gifts["rejected_by_reason"] == {"duplicate gift_id": 1, "negative coins": 1, "unparseable sent_at": 1}
    assert gifts["time_min"] == "2024-05-01T00:00:00+00:00"
    assert summary["rejected_rows"] == 3


def test_rejected_dir_gets_raw_values_row_and_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "gifts.csv").write_text(GIFTS)
    result = _run(data, "--rejected", tmp_path / "out")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"3 rejected rows written to {tmp_path / 'out' / 'rejected'}." in result.stdout
    written = pl.read_csv(tmp_path / "out" / "rejected" / "gifts.csv", infer_schema=False)
    assert written.columns == ["row", "sender_id", "receiver_id", "coins", "sent_at", "gift_id", "reason"]
    assert written.rows() == [
        ("2", "u2", "h1", "-3", "2024-05-01T11:00:00+02:00", "g2", "negative coins"),
        ("3", "u3", "h2", "7", "not a time", "g3", "unparseable sent_at"),
        ("4", "u4", "h2", "1.5", "1714600000", "g1", "duplicate gift_id"),
    ]


def test_too_many_bad_rows_exit_2_and_still_writes_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "gifts.csv").write_text(GIFTS)
    result = _run(data, "--max-bad-share", "0.02", "--rejected", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "3 of 99 rows rejected (3.0%, more than max_bad_share 2%" in result.stderr
    assert pl.read_csv(tmp_path / "out" / "rejected" / "gifts.csv").height == 3


def test_attacker_strings_are_printed_literally(tmp_path: Path) -> None:
    """Rich markup or glob characters in a folder name are neither interpreted nor expanded."""
    for name, table in (("[red]x*?", "gifts.csv"), ("[b]nd", "gifts.ndjson"), ("[i]pq", "gifts.parquet")):
        data = tmp_path / name
        data.mkdir()
        frame = pl.DataFrame({"sender_id": ["[bold]a"], "receiver_id": ["b"], "coins": [1], "sent_at": [1714557600]})
        getattr(frame, "write_" + table.split(".")[1])(data / table)
        result = _run(data)
        assert result.exit_code == 0, result.output + result.stderr
        assert f"{name} can be analysed" in result.stdout


def test_amlsim_sample_with_its_mapping_file(shared_dataset, fixtures_dir: Path) -> None:
    """The mapping in fixtures/amlsim.toml reads IBM's AMLSim sample as is."""
    data = shared_dataset("amlsim-20k")
    result = _run(data, "--columns", fixtures_dir / "amlsim.toml", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    summary = {t["table"]: t for t in json.loads(result.stdout)["tables"]}
    assert summary["gifts"]["rows_read"] == summary["gifts"]["accepted"] == 120_558
    assert summary["users"]["rows_read"] == summary["users"]["accepted"] == 20_000
    assert json.loads(result.stdout)["rejected_rows"] == 0

    from graphkit.io import read_tables

    tables = read_tables(data, columns=fixtures_dir / "amlsim.toml")
    # nodes.csv flags 1,804 accounts (its metadata.txt says 1,803): count them independently
    with open(data / "nodes.csv", newline="") as fh:
        fraud = sum(row["isFraud"] == "1" for row in csv.DictReader(fh))
    assert fraud == 1_804
    assert tables.users["label"].value_counts().sort("label").rows() == [("bad", fraud), ("good", 20_000 - fraud)]
    assert tables.unknown_accounts == 0
    assert tables.gifts["sender_id"].dtype == pl.Utf8


DUPLICATES = "sender_id,receiver_id,coins,sent_at\n" + "u1,h1,5,2024-05-01T10:00:00Z\n" * 3 + "u2,h1,5,2024-05-01T10:00:00Z\n"


def test_exact_duplicate_rows_are_counted_and_warned_about(tmp_path: Path) -> None:
    (tmp_path / "gifts.csv").write_text(DUPLICATES)
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output + result.stderr
    assert "  rows read 4, accepted 4, rejected 0\n  2 exact duplicate rows kept\n" in result.stdout
    assert "warning: " in result.stdout and "2 exact duplicate rows (the same value in every column" in result.stdout
    summary = json.loads(_run(tmp_path, "--json").stdout)
    assert summary["tables"][0]["exact_duplicates"] == 2
    assert summary["exact_duplicate_rows"] == 2
    assert "2 exact duplicate rows" in summary["warnings"][0]


def test_dedupe_exact_rows_from_the_config_drops_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "gifts.csv").write_text(DUPLICATES)
    config = tmp_path / "graphkit.toml"
    config.write_text("[params]\ndedupe_exact_rows = true\nmax_bad_share = 0.0\n")
    result = _run(data, "--config", config, "--json", "--rejected", tmp_path / "out")
    assert result.exit_code == 0, result.output + result.stderr
    (gifts,) = json.loads(result.stdout)["tables"]
    assert (gifts["rows_read"], gifts["accepted"], gifts["rejected"]) == (4, 2, 2)
    assert gifts["rejected_by_reason"] == {"exact duplicate row": 2}
    assert json.loads(result.stdout)["warnings"] == []
    written = pl.read_csv(tmp_path / "out" / "rejected" / "gifts.csv", infer_schema=False)
    assert written.select("row", "reason").rows() == [("2", "exact duplicate row"), ("3", "exact duplicate row")]
    # the --max-bad-share flag still wins over the file
    config.write_text("[params]\nmax_bad_share = 0.0\n")
    (data / "gifts.csv").write_text(DUPLICATES + "u3,h1,-1,2024-05-01T10:00:00Z\n")
    assert _run(data, "--config", config).exit_code == 2
    assert _run(data, "--config", config, "--max-bad-share", "0.5").exit_code == 0


def test_max_coins_from_the_config(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\n" + "u1,h1,500,1714557600\n" * 3
                                    + "u2,h1,1e308,1714557600\n")
    config = tmp_path / "graphkit.toml"
    config.write_text("[params]\nmax_coins = 100\nmax_bad_share = 1.0\n")
    result = _run(data, "--config", config, "--json")
    assert json.loads(result.stdout)["tables"][0]["rejected_by_reason"] == {"coins above max_coins (100)": 4}
    config.write_text("[params]\nmax_coins = 1e300\n")
    result = _run(data, "--config", config)
    assert result.exit_code == 2 and "max_coins = 1e+300 is not allowed; max_coins must be a number > 0 and <= 1e+15" in result.stderr


def test_rejected_times_come_with_the_timestamp_rule(tmp_path: Path) -> None:
    (tmp_path / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\n" + "u1,h1,5,1714557600\n" * 30
                                        + "u2,h1,5,1714557600000\n")
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output + result.stderr
    assert "    1 sent_at looks like epoch milliseconds in a column of epoch seconds\n" in result.stdout
    assert "seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, else nanoseconds" in result.stdout
    (tmp_path / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\nu1,h1,-5,1714557600\n" + "u1,h1,5,1714557600\n" * 30)
    assert "seconds below 1e11" not in _run(tmp_path).stdout


def test_amlsim_steps_are_read_as_days(shared_dataset, fixtures_dir: Path) -> None:
    """AMLSim's `time` (1..149) is a day-like step: fixtures/amlsim.toml says so ([tables.gifts.units])."""
    result = _run(shared_dataset("amlsim-20k"), "--columns", fixtures_dir / "amlsim.toml", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    gifts = {t["table"]: t for t in json.loads(result.stdout)["tables"]}["gifts"]
    assert (gifts["time_min"], gifts["time_max"]) == ("1970-01-02T00:00:00+00:00", "1970-05-30T00:00:00+00:00")


def test_rejected_rows_of_an_earlier_validate_do_not_linger_and_a_report_folder_is_refused(tmp_path, fixtures_dir):
    """Found by a new-user tryout: validating a clean data set after a bad one left the bad one's
    rejected/gifts.csv in place, and --rejected OUT_DIR put another data set's rows into a report."""
    from click.testing import CliRunner

    from graphkit_cli.main import cli

    runner = CliRunner()
    checks = tmp_path / "checks"
    assert runner.invoke(cli, ["validate", str(fixtures_dir / "bad" / "negative_coins"), "--rejected", str(checks)]).exit_code == 0
    assert (checks / "rejected" / "gifts.csv").is_file()
    (checks / "rejected" / "notes.md").write_text("mine")
    assert runner.invoke(cli, ["validate", str(fixtures_dir / "demo"), "--rejected", str(checks)]).exit_code == 0
    assert sorted(p.name for p in (checks / "rejected").iterdir()) == ["notes.md"]
    report = tmp_path / "out"
    assert runner.invoke(cli, ["report", str(fixtures_dir / "demo"), "--out", str(report), "--no-html", "-q"]).exit_code == 0
    result = runner.invoke(cli, ["validate", str(fixtures_dir / "bad" / "negative_coins"), "--rejected", str(report)])
    assert result.exit_code == 2 and "is a graphkit report" in result.output
    assert not (report / "rejected").exists()
