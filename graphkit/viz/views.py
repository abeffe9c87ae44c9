"""The investigator's views: one page per ring, an overview, an escalation view.

All of them turn evidence (:mod:`graphkit.detect.evidence`) into the node and
edge frames of :func:`graphkit.viz.network.render_network`, so they share its
guarantees: self-contained, offline, every data string escaped, tooltips as
plain text. With a :class:`~graphkit.viz.redact.Redactor` every id (accounts,
devices, IPs, streams), also inside reason sentences, becomes a keyed pseudonym.
"""

from __future__ import annotations

import html as _html
import math
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import quote

import polars as pl

from graphkit.config import Config
from graphkit.detect.evidence import Evidence, entity_edges, evidence_graph, neighbourhood_edges
from graphkit.detect.signals import account_ages
from graphkit.errors import InputError
from graphkit.graphs.window import apply_window
from graphkit.util.atomic import atomic_write_text
from graphkit.util.display import display_text
from graphkit.viz.network import EDGE_COLORS, GROUP_COLORS, LegendItem, TableBlock, render_network
from graphkit.viz.redact import Redactor
from graphkit.util.format import format_coins

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.io import Tables
    from graphkit.model import Report, Ring

__all__ = ["evidence_view", "expand_view", "overview", "ring_view", "show", "write_views"]

_RING_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")
_KIND_WORD = {"account": "account", "device": "device", "ip": "IP", "stream": "stream"}
_RELATION_WORD = {"used_device": "used device", "used_ip": "used IP", "gifted_in": "gifted in stream",
                  "hosted": "hosted stream"}
_HIGH_RISK = 0.5


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "?"


def _names(frame: pl.DataFrame, key: str, kind: str | pl.Series, redactor: Redactor | None) -> pl.Series:
    values = frame.get_column(key)
    return redactor.series(values, kind) if redactor is not None else values


def _account_facts(tables: "Tables", keys: pl.Series, user_scores: pl.DataFrame | None,
                   user_features: pl.DataFrame | None, *, since: str | None = None,
                   until: str | None = None) -> pl.DataFrame:
    """Per account in ``keys``: score, ring_id, role, age_days, pagerank, host (bool).

    ``age_days`` is the one account age of graphkit (:func:`graphkit.detect.signals.age_days`),
    on the gifts of the window ``since``/``until``.
    """
    base = keys.unique().to_frame("user_id")
    users = tables.users.select("user_id", "created_at").unique("user_id", keep="first")
    ages = account_ages(apply_window(tables, since, until).gifts, users)
    facts = (
        base.join(users, on="user_id", how="left")
        .join(ages, on="user_id", how="left")
        .sort("user_id")
    )
    hosts = tables.streams.select(pl.col("host_id").alias("user_id")).unique().with_columns(pl.lit(True).alias("host"))
    facts = facts.join(hosts, on="user_id", how="left").with_columns(pl.col("host").fill_null(False))
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
) -> str:
    """Render an :class:`Evidence` neighbourhood as an HTML page.

    Node shape by type (account, host, device, IP, stream), colour by role in
    a ring or risk (``user_scores``), size by PageRank (``user_features``) or
    coins, edge width by coins and colour by relation. Tooltips carry the id,
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

    Returns
    -------
    str
        The HTML document.
    """
    nodes = evidence.nodes
    accounts = nodes.filter(pl.col("kind") == "account").get_column("key")
    if account_facts is None:
        facts = _account_facts(tables, accounts, user_scores, user_features, since=since, until=until)
    else:
        facts = account_facts.join(accounts.unique().to_frame("user_id"), on="user_id", how="semi")
    nodes = nodes.join(facts.rename({"user_id": "key"}), on="key", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("kind") == "account").then(pl.col(c)).alias(c)
        for c in ("score", "ring_id", "role", "age_days", "pagerank", "host", "created_at")
    )
    kinds = nodes.get_column("kind")
    names = _names(nodes, "key", kinds, redactor)
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
                                            "pinned": pl.Boolean}, orient="row")

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
    notes = [redactor.text(n, ids_in_view) if redactor else n for n in evidence.notes]
    return render_network(node_frame, edge_frame, title=title, panel=panel, legend=_legend(node_frame, edge_frame),
                          notes=notes, max_nodes=max_nodes, physics_max_nodes=physics_max_nodes, seed=seed)


