"""Hand-computed projections: shared identifiers (with and without hub cap), co-gifting windows."""

from __future__ import annotations

import itertools
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import Config, Tables
from graphkit.graphs import build_graphs, cogift_projection

EPOCH0 = 1714557600


def _shared(devices: pl.DataFrame, hub_cap: int):
    graphs = build_graphs(Tables.from_frames(devices=devices), Config(hub_cap=hub_cap))
    idx = graphs.index
    shared = idx.decode(idx.decode(graphs.shared, "a"), "b")
    return graphs, {(r["a"], r["b"]): r for r in shared.iter_rows(named=True)}


# a farm: 4 accounts on 2 emulators; a hub IP (carrier NAT) with 6 accounts including two farm accounts
DEVICES = pl.DataFrame(
    {
        "user_id": ["f1", "f2", "f3", "f4", "f1", "f2", "f3", "f4", "f1", "f2", "x1", "x2", "x3", "x4"],
        "device_id": ["emu1"] * 4 + ["emu2"] * 4 + [None] * 6,
        "ip": [None] * 8 + ["nat"] * 6,
    }
)


def test_shared_device_weights_by_hand_without_hub_cap():
    graphs, pairs = _shared(DEVICES, hub_cap=100)
    # f-pairs share emu1 and emu2 (4 accounts each): 2 / log2(4) = 1.0
    # f1-f2 also share nat (6 accounts): + 1 / log2(6)
    nat = 1 / math.log2(6)
    assert pairs[("f1", "f2")]["strength"] == pytest.approx(1.0 + nat)
    assert pairs[("f1", "f2")]["weight"] == pytest.approx(1.0)  # capped at 1
    assert (pairs[("f1", "f2")]["devices"], pairs[("f1", "f2")]["ips"]) == (2, 1)
    assert pairs[("f3", "f4")]["strength"] == pytest.approx(1.0)
    assert pairs[("f1", "x1")]["strength"] == pytest.approx(nat)
    assert pairs[("f1", "x1")]["weight"] == pytest.approx(nat)
    assert (pairs[("f1", "x1")]["devices"], pairs[("f1", "x1")]["ips"]) == (0, 1)
    # 6 farm pairs + C(6,2)=15 nat pairs, f1-f2 counted once
    assert len(pairs) == 6 + 15 - 1
    assert not graphs.identifiers["hub"].any()


def test_hub_cap_leaves_out_the_nat_ip_and_keeps_the_farm():
    graphs, pairs = _shared(DEVICES, hub_cap=5)
    assert set(pairs) == {tuple(p) for p in itertools.combinations(["f1", "f2", "f3", "f4"], 2)}
    assert pairs[("f1", "f2")]["strength"] == pytest.approx(1.0)
    assert pairs[("f1", "f2")]["ips"] == 0
    ids = graphs.identifiers.select(pl.col("kind").cast(pl.Utf8), "key", "accounts", "hub").rows()
    assert ids[0] == ("ip", "nat", 6, True)
    assert sorted(ids[1:]) == [("device", "emu1", 4, False), ("device", "emu2", 4, False)]


def test_identifier_seen_by_one_account_makes_no_edge():
    devices = pl.DataFrame({"user_id": ["a", "a", "b"], "device_id": ["d1", "d1", "d2"]})
    graphs, pairs = _shared(devices, hub_cap=50)
    assert pairs == {}
    assert graphs.identifiers["accounts"].to_list() == [1, 1]


def _gift_frame(rows):
    return pl.DataFrame(
        {"src": [r[0] for r in rows], "sid": [r[2] for r in rows],
         "sent_at": [(EPOCH0 + r[1]) * 1_000_000 for r in rows]},
        schema={"src": pl.UInt32, "sid": pl.UInt32, "sent_at": pl.Int64},
    ).with_columns(pl.col("sent_at").cast(pl.Datetime("us", "UTC")))


def _pairs(frame: pl.DataFrame) -> dict:
    return {(a, b): n for a, b, n in frame.select("a", "b", "streams").rows()}


