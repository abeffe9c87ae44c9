"""One page per ring: its members, beneficiaries and the evidence around them (``rings/<ring_id>.html``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl

from graphkit.config import Config
from graphkit.detect.evidence import entity_edges, evidence_graph
from graphkit.errors import InputError
from graphkit.util.format import format_coins
from graphkit.viz.redact import Redactor
from graphkit.viz.evidence_page import evidence_view

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.io import Tables
    from graphkit.model import Ring

__all__ = ["check_ring_id", "ring_view"]

_RING_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


def check_ring_id(ring_id: str) -> str:
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
    popular: pl.DataFrame | None = None,
    gifts: pl.DataFrame | None = None,
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
    popular : polars.DataFrame, optional
        :func:`graphkit.detect.evidence.popular_hosts` of ``edges``, when drawing many rings
        on the same edges (otherwise measured here, on ``edges``).
    gifts : polars.DataFrame, optional
        See :func:`evidence_view`.

    Returns
    -------
    str
        The HTML document.
    """
    if edges is None:
        edges = entity_edges(tables, since=config.since, until=config.until)
    seeds = [f"account:{m}" for m in ring.members]
    ev = evidence_graph(tables, seeds, hops=1, hub_cap=config.hub_cap, placeholders=config.placeholder_device_ids,
                        max_nodes=config.view_max_nodes, edges=edges, facts=facts, popular=popular)
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
                         since=config.since, until=config.until, file_stem=f"graphkit-ring-{ring.ring_id}",
                         gifts=gifts)
