"""The evidence view that every graph page draws: accounts, devices, IPs and streams with their facts.

:func:`evidence_view` turns evidence (:mod:`graphkit.detect.evidence`) into the node and edge frames
of :func:`graphkit.viz.network.render_network`, so every page shares its guarantees: self-contained,
offline, every data string escaped, tooltips as plain text. With a :class:`~graphkit.viz.redact.Redactor`
every id (accounts, devices, IPs, streams), also inside reason sentences, becomes a keyed pseudonym.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

import polars as pl

from graphkit.config import Config
from graphkit.detect.evidence import Evidence
from graphkit.detect.signals import account_ages
from graphkit.graphs.window import apply_window
from graphkit.util.display import display_text
from graphkit.util.format import format_coins, plural
from graphkit.viz.network import EDGE_COLORS, GROUP_COLORS, LegendItem, TableBlock, render_network
from graphkit.viz.redact import Redactor
from graphkit.viz.timeline import Timeline, edge_bins, gift_timeline

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.io import Tables
    from graphkit.model import Ring

__all__ = ["CONTEXT_WORDS", "KIND_WORD", "ROLE_SIZES", "account_data_facts", "display_names", "evidence_view", "facts_of_accounts", "with_account_scores"]

KIND_WORD = {"account": "account", "device": "device", "ip": "IP", "stream": "stream"}


_RELATION_WORD = {"used_device": "used device", "used_ip": "used IP", "gifted_in": "gifted in stream",
                  "hosted": "hosted stream"}


_HIGH_RISK = 0.5

ROLE_SIZES: dict[str, float] = {"beneficiary": 24.0, "funder": 14.0, "member": 12.0}
"""On a ring's page, the size of its members by role: the ring stands out from its context."""

_CONTEXT_MAX = 9.0
"""On a ring's page, a context node (anything not in the ring) is at most this big."""

CONTEXT_WORDS: dict[str, tuple[str, str]] = {
    "account": ("other account", "other accounts"), "host": ("host", "hosts"), "device": ("device", "devices"),
    "ip": ("IP", "IPs"), "stream": ("stream", "streams"),
    "hub": ("shared identifier (hub)", "shared identifiers (hubs)"),
}
"""On a ring's page, the words (one, many) of the collapsed context groups ("312 other accounts")."""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "?"


def display_names(frame: pl.DataFrame, key: str, kind: str | pl.Series, redactor: Redactor | None) -> pl.Series:
    values = frame.get_column(key)
    return redactor.series(values, kind) if redactor is not None else values


def facts_of_accounts(tables: "Tables", keys: pl.Series, user_scores: pl.DataFrame | None,
                   user_features: pl.DataFrame | None, *, since: str | None = None,
                   until: str | None = None) -> pl.DataFrame:
    """Per account in ``keys``: score, ring_id, role, age_days, pagerank, host (bool).

    ``age_days`` is the one account age of graphkit (:func:`graphkit.detect.signals.age_days`),
    on the gifts of the window ``since``/``until``.
    """
    return with_account_scores(account_data_facts(tables, keys, since=since, until=until), user_scores, user_features)


def account_data_facts(tables: "Tables", keys: pl.Series, *, since: str | None = None,
                       until: str | None = None) -> pl.DataFrame:
    """What the data says of each account in ``keys``: ``user_id, created_at, age_days, host``, sorted by
    ``user_id`` (the part of :func:`facts_of_accounts` that a report's store keeps; the store computes the
    same facts by the accounts' codes, ``graphkit.report.store._account_facts``)."""
    base = keys.unique().to_frame("user_id")
    users = tables.users.select("user_id", "created_at").unique("user_id", keep="first")
    ages = account_ages(apply_window(tables, since, until).gifts, users, accounts=base["user_id"])
    facts = (
        base.join(users, on="user_id", how="left")
        .join(ages, on="user_id", how="left")
        .sort("user_id")
    )
    hosts = tables.streams.select(pl.col("host_id").alias("user_id")).unique().with_columns(pl.lit(True).alias("host"))
    return facts.join(hosts, on="user_id", how="left").with_columns(pl.col("host").fill_null(False))


