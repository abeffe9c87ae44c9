"""The evidence around accounts: the typed entity graph, its neighbourhoods and paths.

An escalation starts from one account (or device, IP, stream) and needs the
network around it, with every link explained. This module works on the typed
entity graph of the input tables:

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

:func:`evidence_graph` expands from seeds hop by hop with polars joins (one
join per hop, never a loop over nodes); :func:`evidence_path` finds the
strongest chain of evidence between two accounts with igraph's weighted
shortest paths.

Identifiers (devices, IPs, streams) linked to more than ``hub_cap`` accounts
are *hubs* (carrier NAT, campus IPs, popular streams): they are shown, but the
expansion does not go through them, and paths never use them.

Accounts gifted by more distinct accounts than 99% of receivers and than
``hub_cap`` are *popular hosts* (:func:`popular_hosts`): a 1-coin gift to a
star links its giver to hundreds of strangers and proves nothing about them.
The expansion shows them but does not walk past them (unless asked), and a
path goes through one only when no other chain exists, and says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

import igraph as ig
import polars as pl

from graphkit.config import Config
from graphkit.detect.signals import popular_senders
from graphkit.errors import ConfigError, NotFoundError
from graphkit.graphs.window import check_window, time_window
from graphkit.io import Tables
from graphkit.util.format import format_coins, plural

__all__ = [
    "KINDS",
    "RELATIONS",
    "Evidence",
    "PathStep",
    "entity_edges",
    "evidence_graph",
    "evidence_path",
    "neighbourhood_edges",
    "node_facts",
    "popular_hosts",
    "resolve_ids",
]

KINDS = ("account", "device", "ip", "stream")
"""Node kinds of the entity graph, in the order ids are looked up."""

RELATIONS = ("used_device", "used_ip", "gifted", "gifted_in", "hosted")
"""Edge relations of the entity graph."""

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
_SKIPPED_SCHEMA = {"node_id": pl.Utf8, "senders": pl.Int64, "unreached": pl.Int64}
_MIN_SHARE = 1e-9
"""A gift link of 0 coins counts as this share of its sender's spending (its cost stays finite)."""


@dataclass(frozen=True)
class Evidence:
    """The neighbourhood of some seeds in the entity graph.

    Attributes
    ----------
    nodes : polars.DataFrame
        One row per node reached: ``node_id`` (``kind:key``), ``kind``,
        ``key`` (the id as in the data), ``hops`` (0 for seeds), ``how`` (a
        phrase saying how it was reached, e.g. ``"used device d7"``),
        ``via`` (the node id it was reached from; null for seeds),
        ``seed``, ``hub``, ``accounts`` (identifiers: accounts linked to it in
        the data), ``coins_sent``, ``coins_received`` (accounts: all their
        gifts in the time range), ``degree`` (edges in this evidence),
        ``importance`` in [0, 1] (by coins and degree, for capping views),
        ``senders`` (accounts: distinct accounts that gifted it) and
        ``popular`` (a popular host, see :func:`popular_hosts`).
        Sorted by seed first, then hops, then importance.
    edges : polars.DataFrame
        Every entity edge between two reached nodes: ``source``, ``target``,
        ``relation``, ``coins``, ``count``, ``first_at``, ``last_at``.
    seeds : tuple of str
        The node ids expanded from.
    notes : tuple of str
        Sentences about what was not expanded or left out (hubs, popular hosts, caps).
    skipped : polars.DataFrame
        The popular hosts reached but not walked past: ``node_id``,
        ``senders`` and ``unreached`` (accounts linked to it directly that
        were not reached); sorted by senders, most first. Empty when the
        expansion went through popular hosts or met none.
    """

    nodes: pl.DataFrame
    edges: pl.DataFrame
    seeds: tuple[str, ...]
    notes: tuple[str, ...] = ()
    skipped: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_SKIPPED_SCHEMA))

    def accounts(self) -> pl.DataFrame:
        """The accounts reached: ``user_id, hops, how, coins_sent, coins_received``, in node order."""
        return self.nodes.filter(pl.col("kind") == "account").select(
            pl.col("key").alias("user_id"), "hops", "how", "coins_sent", "coins_received"
        )


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


