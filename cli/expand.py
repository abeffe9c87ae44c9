"""``graphkit expand``: the network around accounts, devices, IPs or streams, for an escalation."""

from __future__ import annotations

import json
from pathlib import Path

import click
import polars as pl
from rich.table import Table
from rich.text import Text

from graphkit.config import load_config
from graphkit.report.reader import read_report, read_scores
from graphkit.errors import NotFoundError
from graphkit.util.atomic import atomic_write_text, check_replaceable_file
from graphkit.util.format import format_coins
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    check_out_file,
    data_source,
    columns_option,
    config_option,
    outside_data_dir_option,
    read_data,
    recorded_data_dir,
    report_store,
    safe_text,
    setting_type,
    stdout,
    with_the_reports_rings,
    window_options,
)

_SHOWN = 50


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--data", "data_dir", default=None, type=click.Path(path_type=Path, file_okay=False),
              help="The data directory (users, streams, devices, gifts) [default, with --report: the one that "
                   "report read].")
@columns_option
@outside_data_dir_option
@config_option
@click.option("--hops", type=click.IntRange(0, 6), default=None,
              help="Links to follow from the starting points (account -> device -> account is 2) "
                   "[default: 2, or 1 when an ID is a ring].")
@window_options
@click.option("--min-coins", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Do not follow gift links carrying fewer coins.")
@click.option("--max-nodes", type=setting_type("view_max_nodes"), default=None,
              help="Most nodes in the view (default: view_max_nodes, 2000).")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="OUT_DIR of `graphkit report` on the same data: an ID may then be one of its rings (R0002, "
                   "or ring:R0002), drawn from its members, and every account shows its score and ring. Without "
                   "--data, the answer comes from the report's store (OUT_DIR/graph/), reading only the accounts "
                   "asked for, when the window and hub settings are the report's (else from the data it read).")
@click.option("--scores", "scores_path", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="scores.csv of an earlier `graphkit report` run, to show each account's score and ring "
                   "(--report reads it from there).")