def with_account_scores(facts: pl.DataFrame, user_scores: pl.DataFrame | None,
                        user_features: pl.DataFrame | None) -> pl.DataFrame:
    """:func:`account_data_facts` with each account's ``score, ring_id, role`` and ``pagerank`` (null when unknown)."""
    if user_scores is not None and user_scores.height:
        cols = [c for c in ("user_id", "score", "ring_id", "role") if c in user_scores.columns]
        facts = facts.join(user_scores.select(cols), on="user_id", how="left")
    for name, dtype in (("score", pl.Float64), ("ring_id", pl.Utf8), ("role", pl.Utf8)):
        if name not in facts.columns:
            facts = facts.with_columns(pl.lit(None, dtype).alias(name))
    if user_features is not None and "pagerank" in user_features.columns:
        facts = facts.join(user_features.select("user_id", "pagerank"), on="user_id", how="left")
    else:
        facts = facts.with_columns(pl.lit(None, pl.Float64).alias("pagerank"))
    return facts


def evidence_view(
    evidence: Evidence,
    tables: "Tables",
    *,
    title: str,
    panel: Sequence[tuple[str, Sequence[str]]] = (),
    user_scores: pl.DataFrame | None = None,
    user_features: pl.DataFrame | None = None,
    ring: "Ring | None" = None,
    max_nodes: int = Config.view_max_nodes,
    physics_max_nodes: int = Config.physics_max_nodes,
    seed: int = 0,
    redactor: Redactor | None = None,
    account_facts: pl.DataFrame | None = None,
    since: str | None = None,
    until: str | None = None,
    file_stem: str = "graphkit-view",
    gifts: pl.DataFrame | None = None,
    sightings: pl.DataFrame | None = None,
) -> str:
    """Render an :class:`Evidence` neighbourhood as an HTML page.

    Node shape by type (account, host, device, IP, stream), colour by role in
    a ring or risk (``user_scores``), size by PageRank (``user_features``) or
    coins, edge width by coins and colour by relation. With a ``ring``, its
    members are drawn big by role (:data:`ROLE_SIZES`) and everything else is
    context, collapsed by kind (:data:`CONTEXT_WORDS`) until shown, and a
    member table is added under the graph. Without one (``expand``), the
    starting points and the nodes one link from them are in focus, and the
    nodes farther out are the context, collapsed by kind in the same way. Tooltips carry the id,
    score, account age, coins sent/received, how the node was reached and, for
    ring members, the ring's reasons.

    Parameters
    ----------
    evidence : Evidence
        From :func:`graphkit.detect.evidence.evidence_graph`.
    tables : Tables
        The input (account ages, hosts).
    title : str
        The page heading.
    panel : sequence of (heading, lines)
        Text beside the graph.
    user_scores : polars.DataFrame, optional
        ``user_id, score, ring_id, role`` (``Report.user_scores``); scores are blank without it.
    user_features : polars.DataFrame, optional
        ``user_id, pagerank, ...`` (``Report.user_features``); sizes use coins without it.
    ring : Ring, optional
        The ring drawn: its members are coloured by role, the rest by risk.
    max_nodes, physics_max_nodes, seed
        See :func:`graphkit.viz.network.render_network`.
    redactor : Redactor, optional
        Replace every id by its keyed pseudonym.
    account_facts : polars.DataFrame, optional
        The per-account facts (scores, ages, PageRank) of a superset of the
        accounts drawn, computed once when many views are drawn
        (:func:`write_views`); by default computed here from ``tables``,
        ``user_scores`` and ``user_features``.
    since, until : str, optional
        The time window (``Config.since``/``until``): account ages are
        taken on its gifts, as in the report.
    file_stem : str
        The start of the names of the files the page saves.
    gifts : polars.DataFrame, optional
        The gifts in the window sent or received by a superset of the
        accounts drawn, selected once when many views are drawn
        (:func:`write_views`); by default selected here from ``tables``.
    sightings : polars.DataFrame, optional
        The device sightings in the window of a superset of the accounts
        drawn (a report's store gives them); by default selected here from ``tables``.

    Under the graph, a timeline of coins (:func:`graphkit.viz.timeline.gift_timeline`):
    with a ``ring``, the coins its members sent, one series per role, the
    times named by its reasons marked; without, the coins the accounts drawn
    sent, one series per colour group. Brushing it keeps the edges with an
    event in the range: a gift, or a dated device or IP sighting.

    Returns
    -------
    str
        The HTML document.
    """
    nodes = evidence.nodes
    accounts = nodes.filter(pl.col("kind") == "account").get_column("key")
    if account_facts is None:
        facts = facts_of_accounts(tables, accounts, user_scores, user_features, since=since, until=until)
    else:
        facts = account_facts.join(accounts.unique().to_frame("user_id"), on="user_id", how="semi")
    nodes = nodes.join(facts.rename({"user_id": "key"}), on="key", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("kind") == "account").then(pl.col(c)).alias(c)
        for c in ("score", "ring_id", "role", "age_days", "pagerank", "host", "created_at")
    )
    in_ring = (pl.col("kind") == "account") & pl.col("key").is_in(list(ring.members) if ring is not None else [])
    nodes = nodes.with_columns(in_ring.alias("in_ring"))
    kinds = nodes.get_column("kind")
    names = display_names(nodes, "key", kinds, redactor)
    via_kind = nodes.get_column("via").str.split_exact(":", 1).struct.field("field_0").fill_null("account")
    via_key = nodes.get_column("via").str.splitn(":", 2).struct.field("field_1")
    via_names = redactor.series(via_key, via_kind) if redactor is not None else via_key
    nodes = nodes.with_columns(names.alias("name"), (kinds + ":" + names).alias("id"), via_key.alias("via_key"),
                               via_names.alias("via_name"))
    ids_in_view = list(zip(kinds.to_list(), nodes.get_column("key").to_list()))
    ring_reasons = [redactor.text(r, ids_in_view) if redactor else r for r in (ring.reasons if ring else ())]

    coins = nodes.get_column("coins_sent") + nodes.get_column("coins_received")
    max_coins = max(float(coins.max() or 0.0), 1.0)
    max_pr = float(nodes.get_column("pagerank").max() or 0.0)
    rows = []
    for row, total in zip(nodes.iter_rows(named=True), coins.to_list()):
        rows.append(_node_row(row, total, max_coins, max_pr, ring, ring_reasons))
    node_frame = pl.DataFrame(rows, schema={"id": pl.Utf8, "label": pl.Utf8, "type": pl.Utf8, "group": pl.Utf8,
                                            "size": pl.Float64, "tooltip": pl.Utf8, "importance": pl.Float64,
                                            "pinned": pl.Boolean, "context": pl.Utf8, "context_one": pl.Utf8},
                              orient="row")
    node_frame = node_frame.with_columns(nodes.get_column("score").alias("score"))  # accounts; null for the rest
    near = apply_window(tables, since, until).gifts if gifts is None else gifts
    sent = _gifts_sent_in_view(near, nodes)
    timeline = _timeline(sent, nodes, node_frame, ring, ring_reasons)
    table = _member_table(nodes, ring, sent, near, tables, since, until) if ring is not None else None

    alias = nodes.select("node_id", "id", "name")
    edges = (
        evidence.edges.join(alias.rename({"node_id": "source", "id": "sid", "name": "sname"}), on="source")
        .join(alias.rename({"node_id": "target", "id": "tid", "name": "tname"}), on="target")
        .sort("source", "target", "relation")
    )
    max_edge = max(float(edges.filter(pl.col("relation") == "gifted").get_column("coins").max() or 0.0), 1.0)
    edge_rows = [_edge_row(e, max_edge) for e in edges.iter_rows(named=True)]
    edge_frame = pl.DataFrame(edge_rows, schema={"source": pl.Utf8, "target": pl.Utf8, "relation": pl.Utf8,
                                                 "width": pl.Float64, "tooltip": pl.Utf8}, orient="row")
    # for the filters: coins of the gift edges, and the timeline's bins each dated edge has events in
    gift_edge = pl.col("relation").is_in(["gifted", "gifted_in"])
    edge_frame = edge_frame.with_columns(
        pl.when(gift_edge).then(edges.get_column("coins")).otherwise(None).alias("coins"))
    if timeline is not None:
        seen = (apply_window(tables, since, until).devices if sightings is None else sightings).join(
            nodes.filter(pl.col("kind") == "account").select(pl.col("key").alias("user_id")), on="user_id", how="semi")
        binned = edge_bins(sent, timeline, seen).join(
            edges.select(pl.col("source"), pl.col("target"), "relation", pl.col("sid"), pl.col("tid")),
            on=["source", "target", "relation"]).select(pl.col("sid").alias("source"), pl.col("tid").alias("target"),
                                                         "relation", "bins")
        edge_frame = edge_frame.join(binned, on=["source", "target", "relation"], how="left", maintain_order="left")
    notes = [redactor.text(n, ids_in_view) if redactor else n for n in evidence.notes]
    return render_network(node_frame, edge_frame, title=title, panel=panel, legend=_legend(node_frame, edge_frame),
                          notes=notes, table=table, max_nodes=max_nodes, physics_max_nodes=physics_max_nodes,
                          seed=seed, timeline=timeline, reasons=ring_reasons, file_stem=file_stem)


