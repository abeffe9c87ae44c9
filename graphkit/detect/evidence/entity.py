"""The typed entity graph of the input tables: its edges, node facts, hubs, popular hosts and id lookup.

======== ====================================================================
kind     node id (``kind:key``)
======== ====================================================================
account  ``account:<user_id>``
device   ``device:<device_id>``
ip       ``ip:<ip>``
stream   ``stream:<stream_id>``
======== ====================================================================

============ ================== =============================================
relation     source -> target   attributes
============ ================== =============================================
used_device  account -> device  ``count`` observations, first/last seen
used_ip      account -> ip      ``count`` observations, first/last seen
gifted       account -> account ``coins`` (sum), ``count`` gifts, first/last
gifted_in    account -> stream  ``coins`` (sum), ``count`` gifts, first/last
hosted       account -> stream  the host of the stream
============ ================== =============================================

Identifiers (devices, IPs, streams) linked to more than ``hub_cap`` accounts
are *hubs* (carrier NAT, campus IPs, popular streams). Accounts gifted by
more distinct accounts than 99% of receivers and than ``hub_cap`` are
*popular hosts* (:func:`popular_hosts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Callable, Iterable, Mapping

import numpy as np
import polars as pl

from graphkit.config import Config
from graphkit.detect.signals import popular_senders
from graphkit.errors import NotFoundError
from graphkit.graphs.ids import KINDS as ID_KINDS, IdIndex
from graphkit.graphs.projections import is_hub, is_placeholder
from graphkit.graphs.window import check_window, time_window
from graphkit.io import Tables

__all__ = ["KINDS", "RELATIONS", "RELATION_CODES", "CodedEdges", "coded_entity_edges", "entity_edges", "identifier_hubs",
           "neighbourhood_edges", "node_facts", "popular_hosts",
           "resolve_ids"]

KINDS = ("account", "device", "ip", "stream")
"""Node kinds of the entity graph, in the order ids are looked up."""


RELATIONS = ("used_device", "used_ip", "gifted", "gifted_in", "hosted")
"""Edge relations of the entity graph."""

RELATION_CODES = pl.Enum(sorted(RELATIONS))
"""The relations coded in the order of their names (:func:`coded_entity_edges`): sorting the codes sorts the names."""

_INDEX_KIND = {"account": "user", "device": "device", "ip": "ip", "stream": "stream"}
"""Each node kind's kind in the analysis' id index (:class:`graphkit.graphs.ids.IdIndex`)."""


_KIND_LABEL = {"account": "account", "device": "device", "ip": "IP", "stream": "stream"}


_EDGE_SCHEMA = {
    "source": pl.Utf8,
    "target": pl.Utf8,
    "relation": pl.Utf8,
    "coins": pl.Float64,
    "count": pl.Int64,
    "first_at": pl.Datetime("us", "UTC"),
    "last_at": pl.Datetime("us", "UTC"),
}


def entity_edges(
    tables: Tables,
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    min_coins: float = 0.0,
    sort: bool = True,
) -> pl.DataFrame:
    """All edges of the typed entity graph of ``tables``.

    Parameters
    ----------
    tables : Tables
        Validated input.
    since, until : str or datetime, optional
        Keep gifts sent, devices seen and streams started in ``[since, until)``
        (observations without a time are kept).
    min_coins : float
        Leave out ``gifted`` and ``gifted_in`` edges that carry fewer coins.
    sort : bool
        Sort the rows by ``source, target, relation``. A caller that sorts
        them on coded ids (:func:`graphkit.report.store.write_store`) passes
        ``False`` and saves the sort of three string columns.

    Returns
    -------
    polars.DataFrame
        ``source, target, relation, coins, count, first_at, last_at``; one row
        per distinct (source, target, relation), sorted unless ``sort=False``.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> t = Tables.from_frames(gifts=pl.DataFrame({"sender_id": ["a", "a"], "receiver_id": ["h", "h"],
    ...     "coins": [5.0, 7.0], "sent_at": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]}))
    >>> entity_edges(t).select("source", "target", "relation", "coins", "count").row(0)
    ('account:a', 'account:h', 'gifted', 12.0, 2)
    """
    gifts, devices, streams = _windowed(tables, since, until)
    edges = _edges_of(
        gifted=gifts, gifted_in=gifts, used_device=devices, used_ip=devices, hosted=streams, min_coins=min_coins
    )
    return edges.sort("source", "target", "relation") if sort else edges


def neighbourhood_edges(
    tables: Tables,
    accounts: Iterable[str],
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    min_coins: float = 0.0,
    hub_cap: int = Config.hub_cap,
    placeholders: tuple[str, ...] = Config.placeholder_device_ids,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The entity edges within one link of ``accounts``, and the platform-wide facts of their nodes.

    The same as cutting :func:`entity_edges` down to the edges whose two
    ends are ``accounts`` or one link from them, and :func:`node_facts` down
    to those nodes, without building the platform's edge table: the rows
    of the input are filtered on the edges' keys before they are grouped,
    so every edge and every fact keeps all its rows. A ring page needs only
    this (:func:`graphkit.viz.write_views`: 3x faster at 10^7 gifts).

    Parameters
    ----------
    tables : Tables
    accounts : iterable of str
        User ids (without ``account:``).
    since, until, min_coins
        As in :func:`entity_edges`.
    hub_cap : int
        As in :func:`node_facts`.

    Returns
    -------
    edges : polars.DataFrame
        As :func:`entity_edges`, sorted.
    facts : polars.DataFrame
        As :func:`node_facts`, for the nodes of ``edges`` (and ``accounts``), sorted by ``node_id``.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["u1", "u2", "u3", "u3"],
    ...                                                "device_id": ["d1", "d1", "d2", "d3"]}))
    >>> edges, facts = neighbourhood_edges(t, ["u1"])
    >>> edges.select("source", "target").rows()  # u2 is two links away: counted, not reached
    [('account:u1', 'device:d1')]
    >>> facts.select("node_id", "accounts").rows()
    [('device:d1', 2)]
    """
    gifts, devices, streams = _windowed(tables, since, until)
    seed_ids = pl.Series(sorted(set(accounts)), dtype=pl.Utf8)
    seeds = seed_ids.implode()
    near = _edges_of(
        gifted=gifts.filter(pl.col("sender_id").is_in(seeds) | pl.col("receiver_id").is_in(seeds)),
        gifted_in=gifts.filter(pl.col("sender_id").is_in(seeds)),
        used_device=devices.filter(pl.col("user_id").is_in(seeds)),
        used_ip=devices.filter(pl.col("user_id").is_in(seeds)),
        hosted=streams.filter(pl.col("host_id").is_in(seeds)),
        min_coins=min_coins,
    )
    reach = pl.concat([("account:" + seed_ids).rename("source"), near.get_column("source"),
                       near.get_column("target").rename("source")]).unique()

    def keys(kind: str) -> pl.Series:
        return reach.filter(reach.str.starts_with(f"{kind}:")).str.strip_prefix(f"{kind}:").implode()

    acc, dev, ips, sid = keys("account"), keys("device"), keys("ip"), keys("stream")
    # every edge that a fact of a reached node sums over (a superset of the edges among reached nodes)
    counted = _edges_of(
        gifted=gifts.filter(pl.col("sender_id").is_in(acc) | pl.col("receiver_id").is_in(acc)),
        gifted_in=gifts.filter(pl.col("stream_id").is_in(sid)),
        used_device=devices.filter(pl.col("device_id").is_in(dev)),
        used_ip=devices.filter(pl.col("ip").is_in(ips)),
        hosted=streams.filter(pl.col("stream_id").is_in(sid)),
        min_coins=min_coins,
    )
    inside = reach.implode()
    edges = counted.filter(pl.col("source").is_in(inside) & pl.col("target").is_in(inside))
    facts = node_facts(counted, hub_cap, placeholders).filter(pl.col("node_id").is_in(inside))
    return edges.sort("source", "target", "relation"), facts.sort("node_id")


