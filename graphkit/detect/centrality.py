"""Centrality of every account on the gift flow, as one polars frame.

Who collects the money (PageRank, authority, in-strength), who spreads it
(hub, out-strength), who sits in the dense core (k-core) and who bridges
groups (betweenness).

References
----------
Page, L., Brin, S., Motwani, R., & Winograd, T. (1999). The PageRank citation ranking.
Kleinberg, J. M. (1999). Authoritative sources in a hyperlinked environment (HITS).
Batagelj, V., & Zaversnik, M. (2003). An O(m) algorithm for cores decomposition of networks.
Brandes, U. (2001). A faster algorithm for betweenness centrality.
Brandes, U., & Pich, C. (2007). Centrality estimation in large networks (sampled sources).
"""

from __future__ import annotations

import warnings

import igraph as ig
import numpy as np
import polars as pl

from graphkit.graphs.build import graph_from_edges, seeded_igraph
from graphkit.config import Config
from graphkit.errors import ConfigError

__all__ = ["centrality", "gift_centrality_graph", "betweenness"]


def centrality(graphs, config: Config = Config(), *, with_betweenness: bool = True,  # noqa: ANN001
               graph: ig.Graph | None = None) -> pl.DataFrame:
    """Centrality measures of every account on the gift flow.

    Parameters
    ----------
    graphs : graphkit.graphs.Graphs
    config : Config
        Uses ``pagerank_damping``, ``betweenness_exact_max_nodes``,
        ``betweenness_samples`` and ``seed`` (sampled sources, and the
        start vector of the HITS eigen-solver).
    with_betweenness : bool
        Betweenness is the slowest measure (sampled BFS from
        ``betweenness_samples`` sources on big graphs); ``False`` fills the
        column with nulls.
    graph : igraph.Graph, optional
        :func:`gift_centrality_graph` of ``graphs``, when the caller has built it already.

    Returns
    -------
    polars.DataFrame
        One row per account (``uid`` 0..n-1, sorted), columns:

        - ``pagerank``: weighted by coins, damping ``pagerank_damping``; sums to 1
          (accounts that never sent a gift spread their rank uniformly);
        - ``in_strength``, ``out_strength``: coins received, sent;
        - ``hub``, ``authority``: HITS on the coin-weighted gift flow, scaled
          so the maximum is 1 (0 for all when there is no gift);
        - ``coreness``: k-core number of the undirected gift graph (a pair
          counts once, whichever direction);
        - ``betweenness``: on directed, unweighted (hop) shortest paths,
          normalised by ``(n-1)(n-2)``. Exact when the graph has at most
          ``betweenness_exact_max_nodes`` vertices; above, estimated from
          ``betweenness_samples`` source vertices drawn with ``seed`` and
          scaled by ``n / samples`` (Brandes & Pich 2007).

        Self-gifts are left out of every measure.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit import Config, Tables
    >>> from graphkit.graphs import build_graphs
    >>> gifts = pl.DataFrame({"sender_id": ["a", "b", "c"], "receiver_id": ["h", "h", "a"],
    ...                       "coins": [5.0, 5.0, 1.0], "sent_at": ["2024-01-01T00:00:00Z"] * 3})
    >>> graphs = build_graphs(Tables.from_frames(gifts=gifts))
    >>> c = centrality(graphs)
    >>> graphs.index.decode(c, "uid").sort("pagerank", descending=True)["uid"][0]
    'h'
    >>> c["in_strength"].to_list()
    [1.0, 0.0, 0.0, 10.0]
    """
    g = graph if graph is not None else gift_centrality_graph(graphs)
    n = g.vcount()
    coins = g.es["coins"] if g.ecount() else None
    if n == 0:
        return _frame(*(np.zeros(0),) * 7)
    # PageRank and HITS do not change when every weight is multiplied by the same number: on a 0..1
    # scale, huge coin values (1e200 overflows A'A to inf) cannot break the solvers (LAPACK aborts the process)
    top = float(np.max(coins)) if coins is not None else 0.0
    scaled = (np.asarray(coins, dtype=np.float64) / top).tolist() if top > 0 else coins
    pagerank = np.asarray(g.pagerank(weights=scaled, damping=config.pagerank_damping, directed=True))
    in_strength = np.asarray(g.strength(mode="in", weights=coins, loops=False), dtype=np.float64)
    out_strength = np.asarray(g.strength(mode="out", weights=coins, loops=False), dtype=np.float64)
    if top > 0:
        with warnings.catch_warnings():
            # most accounts only send or only receive: zeros are expected, not a sign of a bad solution
            warnings.filterwarnings("ignore", message="More than 30% of hub or authority", category=RuntimeWarning)
            with seeded_igraph(config.seed):  # ARPACK's random start vector: else the last bits vary per run
                hub = np.asarray(g.hub_score(weights=scaled, scale=True))
        authority = _authorities(graphs.gift_flow.filter(pl.col("src") != pl.col("dst")), hub, scaled)
    else:
        hub = authority = np.zeros(n)
    undirected = g.as_undirected(mode="collapse")
    coreness = np.asarray(undirected.coreness(), dtype=np.int64)
    if with_betweenness:
        between = betweenness(g, exact_max_nodes=config.betweenness_exact_max_nodes,
                              samples=config.betweenness_samples, seed=config.seed)
    else:
        between = np.full(n, np.nan)
    frame = _frame(pagerank, in_strength, out_strength, hub, authority, coreness, between)
    return frame if with_betweenness else frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("betweenness"))