def test_cogift_inside_and_just_outside_the_window():
    # stream 0: user 0 at t=0, user 1 at t=120 (inside: inclusive), user 2 at t=241 (121 s after user 1: outside)
    rows = [(0, 0, 0), (1, 120, 0), (2, 241, 0)]
    assert _pairs(cogift_projection(_gift_frame(rows), window_s=120, stream_cap=200)) == {(0, 1): 1}
    rows = [(0, 0, 0), (1, 121, 0)]
    assert _pairs(cogift_projection(_gift_frame(rows), window_s=120, stream_cap=200)) == {}


def test_cogift_counts_distinct_streams_and_ignores_other_streams():
    rows = [
        (0, 10, 0), (1, 20, 0), (0, 30, 0), (1, 40, 0),   # stream 0, many gifts: counts once
        (0, 5000, 1), (1, 5100, 1),                        # stream 1
        (0, 9000, 2), (1, 9010, 3),                        # same time, different streams: no
        (5, 0, 4), (5, 10, 4),                             # the same sender twice: no self pair
    ]
    frame = cogift_projection(_gift_frame(rows), window_s=120, stream_cap=200)
    assert _pairs(frame) == {(0, 1): 2}
    assert frame["weight"].to_list() == [pytest.approx(2 / 3)]


def test_cogift_stream_cap_bounds_a_crowded_stream():
    # 50 gifters within one minute of one stream; cap 10 -> at most C(10,2) pairs, the most active kept
    rows = [(u, u, 0) for u in range(50)] + [(u, 30, 0) for u in range(40, 50)]
    frame = cogift_projection(_gift_frame(rows), window_s=120, stream_cap=10)
    assert frame.height == 45
    assert set(frame["a"]) | set(frame["b"]) == set(range(40, 50))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 900), st.integers(0, 2)), max_size=40),
       st.integers(1, 300), st.sampled_from([None, 10_000_000, 7, 1]))
def test_cogift_equals_the_brute_force_definition(rows, window, rows_per_slice):
    # meetings are counted on packed integer keys (rows_per_slice None) or, when ids are too many to
    # pack, with a group-by in slices of the pairs: both, and any slicing, give the same edges
    from graphkit.graphs import projections

    original = projections._ROWS_PER_SLICE, projections._PACKED_LIMIT
    if rows_per_slice is not None:
        projections._ROWS_PER_SLICE, projections._PACKED_LIMIT = rows_per_slice, 0
    try:
        frame = cogift_projection(_gift_frame(rows), window_s=window, stream_cap=1000)
    finally:
        projections._ROWS_PER_SLICE, projections._PACKED_LIMIT = original
    got = _pairs(frame)
    assert frame.select("a", "b").rows() == sorted(frame.select("a", "b").rows())
    want: dict = {}
    seen = set()
    for (u, t, s), (v, t2, s2) in itertools.product(rows, rows):
        if s == s2 and u < v and abs(t - t2) <= window and (u, v, s) not in seen:
            seen.add((u, v, s))
            want[(u, v)] = want.get((u, v), 0) + 1
    assert got == want


def test_shared_strength_is_the_same_to_the_last_bit_whatever_the_row_order():
    """A strength sums 1 / log2(accounts) over the shared identifiers: in a fixed order, or two runs differ.

    Accounts 0 and 1 share twelve devices of different sizes (3 to 14 accounts); the links come in
    shuffled orders, as a scan, a join or polars' threads may give them.
    """
    from graphkit.graphs.projections import shared_projection

    rows = [(ident, uid) for ident, size in enumerate(range(3, 15)) for uid in [0, 1, *range(100 * ident + 2, 100 * ident + size)]]
    links = pl.DataFrame({"kind": ["device"] * len(rows), "ident": [r[0] for r in rows], "uid": [r[1] for r in rows]},
                         schema_overrides={"ident": pl.UInt32, "uid": pl.UInt32})
    expected = math.fsum(1 / math.log2(size) for size in range(3, 15))
    strengths = set()
    for seed in range(20):
        pairs = shared_projection(links.sample(fraction=1.0, shuffle=True, seed=seed), hub_cap=50)
        strengths.add(pairs.filter((pl.col("a") == 0) & (pl.col("b") == 1))["strength"].item())
    assert len(strengths) == 1, sorted(strengths)
    assert strengths.pop() == pytest.approx(expected, rel=1e-14)
