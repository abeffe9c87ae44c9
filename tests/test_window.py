"""An empty ``--since/--until`` window is a user question with an empty answer: one line, exit 2.

Before, ``graphkit report`` ran on nothing and said "No ring was found".
"""

from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit.graphs import apply_window
from graphkit.errors import InputError
from graphkit.io import Tables
from graphkit_cli.main import cli

GIFTS = pl.DataFrame({"sender_id": ["a", "b"], "receiver_id": ["h", "h"], "coins": [1.0, 2.0],
                      "sent_at": ["2024-05-01T10:00:00Z", "2024-05-03T12:30:00Z"]})


@pytest.mark.parametrize(
    ("window", "words"),
    [
        ({"since": "2025-01-01", "until": "2025-02-01"}, "between 2025-01-01 00:00:00 and 2025-02-01 00:00:00 UTC"),
        ({"since": "2025-01-01"}, "at or after 2025-01-01 00:00:00 UTC"),
        ({"until": "2024-04-01T00:00:00Z"}, "before 2024-04-01 00:00:00 UTC"),
        ({"since": "2024-05-02", "until": "2024-05-03"}, "between 2024-05-02 00:00:00 and 2024-05-03 00:00:00 UTC"),
    ],
)
def test_an_empty_window_names_the_window_and_the_span_of_the_data(window, words):
    with pytest.raises(InputError) as info:
        apply_window(Tables.from_frames(gifts=GIFTS), **window)
    assert str(info.value) == (f"no gifts or devices {words} (the data spans 2024-05-01 10:00:00 .. "
                               "2024-05-03 12:30:00 UTC); choose --since/--until inside that span")


def test_a_window_with_events_or_no_window_is_kept():
    assert apply_window(Tables.from_frames(gifts=GIFTS), since="2024-05-03").gifts.height == 1
    assert apply_window(Tables.from_frames(gifts=GIFTS)).gifts.height == 2


def test_a_dated_device_sighting_in_the_window_is_enough():
    devices = pl.DataFrame({"user_id": ["a", "b"], "device_id": ["d1", "d1"],
                            "seen_at": ["2024-06-01T00:00:00Z", "2024-06-02T00:00:00Z"]})
    kept = apply_window(Tables.from_frames(gifts=GIFTS, devices=devices), since="2024-06-01")
    assert (kept.gifts.height, kept.devices.height) == (0, 2)


def test_report_on_an_empty_window_is_one_line_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "fixtures/demo", "--out", str(out), "--since", "2025-01-01",
                                      "--until", "2025-02-01", "-q"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "graphkit: error: no gifts or devices between 2025-01-01 00:00:00 and 2025-02-01 00:00:00 UTC (the data "
        "spans 2024-05-01 00:00:51 .. 2024-05-30 23:59:47 UTC); choose --since/--until inside that span"
    ]
    assert "No ring was found" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("command", [["expand", "u007282", "--out", "{tmp}/x.html"], ["path", "u000236", "u004242"]])
def test_expand_and_path_on_an_empty_window_say_so_in_one_line(tmp_path, command):
    """They answered with a lone seed or "not linked" as if the accounts had no evidence."""
    args = [a.format(tmp=tmp_path) for a in command] + ["--data", "fixtures/demo", "--since", "2025-01-01"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1
    assert "no gifts or devices at or after 2025-01-01 00:00:00 UTC (the data spans" in result.stderr
    assert not (tmp_path / "x.html").exists()