@dataclass(frozen=True)
class CodedEdges:
    """The entity edges with integer ends (:func:`coded_entity_edges`).

    Attributes
    ----------
    edges : polars.DataFrame
        :func:`entity_edges`'s columns and rows, unsorted, with ``source`` and ``target`` the codes of the node
        ids (``UInt32``: row numbers of ``node_ids``) and ``relation`` a :data:`RELATION_CODES`.
    node_ids : polars.Series
        ``node_id``: every end of an edge and every account asked for (``kind:key``), sorted; code ``i`` stands
        for ``node_ids[i]``, so sorting codes sorts the node ids.
    accounts : polars.Series
        ``user_id``: the keys of the accounts among them, sorted; the accounts come first in ``node_ids``
        (``account:`` sorts before ``device:``, ``ip:`` and ``stream:``), so account ``accounts[i]`` has code ``i``.
    """

    edges: pl.DataFrame
    node_ids: pl.Series
    accounts: pl.Series


def coded_entity_edges(index: IdIndex, gifts: pl.DataFrame, devices: pl.DataFrame, streams: pl.DataFrame, *,
                       users: pl.Series | None = None, min_coins: float = 0.0) -> CodedEdges:
    """:func:`entity_edges` from the analysis' integer ids: no id string is hashed, grouped or sorted.

    The ids of each kind are numbered in the order of their strings (:mod:`graphkit.graphs.ids`) and the kinds'
    prefixes sort as :data:`KINDS` (``account:`` < ``device:`` < ``ip:`` < ``stream:``), so a node's place in
    the sorted node ids is its kind's offset plus the rank of its number among the numbers of its kind that
    are nodes. The edges are grouped by those numbers, from the events in the order they were read: each
    edge's coins are summed in the same order as :func:`entity_edges` sums them.

    Parameters
    ----------
    index : IdIndex
        The id index of the window (:attr:`graphkit.graphs.Graphs.index`).
    gifts, devices : polars.DataFrame
        The window's events coded by ``index``, in the order of the tables: ``src, dst, coins, sent_at, sid``
        and ``uid, did, iid, seen_at`` (:attr:`graphkit.graphs.Graphs.gifts`, :attr:`~graphkit.graphs.Graphs.devices`).
    streams : polars.DataFrame
        The streams table in the window (``stream_id, host_id, started_at, ended_at``: id strings, a row
        per stream, coded here).
    users : polars.Series, optional
        User ids that are nodes even without an edge (the users table); ids that ``index`` does not hold
        are merged into the accounts' order.
    min_coins : float
        As in :func:`entity_edges`.

    Returns
    -------
    CodedEdges

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit import Config, Tables
    >>> from graphkit.graphs import build_graphs
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["u2", "u1"], "device_id": ["d1", "d1"]}),
    ...     gifts=pl.DataFrame({"sender_id": ["u2"], "receiver_id": ["h"], "coins": [5.0],
    ...                         "sent_at": ["2024-01-01T00:00:00Z"]}))
    >>> g = build_graphs(t, Config())
    >>> coded = coded_entity_edges(g.index, g.gifts, g.devices, t.streams, users=pl.Series(["u9"]))
    >>> coded.node_ids.to_list()
    ['account:h', 'account:u1', 'account:u2', 'account:u9', 'device:d1']
    >>> coded.edges.sort("source", "target").select("source", "target", "relation").rows()
    [(1, 4, 'used_device'), (2, 0, 'gifted'), (2, 4, 'used_device')]
    """
    sizes = [index.table(_INDEX_KIND[kind]).height for kind in KINDS]
    offsets = dict(zip(KINDS, accumulate([0, *sizes[:-1]])))
    hosted = index.encode(index.encode(streams.select("stream_id", "host_id", "started_at", "ended_at"),
                                       "stream_id", "stream"), "host_id")
    if hosted.select(pl.any_horizontal(pl.col("stream_id", "host_id").is_null().any())).item():
        raise ValueError("streams holds a stream or host that the id index does not: code it with the index "
                         "of the same window")
    # first numbered in the index's space (each kind's numbers after the kinds before it), then renumbered
    # to the nodes that are there
    gifted = gifts.lazy().select(pl.col("src").alias("sender_id"), pl.col("dst").alias("receiver_id"),
                                 pl.col("sid").alias("stream_id"), "coins", "sent_at")
    seen = devices.lazy().select(pl.col("uid").alias("user_id"), pl.col("did").alias("device_id"),
                                 pl.col("iid").alias("ip"), "seen_at")
    edges = _edges_of(
        gifted=gifted, gifted_in=gifted, used_device=seen, used_ip=seen, hosted=hosted.lazy(), min_coins=min_coins,
        node=lambda kind, column: pl.col(column).cast(pl.UInt32) + pl.lit(offsets[kind], pl.UInt32),
        schema=_CODED_SCHEMA,
    )
    there = np.zeros(sum(sizes), dtype=bool)
    for end in ("source", "target"):
        there[edges.get_column(end).to_numpy()] = True
    extra = pl.Series("user_id", [], dtype=pl.Utf8)
    if users is not None:
        uids = index.lookup(users)
        there[uids.drop_nulls().to_numpy()] = True
        extra = users.filter(uids.is_null()).unique().sort().rename("user_id")
    code = np.cumsum(there, dtype=np.int64) - 1
    keys = {kind: index.table(_INDEX_KIND[kind]).get_column(ID_KINDS[_INDEX_KIND[kind]][1])
            .filter(pl.Series(there[offsets[kind]:offsets[kind] + n])).rename("user_id")
            for kind, n in zip(KINDS, sizes)}
    accounts = keys["account"]
    if extra.len():  # accounts of ``users`` outside the index: each account's code moves past the ones before it
        code[np.flatnonzero(there[:sizes[0]])] += extra.search_sorted(accounts).to_numpy()
        code[sizes[0]:] += extra.len()
        accounts = pl.concat([accounts, extra]).sort()
    lut = pl.Series(code.astype(np.uint32))
    # one chunk: gathering (decoding) from a Series of four chunks is ten times slower
    node_ids = pl.concat([f"{kind}:" + (accounts if kind == "account" else keys[kind]) for kind in KINDS]).rechunk()
    coded = edges.with_columns(pl.lit(lut).gather(pl.col(end)).alias(end) for end in ("source", "target"))
    return CodedEdges(edges=coded, node_ids=node_ids.rename("node_id"), accounts=accounts)