@click.option("--redact", "redact_key", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Key file (created when missing; keep it apart): replace every id in the view by a keyed pseudonym.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The HTML view to write (FILE.html; an existing file only if graphkit wrote it).")
@click.option("--json", "as_json", is_flag=True,
              help="Print every account reached (user_id, hops, how, coins, score, ring_id), the node and edge "
                   "counts, the notes, the popular hosts not walked past and the view's path as JSON on stdout, "
                   "instead of the table.")
@click.option("--through-popular-hosts", is_flag=True,
              help="Also expand through popular hosts (gifted by more accounts than 99% of receivers and than "
                   "hub_cap), which are otherwise shown but not walked past.")
def expand(ids: tuple[str, ...], data_dir: Path, columns: Path | None, allow_outside_data_dir: bool,
           config_path: Path | None, hops: int,
           since: str | None, until: str | None, min_coins: float, max_nodes: int | None,
           report_dir: Path | None, scores_path: Path | None, redact_key: Path | None, out_path: Path,
           as_json: bool, through_popular_hosts: bool) -> None:
    """Show the network around one or more accounts (or devices, IPs, streams):
    print the accounts reached (how, score, coins) and write an HTML view.

    An ID may name its kind (device:d7, ip:10.0.0.1, stream:s3); a bare ID
    matches every kind it exists as; with --report, an ID may be one of the
    report's rings (R0002), which starts from all its members. Shared
    identifiers linked to more than
    hub_cap accounts, and popular hosts (a 1-coin gift to a star links its
    giver to hundreds of strangers), are shown but not expanded through.

    Example: graphkit expand u007282 device:d006080 --data fixtures/demo --hops 2 --out u007282.html
    """
    # imported here: igraph, networkx and pyvis are for this command only, not for `graphkit -h`
    from graphkit.detect.evidence import entity_edges, evidence_graph
    from graphkit.viz import expand_view, load_or_create_key

    saved = read_report(report_dir, scores=False) if report_dir is not None else None  # a bad --report fails first
    config = load_config(config_path, since=since, until=until, view_max_nodes=max_nodes)
    store = report_store(report_dir, data_dir, config, min_coins=min_coins)
    if store is None:
        data_dir, columns, allow_outside_data_dir = data_source(data_dir, columns, allow_outside_data_dir, report_dir)
    elif (recorded := recorded_data_dir(report_dir)) is not None:
        data_dir = recorded
    check_out_file(out_path, data_dir)  # before any work: never over an input table
    check_replaceable_file(out_path)  # nor over a file graphkit did not write
    rings: tuple[str, ...] = ()
    if saved is not None:
        ids, rings = saved.resolve_rings(ids)
    hops = hops if hops is not None else (1 if rings else 2)
    redactor = load_or_create_key(redact_key, outside=out_path.parent) if redact_key is not None else None
    given = read_scores(scores_path) if scores_path is not None else None
    if store is not None:  # the report's store answers: only the keys asked for are read
        try:
            ev = store.expand(list(ids), hops=hops, max_nodes=config.view_max_nodes,
                              through_popular_hosts=through_popular_hosts)
        except NotFoundError as exc:  # a mistyped or yesterday's ring id: say which rings this report has
            raise with_the_reports_rings(exc, report_dir, saved) from None
        reached = ev.nodes.filter(pl.col("kind") == "account").get_column("key")
        scores = given if given is not None else store.scores_of(reached)
        gifts, sightings = store.events_of(reached)
        page = expand_view(ev, None, user_scores=scores, config=config, redactor=redactor, hops=hops,
                           account_facts=store.account_facts(reached, given), gifts=gifts, sightings=sightings)
    else:
        tables = read_data(data_dir, columns=columns, config=config, allow_outside_data_dir=allow_outside_data_dir)
        edges = entity_edges(tables, since=config.since, until=config.until, min_coins=min_coins)
        ev = evidence_graph(tables, list(ids), hops=hops, hub_cap=config.hub_cap,
                            placeholders=config.placeholder_device_ids, edges=edges, max_nodes=config.view_max_nodes,
                            through_popular_hosts=through_popular_hosts)
        scores = given if given is not None else (read_scores(report_dir / "scores.csv") if saved is not None else None)
        page = expand_view(ev, tables, user_scores=scores, config=config, redactor=redactor, hops=hops)
    atomic_write_text(page, out_path)
    accounts = _with_scores(ev.accounts(), scores)
    if as_json:
        click.echo(json.dumps({"accounts": accounts.to_dicts(), "nodes": ev.nodes.height, "edges": ev.edges.height,
                               "notes": list(ev.notes), "popular_hosts_skipped": ev.skipped.to_dicts(),
                               "out": str(out_path)}, indent=2, ensure_ascii=False))
        return
    stdout.print(_accounts_table(accounts))
    shown = ev.accounts().height
    if shown > _SHOWN:
        stdout.print(f"... and {shown - _SHOWN:,} more accounts (all in the view).")
    for note in ev.notes:
        stdout.print(Text("note: ", style="yellow") + safe_text(note))
    if not ev.skipped.is_empty():
        stdout.print(Text("note: ", style="yellow") + Text("--through-popular-hosts walks past them."))
    stdout.print(f"Wrote {out_path} ({ev.nodes.height:,} nodes, {ev.edges.height:,} edges).", markup=False)


def _with_scores(accounts: pl.DataFrame, scores: pl.DataFrame | None) -> pl.DataFrame:
    """The accounts reached, with the score and ring of each from ``--scores`` (null without it)."""
    if scores is None:
        return accounts.with_columns(pl.lit(None, pl.Float64).alias("score"), pl.lit(None, pl.Utf8).alias("ring_id"))
    cols = [c for c in ("user_id", "score", "ring_id") if c in scores.columns]
    accounts = accounts.join(scores.select(cols).unique("user_id", keep="first"), on="user_id", how="left",
                             maintain_order="left")
    return accounts if "ring_id" in accounts.columns else accounts.with_columns(pl.lit(None, pl.Utf8).alias("ring_id"))


def _accounts_table(accounts: pl.DataFrame) -> Table:
    table = Table(title=f"{accounts.height:,} accounts reached", title_justify="left")
    for header, justify in (("account", "left"), ("hops", "right"), ("how", "left"), ("score", "right"),
                            ("ring", "left"), ("coins sent", "right"), ("coins received", "right")):
        table.add_column(header, justify=justify)
    for row in accounts.head(_SHOWN).iter_rows(named=True):
        score = row.get("score")
        # ids come from the data: no markup, no escape sequences or line breaks
        table.add_row(safe_text(row["user_id"]), str(row["hops"]), safe_text(row["how"]),
                      "" if score is None else f"{score:.2f}", safe_text(row.get("ring_id")),
                      format_coins(row["coins_sent"]), format_coins(row["coins_received"]))
    return table
