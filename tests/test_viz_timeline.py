"""The timeline under the views (issue 19): bins, series, marks from reasons, and each gift edge's bins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from graphkit.config import Config
from graphkit.score import ring_reasons
from graphkit.viz import ring_view
from graphkit.viz.timeline import STEPS, Timeline, edge_bins, gift_timeline, reason_marks
from views_fixtures import XSS, report, tables

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)


def _data(page: str) -> dict:
    return json.loads(page.split('id="gk-data">', 1)[1].split("</script>", 1)[0])


def test_coins_are_binned_per_role_by_hand():
    gifts = pl.DataFrame({"sender_id": ["a", "b", "a", "c", "x"], "coins": [5.0, 7.0, 1.0, 2.0, 100.0],
                          "sent_at": [T0, T0 + timedelta(seconds=59), T0 + timedelta(minutes=2),
                                      T0 + timedelta(minutes=2, seconds=30), T0]})
    roles = pl.DataFrame({"user_id": ["a", "b", "c"], "series": ["member", "funder", "member"]})
    t = gift_timeline(gifts, roles, order=["beneficiary", "funder", "member"])
    assert (t.start, t.step, t.bins) == (int(T0.timestamp()), 60, 3)
    assert t.series == (("funder", (7.0, 0.0, 0.0)), ("member", (5.0, 0.0, 3.0)))  # x is not counted
    assert gift_timeline(gifts.filter(pl.col("sender_id") == "x"), roles) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 10**8), st.floats(0, 1e6)), min_size=1, max_size=40))
@example([("a", 0, 0.0), ("a", 1_065_600, 0.0)])  # 12.3 days fit 50 six-hour bins, not once aligned: 51 (fixed)
def test_every_coin_lands_in_one_bin_of_the_shortest_step_that_fits(rows):
    gifts = pl.DataFrame({"sender_id": [r[0] for r in rows], "coins": [r[2] for r in rows],
                          "sent_at": [T0 + timedelta(seconds=r[1]) for r in rows]})
    roles = pl.DataFrame({"user_id": ["a", "b", "c"], "series": ["x", "y", "x"]})
    t = gift_timeline(gifts, roles, max_bins=50)
    assert t.bins <= 50 and t.start % t.step == 0
    # the shortest step whose bins from the step boundary at or before the first gift fit in 50
    first, last = (int(T0.timestamp()) + f(r[1] for r in rows) for f in (min, max))
    assert t.step == next(s for s in STEPS if last // s - first // s + 1 <= 50)
    total = sum(sum(coins) for _, coins in t.series)
    assert abs(total - sum(r[2] for r in rows)) <= 1e-6 * max(1.0, total) + 0.01 * len(rows)
    for who, at, _ in rows:
        assert 0 <= t.bin_of(T0 + timedelta(seconds=at)) < t.bins


def test_the_burst_a_reason_names_is_marked_from_the_sentence_graphkit_writes():
    row = {"size": 12, "sync_streams": 2, "sync_accounts": 9, "part_synchrony": 0.8}
    sentences = ring_reasons(row, beneficiaries=[], money_path=[], config=Config(), young_days=7.0, large_gift=1000.0,
                             burst=("s1", T0 + timedelta(minutes=5)))
    assert any("from 2024-03-01 10:05:00 UTC" in s for s in sentences)
    t = Timeline(start=int(T0.timestamp()), step=60, bins=20, series=())
    marks = reason_marks(sentences, t)
    window = Config().cogift_window_s
    assert [(a, b) for a, b, _ in marks] == [(5, 5 + window // 60)]
    assert reason_marks(sentences, Timeline(start=int(T0.timestamp()), step=60, bins=5, series=())) == ()


def test_each_gift_edge_knows_the_bins_it_has_gifts_in():
    t = Timeline(start=int(T0.timestamp()), step=60, bins=10, series=())
    binned = {(s, d, r): b for s, d, r, b in edge_bins(tables().gifts, t).rows()}
    # the fixture sends one gift a minute from 10:00: u1 at 10:00 and 10:04, both in s1, to h1
    assert binned["account:u1", "account:h1", "gifted"] == [0, 4]
    assert binned["account:u1", "stream:s1", "gifted_in"] == [0, 4]
    assert binned["account:h1", "account:u8", "gifted"] == [9]
    assert ("account:h1", "stream:s1", "gifted_in") not in binned  # that gift names no stream


def test_dated_device_and_ip_sightings_are_binned_and_undated_ones_are_not():
    t = Timeline(start=int(T0.timestamp()), step=60, bins=10, series=())
    devices = pl.DataFrame({"user_id": ["u1", "u1", "u2"], "device_id": ["d1", "d1", "d2"],
                            "ip": ["10.0.0.1", None, "10.0.0.2"],
                            "seen_at": [T0 + timedelta(minutes=2), T0 + timedelta(minutes=7), None]})
    binned = {(s, d, r): b for s, d, r, b in edge_bins(tables().gifts.head(0), t, devices).rows()}
    assert binned == {("account:u1", "device:d1", "used_device"): [2, 7],
                      ("account:u1", "ip:10.0.0.1", "used_ip"): [2]}


def test_ring_page_carries_timeline_edge_bins_filters_and_member_facts():
    page = ring_view(report().ring("R0001"), tables(), report().user_scores)
    data = _data(page)
    assert [s["label"] for s in data["timeline"]["series"]] == ["beneficiary", "funder", "member"]
    at = {(f, t, r): (c, b) for f, t, r, c, b in zip(data["edges"]["from"], data["edges"]["to"], data["edges"]["rel"],
                                                   data["edges"]["coins"], data["edges"]["bins"])}
    assert at["account:u2", "account:h1", "gifted"] == (1590.0, [1, 5])
    assert at["account:u1", "device:d1", "used_device"] == (None, None)  # not a gift: neither filter applies
    assert data["reasons"] == list(report().ring("R0001").reasons)
    assert 'data-edge="used_device"' in page and 'data-node="device"' in page and 'id="gk-min-score"' in page
    assert XSS not in page  # in the table, the timeline's marks and the reasons: escaped only


def test_a_ring_page_is_the_same_bytes_whatever_the_hash_seed(tmp_path):
    """Sets iterate in a per-process order: nothing on the page may follow one."""
    script = ("import sys; from graphkit.viz import write_views; from views_fixtures import report; "
              "write_views(report(), sys.argv[1])")
    pages = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.path.dirname(__file__)}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
        pages.append((out / "rings" / "R0001.html").read_bytes())
    assert pages[0] == pages[1]
