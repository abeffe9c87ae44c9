"""The report's store, ``OUT/graph/``: what follow-up questions need, read by key instead of re-reading the tables.

``graphkit report`` writes it (:func:`write_store`, inside the report's atomic
write); ``graphkit expand``, ``path`` and ``show`` with ``--report OUT`` and
:func:`open_report` read it (:class:`ReportStore`), and answer as the path
through the tables would for the report's window and settings.

======================== ===========================================================================
file                     holds
======================== ===========================================================================
``store.json``           ``schema_version``, the settings the store was built with, row counts
``edges.parquet``        the entity edges of the window (:func:`graphkit.detect.evidence.entity_edges`),
                         sorted by ``source``: the edges *from* a node
``edges_by_target.parquet`` the same edges sorted by ``target``: the edges *to* a node
``nodes.parquet``        the id index: every node (``kind:key``; every user), sorted by ``node_id``,
                         with its facts (hub, coins, popular host), account facts (created_at,
                         age_days, host) and its score, ring and role from ``scores.csv``
``gifts.parquet``        the gifts of the window by sender, ``sightings.parquet`` the device sightings by
                         account (``row``: the order they were read in): the views' timelines
``links.parquet``        the links a path may take, numbered (``s, t, cost``), sorted
``links_*.npy``          the same links by vid, both ways (``start``, ``other``, ``cost``): the index a
                         path's search reads memory-mapped, the links of the nodes it settles only
``link_names.parquet``   ``vid, node_id`` of those links' ends, sorted by both
``source.json``          where the tables were read (:func:`graphkit.report.reader.read_source`)
======================== ===========================================================================

Every Parquet file is sorted by its key and written in small row groups, so a
lookup reads only the row groups whose statistics hold the key
(``benchmarks/RESULTS.md``, "The report's store", compares this with DuckDB).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import polars as pl

from graphkit.config import Config
from graphkit.detect.evidence import (
    Evidence,
    PathLinks,
    PathStep,
    coded_entity_edges,
    evidence_graph,
    identifier_hubs,
    node_facts,
    path_links,
    popular_hosts,
    resolve_ids,
)
from graphkit.detect.evidence.search import Neighbours, csr_neighbours
from graphkit.detect.signals import age_days
from graphkit.errors import InputError
from graphkit.graphs.ids import IdIndex
from graphkit.io import Tables
from graphkit.io.window import time_window
from graphkit.model import Report
from graphkit.report.reader import SavedReport, read_report

__all__ = ["INDEX_FILES", "STORE_FILES", "STORE_SCHEMA_VERSION", "OpenReport", "ReportStore", "open_report", "open_store",
           "write_store"]

STORE_SCHEMA_VERSION = 2
"""Bumped whenever a file of the store changes other than by an added column, or a file is added that the
reader needs (2: the index of links, :data:`INDEX_FILES`, for ``path`` by keyed reads)."""

ROW_GROUP_ROWS = 16_384
"""Rows per Parquet row group in the store: a lookup reads the groups that may hold its keys (measured in
``benchmarks/RESULTS.md``: 16k rows read a key in about a millisecond and keep the files' metadata small)."""

INDEX_FILES = ("links_start.npy", "links_other.npy", "links_cost.npy")
"""The index of ``links.parquet`` by vid (:func:`graphkit.detect.evidence.search.adjacency_arrays`)."""

STORE_FILES = ("edges.parquet", "edges_by_target.parquet", "gifts.parquet", "link_names.parquet", "links.parquet",
               "links_cost.npy", "links_other.npy", "links_start.npy", "nodes.parquet", "popular_links.parquet",
               "sightings.parquet", "store.json")
"""What :func:`write_store` writes in ``OUT/graph/`` (beside ``source.json``), sorted."""

STORE_SETTINGS = ("since", "until", "hub_cap", "placeholder_device_ids")
"""The settings the store's answers depend on; a question asked with others is answered from the tables."""

_FACTS = ("accounts", "hub", "coins_sent", "coins_received")
_POPULAR = ("senders", "popular")
_ACCOUNT = ("created_at", "age_days", "host")
_SCORES = ("score", "ring_id", "role")
_GIFT_EVENTS = ("sender_id", "receiver_id", "stream_id", "coins", "sent_at")
_SIGHTINGS = ("user_id", "device_id", "ip", "seen_at")


def write_store(report: Report, folder: str | Path, *, scores: pl.DataFrame) -> None:
    """Write the store of ``report`` into ``folder`` (``OUT/graph``, inside the report's temporary folder).

    Parameters
    ----------
    report : Report
        With its ``tables`` (the window the report read) and ``params``.
    folder : path
        Created when missing.
    scores : polars.DataFrame
        ``scores.csv`` as :func:`graphkit.report.reader.read_scores` reads it back, so that an answer from the
        store shows exactly what one through ``scores.csv`` shows.
    """
    tables = report.tables
    if tables is None:
        raise InputError("a report without its tables has no store to write")
    settings = store_settings(report.params)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}

    def write(name: str, frame: pl.DataFrame) -> None:
        # lz4: a third less CPU than zstd to write and half to read a key, files about 40% bigger
        frame.write_parquet(folder / f"{name}.parquet", row_group_size=ROW_GROUP_ROWS, statistics=True,
                            compression="lz4")
        rows[name] = frame.height

    # Every edge end is coded as the row number of its node id in the sorted node ids (a ``UInt32``), from the
    # analysis' integer ids (:func:`graphkit.detect.evidence.coded_entity_edges`): every group-by, sort and join
    # below runs on those integers and gives the rows of the strings' order; the strings are made only for the
    # frames written (``node_ids.gather``). Grouping, sorting and casting the 25 million edge-end strings of
    # 10^7 gifts was most of the store's cost (``benchmarks/RESULTS.md``, issue 15).
    placeholders = tuple(settings["placeholder_device_ids"])
    window = time_window(settings["since"], settings["until"])
    index, gifts, devices = _coded_events(report, settings)
    coded = coded_entity_edges(index, gifts, devices, tables.streams.filter(window.streams()),
                               users=tables.users.get_column("user_id"))
    node_ids = coded.node_ids
    edges = _sorted(coded.edges, "source", "target", node_ids.len())
    text = _decoder(node_ids)
    write("edges", text(edges))  # sorted by source
    write("edges_by_target", text(_sorted(edges, "target", "source", node_ids.len())))
    hubs = identifier_hubs(edges, settings["hub_cap"], placeholders, names=node_ids)
    popular = popular_hosts(edges, hub_cap=settings["hub_cap"])
    accounts = coded.accounts
    # the account facts and scores by the codes of the accounts' node ids (the first codes: an account of
    # ``scores`` that is not a node has no row of nodes.parquet)
    account_codes = accounts.to_frame("user_id").with_row_index("node_id")
    first_gifts = index.decode(gifts.group_by("src").agg(pl.col("sent_at").min().alias("first_sent_at")), "src",
                               as_="user_id")
    by_account = pl.concat([
        _account_facts(tables, account_codes, first_gifts),
        _by_code(account_codes.join(scores.select("user_id", *_SCORES), on="user_id").drop("user_id"),
                 accounts.len()),
    ], how="horizontal")
    # every node, in the order of its id: row i is code i (each frame's rows gathered by code, not joined)
    n = node_ids.len()
    write("nodes", text(pl.concat([
        pl.int_range(n, dtype=pl.UInt32, eager=True).to_frame("node_id"),
        _by_code(node_facts(edges, settings["hub_cap"], placeholders, hubs=hubs).select("node_id", *_FACTS), n),
        _by_code(popular.select("node_id", *_POPULAR), n),
        by_account.vstack(by_account.clear(n - by_account.height)),  # null for the other kinds' codes
    ], how="horizontal")))
    del coded, accounts, account_codes, first_gifts, by_account
    links = path_links(edges, hub_cap=settings["hub_cap"], placeholders=placeholders, hubs=hubs, popular=popular)
    del edges, hubs, popular
    # the events of the window, by account: what the views' timelines draw (in the order they were read)
    for name, frame, keep, uid in (("gifts", tables.gifts.filter(window.gifts()), _GIFT_EVENTS, gifts["src"]),
                                   ("sightings", tables.devices.filter(window.devices()), _SIGHTINGS, devices["uid"])):
        # sorted by account for lookups (by uid: the accounts' order), rows of one account in the order they were
        # read (``row``), which the views follow
        write(name, frame.select(*keep).with_row_index("row").sort(uid, maintain_order=True))
    del index, gifts, devices
    write("links", links.coded)
    _write_index(folder, links)
    write("link_names", text(links.names))
    write("popular_links", text(links.popular))
    meta = {
        "schema_version": STORE_SCHEMA_VERSION,
        "settings": settings,
        "rows": rows,
        "link_vertices": links.vertices,
    }
    (folder / "store.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _coded_events(report: Report, settings: dict[str, Any]) -> tuple[IdIndex, pl.DataFrame, pl.DataFrame]:
    """The id index, gifts and device sightings of the store's window, coded (:func:`graphkit.graphs.build.encode_events`):
    the analysis' own (``report.graphs``) when they were built for that window, else coded here (a report made
    without its graphs)."""
    graphs = report.graphs
    window = {bound: settings[bound] for bound in ("since", "until")}
    if graphs is not None and all(store_settings(graphs.config.to_params())[b] == v for b, v in window.items()):
        return graphs.index, graphs.gifts, graphs.devices
    from graphkit.graphs.build import encode_events

    _, index, gifts, devices = encode_events(report.tables, **window)
    return index, gifts, devices


def _sorted(edges: pl.DataFrame, first: str, second: str, nodes: int) -> pl.DataFrame:
    """``edges`` sorted by ``first, second, relation`` (codes below ``nodes``, a ``pl.Enum``), by one integer
    key: the rows are distinct by these three, so the order is the one of the three columns' sort."""
    if nodes >= 2**29:  # the key would not fit 64 bits
        return edges.sort(first, second, "relation")
    pair = edges.get_column(first).to_numpy().astype(np.uint64) * np.uint64(nodes) + edges.get_column(second).to_numpy()
    key = (pair << np.uint64(3)) + edges.get_column("relation").to_physical().to_numpy()
    return edges.rechunk()[np.argsort(key)]  # the relations' frames concatenated: gathered in one chunk, twice as fast


def _account_facts(tables: Tables, accounts: pl.DataFrame, first_gifts: pl.DataFrame) -> pl.DataFrame:
    """``created_at, age_days, host`` of every account of ``accounts`` (``node_id, user_id``: codes 0 .. n - 1,
    sorted), row i for account i: the facts of :func:`graphkit.viz.evidence_page.account_data_facts` (the first
    row of the users table, the age at the first gift of ``first_gifts``: ``user_id, first_sent_at``; a host of
    any stream of the table), each table joined to the accounts once and gathered by code."""
    users = (tables.users.select("user_id", "created_at").with_row_index("row")
             .join(accounts, on="user_id").sort("node_id", "row").unique("node_id", keep="first", maintain_order=True))
    hosts = tables.streams.select(pl.col("host_id").alias("user_id")).unique().join(accounts, on="user_id")
    n = accounts.height
    host = np.zeros(n, dtype=bool)
    host[hosts.get_column("node_id").to_numpy()] = True
    return pl.concat([
        _by_code(users.select("node_id", "created_at"), n),
        _by_code(first_gifts.join(accounts, on="user_id").select("node_id", "first_sent_at"), n),
    ], how="horizontal").select("created_at", age_days(), pl.Series("host", host))


def _by_code(frame: pl.DataFrame, n: int) -> pl.DataFrame:
    """The columns of ``frame`` but ``node_id`` (distinct codes below ``n``) for codes ``0 .. n - 1``: row i is
    the row of code i, null where ``frame`` has none (a left join on every code, by a gather)."""
    at = np.full(n, -1, dtype=np.int64)
    at[frame.get_column("node_id").to_numpy()] = np.arange(frame.height)
    rows = pl.Series(at)
    return frame.drop("node_id").select(pl.all().gather(rows.set(rows < 0, None)))


def _decoder(node_ids: pl.Series) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A function giving a frame its coded columns back as the strings the store holds: the node ids
    (``node_id, source, target``: row numbers of ``node_ids``) and the relations (a ``pl.Enum``)."""

    def text(frame: pl.DataFrame) -> pl.DataFrame:
        ids = [c for c in ("node_id", "source", "target") if c in frame.columns]
        return frame.with_columns(*(pl.lit(node_ids).gather(pl.col(c)).alias(c) for c in ids),
                                  pl.col(pl.Enum).cast(pl.Utf8))

    return text


def store_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The settings of :data:`STORE_SETTINGS` from a report's ``params`` (a ``Config``'s, or ``rings.json``'s)."""
    from graphkit.io.window import parse_bound

    defaults = Config()
    settings = {name: params.get(name, getattr(defaults, name)) for name in STORE_SETTINGS}
    settings["placeholder_device_ids"] = list(settings["placeholder_device_ids"])
    for bound in ("since", "until"):  # one instant, however it was written
        when = parse_bound(settings[bound], bound)
        settings[bound] = when.isoformat() if when is not None else None
    return settings


@dataclass(frozen=True)
class ReportStore:
    """A report's store, opened: lookups and the follow-up questions, answered from ``OUT/graph/``.

    Every method reads only the row groups that hold the keys it asks for
    (``path`` reads the index of links, memory-mapped: the links of the nodes its search settles).

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> from graphkit.io import Tables
    >>> from graphkit.model import Report
    >>> from graphkit.report import write_report
    >>> tables = Tables.from_frames(
    ...     devices=pl.DataFrame({"user_id": ["u1", "u2", "u3"], "device_id": ["d1", "d1", "d2"]}),
    ...     gifts=pl.DataFrame({"sender_id": ["u2"], "receiver_id": ["u3"], "coins": [5.0],
    ...                         "sent_at": ["2024-05-01T00:00:00Z"]}))
    >>> scores = pl.DataFrame({"user_id": ["u1", "u2", "u3"], "score": [0.1, 0.2, 0.3], "ring_id": [None] * 3})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> _ = write_report(Report((), scores, {}, {}, tables=tables), out, html=False)
    >>> store = open_store(out)
    >>> store.lookup(["u1", "device:d1"])
    ('account:u1', 'device:d1')
    >>> store.expand(["u1"], hops=2).accounts().get_column("user_id").to_list()
    ['u1', 'u2']
    >>> [step.text for step in store.path("u1", "u3")]
    ['u1 used device d1', 'd1 was also used by u2', 'u2 gifted 5 coins to u3 in 1 gift']
    """

    folder: Path
    meta: dict[str, Any]

    @property
    def settings(self) -> dict[str, Any]:
        """The settings the store was built with (:data:`STORE_SETTINGS`)."""
        return self.meta["settings"]

    def answers(self, config: Config, *, min_coins: float = 0.0) -> bool:
        """Whether questions asked with ``config`` (and ``min_coins``) have their answer in the store.

        A question with another window, hub cap or placeholder list, or a
        ``min_coins``, is answered from the tables.
        """
        return min_coins == 0.0 and store_settings(config.to_params()) == self.settings

    def _scan(self, name: str) -> pl.LazyFrame:
        return pl.scan_parquet(self.folder / f"{name}.parquet")

    def lookup(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Node ids (``kind:key``) for user-given ids, as :func:`graphkit.detect.evidence.resolve_ids` finds them.

        Raises :class:`NotFoundError` for an id that is not in the report's data.
        """
        ids = list(ids)
        from graphkit.detect.evidence import KINDS

        wanted = sorted({raw for raw in ids} | {f"{kind}:{raw}" for raw in ids for kind in KINDS})
        found = self._scan("nodes").filter(pl.col("node_id").is_in(wanted)).select("node_id").collect()
        known = found.select(pl.col("node_id").alias("source"), pl.col("node_id").alias("target"))
        return resolve_ids(ids, known)

    def nodes(self, node_ids: Iterable[str]) -> pl.DataFrame:
        """The rows of ``nodes.parquet`` for these node ids, sorted by ``node_id``."""
        keys = sorted(set(node_ids))
        return self._scan("nodes").filter(pl.col("node_id").is_in(keys)).collect()

    def edges_of(self, node_ids: Iterable[str]) -> pl.DataFrame:
        """Every entity edge from or to these node ids (each once), sorted by ``source, target, relation``."""
        keys = sorted(set(node_ids))
        if not keys:
            return self._scan("edges").head(0).collect()
        accounts = [k for k in keys if k.startswith("account:")]  # only accounts are ever a source
        out = self._scan("edges").filter(pl.col("source").is_in(accounts)).collect() if accounts else None
        into = self._scan("edges_by_target").filter(pl.col("target").is_in(keys)).collect()
        both = pl.concat([into] if out is None else [out, into])
        return both.unique(["source", "target", "relation"]).sort("source", "target", "relation")

    def neighbours(self, node_id: str) -> pl.DataFrame:
        """The edges of one node with the node at their other end: ``other, relation, direction, coins, count,
        first_at, last_at``, most coins first (``direction``: ``out`` when the node is the edge's source).

        Examples
        --------
        >>> import tempfile, pathlib, polars as pl
        >>> from graphkit.io import Tables
        >>> from graphkit.model import Report
        >>> from graphkit.report import write_report
        >>> tables = Tables.from_frames(devices=pl.DataFrame({"user_id": ["u1", "u2"], "device_id": ["d1", "d1"]}))
        >>> scores = pl.DataFrame({"user_id": ["u1", "u2"], "score": [0.1, 0.2], "ring_id": [None, None]})
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
        >>> _ = write_report(Report((), scores, {}, {}, tables=tables), out, html=False)
        >>> open_store(out).neighbours("d1").select("other", "relation", "direction").rows()
        [('account:u1', 'used_device', 'in'), ('account:u2', 'used_device', 'in')]
        """
        (node,) = self.lookup([node_id])[:1]
        edges = self.edges_of([node])
        out = pl.col("source") == node
        return edges.select(
            pl.when(out).then(pl.col("target")).otherwise(pl.col("source")).alias("other"),
            "relation",
            pl.when(out).then(pl.lit("out")).otherwise(pl.lit("in")).alias("direction"),
            "coins", "count", "first_at", "last_at",
        ).sort(["coins", "count", "other", "relation"], descending=[True, True, False, False])

    def describe(self, node_id: str, *, neighbours: int = 20) -> dict[str, Any]:
        """One node's facts and its strongest links, as plain values (``graphkit show``).

        Returns ``node_id, kind, key``, the node's row of ``nodes.parquet``
        (null facts left out), ``links`` (how many edges, by relation) and
        ``neighbours`` (the first ``neighbours`` of :meth:`neighbours`).
        """
        from graphkit.detect.evidence.entity import _key_of

        row = self.nodes([node_id]).row(0, named=True)
        edges = self.neighbours(node_id)
        by_relation = edges.group_by("relation").len().sort("relation").rows()
        facts = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()
                 if k != "node_id" and v is not None}
        shown = edges.head(neighbours).with_columns(pl.col("first_at", "last_at").dt.to_string("%Y-%m-%dT%H:%M:%SZ"))
        return {"node_id": node_id, "kind": node_id.split(":", 1)[0], "key": _key_of(node_id), "facts": facts,
                "links": dict(by_relation), "neighbours": shown.to_dicts(), "more_neighbours": max(edges.height - neighbours, 0)}

    def account_facts(self, user_ids: Iterable[str], scores: pl.DataFrame | None = None) -> pl.DataFrame:
        """``user_id, created_at, age_days, host, score, ring_id, role, pagerank`` of these accounts, sorted by
        ``user_id``: what :func:`graphkit.viz.evidence_page.facts_of_accounts` gives ``graphkit expand``, with
        the report's scores, or ``scores`` (another ``scores.csv``)."""
        from graphkit.viz.evidence_page import with_account_scores

        rows = self.nodes("account:" + pl.Series(list(user_ids), dtype=pl.Utf8))
        user = pl.col("node_id").str.strip_prefix("account:").alias("user_id")
        data = rows.select(user, *_ACCOUNT).sort("user_id")
        return with_account_scores(data, rows.select(user, *_SCORES) if scores is None else scores, None)

    def events_of(self, user_ids: Iterable[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The gifts these accounts sent and their device sightings, in the report's window (the views'
        timeline): ``sender_id, receiver_id, stream_id, coins, sent_at`` and ``user_id, device_id, ip, seen_at``."""
        keys = sorted(set(user_ids))
        gifts = self._scan("gifts").filter(pl.col("sender_id").is_in(keys)).sort("row").drop("row").collect()
        sightings = self._scan("sightings").filter(pl.col("user_id").is_in(keys)).sort("row").drop("row").collect()
        return gifts, sightings

    def scores_of(self, user_ids: Iterable[str]) -> pl.DataFrame:
        """``user_id, score, ring_id, role`` of these accounts (as ``scores.csv`` holds them)."""
        rows = self.nodes("account:" + pl.Series(list(user_ids), dtype=pl.Utf8))
        return rows.select(pl.col("node_id").str.strip_prefix("account:").alias("user_id"), *_SCORES)

    def expand(self, ids: Sequence[str], *, hops: int = 2, through_popular_hosts: bool = False,
               max_nodes: int | None = None) -> Evidence:
        """:func:`graphkit.detect.evidence.evidence_graph` around ``ids``, from the store.

        The walk reads the edges of each hop's frontier by key (both ways),
        then the edges among the nodes reached; hubs are not walked past, as
        in the walk itself, and popular hosts only with ``through_popular_hosts``.
        """
        seeds = self.lookup(ids)
        settings = self.settings
        visited = dict.fromkeys(seeds)
        frontier = list(seeds)
        fetched: list[pl.DataFrame] = []
        seen_edges: set[str] = set()
        facts = self.nodes(seeds)
        for hop in range(1, hops + 1):
            rows = facts.filter(pl.col("node_id").is_in(frontier))
            hub = set(rows.filter(pl.col("hub").fill_null(False)).get_column("node_id").to_list())
            popular = set(rows.filter(pl.col("popular").fill_null(False)).get_column("node_id").to_list())
            blocked = hub | (set() if through_popular_hosts else popular)
            expandable = frontier if hop == 1 else [n for n in frontier if n not in blocked]
            # a popular host not walked past still has its edges read: the view counts the accounts it would add
            wanted = [n for n in dict.fromkeys(expandable + sorted(popular)) if n not in seen_edges]
            seen_edges.update(wanted)
            edges = self.edges_of(wanted)
            fetched.append(edges)
            if not expandable:
                break
            around = edges.filter(pl.col("source").is_in(expandable) | pl.col("target").is_in(expandable))
            reached = [n for n in pl.concat([around.get_column("source"), around.get_column("target")]).unique().sort()
                       .to_list() if n not in visited]
            if not reached:
                break
            visited.update(dict.fromkeys(reached))
            frontier = reached
            facts = pl.concat([facts, self.nodes(reached)]).unique("node_id")
        # the edges among the nodes reached: each has an account at its source
        last = [n for n in visited if n.startswith("account:") and n not in seen_edges]
        fetched.append(self._scan("edges").filter(pl.col("source").is_in(sorted(last))).collect() if last
                       else self.edges_of([]))
        edges = pl.concat(fetched).unique(["source", "target", "relation"]).sort("source", "target", "relation")
        ends = pl.concat([edges.get_column("source"), edges.get_column("target"), pl.Series(list(visited))]).unique()
        nodes = self.nodes(ends.to_list())
        return evidence_graph(
            None, seeds, hops=hops, hub_cap=settings["hub_cap"],
            placeholders=tuple(settings["placeholder_device_ids"]), max_nodes=max_nodes, edges=edges,
            facts=nodes.select("node_id", *_FACTS), popular=nodes.select("node_id", *_POPULAR).filter(
                pl.col("senders").is_not_null()),
            through_popular_hosts=through_popular_hosts, resolved=True,
        )

    def path(self, a: str, b: str) -> list[PathStep]:
        """:func:`graphkit.detect.evidence.evidence_path` between ``a`` and ``b``, from the store."""
        src = self._one(a)
        dst = self._one(b)
        if src == dst:
            return []
        links = PathLinks(
            names=self._scan("link_names"), vertices=self.meta["link_vertices"],
            neighbours=_read_index(self.folder, self.meta["link_vertices"]),
            popular=self._scan("popular_links").collect(),
        )
        return links.chain(src, dst, self.edges_of)

    def _one(self, raw: str) -> str:
        found = self.lookup([raw])
        accounts = [f for f in found if f.startswith("account:")]
        return accounts[0] if accounts else found[0]


def _write_index(folder: Path, links: PathLinks) -> None:
    """``links.parquet`` by vid, both ways (:func:`graphkit.detect.evidence.search.adjacency_arrays`), as the
    ``.npy`` files of :data:`INDEX_FILES`: plain numbers, read memory-mapped and never as pickles. ``links`` are
    :func:`~graphkit.detect.evidence.path_links` of coded node ids, which keep those arrays (``links.index``)."""
    if links.index is None:
        raise ValueError("the store's index is written from the links of coded node ids (links.index)")
    for name, array in zip(INDEX_FILES, links.index):
        np.save(folder / name, array, allow_pickle=False)


def _read_index(folder: Path, vertices: int) -> Neighbours:
    """The :data:`~graphkit.detect.evidence.search.Neighbours` of the store's index, memory-mapped: a search
    reads the pages of the vids it settles, not the links of the whole window."""
    try:
        start, other, cost = (np.load(folder / name, mmap_mode="r", allow_pickle=False) for name in INDEX_FILES)
    except (OSError, ValueError):
        raise InputError(f"{folder}: the store's index of links ({', '.join(INDEX_FILES)}) is missing or "
                         "unreadable; run graphkit report again") from None
    if start.shape != (vertices + 1,) or other.shape != cost.shape or other.shape != (int(start[-1]),):
        raise InputError(f"{folder}: the store's index of links does not match store.json; run graphkit report again")
    return csr_neighbours(start, other, cost)


def open_store(out_dir: str | Path) -> ReportStore:
    """Open ``OUT/graph/`` of a report.

    Raises
    ------
    InputError
        When the report has no store (written before graphkit kept one), or a
        store of another ``schema_version`` (one line naming both versions).
    """
    folder = Path(out_dir) / "graph"
    path = folder / "store.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{out_dir}: the report has no store ({path} is missing: it was written by an older "
                         "graphkit); run graphkit report again with this graphkit") from None
    except (OSError, ValueError):
        raise InputError(f"{path}: cannot be read as a graphkit store; run graphkit report again") from None
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if version != STORE_SCHEMA_VERSION:
        raise InputError(f"{path}: store schema_version {version!r}, this graphkit reads version "
                         f"{STORE_SCHEMA_VERSION}; run graphkit report again with this graphkit")
    missing = [name for name in meta.get("rows", {}) if not (folder / f"{name}.parquet").is_file()]
    if missing:
        raise InputError(f"{folder}: the store lacks {missing[0]}.parquet; run graphkit report again")
    return ReportStore(folder=folder, meta=meta)


@dataclass(frozen=True)
class OpenReport:
    """A report opened for questions (:func:`open_report`).

    Attributes
    ----------
    rings : list of dict
        The rings of ``rings.json``, best first.
    scores : polars.DataFrame
        ``scores.csv``: ``user_id, score, ring_id, role``.
    store : ReportStore
        The store: ``expand``, ``path``, ``neighbours``, ``nodes``, ``lookup``.
    saved : SavedReport
        The report as read (``document`` is ``rings.json``).
    """

    rings: list[dict[str, Any]]
    scores: pl.DataFrame
    store: ReportStore
    saved: SavedReport

    def expand(self, ids: Sequence[str], *, hops: int = 2, through_popular_hosts: bool = False) -> pl.DataFrame:
        """The accounts reached from ``ids`` (ring ids allowed) within ``hops``: ``user_id, hops, how, coins_sent,
        coins_received, score, ring_id``, as ``graphkit expand --json`` lists them."""
        seeds, _ = self.saved.resolve_rings(ids)
        accounts = self.store.expand(seeds, hops=hops, through_popular_hosts=through_popular_hosts).accounts()
        return accounts.join(self.store.scores_of(accounts.get_column("user_id")).select("user_id", "score", "ring_id"),
                             on="user_id", how="left", maintain_order="left")

    def path(self, a: str, b: str) -> pl.DataFrame:
        """The chain of evidence from ``a`` to ``b``: ``source, target, relation, text`` per step (empty when none)."""
        steps = self.store.path(a, b)
        return pl.DataFrame([(s.source, s.target, s.relation, s.text) for s in steps],
                            schema={"source": pl.Utf8, "target": pl.Utf8, "relation": pl.Utf8, "text": pl.Utf8},
                            orient="row")

    def neighbours(self, node_id: str) -> pl.DataFrame:
        """:meth:`ReportStore.neighbours`."""
        return self.store.neighbours(node_id)


def open_report(out_dir: str | Path) -> OpenReport:
    """Open a report folder for questions: its rings, its scores and its store.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> from graphkit.io import Tables
    >>> from graphkit.model import Report
    >>> from graphkit.report import write_report
    >>> tables = Tables.from_frames(
    ...     devices=pl.DataFrame({"user_id": ["u1", "u2", "u3"], "device_id": ["d1", "d1", "d2"]}),
    ...     gifts=pl.DataFrame({"sender_id": ["u2"], "receiver_id": ["u3"], "coins": [5.0],
    ...                         "sent_at": ["2024-05-01T00:00:00Z"]}))
    >>> scores = pl.DataFrame({"user_id": ["u1", "u2", "u3"], "score": [0.1, 0.2, 0.3], "ring_id": [None] * 3})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> _ = write_report(Report((), scores, {}, {}, tables=tables), out, html=False)
    >>> report = open_report(out)
    >>> report.rings, report.scores.columns
    ([], ['user_id', 'score', 'ring_id', 'role'])
    >>> report.expand(["u1"], hops=2).select("user_id", "hops", "score").rows()
    [('u1', 0, 0.1), ('u2', 2, 0.2)]
    >>> report.path("u1", "u2").get_column("relation").to_list()
    ['used_device', 'used_device']
    """
    saved = read_report(out_dir)
    store = open_store(out_dir)
    return OpenReport(rings=saved.rings, scores=saved.scores, store=store, saved=saved)
