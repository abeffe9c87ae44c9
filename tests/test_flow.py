"""Money-flow detectors, signals and evidence (issue 17): hand-built cases, networkx as the reference for the motifs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import networkx as nx
import numpy as np
import polars as pl
import pytest

from graphkit import Config, Tables, analyze
from graphkit.detect.flow import equal_fan_candidates, flow_motif_candidates, relay_chain_candidates
from graphkit.graphs.relays import amount_chance, equal_fans, relay_hops

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
U32 = pl.UInt32


def _gifts(rows):
    """rows: (src, dst, coins, seconds after T0)."""
    return pl.DataFrame(
        {"src": [r[0] for r in rows], "dst": [r[1] for r in rows], "coins": [float(r[2]) for r in rows],
         "sent_at": [T0 + timedelta(seconds=r[3]) for r in rows]},
        schema={"src": U32, "dst": U32, "coins": pl.Float64, "sent_at": pl.Datetime("us", "UTC")},
    )


def _noise(n=200, start=100):
    """Roses between other accounts: common amounts, so that the flows' amounts are the rare ones."""
    return [(start + i, start + n + i % 7, 1, 10 * i) for i in range(n)]


# -- relay hops -----------------------------------------------------------------------------------------------


def test_a_relay_is_the_next_gift_out_at_a_near_equal_amount_within_the_delay():
    rows = [
        (0, 1, 1000, 0), (1, 2, 980, 600),      # passed on after 10 min, 2% less: a relay
        (3, 4, 1000, 0), (4, 5, 700, 600),      # 30% less: not a relay
        (6, 7, 1000, 0), (7, 8, 1000, 7200),    # two hours later: not a relay within one hour
        (9, 10, 1000, 0), (10, 9, 1000, 60),    # straight back to its sender: a loop, not a relay onwards
    ] + _noise()
    hops = relay_hops(_gifts(rows), max_delay_s=3600, amount_tolerance=0.05, max_chance=0.2)
    assert hops.select("a", "m", "c").rows() == [(0, 1, 2)]
    assert hops["delay_s"].to_list() == [600.0]


def test_each_gift_out_relays_one_receipt_only():
    # a host paid by three fans, then one gift out of the same value: one hop, from the latest fan
    rows = [(20, 1, 500, 0), (21, 1, 500, 60), (22, 1, 500, 120), (1, 30, 500, 300)] + _noise()
    hops = relay_hops(_gifts(rows), max_delay_s=3600, amount_tolerance=0.05, max_chance=0.2)
    assert hops.select("a", "m", "c").rows() == [(22, 1, 30)]


def test_common_amounts_are_no_relay_evidence():
    # the relayed amount is a rose, as most of the platform's gifts are
    rows = [(0, 1, 1, 0), (1, 2, 1, 60)] + _noise()
    assert relay_hops(_gifts(rows), max_delay_s=3600, amount_tolerance=0.05, max_chance=0.2).height == 0
    assert relay_hops(_gifts(rows), max_delay_s=3600, amount_tolerance=0.05, max_chance=1.0).height == 1


def test_amount_chance_counts_the_gifts_within_the_tolerance():
    coins = np.array([1.0, 1.0, 100.0, 104.0, 111.0])
    assert amount_chance(coins, np.array([100.0, 1.0, 50.0]), tolerance=0.05).tolist() == [0.4, 0.4, 0.0]


# -- relay chains: components of the relay links, networkx as the reference ---------------------------------


def test_relay_chains_are_the_connected_pieces_of_the_relay_hops_as_networkx_finds_them():
    rng = np.random.default_rng(3)
    a, m, c = (rng.integers(0, 60, 40).astype(np.uint32) for _ in range(3))
    relays = pl.DataFrame({"a": a, "m": m, "c": c})
    found = relay_chain_candidates(relays, n_users=60, min_size=3, max_size=12)
    graph = nx.Graph()
    graph.add_edges_from(zip(a.tolist(), m.tolist()))
    graph.add_edges_from(zip(m.tolist(), c.tolist()))
    expected = sorted(sorted(p) for p in nx.connected_components(graph) if 3 <= len(p) <= 12)
    assert sorted(sorted(g) for g in found.group_by("cand").agg("uid")["uid"].to_list()) == expected


# -- scatter-gather and gather-scatter -------------------------------------------------------------------------


