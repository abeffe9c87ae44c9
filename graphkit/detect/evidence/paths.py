"""The strongest chain of evidence between two accounts: :func:`evidence_path`.

The cheapest chain over the entity graph (:func:`graphkit.detect.evidence.search.cheapest_chain`),
where a link costs more the more common (and, for gifts, the weaker) it is.
Hubs are never used; a popular host only when no other chain exists, and
each such step says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import polars as pl

from graphkit.config import Config
from graphkit.io import Tables
from graphkit.util.format import coins, plural
from graphkit.detect.evidence.entity import (_code_space, _distinct_pairs, _key_of, entity_edges, identifier_hubs,
                                             popular_hosts, resolve_ids)
from graphkit.detect.evidence.search import Neighbours, adjacency, adjacency_arrays, cheapest_chain, csr_neighbours

__all__ = ["PathLinks", "PathStep", "evidence_path", "path_links"]

_MIN_SHARE = 1e-9
"""A gift link of 0 coins counts as this share of its sender's spending (its cost stays finite)."""


@dataclass(frozen=True)
class PathStep:
    """One link of a chain of evidence (see :func:`evidence_path`)."""

    source: str
    """Node id this step starts from (``kind:key``)."""
    target: str
    """Node id this step reaches."""
    relation: str
    """One of :data:`RELATIONS`."""
    text: str
    """The step as a sentence an investigator can paste into a case."""
    hubs: tuple[str, ...] = ()
    """The popular hosts (node ids) this step passes through, also named in ``text``:
    a weak link, taken only because no chain of evidence avoids them."""


def evidence_path(tables: Tables, a: str, b: str, *, config: Config = Config(),
                  edges: pl.DataFrame | None = None) -> list[PathStep]:
    """The strongest chain of evidence linking ``a`` and ``b``.

    The chain runs through every relation of the entity graph: shared devices
    and IPs, gifts (either direction), co-gifting (both gifted in the same
    stream) and hosting. It is the cheapest chain (a bidirectional Dijkstra,
    :func:`graphkit.detect.evidence.search.cheapest_chain`), where a link
    costs more the more common and the weaker it is:

    * every link costs 1, plus half the natural log of the number of
      neighbours of each of its two ends (a device of 2 accounts adds 0.35,
      a host linked to 466 accounts 3.1);
    * a gift link (``gifted``, ``gifted_in``) adds half the -log of its share
      of its sender's spending and of its receiver's income in that relation:
      the 1 coin of someone who spent 500 coins, to a host who received
      280,000, adds 9.4; a ring member's 1,000 of 1,000 coins, to a
      beneficiary who received 30,000, adds 1.7 (a link of 0 coins counts as
      a share of 1e-9).

    A device of two accounts is thus a cheaper step than a gift to a star,
    even when it takes one more hop. Hub identifiers (more than
    ``config.hub_cap`` accounts) are not used: a carrier IP links everyone
    and proves nothing. Popular hosts (:func:`popular_hosts`) are passed
    through only when no chain avoids them (each one costs more than every
    other link together), and then each step through one says so
    (``PathStep.hubs``, and ``(via popular host h3: 466 senders)`` in its text).

    Between equally cheap chains the choice follows the node ids' order (the
    rule of :func:`~graphkit.detect.evidence.search.cheapest_chain`), the
    same whether the links come from the tables or from a report's store
    (``graphkit path --report`` reads only the links of the nodes the search
    settles).

    Parameters
    ----------
    tables : Tables
        Validated input.
    a, b : str
        Two ids (accounts usually; any kind, see :func:`resolve_ids`).
    config : Config
        ``hub_cap``, ``since`` and ``until`` are used.
    edges : polars.DataFrame, optional
        A precomputed :func:`entity_edges` frame.

    Returns
    -------
    list of PathStep
        Empty when no chain links them (or ``a == b``).

    Raises
    ------
    NotFoundError
        When ``a`` or ``b`` is not in the data.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> t = Tables.from_frames(
    ...     devices=pl.DataFrame({"user_id": ["u17", "u18"], "device_id": ["d7", "d7"]}),
    ...     gifts=pl.DataFrame({"sender_id": ["u18"], "receiver_id": ["h3"], "coins": [4990.0],
    ...                         "sent_at": ["2024-01-01T00:00:00Z"]}))
    >>> [s.text for s in evidence_path(t, "u17", "h3")]
    ['u17 used device d7', 'd7 was also used by u18', 'u18 gifted 4,990 coins to h3 in 1 gift']
    """
    if edges is None:
        edges = entity_edges(tables, since=config.since, until=config.until)
    (src,) = _one(a, edges, tables)
    (dst,) = _one(b, edges, tables)
    if src == dst:
        return []
    links = path_links(edges, hub_cap=config.hub_cap, placeholders=config.placeholder_device_ids)
    return links.chain(src, dst, lambda nodes: _among(links.costed, nodes))


