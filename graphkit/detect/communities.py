"""Communities of the combined user graph: Leiden, Louvain, label propagation, components.

Rings are small groups (3-60 accounts) in a big graph. Modularity has a
resolution limit that merges small groups into big ones, so the default is
Leiden with the Constant Potts Model (CPM), whose resolution is a density: a
group stays together when its internal edge weight per pair of members is
above it. Communities larger than ``max_size`` are split again by Leiden at a
doubled resolution, recursively, so that no reported group is a 50k-account blob.

Every method is seeded and runs one connected component at a time, each
with the generator seeded for it alone: the same graph, settings and seed
give the same membership, numbered by size (largest first, ties by smallest
vertex), and a component's communities do not depend on the rest of the
graph (a Spark work unit finds the local engine's).

References
----------
Traag, V. A., Waltman, L., & van Eck, N. J. (2019). From Louvain to Leiden:
guaranteeing well-connected communities. Scientific Reports, 9, 5233.

Traag, V. A., Van Dooren, P., & Nesterov, Y. (2011). Narrow scope for
resolution-limit-free community detection. Physical Review E, 84, 016114 (CPM).

Blondel, V. D., et al. (2008). Fast unfolding of communities in large networks (Louvain).

Raghavan, U. N., Albert, R., & Kumara, S. (2007). Near linear time algorithm to
detect community structures in large-scale networks (label propagation).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

import igraph as ig
import networkx as nx
import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from graphkit.detect.worker import in_background, worth_a_worker
from graphkit.graphs.build import seeded_igraph
from graphkit.errors import ConfigError

if TYPE_CHECKING:
    from graphkit.graphs import Graphs
    from graphkit.config import Config

__all__ = ["Communities", "detect_communities", "edge_membership", "user_communities", "vertex_rank", "METHODS", "OBJECTIVES"]

METHODS = ("leiden", "louvain", "label_propagation", "components")
OBJECTIVES = ("CPM", "modularity")
_MAX_SPLIT_DEPTH = 12


@dataclass(frozen=True)
class Communities:
    """A partition of a graph's vertices.

    Attributes
    ----------
    membership : numpy.ndarray
        ``membership[v]`` is the community of vertex ``v`` (``uid`` for the
        user graphs), ``0..k-1``, numbered by size, largest first.
    graph : igraph.Graph
        The graph that was partitioned.
    method, objective : str
    resolution : float
        The resolution the partition started from (split communities used
        multiples of it).
    quality : float
        The objective's value for this partition on the whole graph: for CPM
        ``sum_c (W_c - resolution * n_c (n_c - 1) / 2)`` with ``W_c`` the
        internal edge weight of community ``c``; for every other method the
        modularity (with ``resolution`` as gamma for modularity Leiden).
    modularity : float
        Newman's weighted modularity (gamma = 1) of the partition, whatever
        the method: comparable across methods and with networkx.
    seed : int
    split : int
        How many oversized communities were split again.
    """

    membership: np.ndarray
    graph: ig.Graph = field(repr=False)
    method: str
    objective: str
    resolution: float
    quality: float
    modularity: float
    seed: int
    split: int = 0
    weights: str | None = "weight"

    def __len__(self) -> int:
        return int(self.membership.max()) + 1 if self.membership.size else 0

    @property
    def n_communities(self) -> int:
        return len(self)

    def sizes(self) -> np.ndarray:
        """Size of each community, indexed by community (non-increasing)."""
        return np.bincount(self.membership, minlength=len(self))

    def members(self, i: int) -> np.ndarray:
        """The vertices (uids) of community ``i``, sorted."""
        self._check(i)
        return np.flatnonzero(self.membership == i)

    def subgraph(self, i: int) -> ig.Graph:
        """The subgraph induced by community ``i``.

        Vertex ``j`` of the subgraph carries attribute ``uid`` (its vertex id in
        :attr:`graph`); edge attributes are kept.
        """
        members = self.members(i)
        sub = self.graph.induced_subgraph(members.tolist(), implementation="create_from_scratch")
        sub.vs["uid"] = members.tolist()
        return sub

    def to_polars(self) -> pl.DataFrame:
        """``uid`` (UInt32), ``community`` (UInt32): one row per vertex, sorted by uid."""
        return pl.DataFrame(
            {
                "uid": np.arange(self.membership.size, dtype=np.uint32),
                "community": self.membership.astype(np.uint32),
            }
        )

    def to_pandas(self):  # noqa: ANN201 (pandas only at the API boundary)
        """:meth:`to_polars` as a pandas DataFrame."""
        return self.to_polars().to_pandas()

    def sizes_frame(self) -> pl.DataFrame:
        """``community``, ``size``: one row per community, largest first."""
        sizes = self.sizes()
        return pl.DataFrame({"community": np.arange(sizes.size, dtype=np.uint32), "size": sizes.astype(np.uint32)})

    def to_networkx(self, i: int) -> nx.Graph:
        """Community ``i`` as a networkx graph, nodes named by ``uid``, edge attributes kept."""
        sub = self.subgraph(i)
        g = nx.DiGraph() if sub.is_directed() else nx.Graph()
        uids = sub.vs["uid"]
        g.add_nodes_from(uids)
        names = sub.es.attributes()
        attrs = [dict(zip(names, vals)) for vals in zip(*(sub.es[n] for n in names))] if names else None
        pairs = [(uids[s], uids[t]) for s, t in sub.get_edgelist()]
        g.add_edges_from((s, t, a) for (s, t), a in zip(pairs, attrs)) if attrs else g.add_edges_from(pairs)
        return g

    def _check(self, i: int) -> None:
        if not 0 <= i < len(self):
            raise IndexError(f"community {i} does not exist; there are {len(self)} (0..{len(self) - 1})")


def detect_communities(
    graph: ig.Graph,
    *,
    method: str = "leiden",
    objective: str = "CPM",
    resolution: float = 0.05,
    weights: str | None = "weight",
    seed: int = 0,
    max_size: int | None = None,
    n_iterations: int = 1,
) -> Communities:
    """Partition an undirected weighted graph into communities.

    Parameters
    ----------
    graph : igraph.Graph
        Undirected (e.g. :meth:`graphkit.graphs.Graphs.user_graph`); a directed
        graph is treated as undirected (edge weights of both directions added).
    method : {"leiden", "louvain", "label_propagation", "components"}
    objective : {"CPM", "modularity"}
        Leiden's objective (and the one used to split oversized communities).
    resolution : float
        CPM: the density threshold on the edge-weight scale (see
        :meth:`graphkit.graphs.Graphs.user_graph`); modularity: gamma.
        Louvain uses it as gamma.
    weights : str or None
        Edge attribute holding the weights; ``None`` for unweighted. A missing
        attribute on a graph without edges is fine.
    seed : int
        Seeds igraph's random number generator for this call only.
    max_size : int, optional
        Communities with more vertices are split again by Leiden at twice the
        resolution, recursively (up to 12 times), unless they cannot be split.
    n_iterations : int
        Leiden iterations, as ``Config.leiden_iterations`` (1: half the time
        of igraph's default 2 for the same rings on synthetic data; -1 runs
        until no vertex moves, measured 4x slower than 2 for 0.1% more
        communities).

    Returns
    -------
    Communities

    Raises
    ------
    ConfigError
        Unknown method or objective, resolution <= 0, max_size < 1, or a
        weights attribute the graph does not have.

    Examples
    --------
    >>> import igraph as ig
    >>> g = ig.Graph([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])
    >>> g.es["weight"] = [1.0] * 7
    >>> c = detect_communities(g, resolution=0.5, seed=1)
    >>> c.membership.tolist(), c.sizes().tolist()
    ([0, 0, 0, 1, 1, 1], [3, 3])
    >>> round(c.modularity, 4)
    0.3571
    """
    _check_settings(method, objective, resolution, max_size)
    if graph.is_directed():
        graph = graph.as_undirected(mode="collapse", combine_edges="sum")
    if weights is not None and graph.ecount() and weights not in graph.es.attributes():
        raise ConfigError(
            f"the graph has no edge attribute {weights!r} (it has {', '.join(graph.es.attributes()) or 'none'})"
        )
    w = graph.es[weights] if (weights is not None and graph.ecount()) else None
    ends = np.asarray(graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    membership, split = _by_component(
        graph.vcount(), ends[:, 0], ends[:, 1], np.asarray(w, dtype=np.float64) if w is not None else None,
        method=method, objective=objective, resolution=resolution, seed=seed, max_size=max_size,
        n_iterations=n_iterations,
    )
    membership = _canonical(membership)
    modularity = graph.modularity(membership.tolist(), weights=w) if graph.ecount() else 0.0
    if method == "leiden" and objective == "CPM":
        quality = _cpm_quality(graph, membership, resolution, w)
    elif method in ("leiden", "louvain") and resolution != 1:
        quality = graph.modularity(membership.tolist(), weights=w, resolution=resolution) if graph.ecount() else 0.0
    else:
        quality = modularity
    return Communities(
        membership=membership, graph=graph, method=method, objective=objective, resolution=float(resolution),
        quality=float(quality), modularity=float(modularity), seed=seed, split=split, weights=weights,
    )


def edge_membership(
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    *,
    n_users: int,
    method: str,
    objective: str,
    resolution: float,
    seed: int,
    max_size: int | None,
    n_iterations: int,
) -> np.ndarray:
    """The membership of :func:`detect_communities` on the undirected graph of edges ``a[i] - b[i]``.

    numpy in, numpy out, so that it can run in a worker process
    (:func:`user_communities`); the graph is built as
    :meth:`graphkit.graphs.Graphs.user_graph` builds it (weights as Python
    floats), so the result is the same.

    Examples
    --------
    >>> a, b = np.array([0, 1, 0, 3, 4, 3]), np.array([1, 2, 2, 4, 5, 5])
    >>> edge_membership(a, b, np.ones(6), n_users=7, method="leiden", objective="CPM", resolution=0.5,
    ...                 seed=0, max_size=None, n_iterations=2).tolist()
    [0, 0, 0, 1, 1, 1, 2]
    """
    # Leiden's local moves visit vertices in a seeded random order of their numbers: numbered by the
    # data (vertex_rank), not by the sorted ids, the communities do not move when ids are spelled otherwise
    _check_settings(method, objective, resolution, max_size)
    rank = vertex_rank(a, b, weight, n_users)
    membership, _ = _by_component(
        n_users, rank[a], rank[b], np.asarray(weight, dtype=np.float64), method=method, objective=objective,
        resolution=resolution, seed=seed, max_size=max_size, n_iterations=n_iterations,
    )
    return _canonical(membership)[rank]  # numbered by size, ties by the data's vertex order (not the ids)


def vertex_rank(a: np.ndarray, b: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """``rank[v]``: a numbering of the vertices of the undirected graph ``a[i] - b[i]`` by the data, not the ids.

    Vertices are ordered by weighted degree, degree, the weighted degree of
    their neighbours and of their neighbours' neighbours (all descending);
    only vertices equal on all four keep the order of their numbers (their
    sorted ids). The weighted keys are compared at float32 precision, so that
    weights that differ only in their last bits (coin sums added in another
    order) give the same numbering. Two platforms that differ only in how the ids are spelled
    get the same numbering up to those ties, so the seeded community search
    (:func:`edge_membership`) finds the same communities.

    Examples
    --------
    >>> vertex_rank(np.array([2, 2, 0]), np.array([1, 0, 1]), np.array([1.0, 1.0, 5.0]), 4).tolist()
    [0, 1, 2, 3]
    >>> vertex_rank(np.array([0, 0]), np.array([3, 2]), np.array([1.0, 1.0]), 4).tolist()
    [0, 3, 1, 2]
    """
    a, b = np.asarray(a), np.asarray(b)
    w = np.asarray(weight, dtype=np.float64)
    strength = np.bincount(a, weights=w, minlength=n) + np.bincount(b, weights=w, minlength=n)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    around = np.bincount(a, weights=strength[b], minlength=n) + np.bincount(b, weights=strength[a], minlength=n)
    beyond = np.bincount(a, weights=around[b], minlength=n) + np.bincount(b, weights=around[a], minlength=n)
    # the keys as float32: sums of coins differ in their last bits from run to run (a parallel group-by adds
    # in any order), and a 1e-16 difference must not reorder two vertices; the lexsort is stable, so exact
    # ties (at float32 precision) keep their numbers' order
    keys = [np.negative(key.astype(np.float32)) for key in (beyond, around)] + [-degree, -strength.astype(np.float32)]
    order = np.lexsort(keys)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


@contextmanager
def user_communities(graphs: "Graphs", config: "Config", *, workers: int = 2) -> Iterator[Callable[[], np.ndarray]]:
    """Find the communities of the combined user graph; the context yields a function that returns the membership.

    The settings are ``Config.community_method``, ``leiden_objective``,
    ``resolution``, ``seed``, ``max_community_size`` and
    ``leiden_iterations``, on :meth:`graphkit.graphs.Graphs.user_edges`
    weighted by ``weight``. With ``workers >= 2`` and a big graph (at least
    2,000,000 edges: :func:`graphkit.detect.worker.worth_a_worker`) the igraph graph is built and partitioned in a second
    process (:func:`graphkit.detect.worker.in_background`) while the caller
    goes on with work that does not need the communities: igraph holds one
    core for the whole run (15-20 s at 10^7 gifts). Otherwise it is done
    when the context is entered. Both give the same membership: the same
    seeded computation on the same arrays.

    Yields
    ------
    callable
        Returns ``membership[uid]`` (numbered by size, largest first).

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit import Config, Tables
    >>> from graphkit.graphs import build_graphs
    >>> devices = pl.DataFrame({"user_id": ["a", "b", "c"], "device_id": ["d1", "d1", "d2"]})
    >>> graphs = build_graphs(Tables.from_frames(devices=devices), Config())
    >>> with user_communities(graphs, Config(seed=0)) as membership:
    ...     membership().tolist()
    [0, 0, 1]
    """
    settings = {
        "n_users": graphs.n_users, "method": config.community_method, "objective": config.leiden_objective,
        "resolution": config.resolution, "seed": config.seed, "max_size": config.max_community_size,
        "n_iterations": config.leiden_iterations,
    }
    _check_settings(settings["method"], settings["objective"], settings["resolution"], settings["max_size"])
    edges = graphs.user_edges(config)
    arrays = {"a": edges["a"].to_numpy(), "b": edges["b"].to_numpy(), "weight": edges["weight"].to_numpy()}
    del edges
    if not worth_a_worker(len(arrays["a"]), workers):
        membership = edge_membership(**arrays, **settings)
        del arrays
        yield lambda: membership
        return
    with in_background("communities", arrays, settings) as membership_of:
        del arrays
        yield membership_of


def _check_settings(method: str, objective: str, resolution: float, max_size: int | None) -> None:
    if method not in METHODS:
        raise ConfigError(f"unknown community method {method!r}; use one of {', '.join(METHODS)}")
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown Leiden objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if not resolution > 0:
        raise ConfigError(f"resolution = {resolution} must be > 0")
    if max_size is not None and max_size < 1:
        raise ConfigError(f"max_community_size = {max_size} must be at least 1")


def _by_component(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray | None,
    *,
    method: str,
    objective: str,
    resolution: float,
    seed: int,
    max_size: int | None,
    n_iterations: int,
) -> tuple[np.ndarray, int]:
    """The membership (labels not yet canonical) and the number of split communities, one component at a time.

    Each connected component of the undirected graph of edges ``a[i] - b[i]``
    (weights ``w``, or unweighted) is partitioned on its own, with a random
    number generator seeded with ``seed`` for it alone, so that a
    component's communities are the same whatever else the graph holds: the
    local engine and a Spark work unit, which holds some of the components,
    find the same communities. Communities never span components (Leiden's
    are connected), and the objective is the whole graph's: CPM is a sum over
    communities, and modularity (Leiden's or Louvain's) with resolution
    ``gamma`` on the whole graph equals, on one component, modularity with
    ``gamma * W_component / W_graph`` (a component's vertices have the same
    strengths in both). Each component's graph is built from its slice of the
    edge arrays, its vertices numbered in increasing order, its edges in
    their order in ``a, b``. The loop runs over components of two or more
    vertices (about 32,000 at 10^7 gifts, all but one of them tiny), never
    over vertices or edges.
    """
    n_components, components = connected_components(
        coo_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)), directed=False
    )
    if method == "components":
        return components.astype(np.int64), 0
    sizes = np.bincount(components, minlength=n_components)
    vertices = np.argsort(components, kind="stable")  # each component's vertices, in increasing order
    local = np.empty(n, dtype=np.int64)
    local[vertices] = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    edge_order = np.argsort(components[a], kind="stable")  # each component's edges, in their order
    edge_ends = np.cumsum(np.bincount(components[a], minlength=n_components))
    edge_starts = np.concatenate([[0], edge_ends[:-1]])
    vertex_ends = np.cumsum(sizes)
    total = (float(np.sum(w)) if w is not None else float(len(a))) or 1.0
    membership = np.empty(n, dtype=np.int64)
    labels, split = 0, 0
    for c in np.flatnonzero(sizes >= 2).tolist():
        edges = edge_order[edge_starts[c]:edge_ends[c]]
        sub = ig.Graph(n=int(sizes[c]))
        sub.add_edges(np.column_stack([local[a[edges]], local[b[edges]]]))
        sub_w = None
        if w is not None:
            sub_w = w[edges].tolist()
            sub.es["weight"] = sub_w
        # modularity's gamma for this component, so that the objective is the whole graph's
        weight_share = (float(np.sum(w[edges])) if w is not None else float(len(edges))) / total
        own_resolution = resolution if (method == "leiden" and objective == "CPM") else resolution * weight_share
        with seeded_igraph(seed):
            part = _run(sub, method, objective, own_resolution, sub_w, n_iterations)
            if max_size is not None and sizes[c] > max_size:
                part, parts_split = _split_large(
                    sub, part, objective, resolution, "weight" if w is not None else None, max_size, n_iterations
                )
                split += parts_split
        _, part = np.unique(part, return_inverse=True)
        membership[vertices[vertex_ends[c] - sizes[c]:vertex_ends[c]]] = part + labels
        labels += int(part.max()) + 1
    alone = np.flatnonzero(sizes[components] == 1)
    membership[alone] = labels + np.arange(alone.size)
    return membership, split


def _run(graph: ig.Graph, method: str, objective: str, resolution: float, w: list | None, n_iterations: int) -> np.ndarray:
    if method == "leiden":
        result = graph.community_leiden(
            objective_function=objective, weights=w, resolution=resolution, n_iterations=n_iterations
        )
    elif method == "louvain":
        result = graph.community_multilevel(weights=w, resolution=resolution)
    elif method == "label_propagation":
        result = graph.community_label_propagation(weights=w)
    else:
        result = graph.connected_components()
    return np.asarray(result.membership, dtype=np.int64)


def _split_large(
    graph: ig.Graph,
    membership: np.ndarray,
    objective: str,
    resolution: float,
    weights: str | None,
    max_size: int,
    n_iterations: int,
) -> tuple[np.ndarray, int]:
    """Re-run Leiden at a doubled resolution inside each community larger than ``max_size``.

    A loop over oversized communities (a handful), never over vertices or edges.
    """
    membership = membership.copy()
    split = 0
    queue = [(int(c), resolution * 2, 1) for c in np.flatnonzero(np.bincount(membership) > max_size)]
    next_label = int(membership.max()) + 1 if membership.size else 0
    while queue:
        label, res, depth = queue.pop(0)
        members = np.flatnonzero(membership == label)
        sub = graph.induced_subgraph(members.tolist(), implementation="create_from_scratch")
        sub_w = sub.es[weights] if (weights is not None and sub.ecount()) else None
        part = np.asarray(
            sub.community_leiden(
                objective_function=objective, weights=sub_w, resolution=res, n_iterations=n_iterations
            ).membership,
            dtype=np.int64,
        )
        n_parts = int(part.max(initial=0)) + 1
        if n_parts == 1:
            if depth < _MAX_SPLIT_DEPTH:
                queue.append((label, res * 2, depth + 1))
            continue
        split += 1
        labels = np.concatenate([[label], np.arange(next_label, next_label + n_parts - 1)])
        next_label += n_parts - 1
        membership[members] = labels[part]
        if depth < _MAX_SPLIT_DEPTH:
            queue.extend((int(labels[p]), res * 2, depth + 1) for p in np.flatnonzero(np.bincount(part) > max_size))
    return membership, split


def _canonical(membership: np.ndarray) -> np.ndarray:
    """Renumber communities by size (largest first), ties by their smallest vertex."""
    if membership.size == 0:
        return membership.astype(np.int64)
    _, inverse = np.unique(membership, return_inverse=True)
    sizes = np.bincount(inverse)
    first = np.full(sizes.size, membership.size, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(membership.size))
    order = np.lexsort((first, -sizes))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse].astype(np.int64)


def _cpm_quality(graph: ig.Graph, membership: np.ndarray, resolution: float, w: list | None) -> float:
    internal = 0.0
    if graph.ecount():
        # modularity at resolution 0 is the internal share of the total weight (one C call, no edge list in Python)
        total = float(np.sum(w)) if w is not None else float(graph.ecount())
        internal = graph.modularity(membership.tolist(), weights=w, resolution=0) * total
    sizes = np.bincount(membership).astype(np.float64)
    return internal - resolution * float((sizes * (sizes - 1) / 2).sum())
