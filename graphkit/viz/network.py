"""A generic, data-in / HTML-out network view: one self-contained page.

:func:`render_network` takes a node frame and an edge frame and returns a
complete HTML document that draws them with vis-network (the build that ships
inside the pyvis package, inlined), with a legend, a node search box, a side
panel and plain-text tooltips.

Safety and offline use, by construction:

- every string from the data goes into the page either ``html.escape``-d or
  inside a ``<script type="application/json">`` block in which ``<``, ``>``,
  ``&``, U+2028/U+2029 and every other hidden character are ``\\uXXXX``-escaped;
  the page's own script builds tooltips as DOM elements with ``textContent``,
  so no data string is ever parsed as HTML;
- what the page shows of a string (labels, tooltips, panel, notes, tables,
  title) is its display form (:func:`graphkit.util.display.display_text`):
  bidi controls, zero-width characters and line breaks in ids appear as
  ``\\u202e``, so an id cannot reverse or hide the text around it; node ids
  (search, links) keep the exact strings;
- a Content-Security-Policy allows only the page's own inline scripts (by
  SHA-256 hash) and no network access at all (``default-src 'none'``);
- vis-network is inlined: the page makes no request when opened.

Scale: a view keeps at most ``max_nodes`` nodes (the most important, by the
``importance`` column) and says on the page what it left out. Positions are
precomputed with igraph; above ``physics_max_nodes`` nodes the physics
simulation is off and edges are straight, so 2,000 nodes draw in about a second.

Focus: with a ``context`` node column (ring pages), the nodes in focus are
laid out together in the middle and drawn at full strength; the context is
faded and collapsed into one counted node per kind around them, until a click
or the "show context" button shows it.

On every page: filters (minimum coins on an edge, edge kinds, node kinds,
minimum score) that say how much they hide; with a
:class:`~graphkit.viz.timeline.Timeline`, a histogram under the graph whose
brush keeps the edges dated in a range; downloads made in the page (PNG of the
canvas, CSV and GraphML of the selected or shown subgraph, as Blobs) and a
"copy reasons" button. The downloads carry the exact ids; CSV cells that a
spreadsheet would run as a formula start with ``'``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import igraph as ig
import numpy as np
import polars as pl
import pyvis

from graphkit.errors import InputError
from graphkit.util.display import display_text, hidden_pattern
from graphkit.util.format import plural
from graphkit.viz.timeline import Timeline

__all__ = [
    "EDGE_COLORS",
    "EDGE_KIND_WORDS",
    "GROUP_COLORS",
    "NODE_KIND_WORDS",
    "TYPE_SHAPES",
    "LegendItem",
    "TableBlock",
    "render_network",
    "script_json",
    "vis_network_js",
]

TYPE_SHAPES: dict[str, str] = {
    "account": "dot",
    "host": "star",
    "device": "square",
    "ip": "triangle",
    "stream": "diamond",
    "ring": "dot",
    "earlier ring": "square",
}
"""vis-network shape per node type."""

GROUP_COLORS: dict[str, str] = {
    "seed": "#6a3d9a",
    "beneficiary": "#d7301f",
    "funder": "#f16913",
    "member": "#fdae6b",
    "high risk": "#e7298a",
    "account": "#74a9cf",
    "device": "#33a02c",
    "ip": "#1f9e89",
    "stream": "#a6761d",
    "hub": "#bdbdbd",
    "score >= 0.8": "#99000d",
    "score 0.6-0.8": "#d7301f",
    "score 0.4-0.6": "#fc8d59",
    "score < 0.4": "#fdcc8a",
}
"""Node colour per group (role, risk or kind)."""

EDGE_COLORS: dict[str, str] = {
    "gifted": "#d95f02",
    "gifted_in": "#e6ab02",
    "hosted": "#a6761d",
    "used_device": "#33a02c",
    "used_ip": "#1f78b4",
    "context": "#b0bec5",
    "money": "#d95f02",
    "shared identifiers": "#33a02c",
}
"""Edge colour per relation."""

EDGE_KIND_WORDS: dict[str, str] = {
    "gifted": "gifts",
    "gifted_in": "gifts in a stream (co-gifting)",
    "used_device": "shared device",
    "used_ip": "shared IP",
    "hosted": "hosted a stream",
    "money": "coins between rings",
    "shared identifiers": "shared devices/IPs",
}
"""The words of the page's edge-kind filter, per relation (others show the relation itself)."""

NODE_KIND_WORDS: dict[str, str] = {"account": "accounts", "host": "hosts", "device": "devices", "ip": "IPs",
                                   "stream": "streams", "ring": "rings"}
"""The words of the page's node-kind filter, per node type."""

_DIRECTED = {"gifted", "gifted_in", "money"}
_FALLBACK_COLOR = "#999999"
_NODE_COLUMNS = ("id", "label", "type", "group", "size", "tooltip")
_EDGE_COLUMNS = ("source", "target", "relation", "width", "tooltip")
_NODE_EXTRA = ("score", "pinned")
_EDGE_EXTRA = ("coins", "bins")


@dataclass(frozen=True)
class LegendItem:
    """One legend row: a swatch (shape, colour) and its text."""

    label: str
    color: str
    shape: str = "dot"
    """``dot``, ``square``, ``triangle``, ``diamond``, ``star`` or ``line``."""


@dataclass(frozen=True)
class TableBlock:
    """A sortable table shown under the graph (text cells, escaped on rendering)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    links: tuple[str | None, ...] = ()
    """Per row, a relative URL for the first cell (or None); built by graphkit, never from data."""
    caption: str = ""
    focus: tuple[str | None, ...] = ()
    """Per row, the id of a node that a click on the row selects and centres (or None); the ids go into
    the page's JSON, the rows carry only their position."""


@dataclass(frozen=True)
class _Page:
    title: str
    panel: Sequence[tuple[str, Sequence[str]]] = ()
    legend: Sequence[LegendItem] = ()
    notes: Sequence[str] = ()
    table: TableBlock | None = None
    summary: str = ""
    context: int = 0
    edge_kinds: Sequence[str] = ()
    node_kinds: Sequence[str] = ()
    scored: bool = False
    timeline: Timeline | None = None
    series_colors: Sequence[str] = ()
    reasons: int = 0
    table_beside: bool = False


CONTEXT_COLOR = "#b0bec5"
"""Colour of a collapsed context group ("312 other accounts")."""


