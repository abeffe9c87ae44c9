"""Account ids chosen by an attacker, printed by the commands: literally, and never as terminal control.

Ids come from the data. Rich markup in them (``[red]``, ``[link=...]``) must
print as text, and escape sequences or line breaks must not reach the
terminal (an ANSI sequence can recolour, hide or rewrite what an
investigator reads; a line break can fake a line of output).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

MARKUP = "[red]m1[/red]"
LINK = "[link=http://e.vil]m2[/link]"
ESC = "m3\x1b[2J\x1b]8;;http://e.vil\x07"
NEWLINE = "m4\nfake: all clear"
HOST = "h[bold]x[/bold]"
IDS = [MARKUP, LINK, ESC, NEWLINE]


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    pl.DataFrame(
        {
            "sender_id": IDS,
            "receiver_id": [HOST] * len(IDS),
            "coins": [100.0] * len(IDS),
            "sent_at": [f"2024-05-01T00:00:0{i}Z" for i in range(len(IDS))],
        }
    ).write_csv(data / "gifts.csv")
    pl.DataFrame({"user_id": IDS, "device_id": ["dev[i]1[/i]"] * len(IDS)}).write_csv(data / "devices.csv")
    return data


@pytest.fixture(autouse=True)
def _wide(wide_console):
    """Tables unwrapped: an id folded over two lines of a cell would not be found whole."""


def _run(*args: object):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def _assert_safe(out: str) -> None:
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "fake: all clear" not in out.splitlines(), "a line break in an id started a new output line"


def test_expand_prints_ids_literally(data_dir: Path, tmp_path: Path) -> None:
    out = _run("expand", MARKUP, "--data", data_dir, "--hops", "2", "--out", tmp_path / "v.html")
    _assert_safe(out)
    assert MARKUP in out and LINK in out and HOST in out  # the markup is printed, not applied
    assert "m4\\nfake: all clear" in out  # the line break shown escaped (graphkit.util.display)


def test_path_prints_ids_literally(data_dir: Path) -> None:
    out = _run("path", ESC, NEWLINE, "--data", data_dir)
    _assert_safe(out)
    assert "m3\\x1b[2J" in out and "m4\\nfake: all clear" in out
    assert "dev[i]1[/i]" in out  # the shared device: a cheaper link than their gifts to the host
    out = _run("path", ESC, HOST, "--data", data_dir)
    _assert_safe(out)
    assert HOST in out


def test_path_without_a_chain_prints_ids_literally(data_dir: Path) -> None:
    _run("path", MARKUP, MARKUP, "--data", data_dir)  # same account
    out = _run("path", ESC, ESC, "--data", data_dir)
    _assert_safe(out)


def test_eval_prints_truth_strings_literally(data_dir: Path, tmp_path: Path) -> None:
    _run("report", data_dir, "--out", tmp_path / "out", "--no-html", "-q")
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"rings": [{"ring_id": "T[b]1[/b]", "kind": "farm\x1b[31m[red]k[/red]",
                                            "members": IDS + [HOST]}]}))
    out = _run("eval", tmp_path / "out", "--truth", truth)
    _assert_safe(out)
    assert "T[b]1[/b]" in out and "[red]k[/red]" in out
