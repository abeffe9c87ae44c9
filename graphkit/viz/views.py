"""The investigator's views: one page per ring, an overview, an escalation view, and writing them.

- :mod:`~graphkit.viz.evidence_page`: :func:`evidence_view`, the graph every page draws.
- :mod:`~graphkit.viz.ring_page`: :func:`ring_view`.
- :mod:`~graphkit.viz.overview_page`: :func:`overview`.
- here: :func:`write_views` (the report's pages), :func:`expand_view` (``graphkit expand``) and
  :func:`show` (a page inline in a notebook).
"""

from __future__ import annotations

import html as _html
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from graphkit.config import Config
from graphkit.detect.evidence import Evidence, neighbourhood_edges, popular_hosts
from graphkit.errors import InputError
from graphkit.graphs.window import apply_window
from graphkit.util.atomic import atomic_write_text
from graphkit.viz.redact import Redactor
from graphkit.viz.evidence_page import KIND_WORD, display_names, evidence_view, facts_of_accounts
from graphkit.viz.overview_page import overview, report_config
from graphkit.viz.ring_page import check_ring_id, ring_view

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.io import Tables
    from graphkit.model import Report

__all__ = ["evidence_view", "expand_view", "overview", "ring_view", "show", "write_views"]

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
    config = config or report_config(report)
    top = config.top if top is None else top
    out = Path(out_dir)
    # a ring view reaches one link from its members: only the edges among those nodes are built, with
    # the platform-wide facts of their nodes, and the account facts of every account among them, once
    members = [m for ring in report.rings[:top] for m in ring.members]
    around, facts = neighbourhood_edges(report.tables, members, since=config.since, until=config.until,
                                        hub_cap=config.hub_cap, placeholders=config.placeholder_device_ids)
    ends = pl.concat([around.get_column("source"), around.get_column("target"),
                      pl.Series("source", [f"account:{m}" for m in members], dtype=pl.Utf8)])
    accounts = ends.filter(ends.str.starts_with("account:")).str.strip_prefix("account:").unique()
    per_account = facts_of_accounts(report.tables, accounts, report.user_scores, report.user_features,
                                    since=config.since, until=config.until)
    popular = popular_hosts(around, hub_cap=config.hub_cap)  # what each ring's evidence_graph measured on ``around``
    # the gifts of those accounts (timelines, member tables), selected once rather than once per ring
    wanted = accounts.implode()
    near = apply_window(report.tables, config.since, config.until).gifts.filter(
        pl.col("sender_id").is_in(wanted) | pl.col("receiver_id").is_in(wanted))
    written = [atomic_write_text(overview(report, top=top, redactor=redactor, config=config), out / "index.html")]
    for ring in report.rings[:top]:
        page = ring_view(ring, report.tables, report.user_scores, user_features=report.user_features,
                         config=config, redactor=redactor, edges=around, facts=facts, account_facts=per_account,
                         popular=popular, gifts=near)
        written.append(atomic_write_text(page, out / "rings" / f"{check_ring_id(ring.ring_id)}.html"))
    return written


def expand_view(
    evidence: Evidence,
    tables: "Tables | None",
    *,
    user_scores: pl.DataFrame | None = None,
    user_features: pl.DataFrame | None = None,
    config: Config = Config(),
    redactor: Redactor | None = None,
    hops: int | None = None,
    account_facts: pl.DataFrame | None = None,
    gifts: pl.DataFrame | None = None,
    sightings: pl.DataFrame | None = None,
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
    account_facts : polars.DataFrame, optional
        As in :func:`evidence_view` (a report's store gives them; ``tables`` is then not read and may be ``None``).
    gifts, sightings : polars.DataFrame, optional
        As in :func:`evidence_view` (the events of the accounts drawn, from a report's store).

    Returns
    -------
    str
        The HTML document.
    """
    nodes = evidence.nodes
    seeds = nodes.filter(pl.col("seed"))
    seed_names = display_names(seeds, "key", seeds.get_column("kind"), redactor).to_list()
    counts = nodes.group_by("kind").len().sort("kind")
    panel = [
        ("Starting points", [f"{KIND_WORD[k]} {n}" for k, n in zip(seeds.get_column("kind").to_list(), seed_names)]),
        ("Reached", [f"{n:,} {KIND_WORD[k]}{'s' if n != 1 else ''}" for k, n in counts.rows()]
         + ([f"within {hops} hop{'s' if hops != 1 else ''}"] if hops is not None else [])),
    ]
    title = "graphkit expand: " + ", ".join(seed_names[:5]) + (" ..." if len(seed_names) > 5 else "")
    return evidence_view(evidence, tables, title=title, panel=panel, user_scores=user_scores,
                         user_features=user_features, max_nodes=config.view_max_nodes,
                         physics_max_nodes=config.physics_max_nodes, seed=config.seed, redactor=redactor,
                         since=config.since, until=config.until, file_stem="graphkit-expand",
                         account_facts=account_facts, gifts=gifts, sightings=sightings)


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
