"""One row per account of the graph features graphkit computes, for other models (``graphkit features``).

The features are those behind graphkit's own scores (activity, centrality,
per-account evidence, the Leiden community and lockstep group), plus what an
account's neighbours look like: the mean and the maximum of a few features
over the accounts it exchanged gifts with (either direction) and over the
accounts it shares a device or IP with (hubs left out, by the report's hub
rule). :data:`FEATURES` documents every column.

Examples
--------
>>> from graphkit import Config, analyze, read_tables
>>> frame = account_features(analyze(read_tables("fixtures/demo"), Config(), workers=1))
>>> frame.height, frame.columns[0], set(frame.columns) == set(FEATURES)
(8000, 'user_id', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from graphkit.graphs import Graphs
from graphkit.model import Report

if TYPE_CHECKING:  # pragma: no cover - typing only
    from polars.dataframe.group_by import GroupBy

__all__ = ["FEATURES", "NEIGHBOUR_FEATURES", "account_features", "feature_frame"]

NEIGHBOUR_FEATURES = ("pagerank", "coins_sent", "coins_received", "age_days", "evidence", "crowded_identifier")
"""The features averaged and maximised over each account's gift and shared-identifier neighbours."""

_BASE = {
    "user_id": "the account id, exactly as in the input",
    "created_at": "account creation time (users table), UTC",
    "first_sent_at": "first gift sent in the window, UTC",
    "last_sent_at": "last gift sent in the window, UTC",
    "n_sent": "gifts sent",
    "coins_sent": "coins sent",
    "max_gift": "largest gift sent, coins",
    "n_received": "gifts received",
    "coins_received": "coins received",
    "n_senders": "distinct accounts that gifted it",
    "age_days": "account age at its first gift sent, days",
    "pagerank": "PageRank on the gift flow (weighted by coins)",
    "in_strength": "coins received on the gift graph (coin-weighted in-degree, self-gifts left out)",
    "out_strength": "coins sent on the gift graph (coin-weighted out-degree, self-gifts left out)",
    "hub": "HITS hub score on the coin-weighted gift flow, scaled so the maximum is 1",
    "authority": "HITS authority score on the coin-weighted gift flow, scaled so the maximum is 1",
    "coreness": "k-core number in the undirected gift graph",
    "betweenness": "betweenness on directed hop paths, normalised (sampled sources on big graphs)",
    "evidence": "graphkit's own per-account evidence in [0, 1] (before ring membership)",
    "funder": "sent gifts and received none (bool)",
    "young": "younger than the platform's measured young-account age (bool)",
    "one_shot_large": "sent at most two gifts, one of them large, and received no more gifts than it sent (bool)",
    "crowded_identifier": "(accounts on its most crowded evidence device or IP - 2) / 10, clipped to [0, 1]",
    "on_loop": "in a strongly connected piece of the gift flow of 2 to max_community_size accounts (bool)",
    "lockstep": "accounts it co-gifted with on two or more streams / 5, clipped to [0, 1]",
    "fan_in": "paid mostly by one-shot large senders, at least min_ring_size of them (bool)",
    "closed_triads": "local clustering coefficient in the undirected gift graph",
    "relay": "relay hops it was the middle of (graphkit.graphs.relays.relay_hops) / 2, clipped to [0, 1]",
    "reciprocal": "gifted an account that gifted it back (bool)",
    "community": "its Leiden community (CPM) on the combined user graph",
    "community_size": "accounts in that community",
    "lockstep_group": "its lockstep group (null outside any)",
    "lockstep_size": "accounts in that lockstep group",
    "gift_neighbours": "distinct accounts it sent gifts to or received gifts from",
    "shared_neighbours": "distinct accounts it shares a (non-hub) device or IP with",
    "shared_strength": "sum over those accounts of the shared-identifier strength (1 / log2 accounts per identifier)",
}
FEATURES: dict[str, str] = {
    **_BASE,
    **{f"{relation}_{how}_{name}": f"{how} of {name} over its {relation} neighbours (null without any)"
       for relation in ("gift", "shared") for name in NEIGHBOUR_FEATURES for how in ("mean", "max")},
}
"""Every column of :func:`account_features`, in order, with what it holds."""


def account_features(report: Report) -> pl.DataFrame:
    """The features of every account in ``report``'s graph, one row each (columns: :data:`FEATURES`).

    Parameters
    ----------
    report : Report
        From :func:`graphkit.analyze` (it carries the graphs and the per-account features).

    Returns
    -------
    polars.DataFrame
        Sorted by ``user_id``; booleans as booleans, times as UTC datetimes.
    """
    return feature_frame(report.user_features, report.graphs)


def feature_frame(user_features: pl.DataFrame, graphs: Graphs) -> pl.DataFrame:
    """:func:`account_features` from its two inputs, for a caller that holds no :class:`Report` yet.

    ``analyze(..., learned=...)`` scores accounts with a trained model before
    the rings are scored (:mod:`graphkit.learn`), from these same columns.

    Parameters
    ----------
    user_features : polars.DataFrame
        ``Report.user_features``.
    graphs : Graphs
        ``Report.graphs``.
    """
    base = user_features
    index = graphs.index.users.select("uid", "user_id")
    gift_pairs = graphs.gift_flow.select("src", "dst")
    gift = pl.concat([gift_pairs.select(pl.col("src").alias("uid"), pl.col("dst").alias("nbr")),
                      gift_pairs.select(pl.col("dst").alias("uid"), pl.col("src").alias("nbr"))])
    gift = gift.filter(pl.col("uid") != pl.col("nbr")).unique()
    shared = graphs.shared.select("a", "b", "strength")
    shared = pl.concat([shared.select(pl.col("a").alias("uid"), pl.col("b").alias("nbr"), "strength"),
                        shared.select(pl.col("b").alias("uid"), pl.col("a").alias("nbr"), "strength")])
    values = base.join(index, on="user_id").select(
        pl.col("uid").alias("nbr"), *[pl.col(c).cast(pl.Float64) for c in NEIGHBOUR_FEATURES])
    frame = base.join(index, on="user_id", how="left")
    frame = frame.join(gift.group_by("uid").agg(pl.len().cast(pl.Int64).alias("gift_neighbours")), on="uid", how="left")
    frame = frame.join(_by_account(shared).agg(pl.len().cast(pl.Int64).alias("shared_neighbours"),
                                               pl.col("strength").sum().alias("shared_strength")), on="uid", how="left")
    for relation, pairs in (("gift", gift), ("shared", shared)):
        aggregated = _by_account(pairs.join(values, on="nbr")).agg(
            [getattr(pl.col(name), how)().alias(f"{relation}_{how}_{name}")
             for name in NEIGHBOUR_FEATURES for how in ("mean", "max")])
        frame = frame.join(aggregated, on="uid", how="left")
    frame = frame.with_columns(pl.col("gift_neighbours", "shared_neighbours").fill_null(0),
                               pl.col("shared_strength").fill_null(0.0))
    return frame.select(list(FEATURES)).sort("user_id")


def _by_account(pairs: pl.DataFrame) -> GroupBy:
    """``pairs`` (``uid, nbr, ...``) grouped by ``uid``, each group's rows in ``nbr`` order.

    A group keeps its rows' order and a float sum depends on it: sorted, each sum and mean is the same in
    every run (``maintain_order``, else polars drops the sort from the plan, as in
    :func:`graphkit.graphs.projections.shared_projection`)."""
    return pairs.sort("uid", "nbr").group_by("uid", maintain_order=True)

