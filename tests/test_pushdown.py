"""``--since/--until`` pushed into the scans, and tables read from partitioned folders (issue 15).

Reading only the window must give the tables that reading everything and
windowing afterwards gave (the one rule, :class:`graphkit.graphs.window.TimeWindow`),
and every row of a file is accounted for: accepted + rejected + out of window = read.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from graphkit.errors import InputError
from graphkit.graphs.window import apply_window
from graphkit.io import read_tables
from graphkit.io.window import time_window
from graphkit_cli.main import cli

from _ratings import RATINGS_MAPPING

DEMO = Path("fixtures/demo")

WINDOWS = [
    ("2024-05-10", "2024-05-11"),
    ("2024-05-10T13:00:00Z", "2024-05-10T14:00:00Z"),
    (None, "2024-05-03"),
    ("2024-05-29T12:00:00+02:00", None),
]


def _parquet_copy(src: Path, dst: Path, *, zone: str | None = "UTC") -> Path:
    """The demo's tables as Parquet, gifts sorted by time in small row groups, its time column in ``zone``."""
    dst.mkdir()
    for name in ("users", "streams", "devices"):
        shutil.copy(src / f"{name}.csv", dst / f"{name}.csv")
    sent = pl.col("sent_at").str.to_datetime(time_zone="UTC")
    sent = sent.dt.convert_time_zone(zone) if zone else sent.dt.replace_time_zone(None)
    gifts = pl.read_csv(src / "gifts.csv", infer_schema=False).with_columns(sent).sort("sent_at", maintain_order=True)
    gifts.write_parquet(dst / "gifts.parquet", row_group_size=2_000)
    return dst


def _ndjson_copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("users", "streams", "devices", "gifts"):
        pl.read_csv(src / f"{name}.csv", infer_schema=False).write_ndjson(dst / f"{name}.ndjson")
    return dst


@pytest.mark.parametrize(("since", "until"), WINDOWS)
@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet UTC", "parquet naive", "parquet Asia/Tokyo"])
def test_reading_a_window_gives_the_tables_that_windowing_everything_gave(tmp_path, fmt, since, until):
    if fmt == "csv":
        data = DEMO
    elif fmt == "ndjson":
        data = _ndjson_copy(DEMO, tmp_path / "data")
    else:
        data = _parquet_copy(DEMO, tmp_path / "data", zone={
            "parquet UTC": "UTC", "parquet naive": None, "parquet Asia/Tokyo": "Asia/Tokyo"}[fmt])
    before = apply_window(read_tables(data), since, until)
    pushed = read_tables(data, window=time_window(since, until))
    for name in ("users", "streams", "devices", "gifts"):
        assert_frame_equal(pushed.table(name), before.table(name), check_row_order=True)
    assert 0 < pushed.gifts.height < 60_000
    for stats in pushed.stats.values():
        assert stats.accepted + stats.rejected + stats.out_of_window == stats.rows_read
    assert pushed.stats["gifts"].rows_read == 60_000
    assert pushed.stats["gifts"].out_of_window == 60_000 - pushed.gifts.height
    # users are read whole, then narrowed to the accounts the window touches: the others are out of the window
    users = pushed.stats["users"]
    assert users.rows_read == 8_000 and users.out_of_window == 8_000 - pushed.users.height > 0


def test_the_window_predicate_reaches_the_parquet_scan(tmp_path):
    """A time-sorted file read for one hour: the filter sits in the scan, where polars
    compares it with each row group's statistics, before any value is parsed."""
    data = _parquet_copy(DEMO, tmp_path / "data")
    window = time_window("2024-05-10T13:00:00Z", "2024-05-10T14:00:00Z")
    frame = pl.scan_parquet(data / "gifts.parquet").with_row_index("row", offset=1)
    plan = frame.filter(window.pushdown("gifts", dict(frame.collect_schema()))).explain()
    scan = plan[plan.index("Parquet SCAN"):]
    assert "SELECTION" in scan and "sent_at" in scan, plan