def gift_centrality_graph(graphs) -> ig.Graph:  # noqa: ANN001
    """The directed gift graph (as ``Graphs.gift_graph``) without self-gift loops; attribute ``coins``."""
    flow = graphs.gift_flow.filter(pl.col("src") != pl.col("dst"))
    return graph_from_edges(graphs.n_users, flow["src"], flow["dst"], True, {"coins": flow["coins"]})


def betweenness(g: ig.Graph, *, exact_max_nodes: int = 5000, samples: int = 256, seed: int = 0) -> np.ndarray:
    """Normalised betweenness on hop distances: exact up to ``exact_max_nodes`` vertices, sampled above.

    Parameters
    ----------
    g : igraph.Graph
    exact_max_nodes : int
    samples : int
        Source vertices drawn (without replacement, ``numpy`` generator seeded
        with ``seed``) when the graph is larger than ``exact_max_nodes``; the
        partial sums are scaled by ``n / samples``.
    seed : int

    Returns
    -------
    numpy.ndarray
        Betweenness divided by ``(n-1)(n-2)`` (directed) or ``(n-1)(n-2)/2``
        (undirected), like networkx's ``normalized=True``.
    """
    n = g.vcount()
    if n < 3:
        return np.zeros(n)
    if n <= exact_max_nodes or samples >= n:
        raw = np.asarray(g.betweenness(directed=g.is_directed()), dtype=np.float64)
    else:
        if samples < 1:
            raise ConfigError(f"betweenness_samples = {samples} must be at least 1")
        sources = np.sort(np.random.default_rng(seed).choice(n, size=samples, replace=False))
        raw = np.asarray(g.betweenness(directed=g.is_directed(), sources=sources.tolist()), dtype=np.float64)
        raw *= n / samples
    scale = (n - 1) * (n - 2)
    return raw / (scale if g.is_directed() else scale / 2)


def _authorities(flow: pl.DataFrame, hub: np.ndarray, weights: list[float]) -> np.ndarray:
    """HITS authorities from the hub scores: ``a = A' h``, scaled so the maximum is 1.

    Hubs and authorities are one singular pair of the weighted adjacency
    ``A`` (edges ``flow``, in the order of the graph's edges): one sparse
    product replaces a second eigen-solver run (3 s at 10^7 gifts).
    """
    src, dst = flow["src"].to_numpy(), flow["dst"].to_numpy()
    authority = np.bincount(dst, weights=np.asarray(weights) * hub[src], minlength=hub.size)
    top = authority.max(initial=0.0)
    return authority / top if top > 0 else authority


def _frame(pagerank, in_strength, out_strength, hub, authority, coreness, between) -> pl.DataFrame:  # noqa: ANN001
    return pl.DataFrame(
        {
            "uid": np.arange(len(pagerank), dtype=np.uint32),
            "pagerank": np.asarray(pagerank, dtype=np.float64),
            "in_strength": np.asarray(in_strength, dtype=np.float64),
            "out_strength": np.asarray(out_strength, dtype=np.float64),
            "hub": np.asarray(hub, dtype=np.float64),
            "authority": np.asarray(authority, dtype=np.float64),
            "coreness": np.asarray(coreness, dtype=np.uint32),
            "betweenness": np.asarray(between, dtype=np.float64),
        }
    )
