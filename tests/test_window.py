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


# -- one window rule for the report, the views, expand and path (issue 13) --------------------------------------------

STREAM_GIFTS = pl.DataFrame({"sender_id": ["a", "b"], "receiver_id": ["h", "h"], "coins": [5.0, 7.0],
                             "sent_at": ["2024-05-02T00:30:00Z", "2024-05-02T00:40:00Z"],
                             "stream_id": ["s1", "s1"]})
# s1 started before the window and ran into it; s2 ended before it
STREAMS = pl.DataFrame({"stream_id": ["s1", "s2"], "host_id": ["h", "h"],
                        "started_at": ["2024-05-01T23:00:00Z", "2024-04-01T10:00:00Z"],
                        "ended_at": ["2024-05-02T01:00:00Z", "2024-04-01T11:00:00Z"]})


def test_a_stream_that_started_before_the_window_is_hosted_in_the_report_and_in_expand():
    from graphkit.detect.evidence import entity_edges

    tables = Tables.from_frames(gifts=STREAM_GIFTS, streams=STREAMS)
    windowed = apply_window(tables, since="2024-05-02")
    assert windowed.streams["stream_id"].to_list() == ["s1"]  # what the report's graphs are built from
    hosted = entity_edges(tables, since="2024-05-02").filter(pl.col("relation") == "hosted")
    assert hosted.height == 1, "expand and the ring views dropped the hosted edge of a stream that began before --since"
    assert hosted["target"].to_list() == ["stream:s1"]


def test_the_overview_counts_only_the_coins_between_rings_inside_the_window():
    from graphkit.model import Report, Ring
    from graphkit.viz import overview

    gifts = pl.DataFrame({"sender_id": ["a1", "a2"], "receiver_id": ["b1", "b1"], "coins": [5.0, 1000.0],
                          "sent_at": ["2024-05-02T10:00:00Z", "2024-04-01T10:00:00Z"]})
    rings = tuple(Ring(ring_id=f"R000{i}", rank=i, score=0.9, members=members, coins_total=10.0, beneficiaries=(),
                       signals={}, reasons=("x",), kind="mixed") for i, members in ((1, ("a1", "a2")), (2, ("b1",))))
    scores = pl.DataFrame({"user_id": ["a1", "a2", "b1"], "score": [0.9] * 3, "ring_id": ["R0001", "R0001", "R0002"]})
    report = Report(rings, scores, {"since": "2024-05-01"}, {}, tables=Tables.from_frames(gifts=gifts))
    page = overview(report)
    assert "gifted 5 coins to ring R0002" in page  # the 1,000 coins of April are outside the window
    assert "1,005" not in page


def test_a_report_of_the_demo_with_one_unreadable_time_keeps_the_row_and_finishes(tmp_path):
    """One gift whose time cannot be read, among the demo's 60,000: the row is rejected with its reason and the
    report (store included) is written. polars 2.1 failed an eager filter on ``lit(True).fill_null(False)``
    (the window predicate without bounds) on such a frame: "filter predicate length of 2"."""
    import shutil
    from pathlib import Path

    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "demo", data)
    gifts = pl.read_csv(data / "gifts.csv", infer_schema=False)
    gifts.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("yesterday")).otherwise(pl.col("sent_at")).alias("sent_at")
    ).write_csv(data / "gifts.csv")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(out), "--no-html", "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    rejected = pl.read_csv(out / "rejected" / "gifts.csv", infer_schema=False)
    assert rejected.select("row", "reason").rows() == [("5", "unparseable sent_at")]
    assert (out / "rings.json").is_file() and (out / "graph").is_dir()


def test_a_windows_bounds_reach_the_parquet_scan_so_row_groups_outside_are_skipped(tmp_path):
    # a day of gifts sorted by time, in row groups of 100 rows: a 1-hour window must be a filter inside the Parquet
    # scan (its statistics skip the other groups), not a filter over every row read. Built on a scan whose schema
    # was already read, as read_tables does: polars 2.1 kept a row index added afterwards from pushing the filter
    from datetime import datetime, timedelta, timezone

    from graphkit.io.scan import ROW, scan_table
    from graphkit.io.schema import TABLES
    from graphkit.io.validate import rows_in_scope
    from graphkit.io.window import time_window

    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    gifts = pl.DataFrame({
        "sender_id": [f"u{i % 50}" for i in range(2_400)], "receiver_id": "h", "coins": 1.0,
        "sent_at": [start + timedelta(seconds=36 * i) for i in range(2_400)],
    })
    path = tmp_path / "gifts.parquet"
    gifts.write_parquet(path, row_group_size=100)
    frame, _ = scan_table(path, set(TABLES["gifts"].names))
    frame.collect_schema()
    rows = rows_in_scope(frame, "gifts", time_window("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"))
    plan = rows.explain()
    assert plan.lstrip().startswith("Parquet SCAN") and "SELECTION" in plan, plan  # no FILTER above the scan
    got = rows.collect()
    assert got.height == 100 and got[ROW].to_list() == list(range(1001, 1101))  # numbered as in the whole file