def test_rows_are_validated_only_in_the_window_and_every_row_is_counted(tmp_path):
    (tmp_path / "gifts.csv").write_text(
        "sender_id,receiver_id,coins,sent_at,gift_id\n"
        "a,h,5,2024-05-02T10:00:00Z,g1\n"      # in: accepted
        "b,h,-1,2024-05-02T11:00:00Z,g2\n"     # in: rejected (negative coins)
        "c,h,-1,2024-04-01T10:00:00Z,g3\n"     # out: never judged
        "d,h,3,soon,g4\n"                      # time unreadable: in scope, rejected
        "e,h,3,,g5\n"                          # no time: in scope, rejected
        "f,h,2,2024-04-01T12:00:00Z,g1\n"      # out: the repeated gift_id is not judged against g1
        "g,h,2,2024-05-02T12:00:00Z,g6\n"      # in: accepted
    )
    tables = read_tables(tmp_path, window=time_window("2024-05-02", "2024-05-03"), max_bad_share=1.0)
    stats = tables.stats["gifts"]
    assert tables.gifts["sender_id"].to_list() == ["a", "g"]
    assert tables.rejected["gifts"].select("row", "reason").rows() == [
        (2, "negative coins"), (4, "unparseable sent_at"), (5, "missing sent_at")]
    assert (stats.rows_read, stats.accepted, stats.rejected, stats.out_of_window) == (7, 2, 3, 2)


def test_rows_a_mapping_where_leaves_out_are_neither_read_nor_out_of_the_window(tmp_path):
    """One file feeds gifts (rating > 0) and flags (rating < 0), as benchmarks/signed_trust.py maps ratings: with
    a window, each table counts only the rows its ``where`` keeps, and accepted + rejected + out of window adds up.
    A flag dated after --until is out of the window (not a rejected row); one from before the window is kept."""
    (tmp_path / "users.csv").write_text("user_id\na\nb\nh\n")
    (tmp_path / "ratings.csv").write_text(
        "rater,ratee,rating,time\n"
        "a,h,5,2024-05-02T10:00:00Z\n"    # gift, in
        "b,h,3,2024-04-01T10:00:00Z\n"    # gift, out of the window
        "a,h,2,soon\n"                    # gift, unreadable time: in scope, rejected
        "b,h,1,2024-05-05T10:00:00Z\n"    # gift, out of the window (after it)
        "b,h,-4,2024-05-02T09:00:00Z\n"   # flag, in
        "a,h,-9,2024-04-01T11:00:00Z\n"   # flag, before the window: kept, it was known then
        "b,h,-2,2024-05-04T11:00:00Z\n"   # flag, after --until: out of the window
    )
    (tmp_path / "graphkit.toml").write_text(
        '[tables.users]\nfile = "users.csv"\n' + RATINGS_MAPPING
    )
    tables = read_tables(tmp_path, window=time_window("2024-05-02", "2024-05-03"), max_bad_share=1.0)
    gifts, flags = tables.stats["gifts"], tables.stats["flags"]
    assert (gifts.rows_read, gifts.accepted, gifts.rejected, gifts.out_of_window) == (4, 1, 1, 2)
    assert (flags.rows_read, flags.accepted, flags.rejected, flags.out_of_window) == (3, 2, 0, 1)
    assert sorted(tables.flags["rating"].to_list()) == ["-4", "-9"] and "flags" not in tables.rejected


def test_the_share_of_bad_rows_is_measured_in_the_window(tmp_path):
    rows = ["a,h,5,2024-05-02T10:00:00Z"] + ["x,h,-1,2024-04-01T10:00:00Z"] * 9
    (tmp_path / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\n" + "\n".join(rows) + "\n")
    assert read_tables(tmp_path, window=time_window("2024-05-02", "2024-05-03")).gifts.height == 1


def test_an_empty_window_still_names_the_span_of_the_whole_data():
    with pytest.raises(InputError) as info:
        read_tables(DEMO, window=time_window("2025-01-01", "2025-02-01"))
    assert str(info.value) == (
        "no gifts or devices between 2025-01-01 00:00:00 and 2025-02-01 00:00:00 UTC (the data spans "
        "2024-05-01 00:00:51 .. 2024-05-30 23:59:47 UTC); choose --since/--until inside that span")


def test_a_windowed_report_says_how_many_rows_were_out_of_the_window(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--since", "2024-05-10",
                                      "--until", "2024-05-12", "--no-html", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "rings.json").read_text())["summary"]
    gifts = read_tables(DEMO, window=time_window("2024-05-10", "2024-05-12"))
    skipped = sum(s.out_of_window for s in gifts.stats.values())
    assert summary["out_of_window_rows"] == skipped > 0
    row = next(line for line in (out / "report.md").read_text().splitlines() if line.startswith("| gifts |"))
    read, accepted, rejected, outside = (int(cell.strip().replace(",", "")) for cell in row.split("|")[3:7])
    assert read == 60_000 and accepted + rejected + outside == read and outside == gifts.stats["gifts"].out_of_window
    users = next(line for line in (out / "report.md").read_text().splitlines() if line.startswith("| users |"))
    read, accepted, rejected, outside = (int(cell.strip().replace(",", "")) for cell in users.split("|")[3:7])
    assert read == 8_000 and accepted + rejected + outside == read and accepted == summary["users"]
    assert outside == summary["accounts_out_of_window"] == gifts.stats["users"].out_of_window > 0