_SERIES_ORDER = ("beneficiary", "funder", "member", "seed", "high risk", "account")


def _gifts_sent_in_view(gifts: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """The gifts (in the window) sent by the accounts drawn: the timeline's and the brush's events."""
    senders = nodes.filter(pl.col("kind") == "account").select(pl.col("key").alias("sender_id"))
    return (gifts.join(senders, on="sender_id", how="semi")
            .select("sender_id", "receiver_id", "stream_id", "coins", "sent_at"))


def _timeline(gifts: pl.DataFrame, nodes: pl.DataFrame, node_frame: pl.DataFrame, ring: "Ring | None",
              reasons: Sequence[str]) -> Timeline | None:
    """With a ring, the coins its members sent, by role; without, the coins of the accounts drawn, by colour group."""
    groups = node_frame.select("id", "group")
    accounts = nodes.filter(pl.col("kind") == "account")
    if ring is not None:
        accounts = accounts.filter(pl.col("in_ring"))
    series_of = accounts.select(pl.col("key").alias("user_id"), "id").join(groups, on="id").select(
        "user_id", pl.col("group").alias("series"))
    return gift_timeline(gifts, series_of, order=_SERIES_ORDER, reasons=reasons if ring is not None else ())


def _member_table(nodes: pl.DataFrame, ring: "Ring", gifts: pl.DataFrame, near: pl.DataFrame, tables: "Tables",
                  since: str | None, until: str | None) -> TableBlock:
    """The ring's members drawn on its page: id, role, score, coins in and out, first and last gift, devices,
    IPs; a click on a row focuses the node."""
    order = {"beneficiary": 0, "funder": 1, "member": 2}
    members = (
        nodes.filter(pl.col("in_ring"))
        .with_columns(pl.when(pl.col("ring_id") == ring.ring_id).then(pl.col("role")).otherwise(pl.lit("member"))
                      .fill_null("member").alias("role"))
        .with_columns(pl.col("role").replace_strict(order, default=3, return_dtype=pl.Int64).alias("__order"))
        .sort(["__order", "coins_received", "key"], descending=[False, True, False])
    )
    keys = members.select(pl.col("key").alias("user_id"))
    windowed = apply_window(tables, since, until)
    received = near.join(keys.rename({"user_id": "receiver_id"}), on="receiver_id", how="semi")
    times = (pl.concat([gifts.select(pl.col("sender_id").alias("user_id"), "sent_at"),
                        received.select(pl.col("receiver_id").alias("user_id"), "sent_at")])
             .join(keys, on="user_id", how="semi").group_by("user_id")
             .agg(pl.col("sent_at").min().alias("first"), pl.col("sent_at").max().alias("last")))
    used = windowed.devices.join(keys, on="user_id", how="semi").group_by("user_id").agg(
        pl.col("device_id").drop_nulls().n_unique().alias("devices"), pl.col("ip").drop_nulls().n_unique().alias("ips"))
    members = (members.join(times.rename({"user_id": "key"}), on="key", how="left", maintain_order="left")
               .join(used.rename({"user_id": "key"}), on="key", how="left", maintain_order="left")
               .with_columns(pl.col("devices", "ips").fill_null(0)))
    rows = tuple(zip(members.get_column("name").to_list(), members.get_column("role").to_list(),
                     members.get_column("score").round(2).to_list(), members.get_column("coins_received").to_list(),
                     members.get_column("coins_sent").to_list(), [_when(t) if t else "" for t in members["first"]],
                     [_when(t) if t else "" for t in members["last"]], members.get_column("devices").to_list(),
                     members.get_column("ips").to_list()))
    return TableBlock(columns=("account", "role", "score", "coins received", "coins sent", "first gift (UTC)",
                               "last gift (UTC)", "devices", "IPs"), rows=rows,
                      focus=tuple(members.get_column("id").to_list()),
                      caption=(f"Members of ring {ring.ring_id} (coins, gifts sent or received, devices and IPs"
                               " over all the data in the report's time window):"
                               " click a row to find the account in the graph"))


def _node_row(row: dict[str, Any], total: float, max_coins: float, max_pr: float, ring: "Ring | None",
              ring_reasons: list[str]) -> tuple:
    kind, name = row["kind"], row["name"]
    lines = [f"{KIND_WORD[kind]} {name}"]
    how = row["how"]
    if row["via_key"] is not None:
        how = how.replace(row["via_key"], row["via_name"], 1)
    if kind == "account":
        in_ring = row["in_ring"]
        role = row["role"] if row["ring_id"] is not None else None
        if row["ring_id"] is not None:
            lines.append(f"ring: {row['ring_id']}" + (f" ({role})" if role else ""))
        if in_ring and (row["ring_id"] != ring.ring_id or role is None):
            role = "member"  # a member of the ring drawn, whatever the scores say
        lines.append(f"score: {row['score']:.2f}" if row["score"] is not None else "score: (not scored)")
        if row["age_days"] is not None:
            lines.append(f"age at the first gift it sent: {row['age_days']:,.0f} days")
        lines.append(f"coins sent: {format_coins(row['coins_sent'])}; received: {format_coins(row['coins_received'])}")
        if row["pagerank"] is not None:
            lines.append(f"pagerank: {row['pagerank']:.5f}")
        node_type = "host" if row["host"] or role == "beneficiary" else "account"
        if row["seed"] and ring is None:
            group = "seed"
        elif role in ("beneficiary", "funder", "member") and (ring is None or in_ring):
            group = role
        elif row["score"] is not None and row["score"] >= _HIGH_RISK:
            group = "high risk"
        else:
            group = "account"
        if max_pr > 0 and row["pagerank"] is not None:
            weight = math.sqrt(row["pagerank"] / max_pr)
        else:
            weight = math.sqrt(total / max_coins)
        if ring is None:
            size = 8.0 + 32.0 * weight
        elif in_ring:  # the ring stands out from its context, by role
            size = ROLE_SIZES.get(role or "member", ROLE_SIZES["member"])
        else:
            size = 4.0 + (_CONTEXT_MAX - 4.0) * weight
        if in_ring and ring_reasons:
            lines.append("ring reasons:")
            lines.extend(f"- {r}" for r in ring_reasons[:4])
    else:
        node_type = kind
        linked = row["accounts"]
        lines.append(f"linked to {linked:,} account{'s' if linked != 1 else ''} in the data")
        if row["hub"]:
            lines.append("shared identifier (hub): shown, not expanded through")
        group = "hub" if row["hub"] else kind
        size = 8.0 + 3.0 * math.log1p(linked)
        if ring is not None:
            size = min(size, _CONTEXT_MAX)
        in_ring = False
    if not row["seed"]:
        lines.append(f"reached in {row['hops']} hop{'s' if row['hops'] != 1 else ''}: {how}")
    shown = display_text(name)
    label = shown if len(shown) <= 30 else shown[:29] + "\u2026"  # the full id is in the tooltip and the search
    # each line in its display form: an id's own line breaks or bidi controls cannot fake a line of evidence
    tooltip = "\n".join(display_text(line) for line in lines)
    # in focus: a ring's members; without a ring, the starting points and what they reach in one link
    focus = in_ring if ring is not None else row["hops"] <= 1
    one, many = (None, None) if focus else CONTEXT_WORDS["hub" if group == "hub" else node_type]
    return (row["id"], label, node_type, group, round(size, 2), tooltip, row["importance"], row["seed"], many, one)


def _edge_row(e: dict[str, Any], max_edge: float) -> tuple:
    rel = e["relation"]
    span = f"{_when(e['first_at'])} .. {_when(e['last_at'])}"
    source, target = display_text(e["sname"]), display_text(e["tname"])
    if rel == "gifted":
        width = 1.0 + 7.0 * math.sqrt(e["coins"] / max_edge)
        text = (f"{source} gifted {format_coins(e['coins'])} coins to {target}\n"
                f"{plural(e['count'], 'gift')}, {span}")
    elif rel == "gifted_in":
        width = 1.0 + 3.0 * math.sqrt(e["coins"] / max_edge)
        text = (f"{source} gifted {format_coins(e['coins'])} coins in stream {target}\n"
                f"{plural(e['count'], 'gift')}, {span}")
    elif rel == "hosted":
        width, text = 1.5, f"{source} hosted stream {target}\n{span}"
    else:
        width = 1.0
        text = f"{source} {_RELATION_WORD[rel]} {target}\nseen {plural(e['count'], 'time')}, {span}"
    return (e["sid"], e["tid"], rel, round(width, 2), text)


def _legend(nodes: pl.DataFrame, edges: pl.DataFrame) -> list[LegendItem]:
    items = []
    order = ["seed", "beneficiary", "funder", "member", "high risk", "account", "device", "ip", "stream", "hub"]
    words = {"ip": "IP", "hub": "hub identifier (not expanded)", "account": "other account",
             "high risk": "high-risk account (score >= 0.5)", "seed": "starting point"}
    present = set(nodes.get_column("group").to_list())
    for group in order:
        if group in present:
            shape = {"device": "square", "ip": "triangle", "stream": "diamond", "hub": "square"}.get(group, "dot")
            items.append(LegendItem(words.get(group, group), GROUP_COLORS[group], shape))
    types = set(nodes.get_column("type").to_list())
    if "host" in types:
        items.append(LegendItem("star: host (receives gifts)", "#555555", "star"))
    for rel in sorted(set(edges.get_column("relation").to_list())):
        items.append(LegendItem(f"edge: {rel.replace('_', ' ')}", EDGE_COLORS[rel], "line"))
    return items
