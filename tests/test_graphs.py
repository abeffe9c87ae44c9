"""graphkit.graphs: id index, time windows, gift flow, entity graph, combined user graph."""

from __future__ import annotations

import math

import networkx as nx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphkit import Config, Tables
from graphkit.graphs import Graphs, apply_window, build_graphs, build_index
from graphkit.errors import ConfigError, InputError

T0 = "2024-05-01T10:00:00Z"


EPOCH0 = 1714557600  # 2024-05-01T10:00:00Z


def _gifts(rows):
    """rows: (sender, receiver, coins, seconds after T0, stream); times as epoch seconds."""
    return pl.DataFrame(
        {
            "sender_id": [r[0] for r in rows],
            "receiver_id": [r[1] for r in rows],
            "coins": [float(r[2]) for r in rows],
            "sent_at": [str(EPOCH0 + r[3]) for r in rows],
            "stream_id": [r[4] for r in rows],
        }
    )


GIFTS = _gifts([
    ("a", "h", 10, 0, "s1"),
    ("a", "h", 5, 60, "s1"),
    ("b", "h", 1, 30, "s1"),
    ("h", "a", 2, 4000, None),
    ("c", "k", 7, 100, "s2"),
])
USERS = pl.DataFrame({"user_id": ["z", "a"], "created_at": [T0, T0]})
DEVICES = pl.DataFrame({"user_id": ["a", "b", "d"], "device_id": ["d1", "d1", None], "ip": [None, "1.2.3.4", "1.2.3.4"]})
STREAMS = pl.DataFrame({"stream_id": ["s1", "s9"], "host_id": ["h", "q"]})


@pytest.fixture(scope="module")
def graphs() -> Graphs:
    tables = Tables.from_frames(gifts=GIFTS, users=USERS, devices=DEVICES, streams=STREAMS)
    return build_graphs(tables, Config(cogift_min_streams=1))


def test_cogift_min_streams_leaves_out_single_moments():
    tables = Tables.from_frames(gifts=GIFTS)
    assert build_graphs(tables, Config(cogift_min_streams=1)).cogift.height == 1
    assert build_graphs(tables, Config()).cogift.height == 0


def test_index_holds_every_account_once_dense_and_sorted(graphs):
    users = graphs.index.users
    assert users["user_id"].to_list() == ["a", "b", "c", "d", "h", "k", "q", "z"]
    assert users["uid"].to_list() == list(range(8))
    assert users["uid"].dtype == pl.UInt32
    assert graphs.index.streams["stream_id"].to_list() == ["s1", "s2", "s9"]


def test_stream_host_from_table_else_top_receiver(graphs):
    idx = graphs.index
    hosts = idx.decode(idx.streams, "host").select("stream_id", "host").rows()
    assert hosts == [("s1", "h"), ("s2", "k"), ("s9", "q")]


def test_ids_survive_round_trip_unchanged():
    ids = ["0000123", "1234567890123456789", "123", "x y", "ü"]
    gifts = pl.DataFrame({"sender_id": ids, "receiver_id": ["h"] * 5, "coins": [1.0] * 5, "sent_at": [T0] * 5})
    index = build_index(Tables.from_frames(gifts=gifts))
    enc = index.encode(gifts, "sender_id", as_="uid")
    assert index.decode(enc, "uid", as_="back")["back"].to_list() == ids
    assert index.lookup(["123", "nope"]).to_list() == [index.lookup(["123"])[0], None]


def test_decode_rejects_numbers_outside_the_index(graphs):
    with pytest.raises(InputError, match="outside"):
        graphs.index.decode(pl.DataFrame({"uid": [99]}, schema={"uid": pl.UInt32}), "uid")


def test_gift_flow_matches_a_hand_count(graphs):
    flow = graphs.index.decode(graphs.index.decode(graphs.gift_flow, "src"), "dst")
    rows = {(r["src"], r["dst"]): (r["coins"], r["count"]) for r in flow.iter_rows(named=True)}
    assert rows == {("a", "h"): (15.0, 2), ("b", "h"): (1.0, 1), ("h", "a"): (2.0, 1), ("c", "k"): (7.0, 1)}
    ah = flow.filter((pl.col("src") == "a") & (pl.col("dst") == "h"))
    assert (ah["last_at"][0] - ah["first_at"][0]).total_seconds() == 60


def test_window_applies_before_building():
    tables = Tables.from_frames(gifts=GIFTS, devices=DEVICES)
    cfg = Config(since="2024-05-01T10:00:30Z", until="2024-05-01T11:00:00Z")
    graphs = build_graphs(tables, cfg)
    flow = graphs.index.decode(graphs.index.decode(graphs.gift_flow, "src"), "dst")
    assert sorted(flow.select("src", "dst", "count").rows()) == [("a", "h", 1), ("b", "h", 1), ("c", "k", 1)]
    # undated device observations are kept by any window
    assert graphs.shared.height == 2


