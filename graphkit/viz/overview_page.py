"""The overview page (``index.html``): the summary, a sortable ring table and a graph of rings."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence
from urllib.parse import quote

import polars as pl

from graphkit.config import Config
from graphkit.graphs.window import apply_window
from graphkit.util.format import format_coins, format_number, name_words, plural
from graphkit.viz.network import EDGE_COLORS, GROUP_COLORS, LegendItem, TableBlock, render_network
from graphkit.viz.redact import Redactor
from graphkit.viz.ring_page import check_ring_id
from graphkit.graphs.projections import is_hub, is_placeholder

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.io import Tables
    from graphkit.model import Report, Ring

__all__ = ["overview", "report_config"]

def _score_group(score: float) -> str:
    if score >= 0.8:
        return "score >= 0.8"
    if score >= 0.6:
        return "score 0.6-0.8"
    if score >= 0.4:
        return "score 0.4-0.6"
    return "score < 0.4"


def _ring_links(rings: Sequence["Ring"], tables: "Tables", hub_cap: int, placeholders: tuple[str, ...]) -> pl.DataFrame:
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
            .filter(~is_hub(pl.col("n"), hub_cap, (column == "device_id") & is_placeholder(pl.col(column), placeholders)))
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
        label = f"{prefix}{name_words(key)}"
        if isinstance(value, dict):
            lines.extend(_summary_lines(value, prefix=f"{label} "))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            lines.append(f"{label}: {value}")
        else:
            lines.append(f"{label}: {format_number(value)}")
    return lines


def overview(report: "Report", *, top: int | None = None, redactor: Redactor | None = None,
             config: Config | None = None) -> str:
    """The overview page: summary, a compact ring table beside a graph of rings, ranked by score.

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
    config = config or report_config(report)
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
        node_rows.append((check_ring_id(r.ring_id), r.ring_id, "ring", _score_group(r.score),
                          12.0 + 38.0 * math.sqrt(r.coins_total / max_coins), tip, r.score))
    nodes = pl.DataFrame(node_rows, schema={"id": pl.Utf8, "label": pl.Utf8, "type": pl.Utf8, "group": pl.Utf8,
                                            "size": pl.Float64, "tooltip": pl.Utf8, "importance": pl.Float64},
                         orient="row")
    links = None
    if report.tables is not None and rings:  # the links in the report's time window, like everything else it shows
        links = _ring_links(rings, apply_window(report.tables, config.since, config.until), config.hub_cap,
                            config.placeholder_device_ids)
    edge_rows = []
    if links is not None:
        top_coins = max(float(links.get_column("coins").max() or 0.0), 1.0)
        for a, b, rel, coins, count in links.rows():
            if rel == "money":
                edge_rows.append((a, b, rel, 1.0 + 7.0 * math.sqrt(coins / top_coins),
                                  f"ring {a} members gifted {format_coins(coins)} coins to ring {b} members ({count:,} gifts)"))
            else:
                edge_rows.append((a, b, rel, 1.0 + math.log1p(count),
                                  f"rings {a} and {b} share {plural(count, 'identifier')}: devices or IPs"))
    edges = pl.DataFrame(edge_rows, schema={"source": pl.Utf8, "target": pl.Utf8, "relation": pl.Utf8,
                                            "width": pl.Float64, "tooltip": pl.Utf8}, orient="row")
    summary = _summary_lines(report.summary)
    # compact, beside the graph, ranked by score: a click on a row finds the ring in the graph, its id opens its page
    table = TableBlock(
        columns=("ring", "rank", "score", "members", "coins"),
        rows=tuple((r.ring_id, r.rank, round(r.score, 3), r.size, round(r.coins_total, 2)) for r in rings),
        links=tuple(f"rings/{quote(r.ring_id)}.html" for r in rings),
        focus=tuple(check_ring_id(r.ring_id) for r in rings),
        caption=(f"The {len(rings):,} highest-scoring rings, by score: click a row to find the ring in the graph,"
                 " its id to open its page, a column to sort."),
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
                          seed=config.seed, file_stem="graphkit-overview", table_beside=True)


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


def report_config(report: "Report") -> Config:
    known = set(Config.__dataclass_fields__)
    return Config().replace(**{k: v for k, v in report.params.items() if k in known})