def test_scatter_gather_members_are_the_two_hop_paths_through_small_middles_as_networkx_lists_them():
    rng = np.random.default_rng(5)
    edges = {(int(s), int(t)) for s, t in rng.integers(0, 40, (90, 2)) if s != t}
    flow = pl.DataFrame({"src": [s for s, _ in edges], "dst": [t for _, t in edges], "coins": [10.0] * len(edges)},
                        schema={"src": U32, "dst": U32, "coins": pl.Float64})
    found = flow_motif_candidates(flow, n_users=40, min_branches=2, max_middle_degree=4, balance_tolerance=0.0,
                                  min_size=3, max_size=40).filter(pl.col("source") == "flow_motif_scatter_gather")
    graph = nx.DiGraph(list(edges))
    small = {v for v in graph if graph.in_degree(v) <= 4 and graph.out_degree(v) <= 4}
    motif = nx.Graph()
    for s in graph:
        for t in graph:
            if s == t:
                continue
            paths = [p for p in nx.all_simple_paths(graph, s, t, cutoff=2) if len(p) == 3 and p[1] in small]
            if len({p[1] for p in paths}) >= 2:
                for p in paths:
                    nx.add_path(motif, p)
    expected = sorted(sorted(p) for p in nx.connected_components(motif) if 3 <= len(p) <= 40)
    assert expected  # the random graph has such motifs
    assert sorted(sorted(g) for g in found.group_by("cand").agg("uid")["uid"].to_list()) == expected


def test_gather_scatter_is_a_collector_that_pays_on_what_its_own_mules_paid_in():
    flow = pl.DataFrame(
        {"src": [1, 2, 3, 0, 0, 0, 7, 8, 9, 6, 6, 2],
         "dst": [0, 0, 0, 4, 5, 10, 6, 6, 6, 11, 12, 13],
         "coins": [100.0, 100.0, 100.0, 150.0, 140.0, 5.0, 100.0, 100.0, 100.0, 10.0, 10.0, 1.0]},
        schema={"src": U32, "dst": U32, "coins": pl.Float64},
    )
    # 0 collects 300 from 1, 2, 3 (each sends it all, or nearly) and pays 295 on, 290 of it to 4 and 5 (their only
    # income); account 10 gets a tip from 0 but most of its income elsewhere. 6 collects 300 and pays 20 on: a host.
    flow = pl.concat([flow, pl.DataFrame({"src": [20], "dst": [10], "coins": [500.0]},
                                         schema={"src": U32, "dst": U32, "coins": pl.Float64})])
    found = flow_motif_candidates(flow, n_users=21, min_branches=2, max_middle_degree=50, balance_tolerance=0.1,
                                  min_size=3, max_size=50).filter(pl.col("source") == "flow_motif_gather_scatter")
    assert found.group_by("cand").agg("uid")["uid"].to_list() == [[0, 1, 2, 3, 4, 5]]


# -- equal-amount fans ------------------------------------------------------------------------------------------


def test_equal_fans_out_and_in_across_a_bucket_edge_but_not_common_amounts_or_popular_hosts():
    rows = [(0, r, 2999, 3590 + 5 * r) for r in range(1, 6)]              # fan-out across the hour's edge
    rows += [(s, 50, 999, 60 * s) for s in range(10, 15)]                  # fan-in of 999s
    rows += [(30, r, 1, 100 + r) for r in range(31, 37)]                   # six roses: a viewer's evening
    rows += [(s, 60, 1, 5 * s) for s in range(100, 300)]                   # a star's crowd of roses: popular
    rows += [(s, 70, 2999, 5 * s) for s in range(300, 360)]                # a star's crowd of 2,999s: popular
    fans = equal_fans(_gifts(rows), window_s=3600, amount_tolerance=0.05, max_chance=0.3, min_fan=4,
                      popular_senders=50)
    assert sorted(set(fans.select("side", "center").rows())) == [("in", 50), ("out", 0)]
    found = equal_fan_candidates(fans, min_size=3)
    groups = {s: sorted(u) for s, u in found.group_by("source").agg("uid").rows()}
    assert groups == {"equal_fan_out": [0, 1, 2, 3, 4, 5], "equal_fan_in": [10, 11, 12, 13, 14, 50]}


# -- end to end: signals, reasons, account evidence ----------------------------------------------------------


