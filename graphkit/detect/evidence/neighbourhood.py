"""The network around seeds: :func:`evidence_graph` expands hop by hop with polars joins.

One join per hop, never a loop over nodes. Hubs (:mod:`.entity`) are shown
but not expanded through; popular hosts are shown but not walked past unless
asked, and the result says what was skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

import polars as pl

from graphkit.config import Config
from graphkit.errors import ConfigError
from graphkit.io import Tables
from graphkit.util.format import plural
from graphkit.detect.evidence.entity import _KIND_LABEL, _key, _key_of, _kind, entity_edges, node_facts, popular_hosts, resolve_ids

__all__ = ["Evidence", "evidence_graph"]

_SKIPPED_SCHEMA = {"node_id": pl.Utf8, "senders": pl.Int64, "unreached": pl.Int64}


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
    tables: Tables | None,
    seeds: Sequence[str],
    *,
    hops: int = 2,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    min_coins: float = 0.0,
    hub_cap: int = Config.hub_cap,
    placeholders: tuple[str, ...] = Config.placeholder_device_ids,
    max_nodes: int | None = None,
    edges: pl.DataFrame | None = None,
    facts: pl.DataFrame | None = None,
    through_popular_hosts: bool = False,
    popular: pl.DataFrame | None = None,
    resolved: bool = False,
) -> Evidence:
    """The network around ``seeds``: every node within ``hops`` links, and the edges between them.

    Parameters
    ----------
    tables : Tables or None
        Validated input (``None`` with ``edges`` and ``resolved``).
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
    placeholders : tuple of str
        Default or blank device ids (``Config.placeholder_device_ids``): hubs
        whatever their size, by the report's one hub rule.
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
    resolved : bool
        ``seeds`` are node ids already looked up (``kind:key``, as :func:`resolve_ids`
        returns them, e.g. from a report's store); ``tables`` is then not read and may be ``None``.

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
    seed_ids = tuple(dict.fromkeys(seeds)) if resolved else resolve_ids(seeds, edges, tables)
    facts = node_facts(edges, hub_cap, placeholders) if facts is None else facts
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
    return (f"Not expanded through {plural(hubs.height, 'shared identifier')} linked to more than {hub_cap} accounts"
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
