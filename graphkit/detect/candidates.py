"""The detectors' functions: candidate ring groups as ``cand, uid, source`` frames.

Each detector proposes groups of accounts; a group may overlap others.
:mod:`graphkit.detect.registry` holds the detector contract and the list of
detectors; :func:`graphkit.rings.find_ring_groups` scores the pooled
candidates and gives each account to its best-scoring group.

Detectors
---------
``community``
    Leiden (CPM by default) communities of the combined user graph.
``dense_block``
    FRAUDAR-style dense blocks of sender x stream and sender x receiver
    (:mod:`graphkit.detect.dense`), camouflage-resistant.
``synchrony``
    Groups of accounts that co-gifted the same streams within the window on
    at least two distinct streams (CopyCatch / SynchroTrap style), from the
    co-gifting graph.
``money_loop``
    Strongly connected pieces of the gift flow between persons (accounts on
    one device counted as one): coins that come back.
``fan_in``
    Receivers paid mostly by young accounts sending one or two large gifts
    (cash-out mules), with those senders.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import polars as pl

from graphkit.graphs.build import graph_from_edges, weak_components

from graphkit.config import Config
from graphkit.detect.communities import edge_membership
from graphkit.detect.dense import column_weighted_matrix, dense_blocks
from graphkit.detect.signals import Baseline, fan_in_receivers
from graphkit.detect.worker import in_background, worth_a_worker

__all__ = [
    "CANDIDATE_SCHEMA",
    "community_candidates",
    "dense_block_candidates",
    "synchrony_candidates",
    "lockstep_membership",
    "lockstep_groups",
    "loop_candidates",
    "fan_in_candidates",
    "complete_beneficiaries",
    "complete_funders",
]

CANDIDATE_SCHEMA: dict[str, pl.DataType] = {"cand": pl.Int64, "uid": pl.UInt32, "source": pl.Utf8}
"""The columns of every detector's candidates (the detector contract, :mod:`graphkit.detect.registry`)."""


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)


def _from_membership(membership: np.ndarray, source: str, *, min_size: int, max_size: int | None) -> pl.DataFrame:
    frame = pl.DataFrame({"uid": np.arange(len(membership), dtype=np.uint32), "cand": np.asarray(membership, dtype=np.int64)})
    sizes = frame.group_by("cand").len()
    keep = sizes.filter((pl.col("len") >= min_size) & (pl.col("len") <= (max_size or len(membership)))).select("cand")
    return frame.join(keep, on="cand", how="semi").select("cand", "uid", pl.lit(source).alias("source"))


def community_candidates(membership: np.ndarray, *, min_size: int, max_size: int) -> pl.DataFrame:
    """Communities of the combined user graph (``membership[uid] = community``) of ``min_size`` to ``max_size`` accounts."""
    return _from_membership(membership, "community", min_size=min_size, max_size=max_size)


def dense_block_candidates(
    gifts: pl.DataFrame, n_users: int, *, window_s: float, max_blocks: int, min_size: int, max_size: int
) -> pl.DataFrame:
    """Dense sender x moment and sender x receiver blocks, camouflage-resistant.

    A *moment* is one stream in one ``window_s``-long time bucket: a
    block of senders sharing several moments gifted the same streams at the
    same times (CopyCatch's lockstep, found by FRAUDAR's peeling).

    At most ``max_blocks`` blocks are peeled per view. A block must be at
    least twice as dense as its whole matrix (a baseline measured on the
    data), have at least ``min_size`` senders and at most ``max_size``.
    Receiver blocks bring their receivers along as members (the beneficiaries).
    The ceiling stays: a block of hundreds peeled from a big platform is
    most often a popular moment's crowd with a ring inside it, and it took
    the ring's accounts from their own group (issue 21, seed 3 of a
    ``--ring-size-max 2000`` platform); a burst of hundreds is found whole by
    :func:`graphkit.detect.big.burst_bucket_candidates` instead.
    """
    frames = []
    bucket_us = max(int(window_s), 1) * 1_000_000
    # one integer key per (stream, bucket): ranking it is 3x faster than ranking a struct
    moment_key = pl.col("sid").cast(pl.Int64) * (1 << 32) + pl.col("sent_at").dt.epoch("us") // bucket_us
    moments = gifts.filter(pl.col("sid").is_not_null()).select(
        "src", moment_key.rank("dense").cast(pl.Int64).sub(1).alias("moment")
    )
    views = [
        ("moment", moments, int(moments["moment"].max() or 0) + 1 if moments.height else 0, False),
        ("dst", gifts, n_users, True),
    ]
    for column, frame, n_cols, cols_are_users in views:
        pairs = frame.filter(pl.col(column).is_not_null()).select("src", column)  # the matrix counts repeats once
        if pairs.height == 0 or n_cols == 0:
            continue
        matrix = column_weighted_matrix(pairs["src"].to_numpy(), pairs[column].to_numpy(), (n_users, n_cols))
        whole = float(matrix.sum()) / max(int((np.diff(matrix.indptr) > 0).sum() + (matrix.getnnz(axis=0) > 0).sum()), 1)
        blocks = dense_blocks(matrix, max_blocks=max_blocks, min_rows=min_size, min_density=2.0 * whole)
        for block in blocks:
            if len(block.rows) > max_size:
                continue
            uids = block.rows if not cols_are_users else np.union1d(block.rows, block.cols)
            frames.append(pl.DataFrame({"uid": uids.astype(np.uint32)}).with_columns(
                pl.lit(len(frames)).cast(pl.Int64).alias("cand"), pl.lit(f"dense_block_{column}").alias("source")))
    return pl.concat(frames).select("cand", "uid", "source") if frames else _empty()


