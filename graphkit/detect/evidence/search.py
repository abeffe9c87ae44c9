"""The cheapest chain between two nodes, reading only the links of the nodes it settles: :func:`cheapest_chain`.

A bidirectional Dijkstra over numbered links (``vid``) whose costs are all at
least :data:`MIN_LINK_COST`. It asks a ``neighbours`` function for the links
of a batch of nodes at a time, so the same search runs over links held in
memory (:func:`adjacency`, ``graphkit path --data``) and over a report's store
read by key (``graphkit path --report``), and gives the same chain from both.

Ties are broken by a rule that does not depend on where the links come from
nor on the order they come in: a node's predecessor is the one it is reached
from most cheaply, then the smallest ``vid``; the chain is the cheapest
crossing between the two searches, then the smallest ``vid`` pair. Vids
follow the node ids' order (``account:`` < ``device:`` < ``ip:`` <
``stream:``), so of a device and an IP shared by the same two accounts (the
commonest tie) the chain takes the device. igraph's Dijkstra, which
``graphkit path`` used before, broke ties by the order of its heap: the chains
that differ cost exactly the same (``benchmarks/RESULTS.md``, issue 15).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["MIN_LINK_COST", "Neighbours", "adjacency", "adjacency_arrays", "cheapest_chain", "csr_neighbours"]

MIN_LINK_COST = 1.0
"""Every link costs at least this (1, plus terms that are never negative:
:func:`graphkit.detect.evidence.evidence_path`).
Each round of the search settles every node closer than the nearest unsettled one plus this: none of them can
be reached more cheaply through a node not yet settled."""

Neighbours = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``neighbours(vids)`` (sorted, distinct) gives ``(u, v, cost)``: one row per link with an end ``u`` in ``vids``
and ``v`` its other end (a link with both ends in ``vids`` comes once per end), in any order."""


class _Side:
    """One direction of the search: distances, predecessors, the settled nodes and the links read."""

    def __init__(self, start: int, vertices: int) -> None:
        self.dist = np.full(vertices, np.inf)
        self.parent = np.full(vertices, -1, dtype=np.int64)
        self.settled = np.zeros(vertices, dtype=bool)
        self.dist[start] = 0.0
        self.frontier = np.array([start], dtype=np.int64)  # reached, not settled; sorted
        self.read: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.rounds = 0

    def top(self) -> float:
        """The distance of the nearest node not settled (a lower bound of every unsettled node's distance)."""
        return float(self.dist[self.frontier].min()) if self.frontier.size else np.inf

    def round(self, neighbours: Neighbours) -> np.ndarray:
        """Settle every node within :data:`MIN_LINK_COST` of the nearest; relax their links; the nodes improved."""
        self.rounds += 1
        near = self.dist[self.frontier]
        now = near < near.min() + MIN_LINK_COST
        batch, self.frontier = self.frontier[now], self.frontier[~now]
        self.settled[batch] = True
        u, v, cost = neighbours(batch)
        u, v, cost = (np.asarray(a) for a in (u, v, cost))
        self.read.append((u, v, cost))
        open_ = ~self.settled[v]
        u, v = u[open_].astype(np.int64), v[open_].astype(np.int64)
        reach = self.dist[u] + cost[open_]
        order = np.lexsort((u, reach, v))  # per node: cheapest first, then the smallest predecessor
        u, v, reach = u[order], v[order], reach[order]
        first = np.ones(v.size, dtype=bool)
        first[1:] = v[1:] != v[:-1]
        u, v, reach = u[first], v[first], reach[first]
        better = (reach < self.dist[v]) | ((reach == self.dist[v]) & (u < self.parent[v]))
        u, v, reach = u[better], v[better], reach[better]
        self.dist[v] = reach
        self.parent[v] = u
        self.frontier = np.union1d(self.frontier, v)
        return v

    def back(self, node: int) -> list[int]:
        """The settled chain from this side's start to ``node``, start first."""
        chain = [node]
        while self.parent[chain[-1]] >= 0:
            chain.append(int(self.parent[chain[-1]]))
        return chain[::-1]


