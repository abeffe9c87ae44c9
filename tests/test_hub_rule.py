"""One hub rule (graphkit.graphs.projections.is_hub) for the report, expand, path and the overview.

A placeholder device id (``Config.placeholder_device_ids``: "unknown", zeros...) links no one in the
report; before, expand walked through it, path used it and the overview counted it as shared.
"""

from __future__ import annotations

import polars as pl
from graphkit import Config
from graphkit.detect.evidence import entity_edges, evidence_graph, evidence_path
from graphkit.io import Tables

# a and b share only the placeholder device "unknown"; c and d share a real device
DEVICES = pl.DataFrame({"user_id": ["a", "b", "c", "d"], "device_id": ["unknown", "unknown", "d7", "d7"]})
GIFTS = pl.DataFrame({"sender_id": ["a", "c"], "receiver_id": ["h", "h2"], "coins": [5.0, 5.0],
                      "sent_at": ["2024-05-01T10:00:00Z"] * 2})


def test_expand_does_not_walk_through_a_placeholder_device():
    tables = Tables.from_frames(devices=DEVICES, gifts=GIFTS)
    ev = evidence_graph(tables, ["a"], hops=2, placeholders=Config().placeholder_device_ids)
    reached = set(ev.nodes.filter(pl.col("kind") == "account")["key"])
    assert "b" not in reached and "device:unknown" in set(ev.nodes["node_id"])  # shown, not walked through
    real = evidence_graph(tables, ["c"], hops=2, placeholders=Config().placeholder_device_ids)
    assert "d" in set(real.nodes.filter(pl.col("kind") == "account")["key"])


def test_path_never_uses_a_placeholder_device():
    tables = Tables.from_frames(devices=DEVICES, gifts=GIFTS)
    assert evidence_path(tables, "a", "b", config=Config()) == []  # no chain of evidence
    assert len(evidence_path(tables, "c", "d", config=Config())) == 2


def test_the_entity_graph_still_holds_the_placeholder_device_as_a_fact():
    edges = entity_edges(Tables.from_frames(devices=DEVICES, gifts=GIFTS))
    assert edges.filter(pl.col("target") == "device:unknown").height == 2