def entity_edges(
    tables: Tables,
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    min_coins: float = 0.0,
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

    Returns
    -------
    polars.DataFrame
        ``source, target, relation, coins, count, first_at, last_at``; one row
        per distinct (source, target, relation), sorted.

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
    return _edges_of(
        gifted=gifts, gifted_in=gifts, used_device=devices, used_ip=devices, hosted=streams, min_coins=min_coins
    ).sort("source", "target", "relation")


def neighbourhood_edges(
    tables: Tables,
    accounts: Iterable[str],
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    min_coins: float = 0.0,
    hub_cap: int = Config.hub_cap,
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
    facts = node_facts(counted, hub_cap).filter(pl.col("node_id").is_in(inside))
    return edges.sort("source", "target", "relation"), facts.sort("node_id")


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


def _edges_of(
    *,
    gifted: pl.LazyFrame,
    gifted_in: pl.LazyFrame,
    used_device: pl.LazyFrame,
    used_ip: pl.LazyFrame,
    hosted: pl.LazyFrame,
    min_coins: float,
) -> pl.DataFrame:
    """The entity edges of each relation, each grouped from its own (filtered) input rows."""
    acct = lambda c: pl.lit("account:") + pl.col(c)  # noqa: E731

    def observed(devices: pl.LazyFrame, column: str, kind: str, relation: str) -> pl.LazyFrame:
        return (
            devices.filter(pl.col(column).is_not_null())
            .group_by("user_id", column)
            .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("seen_at").min().alias("first_at"),
                 pl.col("seen_at").max().alias("last_at"))
            .select(acct("user_id").alias("source"), (pl.lit(f"{kind}:") + pl.col(column)).alias("target"),
                    pl.lit(relation).alias("relation"), pl.lit(0.0).alias("coins"), "count", "first_at", "last_at")
        )

    def gifts_by(frame: pl.LazyFrame, by: str, target: pl.Expr, relation: str) -> pl.LazyFrame:
        return (
            frame.group_by("sender_id", by)
            .agg(pl.col("coins").sum().alias("coins"), pl.len().cast(pl.Int64).alias("count"),
                 pl.col("sent_at").min().alias("first_at"), pl.col("sent_at").max().alias("last_at"))
            .filter(pl.col("coins") >= min_coins)
            .select(acct("sender_id").alias("source"), target.alias("target"), pl.lit(relation).alias("relation"),
                    "coins", "count", "first_at", "last_at")
        )

    parts = [
        observed(used_device, "device_id", "device", "used_device"),
        observed(used_ip, "ip", "ip", "used_ip"),
        gifts_by(gifted, "receiver_id", acct("receiver_id"), "gifted"),
        gifts_by(gifted_in.filter(pl.col("stream_id").is_not_null()), "stream_id",
                 pl.lit("stream:") + pl.col("stream_id"), "gifted_in"),
        hosted.select(
            acct("host_id").alias("source"), (pl.lit("stream:") + pl.col("stream_id")).alias("target"),
            pl.lit("hosted").alias("relation"), pl.lit(0.0).alias("coins"), pl.lit(1, pl.Int64).alias("count"),
            pl.col("started_at").alias("first_at"), pl.col("ended_at").alias("last_at"),
        ),
    ]
    return pl.concat([p.select([pl.col(c).cast(t) for c, t in _EDGE_SCHEMA.items()]) for p in parts]).collect()


def _kind(expr: pl.Expr) -> pl.Expr:
    return expr.str.split_exact(":", 1).struct.field("field_0")


def _key(expr: pl.Expr) -> pl.Expr:
    return expr.str.splitn(":", 2).struct.field("field_1")


def _hubs(edges: pl.DataFrame, hub_cap: int) -> pl.DataFrame:
    """Identifier nodes with their number of distinct accounts: ``node_id, accounts, hub``."""
    return (
        edges.filter(pl.col("relation") != "gifted")
        .group_by(pl.col("target").alias("node_id"))
        .agg(pl.col("source").n_unique().cast(pl.Int64).alias("accounts"))
        .with_columns((pl.col("accounts") > hub_cap).alias("hub"))
    )


def node_facts(edges: pl.DataFrame, hub_cap: int) -> pl.DataFrame:
    """What every node is, measured over all of ``edges``: ``node_id, accounts, hub, coins_sent, coins_received``.

    Computed once when many views are drawn from the same edges
    (:func:`graphkit.viz.write_views`), and passed to :func:`evidence_graph`,
    which may then walk a smaller edge frame with the same result.
    """
    gifts = edges.filter(pl.col("relation") == "gifted")
    sent = gifts.group_by(pl.col("source").alias("node_id")).agg(pl.col("coins").sum().alias("coins_sent"))
    received = gifts.group_by(pl.col("target").alias("node_id")).agg(pl.col("coins").sum().alias("coins_received"))
    return (
        _hubs(edges, hub_cap)
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


_HOW = (
    # (kind reached, relation, reached as target?) -> phrase with {other}
    ("device", "used_device", True, "used by {other}"),
    ("ip", "used_ip", True, "used by {other}"),
    ("account", "used_device", False, "used device {other}"),
    ("account", "used_ip", False, "used IP {other}"),
    ("account", "gifted", True, "received gifts from {other}"),
    ("account", "gifted", False, "sent gifts to {other}"),
    ("stream", "gifted_in", True, "{other} gifted in it"),
    ("stream", "hosted", True, "hosted by {other}"),
    ("account", "gifted_in", False, "gifted in stream {other}"),
    ("account", "hosted", False, "hosted stream {other}"),
)


def _how_expr() -> pl.Expr:
    expr = pl.when(pl.lit(False)).then(pl.lit(""))
    other = _key(pl.col("from_node"))
    kind = _kind(pl.col("node_id"))
    for k, relation, as_target, phrase in _HOW:
        before, _, after = phrase.partition("{other}")
        expr = expr.when((kind == k) & (pl.col("relation") == relation) & (pl.col("as_target") == as_target)).then(
            pl.lit(before) + other + pl.lit(after)
        )
    return expr.otherwise(pl.col("relation"))


def evidence_graph(
    tables: Tables,
    seeds: Sequence[str],
    *,
    hops: int = 2,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    min_coins: float = 0.0,
    hub_cap: int = Config.hub_cap,
    max_nodes: int | None = None,
    edges: pl.DataFrame | None = None,
    facts: pl.DataFrame | None = None,
    through_popular_hosts: bool = False,
    popular: pl.DataFrame | None = None,
) -> Evidence:
    """The network around ``seeds``: every node within ``hops`` links, and the edges between them.

    Parameters
    ----------
    tables : Tables
        Validated input.
    seeds : sequence of str
        Accounts, devices, IPs or streams (bare ids or ``kind:key``, see :func:`resolve_ids`).
    hops : int
        How many links to follow from the seeds (account -> device -> account is 2 hops).
    since, until : str or datetime, optional
        Time range of the events used (see :func:`entity_edges`).
    min_coins : float
        Gift relations carrying fewer coins are not followed or shown.
    hub_cap : int
        Identifiers linked to more accounts than this are shown but not
        expanded through (``Config.hub_cap``). Seeds are always expanded.
        Popular hosts (:func:`popular_hosts`) are shown but not expanded
        through either, unless ``through_popular_hosts``; ``skipped`` and a
        note say which, and how many accounts linked to them were not reached.
    max_nodes : int, optional
        Keep at most this many nodes: seeds first, then the nearest, then the
        most important (by coins and degree); a note says how many were left out.
    edges : polars.DataFrame, optional
        A precomputed :func:`entity_edges` frame (when calling repeatedly).
    facts : polars.DataFrame, optional
        :func:`node_facts` of the whole edge frame; with it, ``edges`` may be
        cut down to the edges around the seeds (what ``hops`` can reach) and
        every node keeps its platform-wide accounts and coins.
    through_popular_hosts : bool
        Expand through popular hosts too (what ``expand`` did before 2026-11-25).
    popular : polars.DataFrame, optional
        :func:`popular_hosts` of the whole edge frame, when ``edges`` is cut
        down; by default measured on ``edges``.

    Returns
    -------
    Evidence

    Raises
    ------
    NotFoundError
        When a seed is not in the data.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["u1", "u2", "u3"], "device_id": ["d1", "d1", "d2"]}))
    >>> ev = evidence_graph(t, ["u1"], hops=2)
    >>> ev.accounts().select("user_id", "hops", "how").rows()
    [('u1', 0, 'seed'), ('u2', 2, 'used device d1')]

    A beneficiary's 1-coin gift to a star does not pull in the star's fans:

    >>> fans = [f"f{i}" for i in range(60)]
    >>> t = Tables.from_frames(gifts=pl.DataFrame({"sender_id": fans + ["b"], "receiver_id": ["star"] * 61,
    ...     "coins": [1.0] * 61, "sent_at": ["2024-01-01T00:00:00Z"] * 61}))
    >>> evidence_graph(t, ["b"], hops=2).skipped.rows()
    [('account:star', 61, 60)]
    >>> evidence_graph(t, ["b"], hops=2, through_popular_hosts=True).accounts().height
    62
    """
    if hops < 0:
        raise ConfigError(f"hops must be 0 or more, got {hops}")
    if edges is None:
        edges = entity_edges(tables, since=since, until=until, min_coins=min_coins)
    seed_ids = resolve_ids(seeds, edges, tables)
    facts = node_facts(edges, hub_cap) if facts is None else facts
    popular = popular_hosts(edges, hub_cap=hub_cap) if popular is None else popular
    hub_ids = facts.filter(pl.col("hub").fill_null(False)).select("node_id")
    if not through_popular_hosts:
        hub_ids = pl.concat([hub_ids, popular.filter(pl.col("popular")).select("node_id")])

    visited = pl.DataFrame(
        {"node_id": list(seed_ids), "hops": [0] * len(seed_ids), "how": ["seed"] * len(seed_ids),
         "via": [None] * len(seed_ids)},
        schema={"node_id": pl.Utf8, "hops": pl.Int64, "how": pl.Utf8, "via": pl.Utf8},
    )
    frontier = visited.select("node_id")
    forward = edges.select(pl.col("source").alias("from_node"), pl.col("target").alias("node_id"), "relation",
                           pl.lit(True).alias("as_target"))
    backward = edges.select(pl.col("target").alias("from_node"), pl.col("source").alias("node_id"), "relation",
                            pl.lit(False).alias("as_target"))
    both = pl.concat([forward, backward])
    for hop in range(1, hops + 1):
        expandable = frontier if hop == 1 else frontier.join(hub_ids, on="node_id", how="anti")
        if expandable.is_empty():
            break
        reached = (
            both.join(expandable.rename({"node_id": "from_node"}), on="from_node", how="semi")
            .join(visited.select("node_id"), on="node_id", how="anti")
            .sort("node_id", "from_node", "relation", "as_target")
            .unique("node_id", keep="first", maintain_order=True)
            .select("node_id", pl.lit(hop, pl.Int64).alias("hops"), _how_expr().alias("how"),
                    pl.col("from_node").alias("via"))
        )
        if reached.is_empty():
            break
        visited = pl.concat([visited, reached])
        frontier = reached.select("node_id")

    ids = visited.select("node_id")
    sub = (
        edges.join(ids.rename({"node_id": "source"}), on="source", how="semi")
        .join(ids.rename({"node_id": "target"}), on="target", how="semi")
    )
    nodes = _node_table(visited, sub, facts, popular, seed_ids)
    notes = _hub_notes(nodes, hub_cap, hops)
    skipped = pl.DataFrame(schema=_SKIPPED_SCHEMA)
    if not through_popular_hosts:
        skipped = _skipped_hosts(nodes, both, visited, hops)
        notes = notes + _popular_notes(skipped, hub_cap)
    if max_nodes is not None and nodes.height > max_nodes:
        left = nodes.slice(max_nodes)
        nodes = nodes.head(max_nodes)
        kept = nodes.select("node_id")
        sub = (
            sub.join(kept.rename({"node_id": "source"}), on="source", how="semi")
            .join(kept.rename({"node_id": "target"}), on="target", how="semi")
        )
        notes = notes + (f"{left.height:,} more nodes were reached and left out ({_count_kinds(left)}).",)
    return Evidence(nodes=nodes, edges=sub.sort("source", "target", "relation"), seeds=seed_ids, notes=notes,
                    skipped=skipped)


def _count_kinds(nodes: pl.DataFrame) -> str:
    counts = nodes.group_by("kind").len().sort("kind")
    return ", ".join(f"{n:,} {_KIND_LABEL[k]}{'s' if n != 1 else ''}" for k, n in counts.rows())


def _hub_notes(nodes: pl.DataFrame, hub_cap: int, hops: int) -> tuple[str, ...]:
    hubs = nodes.filter(pl.col("hub") & ~pl.col("seed") & (pl.col("hops") < hops)).sort(
        ["accounts", "node_id"], descending=[True, False]
    )
    if hubs.is_empty():
        return ()
    names = ", ".join(f"{_KIND_LABEL[k]} {key} ({n:,} accounts)" for k, key, n in
                      hubs.select("kind", "key", "accounts").head(5).rows())
    more = f" and {hubs.height - 5:,} more" if hubs.height > 5 else ""
    return (f"Not expanded through {hubs.height:,} shared identifier(s) linked to more than {hub_cap} accounts"
            f" (carrier/campus IPs, shared devices, popular streams): {names}{more}.",)


def _skipped_hosts(nodes: pl.DataFrame, both: pl.DataFrame, visited: pl.DataFrame, hops: int) -> pl.DataFrame:
    """The popular hosts reached before the last hop and not walked past, with the accounts they would have added."""
    hosts = nodes.filter(pl.col("popular") & ~pl.col("seed") & (pl.col("hops") < hops)).select("node_id", "senders")
    unreached = (
        both.join(hosts.select(pl.col("node_id").alias("from_node")), on="from_node", how="semi")
        .filter(pl.col("node_id").str.starts_with("account:"))
        .join(visited.select("node_id"), on="node_id", how="anti")
        .group_by(pl.col("from_node").alias("node_id"))
        .agg(pl.col("node_id").n_unique().cast(pl.Int64).alias("unreached"))
    )
    return (
        hosts.join(unreached, on="node_id", how="left")
        .with_columns(pl.col("unreached").fill_null(0))
        .sort(["senders", "node_id"], descending=[True, False])
        .select([pl.col(c).cast(t) for c, t in _SKIPPED_SCHEMA.items()])
    )


def _popular_notes(skipped: pl.DataFrame, hub_cap: int) -> tuple[str, ...]:
    if skipped.is_empty():
        return ()
    names = ", ".join(f"{_key_of(node)} ({senders:,} senders; {plural(unreached, 'account')} linked to it not reached)"
                      for node, senders, unreached in skipped.head(5).rows())
    more = f" and {skipped.height - 5:,} more" if skipped.height > 5 else ""
    return (f"Not expanded through {plural(skipped.height, 'popular host')} (gifted by more accounts than 99% of"
            f" receivers and more than {hub_cap}; a gift to one links its giver to strangers): {names}{more}.",)


def _node_table(visited: pl.DataFrame, sub: pl.DataFrame, facts: pl.DataFrame, popular: pl.DataFrame,
                seed_ids: tuple[str, ...]) -> pl.DataFrame:
    ends = pl.concat([sub.select(pl.col("source").alias("node_id"), "coins"),
                      sub.select(pl.col("target").alias("node_id"), "coins")])
    local = ends.group_by("node_id").agg(pl.len().cast(pl.Int64).alias("degree"), pl.col("coins").sum().alias("local_coins"))
    nodes = (
        visited.join(facts, on="node_id", how="left")
        .join(popular.select("node_id", "senders", "popular"), on="node_id", how="left")
        .join(local, on="node_id", how="left")
        .with_columns(
            _kind(pl.col("node_id")).alias("kind"),
            _key(pl.col("node_id")).alias("key"),
            pl.col("node_id").is_in(list(seed_ids)).alias("seed"),
            pl.col("hub").fill_null(False),
            pl.col("accounts").fill_null(0),
            pl.col("coins_sent").fill_null(0.0),
            pl.col("coins_received").fill_null(0.0),
            pl.col("degree").fill_null(0),
            pl.col("local_coins").fill_null(0.0),
            pl.col("senders").fill_null(0),
            pl.col("popular").fill_null(False),
        )
    )
    n = max(nodes.height, 1)
    importance = pl.max_horizontal(
        pl.col("local_coins").rank("average") / n * (pl.col("local_coins") > 0),
        pl.col("degree").rank("average") / n,
    )
    return (
        nodes.with_columns(importance.alias("importance"))
        .sort(["seed", "hops", "importance", "node_id"], descending=[True, False, True, False])
        .select("node_id", "kind", "key", "hops", "how", "via", "seed", "hub", "accounts", "coins_sent",
                "coins_received", "degree", "importance", "senders", "popular")
    )


# --------------------------------------------------------------------------- paths


def evidence_path(tables: Tables, a: str, b: str, *, config: Config = Config(),
                  edges: pl.DataFrame | None = None) -> list[PathStep]:
    """The strongest chain of evidence linking ``a`` and ``b``.

    The chain runs through every relation of the entity graph: shared devices
    and IPs, gifts (either direction), co-gifting (both gifted in the same
    stream) and hosting. It is the cheapest chain (igraph's weighted shortest
    path), where a link costs more the more common and the weaker it is:

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
    popular = popular_hosts(edges, hub_cap=config.hub_cap).filter(pl.col("popular")).select("node_id", "senders")
    costed = _link_costs(edges, config.hub_cap, popular.get_column("node_id"))
    names = (
        pl.concat([costed.get_column("source"), costed.get_column("target"), pl.Series([src, dst])])
        .unique().sort().to_frame("node_id").with_row_index("vid")
    )
    coded = (
        costed.join(names.rename({"node_id": "source", "vid": "s"}), on="source")
        .join(names.rename({"node_id": "target", "vid": "t"}), on="target")
        .select("s", "t", "cost")
        .sort("s", "t", "cost")
    )
    g = ig.Graph(n=names.height, edges=coded.select("s", "t").to_numpy().tolist() if coded.height else [],
                 directed=False)
    vid = dict(names.filter(pl.col("node_id").is_in([src, dst])).select("node_id", "vid").rows())
    with warnings.catch_warnings():  # "couldn't reach some vertices" is an answer here, not a problem
        warnings.simplefilter("ignore", RuntimeWarning)
        path = g.get_shortest_path(int(vid[src]), int(vid[dst]), weights=coded.get_column("cost").to_list(),
                                   mode="all", output="vpath")
    if len(path) < 2:
        return []
    chain = names.get_column("node_id").gather(path).to_list()
    senders = dict(popular.filter(pl.col("node_id").is_in(chain[1:-1])).rows())
    return [_step(costed, chain[i], chain[i + 1], senders) for i in range(len(chain) - 1)]


def _link_costs(edges: pl.DataFrame, hub_cap: int, popular: pl.Series) -> pl.DataFrame:
    """The edges a path may use (no hub identifier) with the ``cost`` of each, as :func:`evidence_path` says."""
    ends = pl.concat([edges.select(pl.col("source").alias("node_id"), pl.col("target").alias("other")),
                      edges.select(pl.col("target").alias("node_id"), pl.col("source").alias("other"))])
    log_degree = ends.group_by("node_id").agg(pl.col("other").n_unique().log().alias("log_degree"))
    spent = edges.group_by("source", "relation").agg(pl.col("coins").sum().alias("spent"))
    earned = edges.group_by("target", "relation").agg(pl.col("coins").sum().alias("earned"))

    def minus_log_share(total: str) -> pl.Expr:
        share = pl.when(pl.col(total) > 0).then(pl.col("coins") / pl.col(total)).otherwise(0.0)
        return -share.clip(_MIN_SHARE, 1.0).log()

    hub_ids = _hubs(edges, hub_cap).filter(pl.col("hub")).select("node_id")
    gift = pl.col("relation").is_in(["gifted", "gifted_in"])
    costed = (
        edges.join(hub_ids.rename({"node_id": "source"}), on="source", how="anti")
        .join(hub_ids.rename({"node_id": "target"}), on="target", how="anti")
        .join(spent, on=["source", "relation"], how="left")
        .join(earned, on=["target", "relation"], how="left")
        .join(log_degree.rename({"node_id": "source", "log_degree": "log_s"}), on="source", how="left")
        .join(log_degree.rename({"node_id": "target", "log_degree": "log_t"}), on="target", how="left")
        .with_columns(
            (1.0 + 0.5 * (pl.col("log_s") + pl.col("log_t"))
             + pl.when(gift).then(0.5 * (minus_log_share("spent") + minus_log_share("earned"))).otherwise(0.0))
            .alias("cost")
        )
    )
    # a popular host costs more than every other link together: passed through only when nothing else links
    through = pl.col("source").is_in(popular.implode()).cast(pl.Int64) + pl.col("target").is_in(popular.implode())
    penalty = float(costed.get_column("cost").sum()) + 1.0
    return costed.with_columns(pl.col("cost") + penalty * through).drop("spent", "earned", "log_s", "log_t")


def _one(raw: str, edges: pl.DataFrame, tables: Tables) -> tuple[str]:
    found = resolve_ids([raw], edges, tables)
    accounts = [f for f in found if f.startswith("account:")]
    return (accounts[0] if accounts else found[0],)


def _step(edges: pl.DataFrame, u: str, v: str, popular: dict[str, int]) -> PathStep:
    links = edges.filter(
        ((pl.col("source") == u) & (pl.col("target") == v)) | ((pl.col("source") == v) & (pl.col("target") == u))
    ).sort("relation", "source")
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
        return f"{s} gifted {format_coins(edge['coins'])} coins to {t} in {plural(edge['count'], 'gift')}"
    if rel == "gifted_in":
        detail = f"{format_coins(edge['coins'])} coins in {plural(edge['count'], 'gift')}"
        return f"{s} gifted in stream {t} ({detail})" if forward else f"{s} also gifted in stream {t} ({detail})"
    return f"{s} hosted stream {t}" if forward else f"stream {t} was hosted by {s}"


def _key_of(node_id: str) -> str:
    return node_id.split(":", 1)[1]