def _node_row(row: dict[str, Any], total: float, max_coins: float, max_pr: float, ring: "Ring | None",
              ring_reasons: list[str]) -> tuple:
    kind, name = row["kind"], row["name"]
    lines = [f"{_KIND_WORD[kind]} {name}"]
    how = row["how"]
    if row["via_key"] is not None:
        how = how.replace(row["via_key"], row["via_name"], 1)
    if kind == "account":
        in_ring = ring is not None and row["ring_id"] == ring.ring_id
        role = row["role"] if row["ring_id"] is not None else None
        if row["ring_id"] is not None:
            lines.append(f"ring: {row['ring_id']}" + (f" ({role})" if role else ""))
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
            size = 8.0 + 32.0 * math.sqrt(row["pagerank"] / max_pr)
        else:
            size = 8.0 + 32.0 * math.sqrt(total / max_coins)
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
    if not row["seed"]:
        lines.append(f"reached in {row['hops']} hop{'s' if row['hops'] != 1 else ''}: {how}")
    shown = display_text(name)
    label = shown if len(shown) <= 30 else shown[:29] + "\u2026"  # the full id is in the tooltip and the search
    # each line in its display form: an id's own line breaks or bidi controls cannot fake a line of evidence
    tooltip = "\n".join(display_text(line) for line in lines)
    return (row["id"], label, node_type, group, round(size, 2), tooltip, row["importance"], row["seed"])


def _edge_row(e: dict[str, Any], max_edge: float) -> tuple:
    rel = e["relation"]
    span = f"{_when(e['first_at'])} .. {_when(e['last_at'])}"
    source, target = display_text(e["sname"]), display_text(e["tname"])
    if rel == "gifted":
        width = 1.0 + 7.0 * math.sqrt(e["coins"] / max_edge)
        text = (f"{source} gifted {format_coins(e['coins'])} coins to {target}\n"
                f"{e['count']:,} gift{'s' if e['count'] != 1 else ''}, {span}")
    elif rel == "gifted_in":
        width = 1.0 + 3.0 * math.sqrt(e["coins"] / max_edge)
        text = (f"{source} gifted {format_coins(e['coins'])} coins in stream {target}\n"
                f"{e['count']:,} gift{'s' if e['count'] != 1 else ''}, {span}")
    elif rel == "hosted":
        width, text = 1.5, f"{source} hosted stream {target}\n{span}"
    else:
        width = 1.0
        text = f"{source} {_RELATION_WORD[rel]} {target}\nseen {e['count']:,} time(s), {span}"
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


# --------------------------------------------------------------------------- rings


def _check_ring_id(ring_id: str) -> str:
    if not _RING_ID.match(ring_id):
        raise InputError(f"ring id {ring_id!r} cannot be a file name; use letters, digits, '_', '-' and '.'")
    return ring_id


