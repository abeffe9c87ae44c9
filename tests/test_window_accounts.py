"""A window's report holds only the accounts the window touches (issue 15).

An account with no event in ``[since, until)`` has no evidence in it: it is left out of the
window's analysis and of ``scores.csv``, and counted as out of the window, so that for every
table ``accepted + rejected + out_of_window == rows_read``. The rule is
:meth:`graphkit.io.window.TimeWindow.accounts`; a report without a window keeps every account.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import Config
from graphkit.graphs import apply_window
from graphkit.io import Tables, read_tables
from graphkit.io.window import time_window
from graphkit.pipeline import analyze
from graphkit_cli.main import cli

SINCE, UNTIL = "2024-05-02T10:00:00Z", "2024-05-02T11:00:00Z"


def _platform(folder: Path) -> Path:
    """A hand-built platform around one hour (10:00-11:00 on 2024-05-02): who is in it and why is in each row."""
    folder.mkdir()
    (folder / "users.csv").write_text(
        "user_id,created_at\n"
        "sender,2024-01-01T00:00:00Z\n"      # sends a gift in the hour
        "receiver,2024-01-01T00:00:00Z\n"    # receives it
        "seen,2024-01-01T00:00:00Z\n"        # seen on a device in the hour
        "undated,2024-01-01T00:00:00Z\n"     # an undated sighting: in every window
        "host,2024-01-01T00:00:00Z\n"        # hosts a stream that overlaps the hour
        "newcomer,2024-05-02T10:30:00Z\n"    # created in the hour, nothing else
        "banned,2024-01-01T00:00:00Z\n"      # flagged in the hour, nothing else
        "at_until,2024-05-02T11:00:00Z\n"    # created exactly at until: outside ([since, until))
        "before,2024-01-01T00:00:00Z\n"      # gifted the day before
        "after,2024-01-01T00:00:00Z\n"       # seen the hour after
        "old_flag,2024-01-01T00:00:00Z\n"    # flagged the day before, no event in the hour
        "idle,\n"                            # nothing at all
    )
    (folder / "gifts.csv").write_text(
        "sender_id,receiver_id,stream_id,coins,sent_at\n"
        "sender,receiver,s1,5,2024-05-02T10:00:00Z\n"      # exactly at since: inside
        "before,receiver,s1,5,2024-05-01T10:00:00Z\n"
        "sender,before,s1,5,2024-05-02T11:00:00Z\n"        # exactly at until: outside
    )
    (folder / "devices.csv").write_text(
        "user_id,device_id,ip,seen_at\n"
        "seen,d1,10.0.0.1,2024-05-02T10:59:59Z\n"
        "undated,d2,,\n"
        "after,d1,,2024-05-02T12:00:00Z\n"
    )
    (folder / "streams.csv").write_text(
        "stream_id,host_id,started_at,ended_at\n"
        "s1,host,2024-05-02T09:00:00Z,2024-05-02T10:15:00Z\n"
    )
    (folder / "flags.csv").write_text(
        "user_id,kind,at\n"
        "banned,ban,2024-05-02T10:10:00Z\n"
        "old_flag,ban,2024-05-01T10:00:00Z\n"
    )
    return folder


TOUCHED = ["banned", "host", "newcomer", "receiver", "seen", "sender", "undated"]


def test_a_window_report_lists_exactly_the_accounts_the_window_touches(tmp_path):
    data = _platform(tmp_path / "data")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(out), "--since", SINCE, "--until", UNTIL,
                                      "--no-html", "-q"])
    assert result.exit_code == 0, result.output
    scores = pl.read_csv(out / "scores.csv", infer_schema=False)
    assert sorted(scores.get_column("user_id").to_list()) == TOUCHED
    summary = json.loads((out / "rings.json").read_text())["summary"]
    assert summary["users"] == len(TOUCHED)
    assert summary["accounts_out_of_window"] == 12 - len(TOUCHED)
    row = next(line for line in (out / "report.md").read_text().splitlines() if line.startswith("| users |"))
    read, accepted, rejected, outside = (int(cell.strip().replace(",", "")) for cell in row.split("|")[3:7])
    assert (read, accepted, rejected, outside) == (12, len(TOUCHED), 0, 12 - len(TOUCHED))
    # the store's id index holds the same accounts
    nodes = pl.read_parquet(out / "graph" / "nodes.parquet").get_column("node_id")
    assert sorted(nodes.filter(nodes.str.starts_with("account:")).str.strip_prefix("account:").to_list()) == TOUCHED


def test_a_report_without_a_window_keeps_every_account(tmp_path):
    data = _platform(tmp_path / "data")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(out), "--no-html", "-q"])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out / "scores.csv", infer_schema=False).height == 12
    assert "accounts_out_of_window" not in json.loads((out / "rings.json").read_text())["summary"]


def test_every_table_counts_its_rows_read_as_accepted_rejected_or_out_of_the_window(tmp_path):
    data = _platform(tmp_path / "data")
    with (data / "users.csv").open("a") as users:  # rejected rows are judged before the accounts are narrowed
        users.write("sender,2024-01-02T00:00:00Z\n,2024-01-01T00:00:00Z\n")
    tables = read_tables(data, window=time_window(SINCE, UNTIL), max_bad_share=1.0)
    for name, stats in tables.stats.items():
        assert stats.accepted + stats.rejected + stats.out_of_window == stats.rows_read, name
    users = tables.stats["users"]
    assert (users.rows_read, users.accepted, users.rejected, users.out_of_window) == (14, 7, 2, 5)
    assert sorted(tables.rejected["users"].get_column("reason").to_list()) == ["duplicate user_id", "missing user_id"]
    # the flag of an account outside the window was validated against every user (not rejected as unknown)
    assert tables.stats["flags"].rejected == 0 and tables.flags.height == 2


def test_reading_the_window_and_windowing_the_tables_read_whole_keep_the_same_accounts(tmp_path):
    data = _platform(tmp_path / "data")
    pushed = read_tables(data, window=time_window(SINCE, UNTIL))
    whole = read_tables(data)
    after = apply_window(whole, SINCE, UNTIL)
    assert sorted(pushed.users.get_column("user_id")) == sorted(after.users.get_column("user_id")) == TOUCHED
    config = Config(since=SINCE, until=UNTIL)
    assert analyze(whole, config).summary["accounts_out_of_window"] == 5
    assert analyze(pushed, config).summary["accounts_out_of_window"] == 5


T0 = datetime(2024, 5, 2, 10, tzinfo=timezone.utc)
_minutes = st.integers(min_value=-90, max_value=150)


@settings(max_examples=60, deadline=None)
@given(gifts=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), _minutes), max_size=8),
       sightings=st.lists(st.tuples(st.integers(0, 5), st.one_of(st.none(), _minutes)), max_size=6),
       created=st.lists(st.one_of(st.none(), _minutes), min_size=6, max_size=6),
       flags=st.lists(st.tuples(st.integers(0, 5), _minutes), max_size=3),
       length=st.integers(min_value=1, max_value=120))
def test_an_account_is_kept_exactly_when_it_has_an_event_in_the_half_open_window(gifts, sightings, created, flags,
                                                                                  length):
    """Events exactly at ``since`` are in, exactly at ``until`` out; undated sightings are in every window."""
    since, until = T0, T0 + timedelta(minutes=length)
    at = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    inside = lambda m: m is not None and since <= at(m) < until  # noqa: E731
    user = lambda i: f"u{i}"  # noqa: E731
    time = pl.Datetime("us", "UTC")
    tables = Tables.from_frames(
        users=pl.DataFrame({"user_id": [user(i) for i in range(6)],
                            "created_at": [None if m is None else at(m) for m in created]}, schema_overrides={"created_at": time}),
        gifts=pl.DataFrame({"sender_id": [user(s) for s, _, _ in gifts], "receiver_id": [user(r) for _, r, _ in gifts],
                            "coins": [1.0] * len(gifts), "sent_at": [at(m) for _, _, m in gifts]},
                           schema_overrides={"sent_at": time, "sender_id": pl.Utf8, "receiver_id": pl.Utf8}),
        devices=pl.DataFrame({"user_id": [user(u) for u, _ in sightings], "device_id": ["d"] * len(sightings),
                              "seen_at": [None if m is None else at(m) for _, m in sightings]},
                             schema_overrides={"seen_at": time, "user_id": pl.Utf8, "device_id": pl.Utf8}),
        flags=pl.DataFrame({"user_id": [user(u) for u, _ in flags], "kind": ["ban"] * len(flags),
                            "at": [at(m) for _, m in flags]},
                           schema_overrides={"at": time, "user_id": pl.Utf8, "kind": pl.Utf8}),
    )
    expected = (
        {user(s) for s, _, m in gifts if inside(m)} | {user(r) for _, r, m in gifts if inside(m)}
        | {user(u) for u, m in sightings if m is None or inside(m)}
        | {user(i) for i, m in enumerate(created) if inside(m)}
    ) | {u for u, when in tables.flags.select("user_id", "at").rows() if since <= when < until}  # flags validated
    window = time_window(since, until)
    touched = window.accounts(gifts=tables.gifts.filter(window.gifts()), devices=tables.devices.filter(window.devices()),
                              streams=tables.streams.filter(window.streams()), users=tables.users, flags=tables.flags)
    assert set(touched.to_list()) == expected


def test_expand_and_path_in_a_window_do_not_know_an_account_the_window_does_not_touch(tmp_path):
    """The same accounts for the follow-up questions: an account without an event in the window is not in its
    data, said in one line that points at the window (exit 2); a touched one is answered."""
    data = _platform(tmp_path / "data")
    runner = CliRunner()
    window = ["--data", str(data), "--since", SINCE, "--until", UNTIL]
    idle = runner.invoke(cli, ["expand", "idle", "--out", str(tmp_path / "x.html"), *window])
    assert idle.exit_code == 2 and "'idle' is not an account" in idle.stderr and "--since/--until" in idle.stderr
    assert len(idle.stderr.strip().splitlines()) == 1
    path = runner.invoke(cli, ["path", "sender", "idle", *window])
    assert path.exit_code == 2 and "'idle'" in path.stderr
    touched = runner.invoke(cli, ["path", "sender", "receiver", *window])
    assert touched.exit_code == 0, touched.output
    assert "gifted 5 coins to receiver" in touched.output