@dataclass(frozen=True)
class PathLinks:
    """The links a path may take, numbered: what :func:`evidence_path` searches.

    Attributes
    ----------
    names : polars.DataFrame or polars.LazyFrame
        ``vid, node_id``: every end of a link, sorted by ``node_id`` (``vid`` is the row number);
        only the rows of a chain's nodes are read.
    vertices : int
        The number of ``names``.
    neighbours : Neighbours
        The links of a batch of vids (:data:`graphkit.detect.evidence.search.Neighbours`): from memory
        (:func:`path_links`) or read by key from a report's store.
    popular : polars.DataFrame
        ``node_id, senders`` of the popular hosts.
    coded : polars.DataFrame, optional
        ``s, t, cost``: one row per link, by ``vid``, sorted (kept by :func:`path_links`: what a report's
        store writes).
    costed : polars.DataFrame, optional
        The links with their entity edge columns and ``cost`` (kept by :func:`path_links` of string node ids;
        a report's store reads the edges of a chain from its edges).
    index : tuple of numpy.ndarray, optional
        ``start, other, cost``: the links by vid (:func:`graphkit.detect.evidence.search.adjacency_arrays`)
        that ``neighbours`` reads (kept by :func:`path_links` of integer node ids: the report's store writes
        them as they are).
    """

    names: pl.DataFrame | pl.LazyFrame
    vertices: int
    neighbours: Neighbours
    popular: pl.DataFrame
    coded: pl.DataFrame | None = None
    costed: pl.DataFrame | None = None
    index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def chain(self, src: str, dst: str, edges_among: Callable[[list[str]], pl.DataFrame]) -> list[PathStep]:
        """The cheapest chain from node ``src`` to node ``dst`` (resolved node ids); ``edges_among(nodes)``
        gives the entity edges between the chain's nodes (more are allowed: each step keeps its own)."""
        names = self.names.lazy()
        ends = dict(names.filter(pl.col("node_id").is_in([src, dst])).select("node_id", "vid").collect().rows())
        if src == dst or src not in ends or dst not in ends:  # an end without a usable link: no chain
            return []
        path = cheapest_chain(int(ends[src]), int(ends[dst]), self.vertices, self.neighbours)
        if len(path) < 2:
            return []
        found = dict(names.filter(pl.col("vid").is_in(path)).select("vid", "node_id").collect().rows())
        chain = [found[v] for v in path]
        senders = dict(self.popular.filter(pl.col("node_id").is_in(chain[1:-1])).rows())
        among = edges_among(chain)
        return [_step(_between(among, chain[i], chain[i + 1]), chain[i], chain[i + 1], senders)
                for i in range(len(chain) - 1)]