def ring_view(
    ring: "Ring",
    tables: "Tables",
    user_scores: pl.DataFrame | None = None,
    *,
    user_features: pl.DataFrame | None = None,
    config: Config = Config(),
    redactor: Redactor | None = None,
    edges: pl.DataFrame | None = None,
    facts: pl.DataFrame | None = None,
    account_facts: pl.DataFrame | None = None,
) -> str:
    """The HTML view of one ring: its members and their direct evidence.

    Members are the seeds; one hop out shows their devices, IPs, streams and
    the accounts they exchanged gifts with (the hosts the money went to).

    Parameters
    ----------
    ring : Ring
        The ring (``Report.rings``).
    tables : Tables
        The input (``Report.tables``).
    user_scores : polars.DataFrame, optional
        ``Report.user_scores``.
    user_features : polars.DataFrame, optional
        ``Report.user_features`` (PageRank sizes the nodes when present).
    config : Config
        ``view_max_nodes``, ``physics_max_nodes``, ``hub_cap``, ``seed``, ``since``, ``until``.
    redactor : Redactor, optional
        Keyed pseudonyms for every id.
    edges : polars.DataFrame, optional
        A precomputed :func:`graphkit.detect.evidence.entity_edges` frame (when drawing many rings).
    facts : polars.DataFrame, optional
        :func:`graphkit.detect.evidence.node_facts` of the whole edge frame
        (or at least of the nodes around the ring), when ``edges`` is cut
        down to the edges around the ring
        (:func:`graphkit.detect.evidence.neighbourhood_edges` gives both).
    account_facts : polars.DataFrame, optional
        See :func:`evidence_view`.

    Returns
    -------
    str
        The HTML document.
    """
    if edges is None:
        edges = entity_edges(tables, since=config.since, until=config.until)
    seeds = [f"account:{m}" for m in ring.members]
    ev = evidence_graph(tables, seeds, hops=1, hub_cap=config.hub_cap, max_nodes=config.view_max_nodes, edges=edges,
                        facts=facts)
    ids = list(zip(ev.nodes.get_column("kind").to_list(), ev.nodes.get_column("key").to_list()))
    red = (lambda s: redactor.text(s, ids)) if redactor is not None else (lambda s: s)
    name = (lambda s: redactor.pseudonym(s)) if redactor is not None else (lambda s: s)
    panel: list[tuple[str, list[str]]] = [
        (f"Ring {ring.ring_id}", [
            f"rank {ring.rank}, score {ring.score:.2f}",
            f"kind: {ring.kind}",
            f"{ring.size:,} members; {format_coins(ring.coins_total)} coins sent",
            *([f"found by: {', '.join(ring.sources)}"] if ring.sources else []),
        ]),
        ("Reasons", [red(r) for r in ring.reasons] or ["(none)"]),
    ]
    if ring.beneficiaries:
        panel.append(("Beneficiaries", [
            f"{name(b.user_id)}: {format_coins(b.coins_in)} coins ({b.share_of_ring:.0%} of the ring's coins)"
            for b in ring.beneficiaries
        ]))
    if ring.money_path:
        panel.append(("Money path", [ring.describe_money_path(name)]))
    if ring.signals:
        panel.append(("Signals", [f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
                                  for k, v in sorted(ring.signals.items())]))
    panel.append(("Members", [name(m) for m in ring.members[:200]] +
                  ([f"... and {ring.size - 200:,} more"] if ring.size > 200 else [])))
    return evidence_view(ev, tables, title=f"graphkit ring {ring.ring_id}: score {ring.score:.2f}, {ring.kind}",
                         panel=panel, user_scores=user_scores, user_features=user_features, ring=ring,
                         max_nodes=config.view_max_nodes, physics_max_nodes=config.physics_max_nodes,
                         seed=config.seed, redactor=redactor, account_facts=account_facts,
                         since=config.since, until=config.until)


def _score_group(score: float) -> str:
    if score >= 0.8:
        return "score >= 0.8"
    if score >= 0.6:
        return "score 0.6-0.8"
    if score >= 0.4:
        return "score 0.4-0.6"
    return "score < 0.4"


def _ring_links(rings: Sequence["Ring"], tables: "Tables", hub_cap: int) -> pl.DataFrame:
    """Edges between rings: coins gifted across them, and identifiers they share."""
    membership = pl.DataFrame(
        {"user_id": [m for r in rings for m in r.members], "ring": [r.ring_id for r in rings for _ in r.members]},
        schema={"user_id": pl.Utf8, "ring": pl.Utf8},
    ).unique("user_id", keep="first", maintain_order=True)
    money = (
        tables.gifts.join(membership.rename({"user_id": "sender_id", "ring": "a"}), on="sender_id")
        .join(membership.rename({"user_id": "receiver_id", "ring": "b"}), on="receiver_id")
        .filter(pl.col("a") != pl.col("b"))
        .group_by("a", "b").agg(pl.col("coins").sum().alias("coins"), pl.len().alias("count"))
        .with_columns(pl.lit("money").alias("relation"))
    )
    # the identifiers ring members used, each counted over every account that used it (hubs left out)
    used = tables.devices.join(membership, on="user_id")
    ring_idents = []
    for column, label in (("device_id", "device "), ("ip", "IP ")):
        mine = used.select(column, "ring").drop_nulls().unique()
        wanted = mine.get_column(column).unique().implode()
        small = (
            tables.devices.filter(pl.col(column).is_in(wanted))
            .group_by(column).agg(pl.col("user_id").n_unique().alias("n"))
            .filter(pl.col("n") <= hub_cap)
        )
        ring_idents.append(mine.join(small.select(column), on=column).select(
            (pl.lit(label) + pl.col(column)).alias("ident"), "ring"))
    ring_idents = pl.concat(ring_idents).unique()
    shared = (
        ring_idents.join(ring_idents, on="ident", suffix="_b")
        .filter(pl.col("ring") < pl.col("ring_b"))
        .group_by(pl.col("ring").alias("a"), pl.col("ring_b").alias("b"))
        .agg(pl.lit(0.0).alias("coins"), pl.len().alias("count"))
        .with_columns(pl.lit("shared identifiers").alias("relation"))
    )
    cols = ["a", "b", "relation", "coins", "count"]
    return pl.concat([money.select(cols).cast({"count": pl.Int64}), shared.select(cols).cast({"count": pl.Int64})]
                     ).sort("a", "b", "relation")


