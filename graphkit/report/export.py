"""Export one user graph for other tools: GraphML, GEXF (Gephi) or Parquet.

The XML is written by vectorised polars string expressions (no Python loop
over edges, no networkx in between), so a 10M-edge gift graph exports in
seconds; networkx (``read_graphml``, ``read_gexf``) and Gephi read the files.
Node ids are the account ids, unchanged (19-digit and zero-padded ids stay
strings). Characters XML 1.0 cannot carry (control characters other than tab,
newline and carriage return) are replaced by U+FFFD in the XML formats only.

Formats
-------
graphml
    ``<key>`` per edge column (``double``, ``long`` or ``string``); directed
    for ``gifts``, undirected otherwise.
gexf
    GEXF 1.2; ``weight`` is ``coins`` for ``gifts`` and ``weight`` for the
    projections; every edge column is also an attribute.
parquet
    ``FILE``: the edge list, ``source``, ``target`` (id strings) and the edge
    columns; ``FILE`` with ``.nodes.parquet`` in place of its suffix: the
    node list (``id`` and the node columns), which also holds accounts
    without edges.

Node columns other than ``id`` (``score``, ``ring_id``, ``role`` from a
report's ``scores.csv``, :func:`read_findings`) become node attributes
in GraphML and GEXF, so Gephi can colour and size by them.

Examples
--------
>>> import tempfile, pathlib, networkx as nx, polars as pl
>>> from graphkit import Config, Tables
>>> from graphkit.graphs import build_graphs
>>> gifts = pl.DataFrame({"sender_id": ["007", "b"], "receiver_id": ["h", "h"], "coins": [5.0, 1.0],
...                       "sent_at": ["2024-01-01T00:00:00Z"] * 2})
>>> graphs = build_graphs(Tables.from_frames(gifts=gifts))
>>> out = pathlib.Path(tempfile.mkdtemp()) / "gifts.graphml"
>>> _ = export_graph(graphs, "gifts", out)
>>> g = nx.read_graphml(out)
>>> sorted(g.nodes), g.edges["007", "h"]["coins"], g.edges["007", "h"]["count"]
(['007', 'b', 'h'], 5.0, 1)
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from graphkit.errors import ConfigError
from graphkit.graphs import GRAPH_NAMES
from graphkit.report.reader import read_report
from graphkit.util.atomic import atomic_write_bytes, parquet_bytes
from graphkit.util.version import __version__

__all__ = ["EXPORT_FORMATS", "export_graph", "write_graph", "export_format", "graphml_bytes", "gexf_bytes", "nodes_path",
           "ReportFindings", "read_findings"]

EXPORT_FORMATS = ("graphml", "gexf", "parquet")
_SUFFIXES = {".graphml": "graphml", ".gexf": "gexf", ".parquet": "parquet"}
_BAD_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]"


def export_format(path: str | Path, fmt: str | None = None) -> str:
    """The export format: ``fmt`` when given, else from the file's suffix.

    Raises :class:`ConfigError` for an unknown format or suffix.
    """
    if fmt is not None:
        if fmt not in EXPORT_FORMATS:
            raise ConfigError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
            f"pass --format {'|'.join(EXPORT_FORMATS)} or name the file .graphml, .gexf or .parquet"
        )
    return _SUFFIXES[suffix]


def nodes_path(path: str | Path) -> Path:
    """Where the Parquet export writes its node list: ``edges.parquet`` -> ``edges.nodes.parquet``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.nodes.parquet")


def export_graph(graphs, which: str, out: str | Path, fmt: str | None = None) -> list[Path]:  # noqa: ANN001
    """Write user graph ``which`` of ``graphs`` to ``out`` (atomically).

    Parameters
    ----------
    graphs : graphkit.graphs.Graphs
    which : {"gifts", "shared", "cogift"}
        See :meth:`graphkit.graphs.Graphs.frames` for nodes and edge columns.
    out : path
    fmt : {"graphml", "gexf", "parquet"}, optional
        Default: from the suffix of ``out``.

    Returns
    -------
    list of Path
        The files written (two for Parquet: edges, then nodes).
    """
    if which not in GRAPH_NAMES:
        raise ConfigError(f"unknown graph {which!r}; use one of {', '.join(GRAPH_NAMES)}")
    nodes, edges = graphs.frames(which)
    return write_graph(nodes, edges, out, fmt, directed=which == "gifts",
                       weight="coins" if which == "gifts" else "weight")