def _windowed(
    tables: Tables, since: str | datetime | None, until: str | datetime | None
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Gifts, devices and streams in ``[since, until)`` by the one window rule (:class:`graphkit.graphs.window.TimeWindow`).

    An empty window is an :class:`InputError` (:func:`graphkit.graphs.window.check_window`), not an empty answer.
    """
    window = time_window(since, until)
    check_window(tables, window.since, window.until)
    return (
        tables.gifts.lazy().filter(window.gifts()),
        tables.devices.lazy().filter(window.devices()),
        tables.streams.lazy().filter(window.streams()),
    )


_CODED_SCHEMA = {**_EDGE_SCHEMA, "source": pl.UInt32, "target": pl.UInt32, "relation": RELATION_CODES}


def _named(kind: str, column: str) -> pl.Expr:
    """The node id (``kind:key``) of the ids of ``column``."""
    return pl.lit(f"{kind}:") + pl.col(column)


def _edges_of(
    *,
    gifted: pl.LazyFrame,
    gifted_in: pl.LazyFrame,
    used_device: pl.LazyFrame,
    used_ip: pl.LazyFrame,
    hosted: pl.LazyFrame,
    min_coins: float,
    node: Callable[[str, str], pl.Expr] = _named,
    schema: Mapping[str, pl.DataType] = _EDGE_SCHEMA,
) -> pl.DataFrame:
    """The entity edges of each relation, each grouped from its own (filtered) input rows.

    ``node(kind, column)`` names the ends: the ``kind:key`` strings, or (:func:`coded_entity_edges`) integers
    whose order is theirs; ``schema`` gives the columns' types (the ends', the relation's)."""
    acct = lambda c: node("account", c)  # noqa: E731

    def observed(devices: pl.LazyFrame, column: str, kind: str, relation: str) -> pl.LazyFrame:
        return (
            devices.filter(pl.col(column).is_not_null())
            .group_by("user_id", column)
            .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("seen_at").min().alias("first_at"),
                 pl.col("seen_at").max().alias("last_at"))
            .select(acct("user_id").alias("source"), node(kind, column).alias("target"),
                    pl.lit(relation, schema["relation"]).alias("relation"), pl.lit(0.0).alias("coins"), "count",
                    "first_at", "last_at")
        )

    def gifts_by(frame: pl.LazyFrame, by: str, target: pl.Expr, relation: str) -> pl.LazyFrame:
        return (
            frame.group_by("sender_id", by)
            .agg(pl.col("coins").sum().alias("coins"), pl.len().cast(pl.Int64).alias("count"),
                 pl.col("sent_at").min().alias("first_at"), pl.col("sent_at").max().alias("last_at"))
            .filter(pl.col("coins") >= min_coins)
            .select(acct("sender_id").alias("source"), target.alias("target"),
                    pl.lit(relation, schema["relation"]).alias("relation"), "coins", "count", "first_at", "last_at")
        )

    parts = [
        observed(used_device, "device_id", "device", "used_device"),
        observed(used_ip, "ip", "ip", "used_ip"),
        gifts_by(gifted, "receiver_id", acct("receiver_id"), "gifted"),
        gifts_by(gifted_in.filter(pl.col("stream_id").is_not_null()), "stream_id",
                 node("stream", "stream_id"), "gifted_in"),
        hosted.select(
            acct("host_id").alias("source"), node("stream", "stream_id").alias("target"),
            pl.lit("hosted", schema["relation"]).alias("relation"), pl.lit(0.0).alias("coins"),
            pl.lit(1, pl.Int64).alias("count"),
            pl.col("started_at").alias("first_at"), pl.col("ended_at").alias("last_at"),
        ),
    ]
    return pl.concat([p.select([pl.col(c).cast(t) for c, t in schema.items()]) for p in parts]).collect()