@lru_cache(maxsize=1)
def vis_network_js() -> str:
    """The vis-network build shipped with pyvis (inlined into every page)."""
    path = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2" / "vis-network.min.js"
    # a literal "</script" inside a JS string would end the inline block; "<\\/" means the same to JS
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` block.

    ``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\uXXXX`` escapes, so no
    string can close the script element or open a comment; so do the other
    hidden characters (:func:`graphkit.util.display.is_hidden`: bidi
    controls, zero-width characters), so none is in the page's source as
    such. JSON.parse gives back the original strings.

    Examples
    --------
    >>> script_json({"id": "</script><b>"})
    '{"id": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    # hidden characters (bidi controls, zero-width, separators) as JSON escapes: the same strings, no raw
    # character in the page's source that could reorder or hide what an editor or a viewer shows
    if text.isprintable():  # no Cc, Cf, Cs, Zl or Zp character: nothing to escape (the usual page)
        return text
    return hidden_pattern().sub(lambda m: "".join(f"\\u{unit:04x}" for unit in _utf16(m.group())), text)


def _utf16(char: str) -> list[int]:
    code = ord(char)
    if code <= 0xFFFF:
        return [code]
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]


def _check_columns(frame: pl.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{what} frame lacks column(s) {', '.join(missing)}; expected {', '.join(required)}")


def _cap(nodes: pl.DataFrame, edges: pl.DataFrame, max_nodes: int) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    if nodes.height <= max_nodes:
        return nodes, edges, []
    order = pl.col("importance") if "importance" in nodes.columns else pl.col("size")
    pinned = pl.col("pinned").fill_null(False) if "pinned" in nodes.columns else pl.lit(False)
    ranked = nodes.with_columns(order.alias("__rank"), pinned.alias("__pin")).with_row_index("__pos")
    ranked = ranked.sort(["__pin", "__rank", "__pos"], descending=[True, True, False], nulls_last=True)
    kept = ranked.head(max_nodes).sort("__pos")
    left = ranked.slice(max_nodes)
    by_type = left.group_by("type").len().sort("type")
    what = ", ".join(f"{n:,} {t}" for t, n in by_type.rows())
    ids = kept.select("id")
    edges = edges.join(ids.rename({"id": "source"}), on="source", how="semi").join(
        ids.rename({"id": "target"}), on="target", how="semi"
    )
    note = (f"Showing the {max_nodes:,} most important of {nodes.height:,} nodes (by coins and centrality);"
            f" left out: {what}.")
    return kept.drop("__rank", "__pin", "__pos"), edges, [note]


def _layout(nodes: pl.DataFrame, edges: pl.DataFrame, seed: int) -> np.ndarray:
    """Deterministic Fruchterman-Reingold positions, in pixels."""
    n = nodes.height
    if n == 0:
        return np.zeros((0, 2))
    index = nodes.select("id").with_row_index("vid")
    coded = (
        edges.join(index.rename({"id": "source", "vid": "s"}), on="source")
        .join(index.rename({"id": "target", "vid": "t"}), on="target")
        .filter(pl.col("s") != pl.col("t"))
        .select("s", "t")
        .unique()
        .sort("s", "t")
    )
    g = ig.Graph(n=n, edges=coded.to_numpy().tolist(), directed=False)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-1.0, 1.0, size=(n, 2)) * math.sqrt(n)
    previous = random.getstate()
    try:
        random.seed(seed)  # igraph draws from Python's `random` by default
        coords = np.asarray(g.layout_fruchterman_reingold(seed=start.tolist(), niter=300, grid="auto").coords)
    finally:
        random.setstate(previous)
    coords = coords - coords.mean(axis=0)
    extent = float(np.abs(coords).max()) or 1.0
    radius = 60.0 * math.sqrt(n) + 120.0
    return np.round(coords / extent * radius, 1)


def _fade(color: str) -> str:
    """``color`` blended 60% into white: context nodes recede behind the nodes in focus."""
    if not _is_color(color):
        color = _FALLBACK_COLOR
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * 0.6):02x}" for c in rgb)


def _collapse(nodes: pl.DataFrame, edges: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One summary node per context word (``"312 other accounts"``) and one edge per focus node and group.

    Returns the summary nodes (``id, label, type, group, size, tooltip, context``) and their edges.
    """
    ctx = nodes.filter(pl.col("context").is_not_null())
    taken = set(nodes.get_column("id").to_list())
    one = pl.col("context_one").min() if "context_one" in ctx.columns else pl.col("context").min()
    groups = ctx.group_by("context").agg(pl.len().alias("n"), pl.col("type").min().alias("type"),
                                         one.fill_null(pl.col("context").min()).alias("one")).sort("context")
    ids = []
    for word in groups.get_column("context").to_list():
        sid = f"context:{word}"
        while sid in taken:  # never the id of a node from the data
            sid = "~" + sid
        taken.add(sid)
        ids.append(sid)
    summary = groups.with_columns(
        pl.Series("id", ids, dtype=pl.Utf8),
        (pl.col("n").map_elements(lambda n: f"{n:,}", return_dtype=pl.Utf8) + " "
         + pl.when(pl.col("n") == 1).then(pl.col("one")).otherwise(pl.col("context"))).alias("label"),
        pl.lit("context").alias("group"),
        (8.0 + 1.5 * pl.col("n").cast(pl.Float64).log1p()).round(2).alias("size"),
    ).with_columns((pl.col("label") + " linked to the nodes in focus, collapsed: click to show them").alias("tooltip"))
    word = nodes.select("id", "context")
    links = (
        edges.join(word.rename({"id": "source", "context": "sc"}), on="source", how="left")
        .join(word.rename({"id": "target", "context": "tc"}), on="target", how="left")
        .filter(pl.col("sc").is_null() != pl.col("tc").is_null())
        .select(pl.when(pl.col("sc").is_null()).then(pl.col("source")).otherwise(pl.col("target")).alias("source"),
                pl.coalesce("sc", "tc").alias("context"))
        .group_by("source", "context").len().sort("source", "context")
        .join(summary.select("context", pl.col("id").alias("target")), on="context")
    )
    summary_edges = links.select(
        "source", "target", pl.lit("context").alias("relation"),
        (1.0 + pl.col("len").cast(pl.Float64).log1p() / 2).round(2).alias("width"),
        (pl.col("len").map_elements(lambda n: plural(n, "link"), return_dtype=pl.Utf8) + " to " + pl.col("context"))
        .alias("tooltip"),
    )
    return summary.select("id", "label", "type", "group", "size", "tooltip", "context"), summary_edges


def _spread(xy: np.ndarray, gap: float, seed: int, rounds: int = 80) -> np.ndarray:
    """Push apart the nodes closer than ``gap`` pixels, so their labels do not overlap (up to 800 nodes)."""
    n = len(xy)
    if n < 2 or n > 800:
        return xy
    xy = xy + np.random.default_rng(seed).uniform(-0.5, 0.5, size=xy.shape)  # coincident nodes part too
    for _ in range(rounds):
        delta = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((delta ** 2).sum(axis=-1))
        np.fill_diagonal(dist, gap)  # a node does not push itself
        close = dist < gap
        if not close.any():
            break
        push = np.where(close, (gap - dist) / 2 / np.maximum(dist, 1e-6), 0.0)
        xy = xy + (delta * push[..., None]).sum(axis=1)
    return xy


def _focus_layout(focus: pl.DataFrame, edges: pl.DataFrame, part: list[str], group: list[int],
                  n_groups: int, seed: int) -> np.ndarray:
    """Positions for a collapsed page: the nodes in focus together in the middle (Fruchterman-Reingold),
    one summary node per context group on a circle around them, and each group's nodes in a
    golden-angle spiral just outside its summary node (where they appear when shown).
    """
    inner = _layout(focus, edges, seed)
    reach = float(np.sqrt((inner ** 2).sum(axis=1)).max()) if len(inner) else 0.0
    # compact: at 1280x800 the ring fits without zooming out, so its labels stay legible
    compact = 34.0 * math.sqrt(max(len(inner), 1)) + 40.0
    if reach > 0:
        inner = _spread(inner * (compact / reach), 64.0, seed)
        reach = float(np.sqrt((inner ** 2).sum(axis=1)).max())
    ring = reach + 110.0
    xy = np.zeros((len(part), 2))
    xy[: len(inner)] = inner  # the nodes in focus come first (render_network orders them so)
    count = [0] * n_groups
    for p, g in zip(part, group):
        if p == "c":
            count[g] += 1
    seen = [0] * n_groups
    for i, (p, g) in enumerate(zip(part, group)):
        if p == "f":
            continue
        angle = -math.pi / 2 + 2 * math.pi * g / max(n_groups, 1)
        direction = np.array([math.cos(angle), math.sin(angle)])
        if p == "s":
            xy[i] = ring * direction
            continue
        k = seen[g]
        seen[g] = k + 1
        spread = 12.0 * math.sqrt(count[g])
        turn, radius = k * 2.399963, 12.0 * math.sqrt(k)
        xy[i] = (ring + spread) * direction + radius * np.array([math.cos(turn), math.sin(turn)])
    return np.round(xy, 1)


def render_network(
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    *,
    title: str,
    panel: Sequence[tuple[str, Sequence[str]]] = (),
    legend: Sequence[LegendItem] | None = None,
    notes: Sequence[str] = (),
    table: TableBlock | None = None,
    links: dict[str, str] | None = None,
    max_nodes: int = 2000,
    physics_max_nodes: int = 300,
    seed: int = 0,
    timeline: Timeline | None = None,
    reasons: Sequence[str] = (),
    file_stem: str = "graphkit-view",
    table_beside: bool = False,
) -> str:
    """Render a network as one self-contained, offline, script-safe HTML page.

    Parameters
    ----------
    nodes : polars.DataFrame
        ``id, label, type, group, size, tooltip``; optional ``importance``
        (higher is kept first when capping), ``pinned`` (always kept),
        ``color`` (overrides the group colour) and ``context`` (a plural
        word such as ``"other accounts"`` for nodes around the ones in
        focus, null for the nodes in focus: context nodes are drawn faded
        and collapsed, by default, into one node per word with their count,
        which a click or the page's "show context" button expands; an
        optional ``context_one`` gives the word for a count of one).
        ``type`` picks the shape
        (:data:`TYPE_SHAPES`), ``group`` the colour (:data:`GROUP_COLORS`).
        An optional ``score`` (null for nodes without one) feeds the page's
        minimum-score filter; ``pinned`` nodes (and the nodes in focus) stay
        shown when the edge filters leave them without an edge.
    edges : polars.DataFrame
        ``source, target, relation, width, tooltip``. ``relation`` picks the
        colour (:data:`EDGE_COLORS`); gift relations get arrows. Optional
        ``coins`` (null: not filtered by the minimum-coins filter) and ``bins``
        (a list of :class:`~graphkit.viz.timeline.Timeline` bins the edge has
        gifts in, see :func:`~graphkit.viz.timeline.edge_bins`; null: not
        filtered by the timeline's brush).
    title : str
        Page title and heading (escaped).
    panel : sequence of (heading, lines)
        Text shown beside the graph (escaped).
    legend : sequence of LegendItem, optional
        Default: one row per node group and edge relation present.
    notes : sequence of str
        Sentences shown above the legend (what was left out, hubs).
    table : TableBlock, optional
        A sortable table under the graph.
    links : dict, optional
        Node id -> relative URL opened when the node is double-clicked.
    max_nodes : int
        At most this many nodes are drawn (``Config.view_max_nodes``).
    physics_max_nodes : int
        Above this, the precomputed layout is final (physics off).
    seed : int
        Seed of the layout.
    timeline : Timeline, optional
        Drawn under the graph; brushing a range keeps the edges with ``bins`` in it
        (and the edges without ``bins``: they are not dated).
    reasons : sequence of str
        Sentences the page's "copy reasons" button copies (as plain text).
    file_stem : str
        The start of the names of the files the page saves (PNG, CSV, GraphML);
        characters other than letters, digits, ``_``, ``-`` and ``.`` become ``_``.
    table_beside : bool
        Put the table beside the graph (in the side panel) instead of under it.

    Returns
    -------
    str
        The HTML document. Besides the graph, the page has filters (minimum
        coins on an edge, edge kinds, node kinds, minimum score) that say how
        much they hide, and saves the selected nodes with their neighbours, or
        else everything shown, as PNG, CSV and GraphML (Blob downloads, no
        server).

    Examples
    --------
    >>> import polars as pl
    >>> nodes = pl.DataFrame({"id": ["a", "b"], "label": ["a", "<i>b"], "type": ["account", "device"],
    ...                       "group": ["member", "device"], "size": [20.0, 10.0], "tooltip": ["a", "<i>b"]})
    >>> edges = pl.DataFrame({"source": ["a"], "target": ["b"], "relation": ["used_device"],
    ...                       "width": [1.0], "tooltip": ["a used <i>b"]})
    >>> page = render_network(nodes, edges, title="demo")
    >>> "<i>b" in page, "\\\\u003ci\\\\u003eb" in page
    (False, True)
    """
    _check_columns(nodes, _NODE_COLUMNS, "nodes")
    _check_columns(edges, _EDGE_COLUMNS, "edges")
    if nodes.get_column("id").n_unique() != nodes.height:
        raise InputError("nodes frame has duplicate ids; each node needs a unique id")
    nodes, edges, cap_notes = _cap(nodes, edges, max(1, max_nodes))
    colors = (
        nodes.get_column("color").to_list() if "color" in nodes.columns
        else [GROUP_COLORS.get(g, _FALLBACK_COLOR) for g in nodes.get_column("group").to_list()]
    )
    collapsing = "context" in nodes.columns and nodes.get_column("context").null_count() < nodes.height
    n_context = 0
    extra: dict[str, list] = {}
    if collapsing:
        order = nodes.with_row_index("__i").sort(pl.col("context").is_not_null(), "__i", maintain_order=True)
        colors = [colors[i] for i in order.get_column("__i").to_list()]
        nodes = order.drop("__i")
        summary, summary_edges = _collapse(nodes, edges)
        part = ["f" if c is None else "c" for c in nodes.get_column("context").to_list()] + ["s"] * summary.height
        n_context = part.count("c")
        colors = [_fade(c) if p == "c" else c for c, p in zip(colors, part)] + [CONTEXT_COLOR] * summary.height
        words = summary.get_column("context").to_list()
        number = {w: k for k, w in enumerate(words)}
        group = [number.get(c, -1) if c is not None else -1 for c in nodes.get_column("context").to_list()]
        group += list(range(summary.height))
        xy = _focus_layout(nodes.filter(pl.col("context").is_null()), edges, part, group, summary.height, seed)
        node_extra = [c for c in _NODE_EXTRA if c in nodes.columns]
        edge_extra = [c for c in _EDGE_EXTRA if c in edges.columns]
        nodes = pl.concat([nodes.select(*_NODE_COLUMNS, *node_extra), summary.select(_NODE_COLUMNS)], how="diagonal")
        edges = pl.concat([edges.select(*_EDGE_COLUMNS, *edge_extra), summary_edges.select(_EDGE_COLUMNS)],
                          how="diagonal")
        extra = {"part": part, "grp": group}
        physics = False  # the layout above keeps the ring together and its context around it
    else:
        physics = nodes.height <= physics_max_nodes
        xy = _layout(nodes, edges, seed)
    types = nodes.get_column("type").to_list()
    pinned = (nodes.get_column("pinned").fill_null(False).to_list() if "pinned" in nodes.columns
              else [False] * nodes.height)
    keep = [bool(p) or (bool(extra) and extra["part"][i] == "f") for i, p in enumerate(pinned)]
    scored = "score" in nodes.columns and nodes.get_column("score").null_count() < nodes.height
    node_data = {
        "id": nodes.get_column("id").to_list(),
        "label": [display_text(label) for label in nodes.get_column("label").to_list()],
        "shape": [TYPE_SHAPES.get(t, "dot") for t in nodes.get_column("type").to_list()],
        "color": colors,
        "size": [round(float(s), 2) for s in nodes.get_column("size").fill_null(10.0).to_list()],
        "tip": [_display_lines(tip) for tip in nodes.get_column("tooltip").fill_null("").to_list()],
        "x": xy[:, 0].tolist() if len(xy) else [],
        "y": xy[:, 1].tolist() if len(xy) else [],
        "type": types,
        "group": nodes.get_column("group").to_list(),
        "keep": keep,
        **({"score": [None if v is None else round(float(v), 4) for v in nodes.get_column("score").to_list()]}
           if scored else {}),
        **extra,
    }
    relations = edges.get_column("relation").to_list()
    edge_data = {
        "from": edges.get_column("source").to_list(),
        "to": edges.get_column("target").to_list(),
        "color": [EDGE_COLORS.get(r, _FALLBACK_COLOR) for r in relations],
        "arrow": [r in _DIRECTED for r in relations],
        "width": [round(float(w), 2) for w in edges.get_column("width").fill_null(1.0).to_list()],
        "tip": [_display_lines(tip) for tip in edges.get_column("tooltip").fill_null("").to_list()],
        "rel": relations,
        "coins": (edges.get_column("coins").to_list() if "coins" in edges.columns else [None] * edges.height),
        **({"bins": edges.get_column("bins").to_list()} if timeline is not None and "bins" in edges.columns else {}),
    }
    options = {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": seed},
        "physics": {
            "enabled": physics,
            "solver": "barnesHut",
            "barnesHut": {"gravitationalConstant": -4000, "springLength": 120, "avoidOverlap": 0.1},
            "stabilization": {"enabled": physics, "iterations": 120, "fit": True},
        },
        "edges": {"smooth": False, "arrows": {"to": {"enabled": False, "scaleFactor": 0.5}},
                  "color": {"inherit": False}},
        "nodes": {"font": {"size": 12, "face": "sans-serif"}, "borderWidth": 1},
        "interaction": {"hover": True, "tooltipDelay": 80, "hideEdgesOnDrag": nodes.height > 1000,
                        "keyboard": False, "multiselect": True},
    }
    if legend is None:
        legend = _default_legend(nodes, relations)
    summary_line = f"{nodes.height:,} nodes, {edges.height:,} edges."
    if collapsing:
        legend = [*legend, LegendItem("context group: click to show its nodes", CONTEXT_COLOR)]
        n_groups = extra["part"].count("s")
        focus = extra["part"].count("f")
        summary_line = (f"{focus:,} nodes in focus; {n_context:,} context nodes in {n_groups:,}"
                        f" group{'s' if n_groups != 1 else ''}, collapsed until shown"
                        " (click a group, or 'show context').")
    series_colors = [_series_color(label, i) for i, (label, _) in enumerate(timeline.series)] if timeline else []
    data = {"nodes": node_data, "edges": edge_data, "options": options, "links": links or {},
            "focus": list(table.focus) if table is not None else [],
            "timeline": ({**timeline.to_json(), "colors": series_colors} if timeline is not None else None),
            "reasons": [display_text(r) for r in reasons],
            "file": _FILE_UNSAFE.sub("_", file_stem)[:80] or "graphkit-view"}
    edge_kinds = sorted({r for r in relations if r != "context"})
    node_kinds = sorted(set(types))
    return _page(_Page(title=title, panel=panel, legend=legend, notes=list(notes) + cap_notes, table=table,
                       summary=summary_line, context=n_context, edge_kinds=edge_kinds, node_kinds=node_kinds,
                       scored=scored, timeline=timeline, series_colors=series_colors, reasons=len(reasons),
                       table_beside=table_beside), data)


SERIES_WORDS: dict[str, str] = {"beneficiary": "beneficiaries", "funder": "funders", "member": "members",
                                "seed": "starting points", "high risk": "high-risk accounts",
                                "account": "other accounts"}
"""The words of the timeline's series, per colour group."""

_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_SERIES_FALLBACK = ("#6a3d9a", "#1f78b4", "#33a02c", "#b15928", "#999999")


def _series_color(label: str, i: int) -> str:
    """A timeline series' colour: its role's colour (:data:`GROUP_COLORS`), else one of a small palette."""
    return GROUP_COLORS.get(label, _SERIES_FALLBACK[i % len(_SERIES_FALLBACK)])


def _default_legend(nodes: pl.DataFrame, relations: list[str]) -> list[LegendItem]:
    items = []
    pairs = nodes.select("type", "group").unique().sort("group", "type").rows()
    seen = set()
    for node_type, group in pairs:
        if group in seen:
            continue
        seen.add(group)
        items.append(LegendItem(group, GROUP_COLORS.get(group, _FALLBACK_COLOR), TYPE_SHAPES.get(node_type, "dot")))
    for relation in sorted(set(relations)):
        items.append(LegendItem(relation.replace("_", " "), EDGE_COLORS.get(relation, _FALLBACK_COLOR), "line"))
    return items


_CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fafafa}
header{padding:8px 16px;background:#263238;color:#fff}
header h1{margin:0;font-size:18px;font-weight:600;overflow-wrap:anywhere}
header p{margin:2px 0 0;font-size:12px;color:#cfd8dc}
main{display:flex;gap:0;height:calc(100vh - 56px);min-height:420px}
#gk-left{flex:1 1 auto;min-width:0;display:flex;flex-direction:column;border-right:1px solid #ddd}
#gk-graph{flex:1 1 auto;min-height:0;background:#fff}
#gk-time{flex:0 0 auto;padding:4px 8px;background:#fff;border-top:1px solid #ddd;font-size:12px}
#gk-timeline{display:block;width:100%;height:80px;cursor:crosshair}
.gk-time-head{display:flex;gap:10px;align-items:center;white-space:nowrap}
.gk-key{display:inline-flex;gap:4px;align-items:center}
#gk-brush{color:#555;flex:1 1 0;min-width:0;text-align:right;overflow:hidden;text-overflow:ellipsis}
.gk-marks{margin:2px 0 0;padding:0;list-style:none;max-height:3.2em;overflow:auto}
.gk-marks li{display:flex;gap:6px;align-items:center;overflow-wrap:anywhere}
.gk-sw.gk-mark{background:rgba(198,40,40,.35);border:1px solid #c62828}
#gk-filters label{display:block;margin:4px 0 0}#gk-filters input[type=number]{width:100%;padding:3px;font:inherit}
#gk-filters fieldset{border:1px solid #e0e0e0;margin:6px 0;padding:2px 8px}
#gk-filters legend{font-size:12px;color:#555}#gk-filters label.gk-check{display:inline-block;margin:2px 10px 2px 0}
#gk-hidden,#gk-saved,.gk-small{font-size:12px;color:#555;margin:4px 0}
#gk-export button,#gk-reset{margin:2px 4px 2px 0;padding:4px 8px;font:inherit;font-size:12px;cursor:pointer}
aside section.gk-table{padding:6px 0}aside table{font-size:12px}aside caption{text-align:left;font-size:12px;color:#555;padding-bottom:4px}
aside{flex:0 0 340px;overflow:auto;padding:10px 14px}
aside h2{font-size:14px;margin:14px 0 4px;border-bottom:1px solid #e0e0e0}
aside ul{margin:0;padding-left:18px}aside li{margin:2px 0;overflow-wrap:anywhere}
.gk-note{background:#fff8e1;border:1px solid #ffe082;padding:6px 8px;margin:6px 0;font-size:12px}
.gk-legend{list-style:none;padding:0!important}
.gk-legend li{display:flex;align-items:center;gap:8px}
.gk-sw{display:inline-block;width:14px;height:14px;flex:0 0 14px}
.gk-sw.dot{border-radius:50%}.gk-sw.line{height:4px}
.gk-sw.triangle{clip-path:polygon(50% 0,100% 100%,0 100%)}
.gk-sw.diamond{clip-path:polygon(50% 0,100% 50%,50% 100%,0 50%)}
.gk-sw.star{clip-path:polygon(50% 0,61% 35%,98% 35%,68% 57%,79% 91%,50% 70%,21% 91%,32% 57%,2% 35%,39% 35%)}
#gk-search{width:100%;padding:5px;font:inherit}
#gk-context{width:100%;margin:0 0 8px;padding:6px;font:inherit;cursor:pointer}
tr[data-focus]{cursor:pointer}tr[data-focus]:hover{background:#fff8e1}
#gk-found{font-size:12px;color:#555;min-height:1.2em}
.vis-tooltip{position:absolute;visibility:hidden;padding:6px 8px;white-space:pre-wrap;max-width:420px;
 font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;color:#000;background:#fffde7;border:1px solid #999;
 border-radius:3px;box-shadow:2px 2px 8px rgba(0,0,0,.2);pointer-events:none;z-index:5;overflow-wrap:anywhere}
section.gk-table{padding:10px 16px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eceff1;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gk-data").textContent);
  var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
  function tip(text) {
    var el = document.createElement("div");
    el.textContent = text;
    return el;
  }
  var N = data.nodes, E = data.edges, nodes = [], edges = [], i;
  // focus ("f"), context ("c", faded, collapsed into its group's summary node "s" until shown)
  var P = N.part || null, open = {}, at = {};
  var FONTS = {f: {size: 16, color: "#111", strokeWidth: 4, strokeColor: "#fff"},
               c: {size: 9, color: "#90a4ae"},
               s: {size: 14, color: "#263238", strokeWidth: 4, strokeColor: "#fff"}};
  for (i = 0; i < N.id.length; i++) { at[N.id[i]] = i; }
  var EF = [], ET = [];  // each edge's end positions
  for (i = 0; i < E.from.length; i++) { EF.push(at[E.from[i]]); ET.push(at[E.to[i]]); }
  function shown(k) {  // shown as far as collapsing goes
    if (!P || P[k] === "f") { return true; }
    return P[k] === "c" ? open[N.grp[k]] === true : open[N.grp[k]] !== true;
  }
  // filters: minimum coins (gift edges), edge kinds, node kinds, minimum score, and the timeline's brush
  var F = {minCoins: 0, minScore: 0, edgeOff: {}, nodeOff: {}, brush: null};
  function nodePass(k) {
    if (F.nodeOff[N.type[k]] === true) { return false; }
    return !(N.score && F.minScore > 0 && N.score[k] !== null && N.score[k] < F.minScore);
  }
  function edgeFiltering() {
    if (F.minCoins > 0 || F.brush !== null) { return true; }
    for (var r in F.edgeOff) { if (F.edgeOff[r] === true) { return true; } }
    return false;
  }
  function edgePass(e) {
    if (E.rel[e] === "context") { return true; }
    if (F.edgeOff[E.rel[e]] === true) { return false; }
    if (F.minCoins > 0 && E.coins[e] !== null && E.coins[e] < F.minCoins) { return false; }
    if (F.brush !== null && E.bins && E.bins[e] !== null) {
      var b = E.bins[e], hit = false;
      for (var j = 0; j < b.length; j++) { if (b[j] >= F.brush[0] && b[j] <= F.brush[1]) { hit = true; break; } }
      if (!hit) { return false; }
    }
    return true;
  }
  var nodeHidden = [], edgeHidden = [], stats = {nodes: 0, edges: 0};
  function compute() {  // every node's and edge's hidden flag, and how many the filters hide
    var base = [], vis = [], had = [], kept = [], k, e, active = edgeFiltering();
    for (k = 0; k < N.id.length; k++) { base[k] = shown(k); vis[k] = base[k] && nodePass(k); had[k] = 0; kept[k] = 0; }
    var ev = [];
    for (e = 0; e < E.from.length; e++) {
      var ends = vis[EF[e]] && vis[ET[e]];
      ev[e] = ends && edgePass(e);
      if (ends) { had[EF[e]]++; had[ET[e]]++; }
      if (ev[e]) { kept[EF[e]]++; kept[ET[e]]++; }
    }
    if (active) {  // a node the edge filters leave without its edges goes too (not the ring, not the seeds)
      for (k = 0; k < N.id.length; k++) { if (vis[k] && !N.keep[k] && had[k] > 0 && kept[k] === 0) { vis[k] = false; } }
    }
    stats = {nodes: 0, edges: 0, shownNodes: 0, shownEdges: 0};
    for (k = 0; k < N.id.length; k++) {
      nodeHidden[k] = !vis[k];
      if (base[k] && !vis[k]) { stats.nodes++; }
      if (vis[k]) { stats.shownNodes++; }
    }
    for (e = 0; e < E.from.length; e++) {
      edgeHidden[e] = !ev[e];
      if (base[EF[e]] && base[ET[e]] && !ev[e]) { stats.edges++; }
      if (ev[e]) { stats.shownEdges++; }
    }
  }
  compute();
  for (i = 0; i < N.id.length; i++) {
    var node = {id: N.id[i], label: N.label[i], shape: N.shape[i], size: N.size[i],
                color: {background: N.color[i], border: P && P[i] === "c" ? "#b0bec5" : "#37474f",
                        highlight: {background: N.color[i], border: "#000"}},
                title: tip(N.tip[i]), x: N.x[i], y: N.y[i], hidden: nodeHidden[i]};
    if (P) { node.font = FONTS[P[i]]; }
    nodes.push(node);
  }
  for (i = 0; i < E.from.length; i++) {
    var faded = P && (P[EF[i]] !== "f" || P[ET[i]] !== "f");
    edges.push({id: "e" + i, from: E.from[i], to: E.to[i], width: E.width[i],
                color: {color: E.color[i], highlight: "#000", opacity: faded ? 0.35 : 0.8},
                arrows: {to: {enabled: E.arrow[i], scaleFactor: 0.5}}, title: tip(E.tip[i]),
                hidden: edgeHidden[i]});
  }
  var container = document.getElementById("gk-graph");
  var nodeSet = new vis.DataSet(nodes), edgeSet = new vis.DataSet(edges);
  var network = new vis.Network(container, {nodes: nodeSet, edges: edgeSet}, data.options);
  window.gkNetwork = network;
  var hiddenLine = document.getElementById("gk-hidden");
  function refresh(moved) {  // apply collapsing and filters to the drawn nodes and edges (only what changed)
    var wasN = nodeHidden.slice(), wasE = edgeHidden.slice(), changed = [], k;
    compute();
    for (k = 0; k < N.id.length; k++) {
      var move = moved && moved[k];  // new positions go in the same update (one redraw, not two)
      if (wasN[k] !== nodeHidden[k] || move) {
        var item = {id: N.id[k], hidden: nodeHidden[k]};
        if (move) { item.x = move[0]; item.y = move[1]; }
        changed.push(item);
      }
    }
    nodeSet.update(changed);
    changed = [];
    for (k = 0; k < E.from.length; k++) { if (wasE[k] !== edgeHidden[k]) { changed.push({id: "e" + k, hidden: edgeHidden[k]}); } }
    edgeSet.update(changed);
    if (hiddenLine) {
      hiddenLine.textContent = (stats.nodes || stats.edges)
        ? "the filters hide " + stats.nodes.toLocaleString("en") + " node" + (stats.nodes === 1 ? "" : "s") + " and "
          + stats.edges.toLocaleString("en") + " edge" + (stats.edges === 1 ? "" : "s")
        : "nothing hidden by the filters";
    }
    document.body.setAttribute("data-hidden-nodes", String(stats.nodes));
    document.body.setAttribute("data-hidden-edges", String(stats.edges));
  }
  window.gkVisibleNodes = function () { return stats.shownNodes; };
  window.gkVisibleEdges = function () { return stats.shownEdges; };
  var toggle = document.getElementById("gk-context"), groups = [];
  if (P) { for (i = 0; i < N.id.length; i++) { if (P[i] === "s") { groups[N.grp[i]] = i; } } }
  function setOpen(which, value) {  // which: a group number, or null for all
    var moved = {}, k;
    for (var g = 0; g < groups.length; g++) {
      if ((which === null || which === g) && (open[g] === true) !== value) {
        open[g] = value;
        if (value) {  // its nodes around where the group's node now is
          var s = groups[g], p = network.getPosition(N.id[s]), dx = p.x - N.x[s], dy = p.y - N.y[s];
          for (k = 0; k < N.id.length; k++) {
            if (P[k] === "c" && N.grp[k] === g) { moved[k] = [N.x[k] + dx, N.y[k] + dy]; }
          }
        }
      }
    }
    refresh(moved);
    var all = true;
    for (g = 0; g < groups.length; g++) { if (open[g] !== true) { all = false; } }
    if (toggle) {
      toggle.textContent = all ? "hide context" : "show context";
      toggle.setAttribute("aria-pressed", all ? "true" : "false");
    }
    document.body.setAttribute("data-context", all ? "shown" : "collapsed");
  }
  if (P) {
    document.body.setAttribute("data-context", "collapsed");
    if (toggle) {
      toggle.addEventListener("click", function () {
        setOpen(null, toggle.getAttribute("aria-pressed") !== "true");
        network.fit({animation: false});
      });
    }
    network.on("click", function (params) {
      if (params.nodes.length && P[at[params.nodes[0]]] === "s") { setOpen(N.grp[at[params.nodes[0]]], true); }
    });
  }
  // the filter controls
  function number(el) { var v = parseFloat(el.value); return isNaN(v) || v < 0 ? 0 : v; }
  var minCoins = document.getElementById("gk-min-coins"), minScore = document.getElementById("gk-min-score");
  if (minCoins) { minCoins.addEventListener("input", function () { F.minCoins = number(minCoins); refresh(); }); }
  if (minScore) { minScore.addEventListener("input", function () { F.minScore = number(minScore); refresh(); }); }
  var boxes = document.querySelectorAll("#gk-filters input[type=checkbox]");
  Array.prototype.forEach.call(boxes, function (box) {
    box.addEventListener("change", function () {
      if (box.hasAttribute("data-edge")) { F.edgeOff[box.getAttribute("data-edge")] = !box.checked; }
      else { F.nodeOff[box.getAttribute("data-node")] = !box.checked; }
      refresh();
    });
  });
  var reset = document.getElementById("gk-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      F.minCoins = 0; F.minScore = 0; F.edgeOff = {}; F.nodeOff = {};
      if (minCoins) { minCoins.value = "0"; }
      if (minScore) { minScore.value = "0"; }
      Array.prototype.forEach.call(boxes, function (box) { box.checked = true; });
      setBrush(null);
    });
  }
  // the timeline: coins per bin, one stacked series per role; drag to brush a range, click to clear
  var T = data.timeline, canvas = document.getElementById("gk-timeline"), brushLine = document.getElementById("gk-brush");
  var PAD = 28;
  function when(bin) { return new Date((T.start + bin * T.step) * 1000).toISOString().slice(0, 16).replace("T", " "); }
  function drawTime() {
    if (!T || !canvas) { return; }
    var ratio = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio);
    var g = canvas.getContext("2d"), k, s;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    var top = 0, total = [];
    for (k = 0; k < T.bins; k++) {
      total[k] = 0;
      for (s = 0; s < T.series.length; s++) { total[k] += T.series[s].coins[k]; }
      top = Math.max(top, total[k]);
    }
    var bw = (w - 2 * PAD) / T.bins, bh = h - 16;
    g.fillStyle = "rgba(198,40,40,0.18)"; g.strokeStyle = "#c62828";
    T.marks.forEach(function (m) {  // at least 6 px wide, with a triangle on top: a one-bin burst stays visible
      var x = PAD + m.from * bw, mw = Math.max(6, (m.to - m.from + 1) * bw);
      x -= (mw - (m.to - m.from + 1) * bw) / 2;
      g.fillStyle = "rgba(198,40,40,0.18)";
      g.fillRect(x, 0, mw, bh);
      g.strokeRect(x + 0.5, 0.5, mw - 1, bh - 1);
      g.fillStyle = "#c62828";
      g.beginPath(); g.moveTo(x + mw / 2 - 5, 0); g.lineTo(x + mw / 2 + 5, 0); g.lineTo(x + mw / 2, 7); g.fill();
    });
    for (k = 0; k < T.bins; k++) {
      var y = bh;
      for (s = 0; s < T.series.length; s++) {
        var v = T.series[s].coins[k];
        if (v <= 0 || top <= 0) { continue; }
        var hh = Math.max(1, (v / top) * (bh - 4));
        g.fillStyle = T.colors[s];
        g.fillRect(PAD + k * bw + 0.5, y - hh, Math.max(1, bw - 1), hh);
        y -= hh;
      }
    }
    if (F.brush !== null) {
      g.fillStyle = "rgba(38,50,56,0.15)"; g.strokeStyle = "#263238";
      g.fillRect(PAD + F.brush[0] * bw, 0, (F.brush[1] - F.brush[0] + 1) * bw, bh);
      g.strokeRect(PAD + F.brush[0] * bw + 0.5, 0.5, (F.brush[1] - F.brush[0] + 1) * bw - 1, bh - 1);
    }
    g.fillStyle = "#555"; g.font = "11px sans-serif"; g.textBaseline = "top";
    g.textAlign = "left"; g.fillText(when(0) + " UTC", PAD, bh + 3);
    g.textAlign = "right"; g.fillText(when(T.bins) + " UTC", w - PAD, bh + 3);
  }
  function binAt(x) {
    var bw = (canvas.clientWidth - 2 * PAD) / T.bins;
    return Math.min(T.bins - 1, Math.max(0, Math.floor((x - PAD) / bw)));
  }
  function setBrush(range) {
    F.brush = range;
    refresh();
    drawTime();
    if (!brushLine) { return; }
    brushLine.textContent = range === null
      ? "drag across the timeline to keep what happened in a time range"
      : "from " + when(range[0]) + " to " + when(range[1] + 1) + " UTC; " + stats.edges.toLocaleString("en")
        + " edges hidden; a click shows all";
  }
  window.gkBrush = function () { return F.brush === null ? null : F.brush.slice(); };
  if (T && canvas) {
    var from = null, moved = false;
    canvas.addEventListener("mousedown", function (ev) { from = binAt(ev.offsetX); moved = false; ev.preventDefault(); });
    canvas.addEventListener("mousemove", function (ev) {
      if (from === null) { return; }
      var to = binAt(ev.offsetX);
      if (to !== from) { moved = true; }
      if (moved) { F.brush = [Math.min(from, to), Math.max(from, to)]; drawTime(); }
    });
    window.addEventListener("mouseup", function (ev) {
      if (from === null) { return; }
      var to = ev.target === canvas ? binAt(ev.offsetX) : (F.brush ? F.brush[1] : from);
      setBrush(moved ? [Math.min(from, to), Math.max(from, to)] : null);
      from = null;
    });
    window.addEventListener("resize", drawTime);
    drawTime();
  }
  refresh();
  // taking the evidence out: the selection with its neighbours, or else everything shown (context groups left out)
  function saved(text) { var el = document.getElementById("gk-saved"); if (el) { el.textContent = text; } }
  function save(name, blob) {
    var url = URL.createObjectURL(blob), a = document.createElement("a");
    a.href = url; a.download = name; a.style.display = "none";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    saved("saved " + name);
  }
  function real(k) { return !P || P[k] !== "s"; }
  function subgraph() {
    var chosen = {}, picked = network.getSelectedNodes(), k, e, ns = [], es = [];
    if (picked.length) {
      picked.forEach(function (id) { if (has(at, id)) { chosen[at[id]] = true; } });
      for (e = 0; e < E.from.length; e++) {
        if (edgeHidden[e]) { continue; }
        if (chosen[EF[e]] === true && !nodeHidden[ET[e]]) { chosen[ET[e]] = chosen[ET[e]] || "near"; }
        if (chosen[ET[e]] === true && !nodeHidden[EF[e]]) { chosen[EF[e]] = chosen[EF[e]] || "near"; }
      }
    } else {
      for (k = 0; k < N.id.length; k++) { if (!nodeHidden[k]) { chosen[k] = true; } }
    }
    for (k = 0; k < N.id.length; k++) { if (chosen[k] && real(k)) { ns.push(k); } }
    for (e = 0; e < E.from.length; e++) {
      if (!edgeHidden[e] && chosen[EF[e]] && chosen[ET[e]] && real(EF[e]) && real(ET[e])) { es.push(e); }
    }
    return {nodes: ns, edges: es};
  }
  function cell(v) {
    if (v === null || v === undefined) { return ""; }
    if (typeof v === "number" || typeof v === "boolean") { return String(v); }
    v = String(v);
    if (/^[=+\-@\t\r]/.test(v)) { v = "'" + v; }  // a spreadsheet must not read a cell as a formula
    return '"' + v.replace(/"/g, '""') + '"';
  }
  function csv(rows) { return rows.map(function (r) { return r.map(cell).join(","); }).join("\r\n") + "\r\n"; }
  function role(k) { return P && P[k] !== "f" ? "context" : "focus"; }
  var KIND = function (k) { return N.type[k]; };
  function nodeRows(g) {
    var rows = [["id", "label", "kind", "group", "score", "in_focus"]];
    g.nodes.forEach(function (k) {
      rows.push([N.id[k], N.label[k], KIND(k), N.group[k], N.score ? N.score[k] : null, role(k)]);
    });
    return rows;
  }
  function edgeRows(g) {
    var rows = [["source", "target", "relation", "coins"]];
    g.edges.forEach(function (e) { rows.push([E.from[e], E.to[e], E.rel[e], E.coins[e]]); });
    return rows;
  }
  function xml(v) {
    return String(v).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "\uFFFD")
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;")
      .replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;");  // kept as they are in attributes
  }
  function graphml(g) {
    var out = ['<?xml version="1.0" encoding="UTF-8"?>',
      '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
      '<key id="label" for="node" attr.name="label" attr.type="string"/>',
      '<key id="kind" for="node" attr.name="kind" attr.type="string"/>',
      '<key id="group" for="node" attr.name="group" attr.type="string"/>',
      '<key id="score" for="node" attr.name="score" attr.type="double"/>',
      '<key id="in_focus" for="node" attr.name="in_focus" attr.type="string"/>',
      '<key id="relation" for="edge" attr.name="relation" attr.type="string"/>',
      '<key id="coins" for="edge" attr.name="coins" attr.type="double"/>',
      '<graph id="G" edgedefault="directed">'];
    g.nodes.forEach(function (k) {
      out.push('<node id="' + xml(N.id[k]) + '"><data key="label">' + xml(N.label[k]) + '</data><data key="kind">'
        + xml(KIND(k)) + '</data><data key="group">' + xml(N.group[k]) + "</data>"
        + (N.score && N.score[k] !== null ? '<data key="score">' + N.score[k] + "</data>" : "")
        + '<data key="in_focus">' + xml(role(k)) + "</data></node>");
    });
    g.edges.forEach(function (e) {
      out.push('<edge source="' + xml(E.from[e]) + '" target="' + xml(E.to[e]) + '"><data key="relation">'
        + xml(E.rel[e]) + "</data>" + (E.coins[e] !== null ? '<data key="coins">' + E.coins[e] + "</data>" : "")
        + "</edge>");
    });
    out.push("</graph>", "</graphml>");
    return out.join("\n") + "\n";
  }
  function on(id, fn) { var el = document.getElementById(id); if (el) { el.addEventListener("click", fn); } }
  on("gk-nodes-csv", function () { save(data.file + "-nodes.csv", new Blob([csv(nodeRows(subgraph()))], {type: "text/csv"})); });
  on("gk-edges-csv", function () { save(data.file + "-edges.csv", new Blob([csv(edgeRows(subgraph()))], {type: "text/csv"})); });
  on("gk-graphml", function () { save(data.file + ".graphml", new Blob([graphml(subgraph())], {type: "application/xml"})); });
  on("gk-png", function () {
    var src = container.querySelector("canvas"), c = document.createElement("canvas");
    c.width = src.width; c.height = src.height;
    var g = c.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, c.width, c.height); g.drawImage(src, 0, 0);
    c.toBlob(function (blob) { save(data.file + ".png", blob); }, "image/png");
  });
  on("gk-copy", function () {
    var text = data.reasons.join("\n") + "\n";
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      area.remove();
      saved(ok ? "copied " + data.reasons.length + " reasons" : "copying is blocked here: select the reasons in the panel");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { saved("copied " + data.reasons.length + " reasons"); }, fallback);
    } else { fallback(); }
  });
  network.once("afterDrawing", function () {
    window.gkFirstDrawn = performance.now();
    document.body.setAttribute("data-drawn", "1");
  });
  function ready() { window.gkReady = true; document.body.setAttribute("data-ready", "1"); }
  if (data.options.physics.enabled) {
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({physics: {enabled: false}});
      network.once("afterDrawing", ready);
      network.redraw();
    });
  } else {
    network.once("afterDrawing", ready);
  }
  network.on("doubleClick", function (params) {
    if (params.nodes.length && has(data.links, params.nodes[0])) {
      window.location.href = data.links[params.nodes[0]];
    }
  });
  // search: exact id or label first, then the first label containing the text
  var byLabel = {}, list = document.getElementById("gk-ids");
  for (i = 0; i < N.id.length; i++) {
    byLabel[N.label[i]] = N.id[i];
    if (i < 5000) { var opt = document.createElement("option"); opt.value = N.label[i]; list.appendChild(opt); }
  }
  var found = document.getElementById("gk-found");
  function search(text) {
    text = text.trim();
    if (!text) { network.unselectAll(); found.textContent = ""; return; }
    var id = Object.prototype.hasOwnProperty.call(byLabel, text) ? byLabel[text] : null;
    if (id === null && N.id.indexOf(text) >= 0) { id = text; }
    if (id === null) {  // a full id without its "kind:" prefix (labels may be shortened)
      for (var k = 0; k < N.id.length; k++) {
        var at = String(N.id[k]).indexOf(":");
        if (at >= 0 && String(N.id[k]).slice(at + 1) === text) { id = N.id[k]; break; }
      }
    }
    if (id === null) {
      var low = text.toLowerCase();
      for (var j = 0; j < N.label.length; j++) {
        if (String(N.label[j]).toLowerCase().indexOf(low) >= 0) { id = N.id[j]; break; }
      }
    }
    if (id === null) { found.textContent = "not in this view"; return; }
    focusNode(id);
  }
  function focusNode(id) {
    if (P && !shown(at[id])) { setOpen(N.grp[at[id]], true); }
    network.selectNodes([id]);
    network.focus(id, {scale: 1.2, animation: false});
    found.textContent = "selected: " + N.label[at[id]] + (nodeHidden[at[id]] ? " (hidden by the filters)" : "");
  }
  var box = document.getElementById("gk-search");
  box.addEventListener("change", function () { search(box.value); });
  box.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { search(box.value); } });
  // sortable table
  var table = document.getElementById("gk-table");
  if (table) {
    table.addEventListener("click", function (ev) {
      var row = ev.target.closest ? ev.target.closest("tr[data-focus]") : null;
      var id = row ? data.focus[parseInt(row.getAttribute("data-focus"), 10)] : null;
      if (id !== null && id !== undefined && ev.target.tagName !== "A" && Object.prototype.hasOwnProperty.call(at, id)) {
        focusNode(id);
        container.scrollIntoView({block: "nearest"});
      }
    });
    var heads = table.querySelectorAll("th");
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
          // numbers as numbers; anything else (ids, "2024-03-01 10:00") as text
          var nx = x === "" || x === null ? NaN : Number(x), ny = y === "" || y === null ? NaN : Number(y), r;
          r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : (x < y ? -1 : x > y ? 1 : 0);
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
})();
"""


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def _esc(value: Any) -> str:
    """HTML text of a (possibly untrusted) string, in its display form (:func:`graphkit.util.display.display_text`)."""
    return html.escape(display_text(value), quote=True)


def _display_lines(text: str) -> str:
    """A multi-line tooltip, each line in its display form."""
    return "\n".join(display_text(line) for line in text.split("\n"))


def _legend_html(items: Sequence[LegendItem]) -> str:
    rows = []
    for item in items:
        color = item.color if _is_color(item.color) else _FALLBACK_COLOR
        shape = item.shape if item.shape in {"dot", "square", "triangle", "diamond", "star", "line"} else "dot"
        rows.append(f'<li><span class="gk-sw {shape}" style="background:{color}"></span>{_esc(item.label)}</li>')
    return '<ul class="gk-legend">' + "".join(rows) + "</ul>"


def _is_color(value: str) -> bool:
    return len(value) == 7 and value[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in value[1:])


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        text = "" if value is None else str(value)
        return f'<td data-sort="{_esc(text)}">{_esc(text)}</td>'
    if isinstance(value, (int, float)):
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")
        return f'<td class="num" data-sort="{value!r}">{_esc(shown)}</td>'
    return f'<td data-sort="{_esc(value)}">{_esc(value)}</td>'


def _table_html(table: TableBlock) -> str:
    head = "".join(f'<th scope="col">{_esc(c)}</th>' for c in table.columns)
    body = []
    for i, row in enumerate(table.rows):
        cells = [_cell(v) for v in row]
        link = table.links[i] if i < len(table.links) else None
        if link and cells:
            text = "" if row[0] is None else str(row[0])
            cells[0] = f'<td data-sort="{_esc(text)}"><a href="{_esc(link)}">{_esc(text)}</a></td>'
        node = table.focus[i] if i < len(table.focus) else None
        attr = f' data-focus="{i}"' if node is not None else ""  # the id itself is in the page's JSON
        body.append(f"<tr{attr}>" + "".join(cells) + "</tr>")
    caption = f"<caption>{_esc(table.caption)}</caption>" if table.caption else ""
    return (f'<section class="gk-table"><table id="gk-table">{caption}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></section>')


def _timeline_html(page: _Page) -> str:
    """The timeline's canvas, its series legend and the sentences of its marks (drawn by the page's script)."""
    t = page.timeline
    if t is None:
        return ""
    keys = "".join(f'<span class="gk-key"><span class="gk-sw" style="background:{c if _is_color(c) else _FALLBACK_COLOR}">'
                   f"</span>{_esc(SERIES_WORDS.get(label, label))}</span>" for (label, _), c in zip(t.series, page.series_colors))
    marks = "".join(f'<li><span class="gk-sw gk-mark"></span>{_esc(text)}</li>' for _, _, text in t.marks)
    return ('<section id="gk-time" aria-label="timeline of the coins gifted">'
            f'<div class="gk-time-head"><strong>Coins gifted over time</strong> {keys}'
            '<span id="gk-brush" aria-live="polite">drag across the timeline to keep what happened in a time range</span>'
            '</div><canvas id="gk-timeline" height="80"></canvas>'
            + (f'<ul class="gk-marks">{marks}</ul>' if marks else "") + "</section>")


def _filters_html(page: _Page) -> str:
    """The filter controls; their words are graphkit's (:data:`EDGE_KIND_WORDS`, :data:`NODE_KIND_WORDS`)."""
    def box(kind: str, value: str, word: str) -> str:
        return (f'<label class="gk-check"><input type="checkbox" checked data-{kind}="{_esc(value)}">'
                f"{_esc(word)}</label>")
    edges = "".join(box("edge", r, EDGE_KIND_WORDS.get(r, r.replace("_", " "))) for r in page.edge_kinds)
    nodes = "".join(box("node", t, NODE_KIND_WORDS.get(t, t)) for t in page.node_kinds)
    score = ('<label for="gk-min-score">Minimum account score</label>'
             '<input id="gk-min-score" type="number" min="0" max="1" step="0.05" value="0">') if page.scored else ""
    return ('<h2>Filters</h2><div id="gk-filters">'
            '<label for="gk-min-coins">Minimum coins on a gift edge</label>'
            '<input id="gk-min-coins" type="number" min="0" step="any" value="0">'
            f'{score}<fieldset><legend>Edges</legend>{edges}</fieldset>'
            f'<fieldset><legend>Nodes</legend>{nodes}</fieldset>'
            '<button id="gk-reset" type="button">show everything</button>'
            '<div id="gk-hidden" aria-live="polite">nothing hidden by the filters</div></div>')


def _export_html(page: _Page) -> str:
    copy = '<button id="gk-copy" type="button">copy reasons</button>' if page.reasons else ""
    return ('<h2>Take the evidence out</h2><p class="gk-small">The selected nodes with their neighbours'
            ' (ctrl-click selects several), or else everything shown:</p><div id="gk-export">'
            '<button id="gk-png" type="button">PNG image</button>'
            '<button id="gk-nodes-csv" type="button">nodes CSV</button>'
            '<button id="gk-edges-csv" type="button">edges CSV</button>'
            f'<button id="gk-graphml" type="button">GraphML</button>{copy}</div>'
            '<div id="gk-saved" aria-live="polite"></div>')


def _page(page: _Page, data: dict) -> str:
    vis_js = vis_network_js()
    csp = (f"default-src 'none'; script-src {_sha256(vis_js)} {_sha256(_JS)}; style-src 'unsafe-inline';"
           " img-src data:; base-uri 'none'; form-action 'none'")
    panel = "".join(
        f"<h2>{_esc(heading)}</h2><ul>" + "".join(f"<li>{_esc(line)}</li>" for line in lines) + "</ul>"
        for heading, lines in page.panel
    )
    notes = "".join(f'<p class="gk-note">{_esc(n)}</p>' for n in page.notes)
    table = _table_html(page.table) if page.table is not None else ""
    beside = table if page.table_beside else ""
    under = "" if page.table_beside else table
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_esc(page.title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(page.title)}</h1>"
        f'<p><span id="gk-summary">{_esc(page.summary)}</span> Hover for evidence, scroll to zoom'
        f"{', double-click a node to open its view' if data['links'] else ''}.</p></header>"
        '<main><div id="gk-left"><div id="gk-graph" role="img" aria-label="network view"></div>'
        f"{_timeline_html(page)}</div><aside>"
        + (f'<button id="gk-context" type="button" aria-pressed="false">show context ({page.context:,} nodes)</button>'
           if page.context else "") +
        '<label for="gk-search">Find a node</label>'
        '<input id="gk-search" list="gk-ids" autocomplete="off" placeholder="id or label, then Enter">'
        '<datalist id="gk-ids"></datalist><div id="gk-found" aria-live="polite"></div>'
        f"{beside}{notes}{panel}{_filters_html(page)}{_export_html(page)}"
        f"<h2>Legend</h2>{_legend_html(page.legend)}</aside></main>{under}"
        f'<script type="application/json" id="gk-data">{script_json(data)}</script>'
        f"<script>{vis_js}</script><script>{_JS}</script></body></html>\n"
    )
