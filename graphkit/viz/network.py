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
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import random
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

__all__ = [
    "EDGE_COLORS",
    "GROUP_COLORS",
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

_DIRECTED = {"gifted", "gifted_in", "money"}
_FALLBACK_COLOR = "#999999"
_NODE_COLUMNS = ("id", "label", "type", "group", "size", "tooltip")
_EDGE_COLUMNS = ("source", "target", "relation", "width", "tooltip")


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
        (pl.col("len").map_elements(lambda n: f"{n:,}", return_dtype=pl.Utf8) + " link(s) to " + pl.col("context"))
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
    edges : polars.DataFrame
        ``source, target, relation, width, tooltip``. ``relation`` picks the
        colour (:data:`EDGE_COLORS`); gift relations get arrows.
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

    Returns
    -------
    str
        The HTML document.

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
        nodes = pl.concat([nodes.select(_NODE_COLUMNS), summary.select(_NODE_COLUMNS)])
        edges = pl.concat([edges.select(_EDGE_COLUMNS), summary_edges.select(_EDGE_COLUMNS)])
        extra = {"part": part, "grp": group}
        physics = False  # the layout above keeps the ring together and its context around it
    else:
        physics = nodes.height <= physics_max_nodes
        xy = _layout(nodes, edges, seed)
    node_data = {
        "id": nodes.get_column("id").to_list(),
        "label": [display_text(label) for label in nodes.get_column("label").to_list()],
        "shape": [TYPE_SHAPES.get(t, "dot") for t in nodes.get_column("type").to_list()],
        "color": colors,
        "size": [round(float(s), 2) for s in nodes.get_column("size").fill_null(10.0).to_list()],
        "tip": [_display_lines(tip) for tip in nodes.get_column("tooltip").fill_null("").to_list()],
        "x": xy[:, 0].tolist() if len(xy) else [],
        "y": xy[:, 1].tolist() if len(xy) else [],
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
                        "keyboard": False, "multiselect": False},
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
    data = {"nodes": node_data, "edges": edge_data, "options": options, "links": links or {},
            "focus": list(table.focus) if table is not None else []}
    return _page(_Page(title=title, panel=panel, legend=legend, notes=list(notes) + cap_notes, table=table,
                       summary=summary_line, context=n_context), data)


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
#gk-graph{flex:1 1 auto;min-width:0;background:#fff;border-right:1px solid #ddd}
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
  function shown(k) {
    if (!P || P[k] === "f") { return true; }
    return P[k] === "c" ? open[N.grp[k]] === true : open[N.grp[k]] !== true;
  }
  for (i = 0; i < N.id.length; i++) {
    var node = {id: N.id[i], label: N.label[i], shape: N.shape[i], size: N.size[i],
                color: {background: N.color[i], border: P && P[i] === "c" ? "#b0bec5" : "#37474f",
                        highlight: {background: N.color[i], border: "#000"}},
                title: tip(N.tip[i]), x: N.x[i], y: N.y[i]};
    if (P) { node.font = FONTS[P[i]]; node.hidden = !shown(i); }
    nodes.push(node);
  }
  function edgeShown(k) { return shown(at[E.from[k]]) && shown(at[E.to[k]]); }
  for (i = 0; i < E.from.length; i++) {
    var faded = P && (P[at[E.from[i]]] !== "f" || P[at[E.to[i]]] !== "f");
    edges.push({id: "e" + i, from: E.from[i], to: E.to[i], width: E.width[i],
                color: {color: E.color[i], highlight: "#000", opacity: faded ? 0.35 : 0.8},
                arrows: {to: {enabled: E.arrow[i], scaleFactor: 0.5}}, title: tip(E.tip[i]),
                hidden: P ? !edgeShown(i) : false});
  }
  var container = document.getElementById("gk-graph");
  var nodeSet = new vis.DataSet(nodes), edgeSet = new vis.DataSet(edges);
  var network = new vis.Network(container, {nodes: nodeSet, edges: edgeSet}, data.options);
  window.gkNetwork = network;
  var toggle = document.getElementById("gk-context"), groups = [];
  if (P) { for (i = 0; i < N.id.length; i++) { if (P[i] === "s") { groups[N.grp[i]] = i; } } }
  function visible() {
    var n = 0;
    for (var k = 0; k < N.id.length; k++) { if (shown(k)) { n++; } }
    return n;
  }
  function setOpen(which, value) {  // which: a group number, or null for all
    var moved = [], changed = [], k;
    for (var g = 0; g < groups.length; g++) {
      if ((which === null || which === g) && (open[g] === true) !== value) {
        open[g] = value;
        if (value) {  // its nodes around where the group's node now is
          var s = groups[g], p = network.getPosition(N.id[s]), dx = p.x - N.x[s], dy = p.y - N.y[s];
          for (k = 0; k < N.id.length; k++) {
            if (P[k] === "c" && N.grp[k] === g) { moved.push({id: N.id[k], x: N.x[k] + dx, y: N.y[k] + dy}); }
          }
        }
      }
    }
    nodeSet.update(moved);
    for (k = 0; k < N.id.length; k++) { changed.push({id: N.id[k], hidden: !shown(k)}); }
    nodeSet.update(changed);
    changed = [];
    for (k = 0; k < E.from.length; k++) { changed.push({id: "e" + k, hidden: !edgeShown(k)}); }
    edgeSet.update(changed);
    var all = true;
    for (g = 0; g < groups.length; g++) { if (open[g] !== true) { all = false; } }
    if (toggle) {
      toggle.textContent = all ? "hide context" : "show context";
      toggle.setAttribute("aria-pressed", all ? "true" : "false");
    }
    document.body.setAttribute("data-context", all ? "shown" : "collapsed");
  }
  window.gkVisibleNodes = visible;
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
    if (params.nodes.length && Object.prototype.hasOwnProperty.call(data.links, params.nodes[0])) {
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
    found.textContent = "selected: " + N.label[N.id.indexOf(id)];
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
          var nx = parseFloat(x), ny = parseFloat(y), r;
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
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_esc(page.title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(page.title)}</h1>"
        f'<p><span id="gk-summary">{_esc(page.summary)}</span> Hover for evidence, scroll to zoom'
        f"{', double-click a node to open its view' if data['links'] else ''}.</p></header>"
        '<main><div id="gk-graph" role="img" aria-label="network view"></div><aside>'
        + (f'<button id="gk-context" type="button" aria-pressed="false">show context ({page.context:,} nodes)</button>'
           if page.context else "") +
        '<label for="gk-search">Find a node</label>'
        '<input id="gk-search" list="gk-ids" autocomplete="off" placeholder="id or label, then Enter">'
        '<datalist id="gk-ids"></datalist><div id="gk-found" aria-live="polite"></div>'
        f"{notes}{panel}<h2>Legend</h2>{_legend_html(page.legend)}</aside></main>{table}"
        f'<script type="application/json" id="gk-data">{script_json(data)}</script>'
        f"<script>{vis_js}</script><script>{_JS}</script></body></html>\n"
    )
