"""``graphkit export``: one graph of a data directory for other tools (GraphML, GEXF, Parquet)."""

from __future__ import annotations

from pathlib import Path

import click

from graphkit.graphs import GRAPH_NAMES
from graphkit.config import load_config
from graphkit.report.export import EXPORT_FORMATS, export_format, nodes_path, read_findings, write_graph
from graphkit.util.atomic import check_replaceable_file
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    check_out_file,
    UserError,
    columns_option,
    config_option,
    data_dir_argument,
    outside_data_dir_option,
    read_data,
    safe_text,
    setting_type,
    stdout,
    window_options,
)


@click.command(context_settings=CONTEXT_SETTINGS)
@data_dir_argument
@click.option("--graph", "which", type=click.Choice(GRAPH_NAMES), required=True,
              help="gifts: sender -> receiver with coins and count; shared: accounts sharing devices/IPs; "
                   "cogift: accounts gifting the same streams within the window.")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="Output format (default: from the suffix of --out). parquet writes the edge list to FILE "
                   "and the node list next to it as NAME.nodes.parquet.")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="File to write (replaced atomically; an existing file only if graphkit wrote it).")
@window_options
@click.option("--hub-cap", type=setting_type("hub_cap"), default=None,
              help="shared: leave out devices/IPs seen with more accounts than this (default: hub_cap, 50).")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="OUT_DIR of graphkit report on the same data: each node gets score, ring_id and role "
                   "(beneficiary, funder, member) from its scores.csv, for colouring in Gephi.")
@click.option("--ring", default=None, metavar="RING_ID",
              help="Only this ring's members (from --report's rings.json) and the edges among them.")
@columns_option
@outside_data_dir_option
@config_option
def export(data_dir: Path, which: str, fmt: str | None, out: Path, since: str | None, until: str | None,
           hub_cap: int | None, report_dir: Path | None, ring: str | None, columns: Path | None,
           allow_outside_data_dir: bool, config_path: Path | None) -> None:
    """Export one graph of DATA_DIR for networkx, Gephi or a dataframe.

    Node ids are the account ids. gifts is directed, one edge per distinct
    (sender, receiver) pair with coins (sum) and count; shared and cogift are
    undirected with their weights. With --report, nodes carry the report's
    score, ring_id and role; with --ring, only that ring's subgraph is written.

    Example: graphkit export fixtures/demo --graph gifts --format graphml --out gifts.graphml
    """
    from graphkit.graphs import build_graphs  # igraph: for this command only, not for `graphkit -h`

    check_out_file(out, data_dir)  # before any work: never over an input table
    check_replaceable_file(out)  # nor over a file graphkit did not write
    config = load_config(config_path, since=since, until=until, hub_cap=hub_cap)
    fmt = export_format(out, fmt)
    if fmt == "parquet":  # its node list, beside the edges
        check_out_file(nodes_path(out), data_dir)
        check_replaceable_file(nodes_path(out))
    if ring is not None and report_dir is None:
        raise UserError("--ring needs --report OUT_DIR (the report that found the ring)")
    findings = read_findings(report_dir, ring=ring) if report_dir is not None else None  # before the long part
    tables = read_data(data_dir, columns=columns, config=config, allow_outside_data_dir=allow_outside_data_dir)
    graphs = build_graphs(tables, config)
    nodes, edges = graphs.frames(which)
    if findings is not None:
        nodes, edges = findings.apply(nodes, edges)
    written = write_graph(nodes, edges, out, fmt, directed=which == "gifts",
                          weight="coins" if which == "gifts" else "weight")
    what = f"ring {ring} of the {which} graph" if ring is not None else f"{which} graph"
    stdout.print(safe_text(f"wrote {what}: {nodes.height:,} nodes, {edges.height:,} edges -> "
                           + ", ".join(str(p) for p in written)))