def path_links(edges: pl.DataFrame, *, hub_cap: int = Config.hub_cap,
               placeholders: tuple[str, ...] = Config.placeholder_device_ids,
               hubs: pl.DataFrame | None = None, popular: pl.DataFrame | None = None) -> PathLinks:
    """The :class:`PathLinks` of an entity edge frame (:func:`entity_edges` of the whole window).

    ``hubs`` (the hub rule's frame of ``edges``) and ``popular`` (:func:`popular_hosts` of ``edges``): when the
    caller has them already (the report's store, which codes the node ids as integers: the links' ``names``
    then hold those codes).

    With integer node ids (codes whose order is the node ids', :func:`~graphkit.detect.evidence.coded_entity_edges`)
    the costs are gathered from arrays indexed by code instead of joined (:func:`_coded_link_costs`), with the same
    costs bit for bit, and the :class:`PathLinks` keep the arrays of the index (``index``) but not ``costed``.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["u17", "u18"], "device_id": ["d7", "d7"]}))
    >>> links = path_links(entity_edges(t))
    >>> links.names.rows()
    [(0, 'account:u17'), (1, 'account:u18'), (2, 'device:d7')]
    >>> [step.text for step in links.chain("account:u17", "account:u18", lambda nodes: _among(links.costed, nodes))]
    ['u17 used device d7', 'd7 was also used by u18']
    """
    if popular is None:
        popular = popular_hosts(edges, hub_cap=hub_cap)
    if hubs is None:
        hubs = identifier_hubs(edges, hub_cap, placeholders)
    popular = popular.filter(pl.col("popular")).select("node_id", "senders")
    if edges.schema["source"].is_integer():
        return _coded_path_links(edges, hubs.filter(pl.col("hub")).get_column("node_id"), popular)
    costed = _link_costs(edges, hubs.filter(pl.col("hub")).select("node_id"), popular.get_column("node_id"))
    names = (
        pl.concat([costed.get_column("source"), costed.get_column("target")])
        .unique().sort().to_frame("node_id").with_row_index("vid")
    )
    coded = (
        costed.join(names.rename({"node_id": "source", "vid": "s"}), on="source")
        .join(names.rename({"node_id": "target", "vid": "t"}), on="target")
        .select("s", "t", "cost")
        .sort("s", "t", "cost")
    )
    neighbours = adjacency(coded.get_column("s").to_numpy(), coded.get_column("t").to_numpy(),
                           coded.get_column("cost").to_numpy(), names.height)
    return PathLinks(names=names, vertices=names.height, neighbours=neighbours, popular=popular, coded=coded,
                     costed=costed)


def _among(edges: pl.DataFrame, nodes: list[str]) -> pl.DataFrame:
    """The rows of ``edges`` with both ends in ``nodes``."""
    keep = pl.Series(nodes, dtype=pl.Utf8).implode()
    return edges.filter(pl.col("source").is_in(keep) & pl.col("target").is_in(keep))


def _between(edges: pl.DataFrame, u: str, v: str) -> pl.DataFrame:
    return edges.filter(
        ((pl.col("source") == u) & (pl.col("target") == v)) | ((pl.col("source") == v) & (pl.col("target") == u))
    )


def _cost() -> pl.Expr:
    """A link's ``cost`` (the rule of :func:`evidence_path`) from ``relation, coins``, its source's ``spent`` and
    its target's ``earned`` in that relation, and the log of each end's distinct neighbours (``log_s, log_t``)."""

    def minus_log_share(total: str) -> pl.Expr:
        share = pl.when(pl.col(total) > 0).then(pl.col("coins") / pl.col(total)).otherwise(0.0)
        return -share.clip(_MIN_SHARE, 1.0).log()

    gift = pl.col("relation").is_in(["gifted", "gifted_in"])
    return (1.0 + 0.5 * (pl.col("log_s") + pl.col("log_t"))
            + pl.when(gift).then(0.5 * (minus_log_share("spent") + minus_log_share("earned"))).otherwise(0.0)
            ).alias("cost")