def _kind(expr: pl.Expr) -> pl.Expr:
    # the cast lets node ids coded as a ``pl.Enum`` (the store's) through; a no-op on strings
    return expr.cast(pl.Utf8).str.split_exact(":", 1).struct.field("field_0")


def _key(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Utf8).str.splitn(":", 2).struct.field("field_1")


def identifier_hubs(edges: pl.DataFrame, hub_cap: int, placeholders: tuple[str, ...] = Config.placeholder_device_ids,
          names: pl.Series | None = None) -> pl.DataFrame:
    """Identifier nodes with their number of distinct accounts: ``node_id, accounts, hub``, by the one
    hub rule of the report (:func:`graphkit.graphs.projections.is_hub`).

    With ``names``, the node ids of ``edges`` are integer codes into ``names`` (the report's store codes them
    so; :func:`graphkit.report.store.write_store`): the placeholder rule reads the id a code stands for."""
    if names is not None:
        return _coded_identifier_hubs(edges, hub_cap, placeholders, names)
    node_id = pl.col("node_id")
    placeholder = (_kind(node_id) == "device") & is_placeholder(_key(node_id), placeholders)
    return (
        edges.filter(pl.col("relation") != "gifted")
        .group_by(pl.col("target").alias("node_id"))
        .agg(pl.col("source").n_unique().cast(pl.Int64).alias("accounts"))
        .with_columns(is_hub(pl.col("accounts"), hub_cap, placeholder).alias("hub"))
    )