def cheapest_chain(src: int, dst: int, vertices: int, neighbours: Neighbours) -> list[int]:
    """The cheapest chain of links from ``src`` to ``dst`` (vids), both included; empty when none links them.

    Parameters
    ----------
    src, dst : int
        Vids in ``range(vertices)``.
    vertices : int
        The number of vids.
    neighbours : Neighbours
        The links of a batch of vids (:data:`Neighbours`); every cost at least :data:`MIN_LINK_COST`.

    Examples
    --------
    Two equally cheap chains from 0 to 3 (through 1 or 2): the smaller vid is taken.

    >>> import numpy as np
    >>> links = adjacency(np.array([0, 0, 1, 2]), np.array([2, 1, 3, 3]), np.array([1.0, 1.0, 1.5, 1.5]), 5)
    >>> cheapest_chain(0, 3, 5, links)
    [0, 1, 3]
    >>> cheapest_chain(0, 4, 5, links)
    []
    """
    if src == dst:
        return [src]
    ahead, behind = _Side(src, vertices), _Side(dst, vertices)
    best = np.inf  # the cheapest chain seen so far: an upper bound of the answer

    def step(side: _Side, other: _Side) -> float:
        improved = side.round(neighbours)
        return min(best, float((side.dist[improved] + other.dist[improved]).min())) if improved.size else best

    best = step(ahead, behind)
    best = step(behind, ahead)
    # stop once no node unsettled on both sides can lie on a chain as cheap as the best: every node of every
    # cheapest chain is then settled on one side at least, so one of its links crosses from one side to the other
    while ahead.top() + behind.top() <= best:
        if not (ahead.frontier.size and behind.frontier.size):
            break  # one side has settled everything it can reach
        side, other = (ahead, behind) if ahead.frontier.size <= behind.frontier.size else (behind, ahead)
        best = step(side, other)
    if not np.isfinite(best):
        return []
    u, v, cost = (np.concatenate(parts) for parts in zip(*ahead.read))
    cross = behind.settled[v] & (u != v)
    u, v = u[cross].astype(np.int64), v[cross].astype(np.int64)
    total = ahead.dist[u] + cost[cross] + behind.dist[v]
    pick = np.lexsort((v, u, total))[0]  # a finite best has a crossing (see the loop's stop)
    return ahead.back(int(u[pick])) + behind.back(int(v[pick]))[::-1]


def adjacency_arrays(s: np.ndarray, t: np.ndarray, cost: np.ndarray,
                     vertices: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Links (``s, t, cost``: one row per link, either direction) as arrays by vid: ``start`` (``vertices + 1``
    offsets), ``other`` and ``cost``; the links of vid ``u`` are rows ``start[u]:start[u + 1]``, in the order
    of ``s, t`` (a report's store keeps them on disk: :func:`csr_neighbours` reads them memory-mapped).

    Raises ``ValueError`` for a cost below :data:`MIN_LINK_COST`, which the search's rounds rely on."""
    if np.size(cost) and not float(np.min(cost)) >= MIN_LINK_COST:  # NaN fails too
        raise ValueError(f"a link costs {float(np.min(cost))}, below the search's least link cost {MIN_LINK_COST}")
    u = np.concatenate([s, t]).astype(np.int64)
    order = np.argsort(u, kind="stable")
    other = np.concatenate([t, s]).astype(np.uint32)[order]
    both = np.concatenate([cost, cost]).astype(np.float64)[order]
    start = np.zeros(vertices + 1, dtype=np.int64)  # where each vid's rows start: the counts of the vids before it
    np.cumsum(np.bincount(u, minlength=vertices), out=start[1:])
    return start, other, both


def csr_neighbours(start: np.ndarray, other: np.ndarray, cost: np.ndarray) -> Neighbours:
    """:data:`Neighbours` of :func:`adjacency_arrays` (in memory, or memory-mapped: only the rows of the vids
    asked for are read)."""

    def neighbours(vids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vids = np.asarray(vids, dtype=np.int64)
        lo, hi = np.asarray(start[vids]), np.asarray(start[vids + 1])
        sizes = hi - lo
        rows = np.repeat(lo - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(sizes.sum())
        return np.repeat(vids, sizes), np.asarray(other[rows]).astype(np.int64), np.asarray(cost[rows])

    return neighbours


def adjacency(s: np.ndarray, t: np.ndarray, cost: np.ndarray, vertices: int) -> Neighbours:
    """:data:`Neighbours` of links held in memory (``s, t, cost``: one row per link, either direction).

    Examples
    --------
    >>> import numpy as np
    >>> links = adjacency(np.array([0, 1]), np.array([1, 2]), np.array([1.0, 2.0]), 3)
    >>> [a.tolist() for a in links(np.array([1]))]
    [[1, 1], [2, 0], [2.0, 1.0]]
    """
    return csr_neighbours(*adjacency_arrays(s, t, cost, vertices))