def _link_costs(edges: pl.DataFrame, hub_ids: pl.DataFrame, popular: pl.Series) -> pl.DataFrame:
    """The edges a path may use (none of ``hub_ids``) with the ``cost`` of each, as :func:`evidence_path` says."""
    ends = pl.concat([edges.select(pl.col("source").alias("node_id"), pl.col("target").alias("other")),
                      edges.select(pl.col("target").alias("node_id"), pl.col("source").alias("other"))])
    log_degree = ends.group_by("node_id").agg(pl.col("other").n_unique().log().alias("log_degree"))
    spent = edges.group_by("source", "relation").agg(pl.col("coins").sum().alias("spent"))
    earned = edges.group_by("target", "relation").agg(pl.col("coins").sum().alias("earned"))

    # eager, join by join: the rows keep the order the popular hosts' penalty (a float sum) was always taken in
    costed = (
        edges.join(hub_ids.rename({"node_id": "source"}), on="source", how="anti")
        .join(hub_ids.rename({"node_id": "target"}), on="target", how="anti")
        .join(spent, on=["source", "relation"], how="left")
        .join(earned, on=["target", "relation"], how="left")
        .join(log_degree.rename({"node_id": "source", "log_degree": "log_s"}), on="source", how="left")
        .join(log_degree.rename({"node_id": "target", "log_degree": "log_t"}), on="target", how="left")
        .with_columns(_cost())
        .drop("spent", "earned", "log_s", "log_t")
    )
    # a popular host costs more than every other link together: passed through only when nothing else links
    through = pl.col("source").is_in(popular.implode()).cast(pl.Int64) + pl.col("target").is_in(popular.implode())
    penalty = float(costed.get_column("cost").sum()) + 1.0
    return costed.with_columns(pl.col("cost") + penalty * through)


def _coded_path_links(edges: pl.DataFrame, hub_ids: pl.Series, popular: pl.DataFrame) -> PathLinks:
    """:func:`path_links` of edges whose ends are integer codes: the links' ``names`` are the codes, ``vid`` the
    rank of a code among the links' ends (so vids follow the codes' order, as they follow the strings')."""
    costed, s, t = _coded_link_costs(edges, hub_ids, popular.get_column("node_id"))
    ends = np.zeros(_code_space(edges, hub_ids, popular.get_column("node_id")), dtype=bool)
    ends[s] = True
    ends[t] = True
    vid = (np.cumsum(ends, dtype=np.int64) - 1).astype(np.uint32)
    names = pl.Series("node_id", np.flatnonzero(ends).astype(np.uint32)).to_frame().with_row_index("vid")
    coded = pl.DataFrame({"s": vid[s], "t": vid[t], "cost": costed}).sort("s", "t", "cost")
    index = adjacency_arrays(coded.get_column("s").to_numpy(), coded.get_column("t").to_numpy(),
                             coded.get_column("cost").to_numpy(), names.height)
    return PathLinks(names=names, vertices=names.height, neighbours=csr_neighbours(*index), popular=popular,
                     coded=coded, index=index)


