"""graphkit.detect.centrality, cross-checked against networkx on small graphs."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import polars as pl
import pytest

from graphkit import Config, Tables
from graphkit.graphs import build_graphs
from graphkit.detect.centrality import betweenness, centrality, gift_centrality_graph


def _random_gifts(n_users=40, n_gifts=300, seed=1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n_users, n_gifts)
    dst = (src + rng.integers(1, n_users, n_gifts)) % n_users  # no self-gifts
    return pl.DataFrame(
        {
            "sender_id": [f"u{i:03d}" for i in src],
            "receiver_id": [f"u{i:03d}" for i in dst],
            "coins": rng.integers(1, 100, n_gifts).astype(float),
            "sent_at": ["2024-01-01T00:00:00Z"] * n_gifts,
        }
    )


@pytest.fixture(scope="module")
def case():
    gifts = _random_gifts()
    # add a self-gift (left out of every measure) and an account with devices only (isolated vertex)
    gifts = pl.concat([gifts, pl.DataFrame({"sender_id": ["u001"], "receiver_id": ["u001"], "coins": [1000.0],
                                            "sent_at": ["2024-01-01T00:00:00Z"]})])
    devices = pl.DataFrame({"user_id": ["lonely"], "device_id": ["d"]})
    graphs = build_graphs(Tables.from_frames(gifts=gifts, devices=devices), Config())
    frame = graphs.index.decode(centrality(graphs, Config()), "uid", as_="user_id")
    g = nx.DiGraph()
    g.add_nodes_from(graphs.index.users["user_id"].to_list())
    flow = graphs.index.decode(graphs.index.decode(graphs.gift_flow, "src"), "dst").filter(pl.col("src") != pl.col("dst"))
    g.add_weighted_edges_from(flow.select("src", "dst", "coins").rows())
    return graphs, frame, g


def _col(frame: pl.DataFrame, column: str, order: list[str]) -> np.ndarray:
    lookup = dict(frame.select("user_id", column).rows())
    return np.array([lookup[u] for u in order], dtype=float)


def test_one_row_per_user_with_the_documented_columns(case):
    graphs, frame, _ = case
    assert frame.height == graphs.n_users
    assert frame.columns == ["uid", "pagerank", "in_strength", "out_strength", "hub", "authority", "coreness",
                             "betweenness", "user_id"]


def test_pagerank_matches_networkx_within_1e_6(case):
    _, frame, g = case
    ref = nx.pagerank(g, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    nodes = list(ref)
    assert np.abs(_col(frame, "pagerank", nodes) - np.array([ref[u] for u in nodes])).max() < 1e-6
    assert frame["pagerank"].sum() == pytest.approx(1.0)


def test_strengths_are_coins_in_and_out_without_self_gifts(case):
    _, frame, g = case
    nodes = list(g.nodes)
    assert np.allclose(_col(frame, "in_strength", nodes), [g.in_degree(u, weight="weight") for u in nodes])
    assert np.allclose(_col(frame, "out_strength", nodes), [g.out_degree(u, weight="weight") for u in nodes])


def test_hits_matches_networkx(case):
    _, frame, g = case
    hubs, auths = nx.hits(g, max_iter=10_000, tol=1e-12)
    nodes = list(g.nodes)
    h, a = np.array([hubs[u] for u in nodes]), np.array([auths[u] for u in nodes])
    assert np.allclose(_col(frame, "hub", nodes), h / h.max(), atol=1e-6)
    assert np.allclose(_col(frame, "authority", nodes), a / a.max(), atol=1e-6)


def test_coreness_matches_networkx(case):
    _, frame, g = case
    core = nx.core_number(nx.Graph(g.to_undirected()))
    assert {u: int(v) for u, v in frame.select("user_id", "coreness").rows()} == core


def test_exact_betweenness_matches_networkx(case):
    _, frame, g = case
    ref = nx.betweenness_centrality(g, normalized=True)
    nodes = list(ref)
    assert np.allclose(_col(frame, "betweenness", nodes), [ref[u] for u in nodes], atol=1e-12)


def test_sampled_betweenness_is_seeded_and_close_to_exact(case):
    graphs, _, _ = case
    g = gift_centrality_graph(graphs)
    exact = betweenness(g, exact_max_nodes=10_000)
    a = betweenness(g, exact_max_nodes=10, samples=30, seed=4)
    b = betweenness(g, exact_max_nodes=10, samples=30, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, exact)  # really sampled
    top = set(np.argsort(-exact)[:5])
    assert len(top & set(np.argsort(-a)[:10])) >= 4
    with_all_sources = betweenness(g, exact_max_nodes=10, samples=g.vcount(), seed=4)
    assert np.allclose(with_all_sources, exact)


def test_without_betweenness_and_without_gifts():
    devices = pl.DataFrame({"user_id": ["a", "b"], "device_id": ["d", "d"]})
    graphs = build_graphs(Tables.from_frames(devices=devices), Config())
    frame = centrality(graphs, Config(), with_betweenness=False)
    assert frame.height == 2 and frame["betweenness"].null_count() == 2
    assert frame["pagerank"].to_list() == pytest.approx([0.5, 0.5])
    assert frame["hub"].to_list() == [0.0, 0.0]


def test_huge_coin_values_give_the_same_ranks_as_small_ones():
    """Coins near the float limit once aborted the process inside LAPACK (HITS on A'A overflowing to inf)."""
    small = Tables.from_frames(gifts=_random_gifts(n_users=15, n_gifts=60, seed=3))
    # the readers reject coins above max_coins (at most 1e15); graphs built from other frames are swapped in here
    huge = dataclasses.replace(small, gifts=small.gifts.with_columns(pl.col("coins") * 1e200))
    a = centrality(build_graphs(small, Config()), Config(), with_betweenness=False)
    b = centrality(build_graphs(huge, Config()), Config(), with_betweenness=False)
    for column in ("pagerank", "hub", "authority"):
        assert np.allclose(a[column].to_numpy(), b[column].to_numpy(), atol=1e-9), column
    assert np.allclose(b["in_strength"].to_numpy(), a["in_strength"].to_numpy() * 1e200)