def _coded_identifier_hubs(edges: pl.DataFrame, hub_cap: int, placeholders: tuple[str, ...],
                           names: pl.Series) -> pl.DataFrame:
    """:func:`identifier_hubs` of edges whose ends are codes into ``names`` (sorted node ids), by counting: the
    distinct accounts of a target are its distinct ``(source, target)`` pairs, and the placeholder rule reads
    only the device ids (a slice of ``names``: ``device:`` ids sort together). Rows in the order of the codes."""
    other = (edges.get_column("relation") != "gifted").to_numpy()
    _, targets, _ = _distinct_pairs(edges.get_column("source").to_numpy()[other],
                                    edges.get_column("target").to_numpy()[other])
    accounts = np.bincount(targets, minlength=max(_code_space(edges), names.len()))
    node_id = np.flatnonzero(accounts)
    lo, hi = (int(i) for i in names.search_sorted(pl.Series(["device:", "device;"])))  # ";" follows ":"
    placeholder = np.zeros(accounts.size, dtype=bool)
    devices = names.slice(lo, hi - lo).to_frame("node_id")
    is_one = devices.select(is_placeholder(_key(pl.col("node_id")), placeholders)).to_series()
    placeholder[lo:lo + devices.height] = is_one.to_numpy()
    return pl.DataFrame({
        "node_id": node_id.astype(np.uint32), "accounts": accounts[node_id].astype(np.int64),
        "placeholder": placeholder[node_id],
    }).select("node_id", "accounts", is_hub(pl.col("accounts"), hub_cap, pl.col("placeholder")).alias("hub"))