def _coded_link_costs(edges: pl.DataFrame, hub_ids: pl.Series,
                      popular: pl.Series) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """:func:`_link_costs` of edges with integer ends, by dense gathers: ``cost, source, target`` of the links
    (the edges without a hub end, in the order of ``edges``).

    Each term is the same number as :func:`_link_costs` gives (the distinct neighbours counted exactly, the
    coins summed by the same group-by, the cost by the same expression) and the links keep the order of
    ``edges``, so the popular hosts' penalty (a float sum over that order) is the same bit for bit."""
    n = _code_space(edges, hub_ids, popular)
    s = edges.get_column("source").to_numpy()
    t = edges.get_column("target").to_numpy()
    # distinct neighbours, either direction: the distinct pairs from each end, less the pairs that are there
    # both ways (only accounts are sources, so only a pair whose target is a source can be) and self-links
    ps, pt, key = _distinct_pairs(s, t)
    degree = np.bincount(ps, minlength=n) + np.bincount(pt, minlength=n)
    is_source = np.zeros(n, dtype=bool)
    is_source[ps] = True
    maybe = np.flatnonzero(is_source[pt])  # the way back of such a pair is such a pair too: search among them
    among = key[maybe]
    back = (pt[maybe].astype(np.uint64) << np.uint64(32)) | ps[maybe].astype(np.uint64)
    at = np.minimum(np.searchsorted(among, back), max(among.size - 1, 0))
    degree -= np.bincount(ps[maybe[among[at] == back]], minlength=n)
    log_degree = pl.Series(degree.astype(np.uint32)).log().to_numpy()  # n_unique is a UInt32; its log, as joined
    del ps, pt, key, is_source, maybe, among, back, at, degree
    # the coins of each source (target) in each gift relation, from the same group-by as the joined costs
    gift_relations = ["gifted", "gifted_in"]
    totals = {}
    for end, name in (("source", "spent"), ("target", "earned")):
        sums = (edges.group_by(end, "relation").agg(pl.col("coins").sum().alias(name))
                .filter(pl.col("relation").is_in(gift_relations)))
        dense = np.zeros(2 * n, dtype=np.float64)
        dense[2 * sums.get_column(end).to_numpy().astype(np.int64)
              + (sums.get_column("relation") == "gifted_in").to_numpy()] = sums.get_column(name).to_numpy()
        totals[name] = dense
    hub = np.zeros(n, dtype=bool)
    hub[hub_ids.to_numpy()] = True
    keep = ~(hub[s] | hub[t])
    s, t = s[keep], t[keep]
    relation = edges.get_column("relation").filter(pl.Series(keep))
    second = (relation == "gifted_in").to_numpy().astype(np.int64)

    costed = pl.DataFrame({
        "relation": relation, "coins": edges.get_column("coins").filter(pl.Series(keep)),
        "spent": totals["spent"][2 * s.astype(np.int64) + second],
        "earned": totals["earned"][2 * t.astype(np.int64) + second],
        "log_s": log_degree[s], "log_t": log_degree[t],
    }).select(_cost())
    is_popular = np.zeros(n, dtype=np.int64)
    is_popular[popular.to_numpy()] = 1
    penalty = float(costed.get_column("cost").sum()) + 1.0
    through = is_popular[s] + is_popular[t]
    cost = costed.with_columns(pl.Series("through", through)).select(pl.col("cost") + penalty * pl.col("through"))
    return cost.to_series(), s, t


def _one(raw: str, edges: pl.DataFrame, tables: Tables) -> tuple[str]:
    found = resolve_ids([raw], edges, tables)
    accounts = [f for f in found if f.startswith("account:")]
    return (accounts[0] if accounts else found[0],)


def _step(links: pl.DataFrame, u: str, v: str, popular: dict[str, int]) -> PathStep:
    """One step of a chain from the edges between ``u`` and ``v`` (either direction)."""
    links = links.sort("relation", "source")
    texts = []
    relation = links.item(0, "relation")
    for row in links.iter_rows(named=True):
        texts.append(_sentence(row, forward=row["source"] == u))
    hubs = tuple(node for node in (u, v) if node in popular)
    text = "; ".join(texts) + "".join(f" (via popular host {_key_of(h)}: {plural(popular[h], 'sender')})"
                                      for h in hubs)
    return PathStep(source=u, target=v, relation=relation, text=text, hubs=hubs)


def _sentence(edge: dict, forward: bool) -> str:
    s, t, rel = _key_of(edge["source"]), _key_of(edge["target"]), edge["relation"]
    if rel in ("used_device", "used_ip"):
        what = "device" if rel == "used_device" else "IP"
        return f"{s} used {what} {t}" if forward else f"{t} was also used by {s}"
    if rel == "gifted":
        return f"{s} gifted {coins(edge['coins'])} to {t} in {plural(edge['count'], 'gift')}"
    if rel == "gifted_in":
        detail = f"{coins(edge['coins'])} in {plural(edge['count'], 'gift')}"
        return f"{s} gifted in stream {t} ({detail})" if forward else f"{s} also gifted in stream {t} ({detail})"
    return f"{s} hosted stream {t}" if forward else f"stream {t} was hosted by {s}"