def _platform(chain: list[str]) -> Tables:
    """Aged accounts (a year old, a device each) in an ordinary platform of viewers gifting hosts, and a chain
    that passes 2,999 coins on hop by hop within minutes, four times."""
    gifts, t = [], T0
    for day in range(4):
        start = t + timedelta(days=day, hours=3)
        for k, (a, b) in enumerate(zip(chain, chain[1:])):
            gifts.append((a, b, 2999.0, start + timedelta(minutes=7 * k)))
    rng = np.random.default_rng(0)
    for i in range(2000):  # 20 big gifts among 2,020: 1%, an uncommon amount
        gifts.append((f"v{i % 150}", f"h{rng.integers(0, 12)}", float(rng.choice([1, 5, 10, 30])),
                      t + timedelta(seconds=int(rng.integers(0, 4 * 86400)))))
    frame = pl.DataFrame({"sender_id": [g[0] for g in gifts], "receiver_id": [g[1] for g in gifts],
                          "coins": [g[2] for g in gifts], "sent_at": [g[3] for g in gifts]})
    everyone = sorted(set(frame["sender_id"]) | set(frame["receiver_id"]))
    users = pl.DataFrame({"user_id": everyone, "created_at": [T0 - timedelta(days=365)] * len(everyone)})
    devices = pl.DataFrame({"user_id": everyone, "device_id": [f"d-{u}" for u in everyone]})
    return Tables.from_frames(gifts=frame, users=users, devices=devices)


def test_a_chain_of_aged_accounts_relaying_big_gifts_is_a_ring_with_a_reason_naming_a_hop():
    chain = ["c0", "c1", "c2", "c3", "c4", "c5"]
    report = analyze(_platform(chain), Config())
    ring = next(r for r in report.rings if set(chain) <= set(r.members))
    assert ring.kind == "gift_laundering"
    assert ring.signals["relay_coin_share"] == pytest.approx(4 * 2999 * 4 / (4 * 2999 * 5))
    relay = next(text for text in ring.reasons if "passed on" in text)
    assert "were passed on by 4 accounts of the ring" in relay
    assert any(f"{a} -> {b} -> {c}, 2,999 coins passed on after 7 min" in relay
               for a, b, c in zip(chain, chain[1:], chain[2:]))
    evidence = report.user_features.filter(pl.col("user_id").is_in(chain[1:-1]))
    assert evidence["relay"].to_list() == [1.0] * 4  # four hops each: all of the relay evidence


def test_accounts_that_gift_each_other_have_reciprocal_evidence_and_fans_of_a_host_do_not():
    rows = pl.DataFrame({"sender_id": ["a", "b", "v1", "v2"], "receiver_id": ["b", "a", "h", "h"],
                         "coins": [10.0, 10.0, 5.0, 5.0], "sent_at": [T0] * 4})
    features = analyze(Tables.from_frames(gifts=rows), Config()).user_features
    flags = dict(features.select("user_id", "reciprocal").rows())
    assert flags == {"a": True, "b": True, "h": False, "v1": False, "v2": False}


def test_flow_settings_reach_rings_json_params(tmp_path):
    from graphkit.report import write_report

    report = analyze(_platform(["c0", "c1", "c2", "c3"]), Config(flow_max_delay_s=600, weight_relay=0.6))
    write_report(report, tmp_path / "out", html=False)
    params = json.loads((tmp_path / "out" / "rings.json").read_text())["params"]
    assert params["flow_max_delay_s"] == 600 and params["weight_relay"] == 0.6
    assert {"flow_amount_tolerance", "flow_max_amount_chance", "flow_min_branches", "flow_max_middle_degree",
            "flow_balance_tolerance", "flow_min_fan", "weight_fan"} <= set(params)


def test_the_biggest_relay_hop_of_a_group_is_one_hop_whatever_the_order_of_the_rows():
    from graphkit.detect.signals import _relay_signals
    from graphkit.graphs.relays import RELAY_SCHEMA

    # the same hop a -> m -> c, three rounds of the same amount: the reason quotes the quickest
    relays = pl.DataFrame({"a": [0, 0, 0, 3], "m": [1, 1, 1, 1], "c": [2, 2, 2, 2], "coins_in": [999.0] * 3 + [500.0],
                           "coins_out": [999.0] * 3 + [500.0], "delay_s": [900.0, 300.0, 600.0, 60.0]}, schema=RELAY_SCHEMA)
    members = pl.DataFrame({"group": [0, 0, 0, 0], "uid": [0, 1, 2, 3]}, schema={"group": pl.Int64, "uid": U32})
    found = {_relay_signals(members, relays.sample(fraction=1.0, shuffle=True, seed=seed)).row(0) for seed in range(20)}
    assert found == {(0, 3497.0, 1, 0, 1, 2, 999.0, 300.0)}