def synchrony_candidates(membership: np.ndarray, *, min_size: int, max_size: int) -> pl.DataFrame:
    """Dense groups of accounts that co-gifted the same streams, in the window, on two or more streams.

    Pairs that met once are chance (a busy stream); pairs that met on several
    streams are kept, and Leiden (CPM at ``sync_resolution``) cuts the graph
    they form into tight groups, so that chains of chance meetings across the
    platform do not merge unrelated groups. ``membership[uid]`` is that
    grouping (-1 for accounts without a repeated pair), from
    :func:`lockstep_membership` or :func:`lockstep_groups`.
    """
    frame = _from_membership(membership, "synchrony", min_size=min_size, max_size=max_size)
    return frame.filter(pl.col("cand") >= 0)


def lockstep_membership(
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    *,
    n_users: int,
    resolution: float,
    seed: int,
    max_size: int,
    n_iterations: int,
) -> np.ndarray:
    """``membership[uid]``: the lockstep group of each account, -1 for accounts without a repeated pair.

    Leiden (CPM) on the graph of pairs ``a[i] - b[i]`` weighing ``weight[i]``,
    run on the accounts that have such a pair only (a quarter of them at 10^7
    gifts, and 2.4x faster than with every account as an isolated vertex).
    numpy and igraph only, so that it can run in a worker process.
    """
    membership = np.full(n_users, -1, dtype=np.int64)
    if len(a) == 0:
        return membership
    involved = np.zeros(n_users, dtype=bool)
    involved[a] = involved[b] = True
    uids = np.flatnonzero(involved)
    vertex = np.cumsum(involved) - 1  # uid -> vertex of the compact graph
    membership[uids] = edge_membership(
        vertex[a], vertex[b], weight, n_users=len(uids), method="leiden", objective="CPM", resolution=resolution,
        seed=seed, max_size=max_size, n_iterations=n_iterations,
    )
    return membership


@contextmanager
def lockstep_groups(cogift: pl.DataFrame, n_users: int, config: Config, *, workers: int = 2) -> Iterator[Callable[[], pl.DataFrame]]:
    """Start the lockstep grouping; the context yields a function that returns it as ``uid, group``.

    Only accounts with a repeated co-gifting pair are listed; the
    ``synchrony`` detector turns the groups into candidates.

    With ``workers >= 2`` and a big repeated co-gifting graph (at least
    2,000,000 pairs: :func:`graphkit.detect.worker.worth_a_worker`), the Leiden run of :func:`lockstep_membership` goes to
    a second process while the caller goes on with the main
    communities: igraph runs on one core, and this graph's Leiden is the
    second largest (:func:`graphkit.detect.worker.in_background`). The
    result is the same as in one process: the same seeded computation on
    the same arrays. Leaving the context early stops the worker.

    Examples
    --------
    >>> empty = pl.DataFrame(schema={"a": pl.UInt32, "b": pl.UInt32, "weight": pl.Float64, "streams": pl.UInt32})
    >>> with lockstep_groups(empty, 3, Config()) as lockstep:
    ...     lockstep().height
    0
    """
    a, b, weight = _repeated_pairs(cogift)
    settings = {"n_users": n_users, **_lockstep_settings(config)}
    if not worth_a_worker(len(a), workers):
        yield lambda: _grouped(lockstep_membership(a, b, weight, **settings))
        return
    with in_background("lockstep", {"a": a, "b": b, "weight": weight}, settings) as membership:
        del a, b, weight
        yield lambda: _grouped(membership())