def test_window_errors_name_the_setting():
    tables = Tables.from_frames(gifts=GIFTS)
    with pytest.raises(ConfigError, match="since"):
        apply_window(tables, since="yesterday-ish")
    with pytest.raises(ConfigError, match="before until"):
        apply_window(tables, since="2024-06-01", until="2024-05-01")


def test_entity_graph_has_typed_nodes_and_edges(graphs):
    nodes, edges = graphs.entity_nodes, graphs.entity_edges
    counts = dict(nodes.group_by("kind").len().select(pl.col("kind").cast(pl.Utf8), "len").rows())
    assert counts == {"user": 8, "device": 1, "ip": 1, "stream": 3}
    # users first: node == uid
    users = nodes.filter(pl.col("kind") == "user")
    assert users["node"].to_list() == users["ident"].to_list()
    by_kind = dict(edges.group_by("kind").agg(pl.col("count").sum()).select(pl.col("kind").cast(pl.Utf8), "count").rows())
    assert by_kind == {"used_device": 2, "used_ip": 2, "hosted": 3, "gifted_in": 4}
    g = graphs.entity_graph()
    assert g.vcount() == nodes.height and g.ecount() == edges.height
    assert set(g.vs["kind"]) == {"user", "device", "ip", "stream"}


def test_gift_graph_is_built_from_the_flow(graphs):
    g = graphs.gift_graph()
    assert g.is_directed() and g.vcount() == graphs.n_users
    assert g.ecount() == graphs.gift_flow.height
    assert sum(g.es["coins"]) == pytest.approx(25.0)


def test_user_graph_puts_each_relation_on_a_0_to_1_scale(graphs):
    edges = graphs.index.decode(graphs.index.decode(graphs.user_edges(), "a"), "b")
    rows = {(r["a"], r["b"]): r for r in edges.iter_rows(named=True)}
    # a sent all its coins to h, h all its coins to a: capped at 1
    assert rows[("a", "h")]["gift"] == pytest.approx(1.0)
    # a and b share device d1 (2 accounts): 1/log2(2) = 1; and co-gift in s1 within 120 s: 1/3
    assert rows[("a", "b")]["shared"] == pytest.approx(1.0)
    assert rows[("a", "b")]["cogift"] == pytest.approx(1 / 3)
    assert rows[("a", "b")]["weight"] == pytest.approx(4 / 3)
    # b and d share one IP: 1.0
    assert rows[("b", "d")]["shared"] == pytest.approx(1.0)
    g = graphs.user_graph(Config(weight_shared=0.0, cogift_min_streams=1))
    assert not g.is_directed() and g.vcount() == graphs.n_users
    assert all(w > 0 for w in g.es["weight"])
    assert g.ecount() == edges.filter((pl.col("gift") > 0) | (pl.col("cogift") > 0)).height


def test_to_networkx_names_nodes_by_account_id(graphs):
    g = graphs.to_networkx("gifts")
    assert isinstance(g, nx.DiGraph)
    assert set(g.nodes) == {"a", "b", "c", "h", "k"}
    assert g.edges["a", "h"]["coins"] == 15.0 and g.edges["a", "h"]["count"] == 2
    s = graphs.to_networkx("shared")
    assert set(s.nodes) == {"a", "b", "d"} and s.has_edge("a", "b") and s.edges["a", "b"]["devices"] == 1
    c = graphs.to_networkx("cogift")
    assert set(c.edges) == {("a", "b")} and c.edges["a", "b"]["streams"] == 1
    with pytest.raises(ConfigError, match="unknown graph"):
        graphs.frames("friends")


def test_graphs_without_gifts_or_devices_are_empty_not_errors():
    graphs = build_graphs(Tables.from_frames(devices=DEVICES), Config())
    assert graphs.gift_flow.height == 0 and graphs.cogift.height == 0
    assert graphs.gift_graph().ecount() == 0
    graphs = build_graphs(Tables.from_frames(gifts=GIFTS), Config())
    assert graphs.shared.height == 0 and graphs.identifiers.height == 0


@pytest.mark.parametrize("field,value", [("hub_cap", 1), ("cogift_window_s", 0), ("cogift_stream_cap", 1)])
def test_bad_build_settings_are_config_errors(field, value):
    with pytest.raises(ConfigError, match=field):
        build_graphs(Tables.from_frames(gifts=GIFTS), Config().replace(**{field: value}))