def _code_space(edges: pl.DataFrame, *codes: pl.Series) -> int:
    """One more than the largest code of ``edges``' ends and of ``codes``: the length of an array by code."""
    highest = [edges.get_column(end).max() for end in ("source", "target")] + [c.max() for c in codes]
    return max((int(h) for h in highest if h is not None), default=-1) + 1


def _distinct_pairs(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``(s, t)`` pairs of two code arrays: ``ps, pt`` and their keys ``ps << 32 | pt``, sorted by
    key (the first row of each run when the rows are sorted by ``s, t`` already, as the store's edges are)."""
    key = (s.astype(np.uint64) << np.uint64(32)) | t.astype(np.uint64)
    if key.size and bool(np.all(key[1:] >= key[:-1])):
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        key = key[first]
    else:
        key = np.unique(key)
    return (key >> np.uint64(32)).astype(np.int64), (key & np.uint64(0xFFFFFFFF)).astype(np.int64), key


def node_facts(edges: pl.DataFrame, hub_cap: int, placeholders: tuple[str, ...] = Config.placeholder_device_ids,
               *, hubs: pl.DataFrame | None = None) -> pl.DataFrame:
    """What every node is, measured over all of ``edges``: ``node_id, accounts, hub, coins_sent, coins_received``.

    Computed once when many views are drawn from the same edges
    (:func:`graphkit.viz.write_views`), and passed to :func:`evidence_graph`,
    which may then walk a smaller edge frame with the same result. ``hubs``:
    :func:`identifier_hubs` of these edges, when the caller already has it.
    """
    gifts = edges.filter(pl.col("relation") == "gifted")
    sent = gifts.group_by(pl.col("source").alias("node_id")).agg(pl.col("coins").sum().alias("coins_sent"))
    received = gifts.group_by(pl.col("target").alias("node_id")).agg(pl.col("coins").sum().alias("coins_received"))
    return (
        (identifier_hubs(edges, hub_cap, placeholders) if hubs is None else hubs)
        .join(sent, on="node_id", how="full", coalesce=True)
        .join(received, on="node_id", how="full", coalesce=True)
    )


def popular_hosts(edges: pl.DataFrame, *, hub_cap: int = Config.hub_cap) -> pl.DataFrame:
    """Every account that received a gift, with its distinct senders and whether it is a popular host.

    A popular host is gifted by at least as many distinct accounts as the
    platform's 99th percentile of receivers (the bar of the camouflage
    signal, :func:`graphkit.detect.signals.popular_senders`) and by more than
    ``hub_cap`` (the number of accounts that makes a device or IP a hub: in
    a small extract the busiest receiver is in the top 1% without being
    popular). Measured on ``edges`` (their time range and ``min_coins``).

    Parameters
    ----------
    edges : polars.DataFrame
        :func:`entity_edges` of the whole platform (a cut-down frame gives a
        wrong 99th percentile).
    hub_cap : int
        ``Config.hub_cap``.

    Returns
    -------
    polars.DataFrame
        ``node_id, senders, popular``, one row per receiver, sorted by ``node_id``.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> fans = [f"f{i}" for i in range(60)]
    >>> t = Tables.from_frames(gifts=pl.DataFrame({"sender_id": fans + ["f1"], "receiver_id": ["star"] * 60 + ["h"],
    ...     "coins": [1.0] * 61, "sent_at": ["2024-01-01T00:00:00Z"] * 61}))
    >>> popular_hosts(entity_edges(t)).rows()
    [('account:h', 1, False), ('account:star', 60, True)]
    """
    senders = (
        edges.filter(pl.col("relation") == "gifted")
        .group_by(pl.col("target").alias("node_id"))
        .agg(pl.len().cast(pl.Int64).alias("senders"))  # edges are distinct (sender, receiver) pairs
    )
    bar = popular_senders(senders.get_column("senders"))
    return senders.with_columns(((pl.col("senders") >= bar) & (pl.col("senders") > hub_cap)).alias("popular")).sort(
        "node_id"
    )


def resolve_ids(ids: Iterable[str], edges: pl.DataFrame, tables: Tables | None = None) -> tuple[str, ...]:
    """Map user-given ids to entity node ids (``kind:key``).

    An id may name its kind (``device:d7``, ``ip:10.0.0.1``, ``stream:s3``,
    ``account:u17``); a bare id matches every kind it exists as.

    Raises
    ------
    NotFoundError
        When an id is not in the data.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["u1"], "device_id": ["d1"]}))
    >>> resolve_ids(["u1", "device:d1"], entity_edges(t))
    ('account:u1', 'device:d1')
    """
    ids = list(ids)
    # only the names these ids could stand for are looked up, in one vectorised pass over the edges
    wanted = pl.Series("node_id", sorted({raw for raw in ids} | {f"{k}:{raw}" for raw in ids for k in KINDS}),
                       dtype=pl.Utf8)
    # probe the (big) columns against the (small) set of wanted names: no copy of the columns, no hash of them
    probe = wanted.implode()
    found = [
        edges.get_column("source").filter(edges.get_column("source").is_in(probe)),
        edges.get_column("target").filter(edges.get_column("target").is_in(probe)),
    ]
    if tables is not None:
        users = tables.users.get_column("user_id")
        keys = pl.Series([name.removeprefix("account:") for name in wanted.to_list() if name.startswith("account:")],
                         dtype=pl.Utf8)
        found.append("account:" + users.filter(users.is_in(keys.implode())))
    known_set = set(pl.concat(found).to_list())
    out: list[str] = []
    for raw in ids:
        kind, sep, rest = raw.partition(":")
        if sep and kind in KINDS and raw in known_set:
            candidates = [raw]
        else:
            candidates = [f"{k}:{raw}" for k in KINDS if f"{k}:{raw}" in known_set]
        if not candidates:
            raise NotFoundError(
                f"{raw!r} is not an account, device, IP or stream id in the data"
                " (check the spelling and --since/--until; prefix with device:, ip:, stream: or account:)"
            )
        out.extend(c for c in candidates if c not in out)
    return tuple(out)


def _key_of(node_id: str) -> str:
    return node_id.split(":", 1)[1]
