"""What every command that reads a data directory shares: the reading settings
and the --allow-outside-data-dir option (issue 18, items 7, 8 and 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad"
READERS = ("report", "validate", "export", "expand", "path")


def invoke(*args) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("command", READERS)
def test_every_command_with_columns_has_allow_outside_data_dir(command: str) -> None:
    text = invoke(command, "-h").output
    assert "--columns" in text and "--allow-outside-data-dir" in text


def _outside(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "tx.csv").write_text(
        "sender_id,receiver_id,coins,sent_at\n" + "".join(f"u{i},h{i % 3},5,2024-05-01T10:0{i % 10}:00Z\n" for i in range(30))
    )
    (data / "graphkit.toml").write_text('[tables.gifts]\nfile = "../tx.csv"\n')
    return data


@pytest.mark.parametrize(
    "args",
    [
        ["report", "{data}", "--out", "{tmp}/out", "--no-html", "--quiet"],
        ["validate", "{data}"],
        ["export", "{data}", "--graph", "gifts", "--out", "{tmp}/g.graphml"],
        ["expand", "u1", "--data", "{data}", "--out", "{tmp}/u1.html"],
        ["path", "u1", "h1", "--data", "{data}"],
    ],
    ids=lambda a: a[0],
)
def test_a_mapping_outside_the_data_dir_needs_the_option_on_every_command(tmp_path: Path, args: list[str]) -> None:
    data = _outside(tmp_path)
    argv = [a.format(data=data, tmp=tmp_path) for a in args]
    refused = invoke(*argv)
    assert refused.exit_code == 2, refused.output + refused.stderr
    (line,) = refused.stderr.splitlines()
    assert "table gifts is outside the data directory" in line and "--allow-outside-data-dir" in line
    allowed = invoke(*argv, "--allow-outside-data-dir")
    assert allowed.exit_code == 0, allowed.output + allowed.stderr


def test_report_warns_about_kept_duplicates_and_counts_them_in_rings_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rows = "".join(f"u{i},h{i % 3},5,2024-05-01T10:0{i % 10}:00Z\n" for i in range(30))
    (data / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\n" + rows + "u1,h1,5,2024-05-01T10:01:00Z\n" * 2)
    result = invoke("report", data, "--out", tmp_path / "out", "--no-html", "--quiet")
    assert result.exit_code == 0, result.output + result.stderr
    assert "graphkit: warning: " in result.stderr and "2 exact duplicate rows" in result.stderr
    summary = json.loads((tmp_path / "out" / "rings.json").read_text())["summary"]
    assert summary["exact_duplicate_rows"] == 2 and summary["gifts"] == 32 and summary["coins"] == 160.0

    config = tmp_path / "graphkit.toml"
    config.write_text("[params]\ndedupe_exact_rows = true\n")
    result = invoke("report", data, "--out", tmp_path / "out", "--no-html", "--quiet", "--config", config)
    assert result.exit_code == 0, result.output + result.stderr
    assert "warning" not in result.stderr
    written = json.loads((tmp_path / "out" / "rings.json").read_text())
    assert written["summary"]["exact_duplicate_rows"] == 2 and written["summary"]["gifts"] == 30
    assert written["summary"]["rejected_rows"] == 2 and written["params"]["dedupe_exact_rows"] is True
    assert (tmp_path / "out" / "rejected" / "gifts.csv").read_text().count("exact duplicate row") == 2


def test_report_with_a_gift_of_1e308_coins_has_finite_totals(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rows = "".join(f"u{i},h{i % 3},5,2024-05-01T10:0{i % 10}:00Z\n" for i in range(40))
    (data / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\n" + rows + "x,h1,1e308,2024-05-01T10:00:00Z\n")
    result = invoke("report", data, "--out", tmp_path / "out", "--no-html", "--quiet")
    assert result.exit_code == 0, result.output + result.stderr
    summary = json.loads((tmp_path / "out" / "rings.json").read_text())["summary"]
    assert summary["coins"] == 200.0 and summary["rejected_rows"] == 1
    assert "inf coins" not in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize("command", [
    ["expand", "u007282", "--hops", "0", "--data", "{data}", "--out", "{data}/users.csv"],
    ["export", "{data}", "--graph", "gifts", "--format", "parquet", "--out", "{data}/gifts.csv"],
    ["features", "{data}", "--out", "{data}/streams.csv"],
    ["features", "{data}", "--out", "{data}/graphkit.toml"],
])
def test_an_out_file_inside_the_data_directory_is_refused_before_any_work(command, tmp_path, fixtures_dir):
    """expand/export/features --out inside DATA_DIR could replace an input table (found by a new-user tryout)."""
    import shutil

    data = tmp_path / "demo"
    shutil.copytree(fixtures_dir / "demo", data)
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    result = CliRunner().invoke(cli, [part.format(data=data) for part in command])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "could replace an input table" in result.output
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before