def _summary_lines(summary: dict, prefix: str = "") -> list[str]:
    """``name: value`` lines with thousands separators; nested tables flattened (``baseline young days: 6.9``)."""
    lines = []
    for key, value in summary.items():
        label = f"{prefix}{key.replace('_', ' ')}"
        if isinstance(value, dict):
            lines.extend(_summary_lines(value, prefix=f"{label} "))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            lines.append(f"{label}: {value}")
        elif isinstance(value, int) or float(value).is_integer():
            lines.append(f"{label}: {int(value):,}")
        else:
            lines.append(f"{label}: {value:,.2f}")
    return lines


def overview(report: "Report", *, top: int | None = None, redactor: Redactor | None = None,
             config: Config | None = None) -> str:
    """The overview page: summary, a sortable ring table and a graph of rings.

    Each node is a ring (size by coins, colour by score); edges are coins
    gifted between rings and identifiers (devices/IPs, hubs left out) they share.
    Double-clicking a ring opens ``rings/<ring_id>.html``.

    Parameters
    ----------
    report : Report
        The result of :func:`graphkit.pipeline.analyze`.
    top : int, optional
        Rings shown (default ``config.top``).
    redactor : Redactor, optional
        Keyed pseudonyms for every id.
    config : Config, optional
        Default: built from ``report.params``.

    Returns
    -------
    str
        The HTML document.
    """
    config = config or _config_from(report)
    rings = list(report.rings[: top if top is not None else config.top])
    ids = _ids_of_members([m for r in rings for m in r.members], report.tables) if redactor is not None else []
    red = (lambda s: redactor.text(s, ids)) if redactor is not None else (lambda s: s)
    name = (lambda s: redactor.pseudonym(s)) if redactor is not None else (lambda s: s)
    max_coins = max([r.coins_total for r in rings] + [1.0])
    node_rows = []
    for r in rings:
        bens = ", ".join(name(b.user_id) for b in r.beneficiaries[:3]) or "none"
        tip = "\n".join([f"ring {r.ring_id} (rank {r.rank})", f"score: {r.score:.2f}", f"kind: {r.kind}",
                         f"members: {r.size:,}", f"coins sent: {format_coins(r.coins_total)}", f"beneficiaries: {bens}",
                         *(red(x) for x in r.reasons[:3]), "double-click to open"])
        node_rows.append((_check_ring_id(r.ring_id), r.ring_id, "ring", _score_group(r.score),
                          12.0 + 38.0 * math.sqrt(r.coins_total / max_coins), tip, r.score))
    nodes = pl.DataFrame(node_rows, schema={"id": pl.Utf8, "label": pl.Utf8, "type": pl.Utf8, "group": pl.Utf8,
                                            "size": pl.Float64, "tooltip": pl.Utf8, "importance": pl.Float64},
                         orient="row")
    links = None
    if report.tables is not None and rings:  # the links in the report's time window, like everything else it shows
        links = _ring_links(rings, apply_window(report.tables, config.since, config.until), config.hub_cap)
    edge_rows = []
    if links is not None:
        top_coins = max(float(links.get_column("coins").max() or 0.0), 1.0)
        for a, b, rel, coins, count in links.rows():
            if rel == "money":
                edge_rows.append((a, b, rel, 1.0 + 7.0 * math.sqrt(coins / top_coins),
                                  f"ring {a} members gifted {format_coins(coins)} coins to ring {b} members ({count:,} gifts)"))
            else:
                edge_rows.append((a, b, rel, 1.0 + math.log1p(count),
                                  f"rings {a} and {b} share {count:,} device(s)/IP(s)"))
    edges = pl.DataFrame(edge_rows, schema={"source": pl.Utf8, "target": pl.Utf8, "relation": pl.Utf8,
                                            "width": pl.Float64, "tooltip": pl.Utf8}, orient="row")
    summary = _summary_lines(report.summary)
    table = TableBlock(
        columns=("ring", "rank", "score", "size", "coins", "beneficiaries", "first reason"),
        rows=tuple(
            (r.ring_id, r.rank, round(r.score, 3), r.size, round(r.coins_total, 2),
             "; ".join(name(b.user_id) for b in r.beneficiaries), red(r.reasons[0]) if r.reasons else "")
            for r in rings
        ),
        links=tuple(f"rings/{quote(r.ring_id)}.html" for r in rings),
        caption=f"The {len(rings):,} highest-scoring rings; click a column to sort, a ring to open its view.",
    )
    legend = [LegendItem(g, GROUP_COLORS[g], "dot") for g in ("score >= 0.8", "score 0.6-0.8", "score 0.4-0.6",
                                                              "score < 0.4")]
    legend += [LegendItem("edge: coins between rings", EDGE_COLORS["money"], "line"),
               LegendItem("edge: shared devices/IPs", EDGE_COLORS["shared identifiers"], "line")]
    notes = [] if len(rings) == len(report.rings) else [
        f"{len(report.rings) - len(rings):,} lower-scoring rings are in rings.json but not drawn here."]
    return render_network(nodes, edges, title="graphkit overview", panel=[("Summary", summary)], legend=legend,
                          notes=notes, table=table, links={r.ring_id: f"rings/{quote(r.ring_id)}.html" for r in rings},
                          max_nodes=config.view_max_nodes, physics_max_nodes=config.physics_max_nodes,
                          seed=config.seed)


