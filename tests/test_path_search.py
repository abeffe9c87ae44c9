"""The cheapest chain of ``graphkit path`` (:func:`graphkit.detect.evidence.search.cheapest_chain`, issue 15).

The search reads the links of a batch of nodes at a time, from memory or from
a report's store (its index of links, memory-mapped): checked here against
networkx's Dijkstra (the cost of the chain), against igraph's (the chain
itself, where no two chains cost the same), by hand where chains tie, and
read from the store's index.
"""

from __future__ import annotations

import random
import warnings

import igraph as ig
import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.detect.evidence.search import MIN_LINK_COST, adjacency, adjacency_arrays, cheapest_chain
from graphkit.report.store import INDEX_FILES, _read_index


def _links(n: int, pairs: list[tuple[int, int]], costs: list[float]):
    s = np.array([p[0] for p in pairs], dtype=np.int64)
    t = np.array([p[1] for p in pairs], dtype=np.int64)
    return s, t, np.array(costs, dtype=np.float64)


def _cost(path: list[int], s, t, cost) -> float:
    total = 0.0
    for a, b in zip(path, path[1:]):
        between = ((s == a) & (t == b)) | ((s == b) & (t == a))
        assert between.any(), f"{a}-{b} is not a link"
        total += float(cost[between].min())
    return total


def _nx_graph(n: int, s, t, cost) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for a, b, w in zip(s.tolist(), t.tolist(), cost.tolist()):
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:  # the cheapest of parallel links
            g.add_edge(a, b, weight=w)
    return g


def _shuffled(neighbours, seed: int):
    """The same links in another order: the answer must not depend on it."""
    rng = np.random.default_rng(seed)

    def wrapped(vids):
        u, v, w = neighbours(vids)
        order = rng.permutation(u.size)
        return u[order], v[order], w[order]

    return wrapped


def _stored(folder, s, t, cost, n: int):
    """The links as a report's store keeps them (its index files), read back memory-mapped."""
    for name, array in zip(INDEX_FILES, adjacency_arrays(s, t, cost, n)):
        np.save(folder / name, array, allow_pickle=False)
    return _read_index(folder, n)


def test_equally_cheap_chains_give_the_smaller_vid_and_a_cheaper_longer_chain_wins():
    # 0-1-3 and 0-2-3 cost 2.5 both; 0-4 direct costs 9, 0-5-6-4 costs 3.3
    s, t, cost = _links(7, [(0, 1), (0, 2), (1, 3), (2, 3), (0, 4), (0, 5), (5, 6), (6, 4)],
                        [1.0, 1.0, 1.5, 1.5, 9.0, 1.1, 1.1, 1.1])
    links = adjacency(s, t, cost, 7)
    assert cheapest_chain(0, 3, 7, links) == [0, 1, 3]
    assert cheapest_chain(3, 0, 7, links) == [3, 1, 0]
    assert cheapest_chain(0, 4, 7, links) == [0, 5, 6, 4]
    assert cheapest_chain(2, 2, 7, links) == [2]


def test_unreachable_ends_and_an_end_without_links_give_no_chain():
    s, t, cost = _links(6, [(0, 1), (1, 2), (3, 4)], [1.0, 2.0, 1.0])
    links = adjacency(s, t, cost, 6)
    assert cheapest_chain(0, 4, 6, links) == []
    assert cheapest_chain(4, 0, 6, links) == []
    assert cheapest_chain(0, 5, 6, links) == []  # 5 has no link at all
    assert cheapest_chain(0, 2, 6, links) == [0, 1, 2]


def test_parallel_links_and_self_loops_count_once_at_their_cheapest():
    # 0-1 twice (5.0 and 1.0), a loop on 1, then 0-1-2 costs 2.0 against 2.5 for 0-2
    s, t, cost = _links(3, [(0, 1), (1, 0), (1, 1), (1, 2), (0, 2)], [5.0, 1.0, 1.0, 1.0, 2.5])
    links = adjacency(s, t, cost, 3)
    assert cheapest_chain(0, 2, 3, links) == [0, 1, 2]
    assert cheapest_chain(2, 0, 3, links) == [2, 1, 0]