@dataclass(frozen=True)
class ReportFindings:
    """What a report found, to put on exported nodes (:func:`read_findings`).

    Attributes
    ----------
    scores : polars.DataFrame
        ``id, score, ring_id, role`` for every account of the report's ``scores.csv``.
    ring : str or None
        The ring to cut the graph down to.
    members : tuple of str
        Its members (``rings.json``); empty without ``ring``.
    """

    scores: pl.DataFrame
    ring: str | None = None
    members: tuple[str, ...] = ()

    def apply(self, nodes: pl.DataFrame, edges: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Nodes with ``score``, ``ring_id``, ``role``; only the ring's members and the edges among them
        when a ring was asked for.

        Examples
        --------
        >>> import polars as pl
        >>> scores = pl.DataFrame({"id": ["a", "h"], "score": [0.9, 0.8], "ring_id": ["R0001"] * 2,
        ...                        "role": ["member", "beneficiary"]})
        >>> nodes = pl.DataFrame({"id": ["a", "b", "h"]})
        >>> edges = pl.DataFrame({"source": ["a", "b"], "target": ["h", "h"]})
        >>> n, e = ReportFindings(scores, "R0001", ("a", "h")).apply(nodes, edges)
        >>> n.rows(), e.rows()
        ([('a', 0.9, 'R0001', 'member'), ('h', 0.8, 'R0001', 'beneficiary')], [('a', 'h')])
        """
        nodes = nodes.join(self.scores, on="id", how="left", maintain_order="left")
        if self.ring is None:
            return nodes, edges
        members = pl.Series("id", self.members, dtype=pl.Utf8).implode()
        return (nodes.filter(pl.col("id").is_in(members)),
                edges.filter(pl.col("source").is_in(members) & pl.col("target").is_in(members)))


def read_findings(report_dir: str | Path, *, ring: str | None = None) -> ReportFindings:
    """Read the scores (and one ring's members) of a ``graphkit report`` folder, for :func:`write_graph`.

    Parameters
    ----------
    report_dir : path
        The ``OUT_DIR`` of ``graphkit report`` on the same data: its
        ``scores.csv`` gives each node ``score``, ``ring_id`` and ``role``
        (``beneficiary``, ``funder``, ``member``; null for accounts it does not list).
    ring : str, optional
        Keep only this ring's members (``rings.json``) and the edges among them.

    Raises
    ------
    InputError
        ``report_dir`` is not a graphkit report.
    NotFoundError
        ``ring`` is not one of its rings.
    """
    saved = read_report(report_dir)
    scores = saved.scores.rename({"user_id": "id"})
    if ring is None:
        return ReportFindings(scores)
    return ReportFindings(scores, ring, tuple(saved.ring(ring)["members"]))


def write_graph(
    nodes: pl.DataFrame, edges: pl.DataFrame, out: str | Path, fmt: str | None = None, *,
    directed: bool = True, weight: str = "weight",
) -> list[Path]:
    """Write a node frame (``id``) and an edge frame (``source``, ``target``, attributes) to ``out``.

    ``fmt`` defaults to the suffix of ``out``; ``weight`` names the edge column
    GEXF uses as the edge weight. Returns the files written.
    """
    fmt = export_format(out, fmt)
    out = Path(out)
    if fmt == "parquet":
        return [atomic_write_bytes(parquet_bytes(edges), out), atomic_write_bytes(parquet_bytes(nodes), nodes_path(out))]
    data = graphml_bytes(nodes, edges, directed) if fmt == "graphml" else gexf_bytes(nodes, edges, directed, weight)
    return [atomic_write_bytes(data, out)]


def graphml_bytes(nodes: pl.DataFrame, edges: pl.DataFrame, directed: bool) -> bytes:
    """A GraphML document from a node frame (``id``) and an edge frame (``source``, ``target``, attributes)."""
    columns = [c for c in edges.columns if c not in ("source", "target")]
    node_columns = [c for c in nodes.columns if c != "id"]
    keys = "".join(
        f'  <key id="n{i}" for="node" attr.name="{_escape_text(c)}" attr.type="{_type(nodes.schema[c], "graphml")}"/>\n'
        for i, c in enumerate(node_columns)
    ) + "".join(
        f'  <key id="d{i}" for="edge" attr.name="{_escape_text(c)}" attr.type="{_type(edges.schema[c], "graphml")}"/>\n'
        for i, c in enumerate(columns)
    )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!-- written by graphkit {__version__} -->\n"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
        f"{keys}"
        f'  <graph id="G" edgedefault="{"directed" if directed else "undirected"}">\n'
    )
    node_parts = [pl.lit('    <node id="'), _escape(pl.col("id")), pl.lit('">' if node_columns else '"/>')]
    for i, c in enumerate(node_columns):
        value = _value(nodes.schema[c], c)
        node_parts.append(pl.when(value.is_not_null()).then(pl.concat_str([pl.lit(f'<data key="n{i}">'), value,
                                                                            pl.lit("</data>")])).otherwise(pl.lit("")))
    if node_columns:
        node_parts.append(pl.lit("</node>"))
    node_lines = nodes.select(pl.concat_str(node_parts))
    parts = [pl.lit('    <edge source="'), _escape(pl.col("source")), pl.lit('" target="'),
             _escape(pl.col("target")), pl.lit('">')]
    for i, c in enumerate(columns):
        value = _value(edges.schema[c], c)
        parts.append(pl.when(value.is_not_null()).then(pl.concat_str([pl.lit(f'<data key="d{i}">'), value,
                                                                       pl.lit("</data>")])).otherwise(pl.lit("")))
    parts.append(pl.lit("</edge>"))
    edge_lines = edges.select(pl.concat_str(parts))
    return head.encode() + _lines(node_lines) + _lines(edge_lines) + b"  </graph>\n</graphml>\n"


def gexf_bytes(nodes: pl.DataFrame, edges: pl.DataFrame, directed: bool, weight: str) -> bytes:
    """A GEXF 1.2 document; ``weight`` names the edge column used as the edge weight."""
    columns = [c for c in edges.columns if c not in ("source", "target")]
    node_columns = [c for c in nodes.columns if c != "id"]
    attrs = "".join(
        f'      <attribute id="{i}" title="{_escape_text(c)}" type="{_type(edges.schema[c], "gexf")}"/>\n'
        for i, c in enumerate(columns)
    )
    node_attrs = "".join(
        f'      <attribute id="n{i}" title="{_escape_text(c)}" type="{_type(nodes.schema[c], "gexf")}"/>\n'
        for i, c in enumerate(node_columns)
    )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
        f"  <meta><creator>graphkit {__version__}</creator></meta>\n"
        f'  <graph mode="static" defaultedgetype="{"directed" if directed else "undirected"}">\n'
        + (f'    <attributes class="node" mode="static">\n{node_attrs}    </attributes>\n' if node_columns else "")
        + f'    <attributes class="edge" mode="static">\n{attrs}    </attributes>\n'
        "    <nodes>\n"
    )
    node_parts = [pl.lit('      <node id="'), _escape(pl.col("id")), pl.lit('" label="'), _escape(pl.col("id"))]
    if node_columns:
        node_parts.append(pl.lit('"><attvalues>'))
        for i, c in enumerate(node_columns):
            value = _value(nodes.schema[c], c)
            node_parts.append(pl.when(value.is_not_null()).then(
                pl.concat_str([pl.lit(f'<attvalue for="n{i}" value="'), value, pl.lit('"/>')])).otherwise(pl.lit("")))
        node_parts.append(pl.lit("</attvalues></node>"))
    else:
        node_parts.append(pl.lit('"/>'))
    node_lines = nodes.select(pl.concat_str(node_parts))
    parts = [
        pl.lit('      <edge id="'), pl.int_range(pl.len()).cast(pl.Utf8), pl.lit('" source="'), _escape(pl.col("source")),
        pl.lit('" target="'), _escape(pl.col("target")), pl.lit('"'),
    ]
    if weight in edges.columns:
        parts += [pl.lit(' weight="'), pl.col(weight).cast(pl.Float64).cast(pl.Utf8), pl.lit('"')]
    parts.append(pl.lit("><attvalues>"))
    for i, c in enumerate(columns):
        value = _value(edges.schema[c], c)
        parts.append(pl.when(value.is_not_null()).then(pl.concat_str([pl.lit(f'<attvalue for="{i}" value="'), value,
                                                                       pl.lit('"/>')])).otherwise(pl.lit("")))
    parts.append(pl.lit("</attvalues></edge>"))
    edge_lines = edges.select(pl.concat_str(parts))
    return (
        head.encode() + _lines(node_lines) + b"    </nodes>\n    <edges>\n" + _lines(edge_lines)
        + b"    </edges>\n  </graph>\n</gexf>\n"
    )




def _lines(frame: pl.DataFrame) -> bytes:
    """One string column as newline-terminated lines, written by polars (no Python loop)."""
    if frame.height == 0:
        return b""
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False, quote_style="never")
    return buf.getvalue()


def _escape(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all(_BAD_XML, "\ufffd")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
        .str.replace_all("'", "&apos;", literal=True)
        .str.replace_all("\n", "&#10;", literal=True)
        .str.replace_all("\r", "&#13;", literal=True)
        .str.replace_all("\t", "&#9;", literal=True)
    )


def _escape_text(text: str) -> str:
    return pl.select(_escape(pl.lit(text))).item()


def _value(dtype: pl.DataType, column: str) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
    if dtype == pl.Utf8:
        return _escape(pl.col(column))
    if dtype.is_float():
        return pl.col(column).cast(pl.Float64).cast(pl.Utf8)
    return pl.col(column).cast(pl.Utf8)


def _type(dtype: pl.DataType, fmt: str) -> str:
    if dtype.is_float():
        return "double"
    if dtype.is_integer():
        return "long"
    return "string"
