"""The store's write by dense gathers over coded node ids gives what the joins over strings give, bit for bit.

``path_links`` and ``identifier_hubs`` take a dense route when the node ids are integer codes (the report's
store); the links' costs, the popular hosts' penalty (a float sum over the links' order) and the hub rule must
be the same numbers as the string route's, or the store's files change.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from graphkit import Config
from graphkit.detect.evidence import coded_entity_edges, entity_edges, identifier_hubs, path_links, popular_hosts
from graphkit.detect.evidence.search import adjacency_arrays
from graphkit.graphs import build_graphs
from graphkit.io import Tables

HUB_CAP = 3
PLACEHOLDERS = ("unknown",)


def _tables() -> Tables:
    """Mutual gifts (a and b), a self-gift, a host gifting in its own stream (hosted and gifted_in on one pair), a
    popular host (star: six senders), a hub IP (five accounts), a placeholder device and an ordinary one."""
    fans = [f"f{i}" for i in range(6)]
    senders = fans + ["a", "b", "a", "h", "c", "f1", "f2"]
    receivers = ["star"] * 6 + ["b", "a", "a", "x", "star", "a", "c"]
    streams = ["s1"] * 6 + ["s2", "s2", None, "s3", "s1", "s2", "s3"]
    gifts = pl.DataFrame({
        "sender_id": senders, "receiver_id": receivers, "stream_id": streams,
        "coins": [1.0, 2.5, 0.1, 7.0, 3.3, 0.0, 10.0, 0.7, 1.1, 5.0, 2.2, 0.3, 9.9],
        "sent_at": [f"2024-05-01T00:{m:02d}:00Z" for m in range(len(senders))],
    })
    devices = pl.DataFrame({
        "user_id": ["a", "b", "c", "f0", "f1", "a", "b", "c", "f0", "f1", "h", "x"],
        "device_id": ["d1", "d1", "Unknown ", "unknown", "unknown", None, None, None, None, None, "d2", "d2"],
        "ip": [None, None, None, None, None, "9.9.9.9", "9.9.9.9", "9.9.9.9", "9.9.9.9", "9.9.9.9", "1.1.1.1",
               "1.1.1.1"],
    })
    streams_table = pl.DataFrame({"stream_id": ["s1", "s2", "s3"], "host_id": ["star", "a", "h"]})
    return Tables.from_frames(gifts=gifts, devices=devices, streams=streams_table)


def _both():
    tables = _tables()
    config = Config(hub_cap=HUB_CAP, placeholder_device_ids=PLACEHOLDERS)
    graphs = build_graphs(tables, config)
    coded = coded_entity_edges(graphs.index, graphs.gifts, graphs.devices, tables.streams,
                               users=tables.users.get_column("user_id"))
    edges = coded.edges.sort("source", "target", "relation")
    strings = entity_edges(tables).sort("source", "target", "relation")
    return coded.node_ids, edges, strings


def test_the_hub_rule_of_coded_ids_is_the_rule_of_their_strings():
    names, edges, strings = _both()
    coded = identifier_hubs(edges, HUB_CAP, PLACEHOLDERS, names=names)
    decoded = coded.with_columns(pl.lit(names).gather(pl.col("node_id")).alias("node_id")).sort("node_id")
    want = identifier_hubs(strings, HUB_CAP, PLACEHOLDERS).sort("node_id")
    assert_frame_equal(decoded, want)
    hubs = dict(want.select("node_id", "hub").rows())
    assert hubs["ip:9.9.9.9"] and hubs["device:unknown"] and hubs["device:Unknown "] and not hubs["device:d1"]


def test_the_links_of_coded_ids_cost_what_the_links_of_their_strings_cost_bit_for_bit():
    names, edges, strings = _both()
    links = path_links(edges, hub_cap=HUB_CAP, placeholders=PLACEHOLDERS,
                       hubs=identifier_hubs(edges, HUB_CAP, PLACEHOLDERS, names=names),
                       popular=popular_hosts(edges, hub_cap=HUB_CAP))
    want = path_links(strings, hub_cap=HUB_CAP, placeholders=PLACEHOLDERS)
    assert links.names.with_columns(pl.lit(names).gather(pl.col("node_id")).alias("node_id")).equals(want.names)
    assert links.coded.schema == want.coded.schema
    assert links.coded.equals(want.coded)  # the same floats, not nearly
    assert want.popular.get_column("node_id").to_list() == ["account:star"]
    assert links.coded.get_column("cost").max() > links.coded.get_column("cost").filter(
        links.coded.get_column("cost") < 100).sum()  # a popular host's link costs more than all others together
    index = adjacency_arrays(*(want.coded.get_column(c).to_numpy() for c in ("s", "t", "cost")), want.vertices)
    for got, expected in zip(links.index, index):
        assert np.array_equal(got, expected)


def test_the_account_facts_of_the_store_are_those_of_account_data_facts(tmp_path):
    """Gathered by code, not joined by string: a user listed twice (validation keeps the first row), a creation time
    unknown, an account seen only in events, a host of a stream outside the window, a sender whose first gift
    is before the window (its age reads the window's first)."""
    from graphkit.model import Report
    from graphkit.report import write_report
    from graphkit.viz.evidence_page import account_data_facts

    users = pl.DataFrame({"user_id": ["a", "b", "a", "c", "h", "g"],
                          "created_at": ["2024-04-01T00:00:00Z", None, "2024-01-01T00:00:00Z",
                                         "2024-04-20T06:00:00Z", "2024-03-01T00:00:00Z", None]})
    gifts = pl.DataFrame({"sender_id": ["a", "a", "b", "c", "e"], "receiver_id": ["h", "h", "h", "a", "h"],
                          "stream_id": ["s1", "s2", "s2", None, "s2"], "coins": [1.0, 2.0, 3.0, 4.0, 5.0],
                          "sent_at": ["2024-04-30T00:00:00Z", "2024-05-02T12:00:00Z", "2024-05-03T00:00:00Z",
                                      "2024-05-04T00:00:00Z", "2024-05-05T00:00:00Z"]})
    streams = pl.DataFrame({"stream_id": ["s1", "s2"], "host_id": ["g", "h"],
                            "started_at": ["2024-04-30T00:00:00Z", "2024-05-02T00:00:00Z"]})
    tables = Tables.from_frames(users=users, gifts=gifts, streams=streams,
                                devices=pl.DataFrame({"user_id": ["d"], "device_id": ["x1"],
                                                      "seen_at": ["2024-05-06T00:00:00Z"]}))
    since = "2024-05-01T00:00:00Z"
    ids = ["a", "b", "c", "d", "e", "g", "h"]
    scores = pl.DataFrame({"user_id": ids, "score": [0.5] * len(ids), "ring_id": [None] * len(ids)})
    out = tmp_path / "out"
    write_report(Report((), scores, {"since": since}, {}, tables=tables), out, html=False)
    nodes = pl.read_parquet(out / "graph" / "nodes.parquet").filter(pl.col("node_id").str.starts_with("account:"))
    got = nodes.select(pl.col("node_id").str.strip_prefix("account:").alias("user_id"), "created_at", "age_days",
                       "host")
    want = account_data_facts(tables, got.get_column("user_id"), since=since)
    assert_frame_equal(got, want)
    facts = {row["user_id"]: row for row in got.iter_rows(named=True)}
    assert facts["a"]["age_days"] == 31.5 and facts["b"]["created_at"] is None and facts["e"]["created_at"] is None
    assert facts["g"]["host"] and facts["h"]["host"] and not facts["a"]["host"]