@st.composite
def _graphs(draw):
    n = draw(st.integers(2, 30))
    m = draw(st.integers(0, 80))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=m, max_size=m))
    # whole and half costs tie often; any cost is at least MIN_LINK_COST
    costs = draw(st.lists(st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 7.25]), min_size=m, max_size=m))
    a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
    return n, pairs, costs, a, b


@settings(max_examples=150, deadline=None)
@given(_graphs(), st.integers(0, 2**16))
def test_the_chain_costs_what_networkx_finds_whatever_the_order_of_the_links(graph, seed):
    n, pairs, costs, a, b = graph
    s, t, cost = _links(n, pairs, costs)
    links = adjacency(s, t, cost, n)
    chain = cheapest_chain(a, b, n, links)
    g = _nx_graph(n, s, t, cost)
    if a == b:
        assert chain == [a]
    elif not nx.has_path(g, a, b):
        assert chain == []
    else:
        assert chain[0] == a and chain[-1] == b
        assert _cost(chain, s, t, cost) == pytest.approx(nx.dijkstra_path_length(g, a, b), rel=1e-12)
    assert cheapest_chain(a, b, n, _shuffled(links, seed)) == chain  # ties broken the same in any order


def test_without_ties_the_chain_is_igraphs_and_from_the_store_it_is_the_same(tmp_path):
    """Random costs (no two chains cost the same): the chain igraph's Dijkstra gives, which ``graphkit path``
    gave before; and the same chain from the store's index of links."""
    rng = random.Random(5)
    for trial in range(20):
        n = rng.randint(20, 200)
        pairs = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(n, 3 * n))]
        s, t, cost = _links(n, pairs, [MIN_LINK_COST + rng.random() * 4 for _ in pairs])
        g = ig.Graph(n=n, directed=False)
        g.add_edges(np.column_stack([s, t]))
        folder = tmp_path / str(trial)
        folder.mkdir()
        stored = _stored(folder, s, t, cost, n)
        links = adjacency(s, t, cost, n)
        for _ in range(10):
            a, b = rng.randrange(n), rng.randrange(n)
            if a == b:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = g.get_shortest_path(a, b, weights=cost, mode="all", output="vpath")
            chain = cheapest_chain(a, b, n, links)
            assert chain == (want if len(want) > 1 else []), (trial, a, b)
            assert cheapest_chain(a, b, n, stored) == chain


@settings(max_examples=40, deadline=None)
@given(_graphs())
def test_the_stores_index_gives_the_chain_of_links_in_memory(tmp_path_factory, graph):
    n, pairs, costs, a, b = graph
    s, t, cost = _links(n, pairs, costs)
    stored = _stored(tmp_path_factory.mktemp("links"), s, t, cost, n)
    assert cheapest_chain(a, b, n, stored) == cheapest_chain(a, b, n, adjacency(s, t, cost, n))


def test_an_index_that_does_not_match_the_store_is_one_line(tmp_path):
    from graphkit.errors import InputError

    s, t, cost = _links(3, [(0, 1)], [1.0])
    _stored(tmp_path, s, t, cost, 3)
    with pytest.raises(InputError, match="does not match store.json"):
        _read_index(tmp_path, 4)
    (tmp_path / INDEX_FILES[1]).unlink()
    with pytest.raises(InputError, match="missing or unreadable"):
        _read_index(tmp_path, 3)


def test_a_node_reached_dearly_first_is_settled_at_its_cheapest():
    """Node 2 is first reached from 0 at 2.9, then through 1 at 2.0: a search that settled it before 1's links
    were read (a round wider than the cheapest link) would go 0-2-3. The end 3 has many leaves, so the search
    works from 0's side."""
    pairs = [(0, 1), (0, 2), (1, 2), (2, 3)] + [(3, leaf) for leaf in range(4, 40)]
    s, t, cost = _links(40, pairs, [1.0, 2.9, 1.0, 1.0] + [1.0] * 36)
    assert cheapest_chain(0, 3, 40, adjacency(s, t, cost, 40)) == [0, 1, 2, 3]


def test_a_link_cheaper_than_the_least_link_cost_is_refused():
    s, t, cost = _links(2, [(0, 1)], [MIN_LINK_COST / 2])
    with pytest.raises(ValueError, match="below the search's least link cost"):
        adjacency(s, t, cost, 2)