def _hive_and_flat(tmp_path: Path) -> tuple[Path, Path]:
    gifts = pl.read_csv(DEMO / "gifts.csv", infer_schema=False).with_columns(
        pl.col("sent_at").str.to_datetime(time_zone="UTC")).with_columns(date=pl.col("sent_at").dt.date())
    flat, hive = tmp_path / "flat", tmp_path / "hive"
    for folder in (flat, hive):
        folder.mkdir()
        for name in ("users", "streams", "devices"):
            shutil.copy(DEMO / f"{name}.csv", folder / f"{name}.csv")
    gifts.write_parquet(flat / "gifts.parquet")
    gifts.write_parquet(hive / "gifts", partition_by="date")  # gifts/date=2024-05-01/....parquet
    return flat, hive


def test_a_partitioned_folder_reads_as_one_table_and_gives_the_same_report(tmp_path):
    flat, hive = _hive_and_flat(tmp_path)
    assert len(list((hive / "gifts").glob("date=*/*.parquet"))) == 30
    outs = {}
    for name, data in (("flat", flat), ("hive", hive)):
        outs[name] = tmp_path / f"out-{name}"
        result = CliRunner().invoke(cli, ["report", str(data), "--out", str(outs[name]), "--no-html", "-q"])
        assert result.exit_code == 0, result.output
    for file in ("rings.json", "rings.csv", "scores.csv", "members.csv"):
        assert (outs["flat"] / file).read_bytes() == (outs["hive"] / file).read_bytes(), file


def test_a_filter_on_the_partition_column_opens_only_its_folders_and_a_window_reads_the_same(tmp_path):
    flat, hive = _hive_and_flat(tmp_path)
    window = time_window("2024-05-10", "2024-05-11")
    assert_frame_equal(read_tables(hive, window=window).gifts, read_tables(flat, window=window).gifts)
    from graphkit.io.scan import scan_table

    frame, _ = scan_table(hive / "gifts", set())
    plan = frame.filter(pl.col("date") == datetime(2024, 5, 10, tzinfo=timezone.utc).date()).explain()
    assert plan.count(".parquet") == 1 and "date=2024-05-10" in plan, plan


def test_a_folder_without_parquet_parts_is_one_clear_error(tmp_path):
    (tmp_path / "gifts").mkdir()
    (tmp_path / "gifts" / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"gifts: is a directory without \.parquet files \(table gifts\)"):
        read_tables(tmp_path)


_TIMES = ["2024-05-01T10:00:00Z", "2024-05-02T00:00:00Z", "2024-05-02T12:30:00Z", "2024-05-03T00:00:00Z",
          "2024-05-04T08:00:00Z", "1714557600", "soon", ""]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["-1", "3", "x", ""]),
                               st.sampled_from(_TIMES)), min_size=1, max_size=25),
       since=st.sampled_from([None, "2024-05-02", "2024-05-02T12:30:00Z"]),
       until=st.sampled_from([None, "2024-05-03", "2024-05-05"]))
def test_every_row_is_accepted_rejected_or_out_of_the_window_and_the_window_keeps_what_it_kept(
        tmp_path_factory, rows, since, until):
    folder = tmp_path_factory.mktemp("rows")
    lines = [f"{sender},h,{coins},{time}" for sender, coins, time in rows]
    (folder / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\n" + "\n".join(lines) + "\n")
    everything = read_tables(folder, max_bad_share=1.0)
    window = time_window(since, until)
    try:
        expected = apply_window(everything, since, until).gifts
    except InputError:  # nothing in the window: reading it says so too
        with pytest.raises(InputError, match="no gifts or devices"):
            read_tables(folder, max_bad_share=1.0, window=window)
        return
    pushed = read_tables(folder, max_bad_share=1.0, window=window)
    stats = pushed.stats["gifts"]
    assert stats.accepted + stats.rejected + stats.out_of_window == stats.rows_read == len(rows)
    assert_frame_equal(pushed.gifts, expected)
    # a row rejected in the window is rejected for the same reason when everything is read
    none = pl.DataFrame(schema={"row": pl.UInt32, "reason": pl.Utf8})
    inside = pushed.rejected.get("gifts", none).select("row", "reason")
    full = everything.rejected.get("gifts", none).select("row", "reason")
    assert inside.join(full, on=["row", "reason"], how="anti").height == 0