def _ids_of_members(members: list[str], tables: "Tables | None") -> list[tuple[str, str]]:
    """(kind, id) of the members and of the devices, IPs and streams they used or hosted (for redaction)."""
    ids = [("account", m) for m in members]
    if tables is None:
        return ids
    who = pl.DataFrame({"user_id": members}, schema={"user_id": pl.Utf8})
    used = tables.devices.join(who, on="user_id", how="semi")
    for kind, column in (("device", "device_id"), ("ip", "ip")):
        ids += [(kind, v) for v in used.get_column(column).drop_nulls().unique().sort().to_list()]
    hosted = tables.streams.join(who.rename({"user_id": "host_id"}), on="host_id", how="semi")
    gifted = tables.gifts.join(who.rename({"user_id": "sender_id"}), on="sender_id", how="semi")
    streams = pl.concat([hosted.get_column("stream_id"), gifted.get_column("stream_id")]).drop_nulls().unique().sort()
    return ids + [("stream", v) for v in streams.to_list()]


def _config_from(report: "Report") -> Config:
    known = set(Config.__dataclass_fields__)
    return Config().replace(**{k: v for k, v in report.params.items() if k in known})


def write_views(report: "Report", out_dir: str | Path, *, top: int | None = None,
                redactor: Redactor | None = None, config: Config | None = None) -> list[Path]:
    """Write ``OUT_DIR/index.html`` and ``OUT_DIR/rings/<ring_id>.html`` (one per ring, up to ``top``).

    Each file is written atomically and is self-contained (vis-network
    inlined), so a single ring page can be attached to a case on its own.

    Parameters
    ----------
    report : Report
        Needs ``tables``; ``user_scores`` and ``user_features`` are used when present.
    out_dir : path
        The output folder.
    top : int, optional
        How many rings get a page (default ``config.top``).
    redactor : Redactor, optional
        Keyed pseudonyms for every id (``--redact``).
    config : Config, optional
        Default: built from ``report.params``.

    Returns
    -------
    list of Path
        The files written, index first.
    """
    if report.tables is None:
        raise InputError("the report carries no tables; views need the input tables (Report.tables)")
    config = config or _config_from(report)
    top = config.top if top is None else top
    out = Path(out_dir)
    # a ring view reaches one link from its members: only the edges among those nodes are built, with
    # the platform-wide facts of their nodes, and the account facts of every account among them, once
    members = [m for ring in report.rings[:top] for m in ring.members]
    around, facts = neighbourhood_edges(report.tables, members, since=config.since, until=config.until,
                                        hub_cap=config.hub_cap)
    ends = pl.concat([around.get_column("source"), around.get_column("target"),
                      pl.Series("source", [f"account:{m}" for m in members], dtype=pl.Utf8)])
    accounts = ends.filter(ends.str.starts_with("account:")).str.strip_prefix("account:").unique()
    account_facts = _account_facts(report.tables, accounts, report.user_scores, report.user_features,
                                   since=config.since, until=config.until)
    written = [atomic_write_text(overview(report, top=top, redactor=redactor, config=config), out / "index.html")]
    for ring in report.rings[:top]:
        page = ring_view(ring, report.tables, report.user_scores, user_features=report.user_features,
                         config=config, redactor=redactor, edges=around, facts=facts, account_facts=account_facts)
        written.append(atomic_write_text(page, out / "rings" / f"{_check_ring_id(ring.ring_id)}.html"))
    return written