def _grouped(membership: np.ndarray) -> pl.DataFrame:
    """``uid, group`` for the accounts with a group (``membership[uid] >= 0``)."""
    uids = np.flatnonzero(membership >= 0)
    return pl.DataFrame({"uid": uids.astype(np.uint32), "group": membership[uids].astype(np.int64)})


def _repeated_pairs(cogift: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    repeated = cogift.filter(pl.col("streams") >= 2)
    return repeated["a"].to_numpy(), repeated["b"].to_numpy(), repeated["weight"].to_numpy()


def _lockstep_settings(config: Config) -> dict:
    return {
        "resolution": config.sync_resolution, "seed": config.seed, "max_size": config.max_community_size,
        "n_iterations": config.leiden_iterations,
    }


def loop_candidates(
    gift_flow: pl.DataFrame,
    person: pl.DataFrame,
    *,
    min_size: int,
    max_persons: int | None = None,
    min_out_share: float = 0.05,
    min_in_share: float = 0.02,
) -> pl.DataFrame:
    """Money loops: strongly connected pieces of the gift flow between persons.

    Accounts on one device count as one person (``person``: ``uid, person``
    for every account, from :func:`graphkit.detect.signals.person_of`), so coins
    that leave a host, go through its alt account to another host and come
    back through that host's alt form a loop even though no single account
    both sent and received them. Only ties that matter to both sides count
    (at least ``min_out_share`` of the sender's coins and ``min_in_share`` of
    the receiver's: ``Config.loop_min_out_share``, ``Config.loop_min_in_share``).
    A piece of two to ``max_persons`` persons (``Config.max_community_size``
    in the registry; no bound when None) with at least ``min_size`` accounts
    is a candidate. The bound counts persons, not accounts: a laundering loop
    of 20 hosts and their 1,300 alts is 20 persons and one candidate (issue
    21), however many alts each host logs in, while the whole transaction
    graph of a bank (AMLSim: 17,000 accounts on one strongly connected piece)
    is no ring.

    Examples
    --------
    Host 0's alt 1 pays host 2, host 2's alt 3 pays host 0; alts share their host's device:

    >>> flow = pl.DataFrame({"src": [1, 3], "dst": [2, 0], "coins": [50.0, 40.0]},
    ...                     schema_overrides={"src": pl.UInt32, "dst": pl.UInt32})
    >>> person = pl.DataFrame({"uid": [0, 1, 2, 3], "person": [0, 0, 2, 2]}, schema_overrides={"uid": pl.UInt32})
    >>> loop_candidates(flow, person, min_size=3).sort("uid")["uid"].to_list()
    [0, 1, 2, 3]
    """
    person = person.sort("uid")["person"].to_numpy()
    flow = gift_flow.select(
        pl.Series("ps", person[gift_flow["src"].to_numpy()]), pl.Series("pd", person[gift_flow["dst"].to_numpy()]), "coins"
    ).filter(pl.col("ps") != pl.col("pd")).group_by("ps", "pd").agg(pl.col("coins").sum())
    # a tie counts when it matters to both sides: a real share of what the sender spends and of what
    # the receiver earns; the odd gift of one host to a popular other does not chain the platform together
    flow = flow.filter(
        (pl.col("coins") >= min_out_share * pl.col("coins").sum().over("ps"))
        & (pl.col("coins") >= min_in_share * pl.col("coins").sum().over("pd"))
    )
    if flow.height == 0:
        return _empty()
    src, dst = flow["ps"].to_numpy(), flow["pd"].to_numpy()
    graph = graph_from_edges(int(person.max()) + 1, src, dst, directed=True)
    scc = np.asarray(graph.connected_components(mode="strong").membership)
    # persons per piece: each person is one vertex (persons absent from the flow are pieces of one)
    persons_per_scc = np.bincount(scc)
    size = persons_per_scc[scc[person]]
    loop = (size >= 2) & (size <= (max_persons if max_persons is not None else size.max(initial=0)))
    membership = np.where(loop, scc[person], -1)
    frame = _from_membership(membership, "money_loop", min_size=min_size, max_size=None)
    return frame.filter(pl.col("cand") >= 0)


def fan_in_candidates(
    gift_flow: pl.DataFrame, activity: pl.DataFrame, baseline: Baseline, *, min_size: int
) -> pl.DataFrame:
    """Receivers paid mostly by one-shot large senders, with those senders.

    A sender is one-shot large when it sent at most two gifts, one of them at
    least the platform's large-gift value. A receiver qualifies when at least
    ``min_size`` such senders paid it and they make at least half of its
    income (:func:`graphkit.detect.signals.fan_in_receivers`). Receivers that
    share such senders form one group, whatever its size: every member is
    there because of the same evidence, so a cash-out network of 600 mules
    is one candidate, not cut at ``max_community_size``.
    """
    senders = activity.filter(baseline.one_shot_large()).select(pl.col("uid").alias("src"))
    receivers = fan_in_receivers(gift_flow, activity, baseline, min_senders=min_size).select(
        pl.col("uid").alias("dst")
    )
    links = gift_flow.join(senders, on="src", how="semi").join(receivers, on="dst", how="semi").select("src", "dst")
    if links.height == 0:
        return _empty()
    n = int(activity.height)
    membership = weak_components(n, links["src"], links["dst"])
    involved = np.zeros(n, dtype=bool)
    involved[links["src"].to_numpy()] = True
    involved[links["dst"].to_numpy()] = True
    membership = np.where(involved, membership, -1)
    frame = _from_membership(membership, "fan_in", min_size=min_size, max_size=None)
    return frame.filter(pl.col("cand") >= 0)


def complete_funders(cands: pl.DataFrame, gift_flow: pl.DataFrame, activity: pl.DataFrame, baseline: Baseline, *,
                     min_share: float = 0.8) -> pl.DataFrame:
    """Add to each candidate the young accounts that spend (nearly) all their coins on it.

    A fresh account that sends at least ``min_share`` (``Config.funder_min_share``) of everything it ever
    sent to a candidate's members is that candidate's funder (stolen-card
    coins paid into a laundering loop, a farm's top-up account). Old fans of
    a host are not added, nor young accounts spreading their coins around.
    """
    young = activity.filter((pl.col("age_days") < baseline.young_days) & (pl.col("coins_sent") > 0)).select(
        pl.col("uid").alias("src"), "coins_sent"
    )
    paid = (
        gift_flow.select("src", "dst", "coins")
        .join(young, on="src")
        .join(cands.select("cand", pl.col("uid").alias("dst")).unique(), on="dst")
        .group_by("cand", "src")
        .agg(pl.col("coins").sum(), pl.col("coins_sent").first())
        .filter(pl.col("coins") >= min_share * pl.col("coins_sent"))
    )
    sources = cands.group_by("cand").agg(pl.col("source").first())
    extra = paid.select("cand", pl.col("src").alias("uid")).join(sources, on="cand")
    return pl.concat([cands, extra.select(cands.columns)]).unique(["cand", "uid"], keep="first").sort("cand", "uid")


def complete_beneficiaries(cands: pl.DataFrame, gift_flow: pl.DataFrame, activity: pl.DataFrame, *, min_share: float = 0.2,
                           min_income_share: float = 0.25) -> pl.DataFrame:
    """Add to each candidate the accounts its members pay most, when the candidate is most of their income.

    A receiver joins when it gets at least ``min_share`` (``Config.beneficiary_min_share``) of the coins the
    candidate's members send, and the candidate is at least
    ``min_income_share`` (``Config.beneficiary_min_income_share``) of everything it receives (so a popular host that
    ring accounts gift as camouflage does not join).
    """
    sent = gift_flow.select("src", "dst", "coins").join(cands.select("cand", pl.col("uid").alias("src")), on="src")
    out_total = sent.group_by("cand").agg(pl.col("coins").sum().alias("out"))
    to_receiver = sent.group_by("cand", "dst").agg(pl.col("coins").sum().alias("coins_in"))
    joined = (
        to_receiver.join(out_total, on="cand")
        .join(activity.select(pl.col("uid").alias("dst"), "coins_received"), on="dst")
        .filter(
            (pl.col("coins_in") >= min_share * pl.col("out"))
            & (pl.col("coins_in") >= min_income_share * pl.col("coins_received"))
        )
    )
    sources = cands.group_by("cand").agg(pl.col("source").first())
    extra = joined.select("cand", pl.col("dst").alias("uid")).join(sources, on="cand")
    return pl.concat([cands, extra.select(cands.columns)]).unique(["cand", "uid"], keep="first").sort("cand", "uid")
