"""Public pieces of :mod:`graphkit.pipeline` used by the notebooks to run the stages one by one."""

from __future__ import annotations

import polars as pl

from graphkit import Config, Tables
from graphkit.build import build_graphs
from graphkit.pipeline import device_links


def test_device_links_one_row_per_account_and_identifier_with_hubs_flagged():
    devices = pl.DataFrame(
        {
            "user_id": ["a", "a", "b", "c", "c", "d"],
            "device_id": ["d1", "d1", "d1", "d2", None, "d3"],
            "ip": ["10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2", None],
        }
    )
    tables = Tables.from_frames(devices=devices)
    graphs = build_graphs(tables, Config(hub_cap=2))
    links = graphs.index.decode(device_links(tables, graphs), "uid", as_="user_id")
    # identifiers back to their id strings through the index
    names = dict(
        [(f"device:{did}", key) for key, did in graphs.index.devices.select("device_id", "did").rows()]
        + [(f"ip:{iid}", key) for key, iid in graphs.index.ips.select("ip", "iid").rows()]
    )
    named = links.with_columns(pl.col("identifier").replace_strict(names))
    got = sorted(named.select("user_id", "identifier", "kind", "hub").rows())
    assert got == [
        ("a", "10.0.0.1", "ip", True),  # 3 accounts > hub_cap 2
        ("a", "d1", "device", False),  # seen twice, one row
        ("b", "10.0.0.1", "ip", True),
        ("b", "d1", "device", False),
        ("c", "10.0.0.1", "ip", True),
        ("c", "10.0.0.2", "ip", False),
        ("c", "d2", "device", False),
        ("d", "d3", "device", False),
    ]