def expand_view(
    evidence: Evidence,
    tables: "Tables",
    *,
    user_scores: pl.DataFrame | None = None,
    user_features: pl.DataFrame | None = None,
    config: Config = Config(),
    redactor: Redactor | None = None,
    hops: int | None = None,
) -> str:
    """The escalation view of ``graphkit expand``: the network around the seeds.

    Parameters
    ----------
    evidence : Evidence
        From :func:`graphkit.detect.evidence.evidence_graph`.
    tables : Tables
        The input.
    user_scores, user_features : polars.DataFrame, optional
        As in :func:`evidence_view`.
    config : Config
        ``view_max_nodes``, ``physics_max_nodes``, ``seed``.
    redactor : Redactor, optional
        Keyed pseudonyms for every id.
    hops : int, optional
        Shown in the panel.

    Returns
    -------
    str
        The HTML document.
    """
    nodes = evidence.nodes
    seeds = nodes.filter(pl.col("seed"))
    seed_names = _names(seeds, "key", seeds.get_column("kind"), redactor).to_list()
    counts = nodes.group_by("kind").len().sort("kind")
    panel = [
        ("Starting points", [f"{_KIND_WORD[k]} {n}" for k, n in zip(seeds.get_column("kind").to_list(), seed_names)]),
        ("Reached", [f"{n:,} {_KIND_WORD[k]}{'s' if n != 1 else ''}" for k, n in counts.rows()]
         + ([f"within {hops} hop{'s' if hops != 1 else ''}"] if hops is not None else [])),
    ]
    title = "graphkit expand: " + ", ".join(seed_names[:5]) + (" ..." if len(seed_names) > 5 else "")
    return evidence_view(evidence, tables, title=title, panel=panel, user_scores=user_scores,
                         user_features=user_features, max_nodes=config.view_max_nodes,
                         physics_max_nodes=config.physics_max_nodes, seed=config.seed, redactor=redactor,
                         since=config.since, until=config.until)


def show(page: str, *, height: int = 720) -> None:
    """Display an HTML view inline in a Jupyter notebook.

    The page goes into a sandboxed ``<iframe srcdoc>`` (scripts allowed, no
    access to the notebook), so it behaves exactly like the file.

    Parameters
    ----------
    page : str
        A document from :func:`ring_view`, :func:`overview`, :func:`expand_view`.
    height : int
        Frame height in pixels.
    """
    import warnings

    from IPython.display import HTML, display

    frame = (f'<iframe srcdoc="{_html.escape(page, quote=True)}" sandbox="allow-scripts"'
             f' style="width:100%;height:{int(height)}px;border:1px solid #ddd"></iframe>')
    with warnings.catch_warnings():  # IPython suggests IFrame, which needs a URL; srcdoc keeps it offline
        warnings.simplefilter("ignore", UserWarning)
        display(HTML(frame))
