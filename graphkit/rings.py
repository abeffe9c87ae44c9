"""From candidate groups to rings: score, give each account to one ring, explain.

1. Every detector's candidates (:mod:`graphkit.detect.candidates`) are pooled,
   completed with their funders and beneficiaries and scored (:mod:`graphkit.score`).
   Whole crowds (the accounts behind a hub identifier, the gifters of a burst
   bucket: :mod:`graphkit.detect.big`) stay only when they score above the bar
   the other candidates set: a carrier NAT or a busy moment is one low group
   of thousands, and must not take its accounts from the groups they are
   judged in otherwise (nor, by swallowing hundreds of honest groups, move
   the platform's bar).
2. Each account goes to the best-scoring candidate it is in (a vectorised
   arg-max per account over score, size and candidate id), so an account belongs to at
   most one ring; pieces of one operation that pay the same beneficiary are
   merged (:func:`merge_by_beneficiary`).
3. The resulting groups are scored again on their final membership; those
   of at least ``min_ring_size`` accounts and ``min_score`` become rings,
   ranked by score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from graphkit.graphs.build import graph_from_edges, weak_components

from graphkit.config import Config
from graphkit.detect.candidates import CANDIDATE_SCHEMA, complete_beneficiaries, complete_funders
from graphkit.detect.signals import SignalContext, group_signals
from graphkit.score import score_groups

__all__ = ["RingGroups", "find_ring_groups", "merge_by_beneficiary", "pool_candidates", "ring_threshold", "assign_members", "score_candidates", "beneficiaries_of", "money_loop"]


@dataclass(frozen=True)
class RingGroups:
    """Final groups and their scored signals (encoded uids).

    Attributes
    ----------
    members : polars.DataFrame
        ``group, uid`` (each uid at most once).
    scored : polars.DataFrame
        One row per group: signals, score parts, ``score``, ``kind``, ``sources``.
    """

    members: pl.DataFrame
    scored: pl.DataFrame


def pool_candidates(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Give candidates from several detectors distinct ids: ``cand, uid, source``."""
    pooled, offset = [], 0
    for frame in frames:
        if frame.height == 0:
            continue
        ids = frame.select("cand").unique().sort("cand").with_row_index("new").with_columns(
            (pl.col("new").cast(pl.Int64) + offset).alias("new")
        )
        pooled.append(frame.join(ids, on="cand").select(pl.col("new").alias("cand"), "uid", "source"))
        offset += ids.height
    if not pooled:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    return pl.concat(pooled)


def score_candidates(members: pl.DataFrame, context: SignalContext) -> pl.DataFrame:
    """Signals and score for each group of ``members`` (``group, uid``)."""
    return score_groups(group_signals(members, context), context.config)


def assign_members(cands: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Each uid to its best-scoring candidate: ``group, uid`` (group = that candidate's id).

    Ties go to the larger candidate, then the lower id: the choice is a function of the
    candidates and their scores, whatever the order of the rows. Sorted by group and uid.
    """
    scored = cands.join(scores.select(pl.col("group").alias("cand"), "score", "size"), on="cand")
    best = pl.col("cand").sort_by(["score", "size", "cand"], descending=[True, True, False]).first()
    return scored.group_by("uid").agg(best.alias("group")).select("group", "uid").sort("group", "uid")


def find_ring_groups(
    cands: pl.DataFrame, context: SignalContext, *, crowd_sources: frozenset[str] = frozenset()
) -> RingGroups:
    """Steps 1-3 of the module notes on pooled candidates (``cand, uid, source``).

    Candidates whose ``source`` is in ``crowd_sources`` are whole crowds
    (:attr:`graphkit.detect.registry.Detector.crowds`): they are kept only
    when they score at least :func:`ring_threshold` of the other candidates' scores.
    """
    config = context.config
    completed = complete_beneficiaries(
        complete_funders(cands, context.gift_flow, context.activity, context.baseline, min_share=config.funder_min_share),
        context.gift_flow, context.activity, min_share=config.beneficiary_min_share,
        min_income_share=config.beneficiary_min_income_share,
    )
    candidates = completed.select(pl.col("cand").alias("group"), "uid")
    if crowd_sources:
        crowds = completed.filter(pl.col("source").is_in(list(crowd_sources))).select(pl.col("cand").alias("group")).unique()
        # a group's signals are its own: the crowds (as many members as every other candidate together at 10^6)
        # are scored apart, so the two sets' joins are never in memory at once
        first = _scored_apart(candidates, crowds, context)
        bar = ring_threshold(first.join(crowds, on="group", how="anti")["score"], config)
        weak = first.join(crowds, on="group", how="semi").filter(pl.col("score") < bar).select("group")
        completed = completed.join(weak.rename({"group": "cand"}), on="cand", how="anti")
        candidates = candidates.join(weak, on="group", how="anti")
        first = first.join(weak, on="group", how="anti")
    else:
        first = score_candidates(candidates, context)
    assigned = assign_members(completed, first)
    # a candidate that kept all its members scores as before: only those that lost some are scored again
    changed = candidates.join(assigned, on=["group", "uid"], how="anti").select("group").unique()
    pieces = _rescored(first, assigned, changed, context)
    suspicious = pieces.filter(pl.col("score") >= ring_threshold(pieces["score"], config)).select("group")
    merged, renamed = merge_by_beneficiary(assigned, context.gift_flow, among=suspicious, min_share=config.merge_min_share)
    sizes = merged.group_by("group").len()
    merged = merged.join(sizes.filter(pl.col("len") >= config.min_ring_size).select("group"), on="group", how="semi")
    # only groups that took in another piece are scored again; the others keep their pieces' rows
    grown = renamed.group_by("new").len().filter(pl.col("len") > 1).select(pl.col("new").alias("group"))
    final = _rescored(pieces, merged, grown, context)
    sources = (
        completed.join(renamed, left_on="cand", right_on="old", how="inner")
        .group_by("new")
        .agg(pl.col("source").unique().sort().alias("sources"))
        .rename({"new": "group"})
    )
    final = final.join(sources, on="group", how="left")
    return RingGroups(members=merged.sort("group", "uid"), scored=final)


def _scored_apart(candidates: pl.DataFrame, crowds: pl.DataFrame, context: SignalContext) -> pl.DataFrame:
    """:func:`score_candidates` of ``candidates`` (``group, uid``), the groups listed in ``crowds`` in a call of
    their own; the same rows as one call, sorted by group."""
    parts = [candidates.join(crowds, on="group", how=how) for how in ("anti", "semi")]
    scored = [score_candidates(part, context) for part in parts if part.height]
    if not scored:
        return score_candidates(candidates, context)
    return pl.concat(scored, how="vertical_relaxed").sort("group")


def _rescored(scored: pl.DataFrame, members: pl.DataFrame, changed: pl.DataFrame, context: SignalContext) -> pl.DataFrame:
    """Scores of the groups in ``members``: ``scored``'s rows for the groups whose membership did not
    change, fresh ones for the groups listed in ``changed`` (``group``); sorted by group."""
    return pl.concat(
        [
            scored.join(members.select("group").unique(), on="group", how="semi").join(changed, on="group", how="anti"),
            score_candidates(members.join(changed, on="group", how="semi"), context),
        ],
        how="vertical_relaxed",
    ).sort("group")


def merge_by_beneficiary(
    members: pl.DataFrame, gift_flow: pl.DataFrame, *, among: pl.DataFrame | None = None, min_share: float = 0.3
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Merge suspicious groups whose money goes to a member of another one: one operation, one ring.

    A detector may cut a ring in pieces (the accounts that gifted in lockstep,
    and the rest of the farm that did not); the pieces still pay the same
    beneficiary. A group whose top receiver takes at least ``min_share``
    (``Config.merge_min_share``) of the coins it sends, and sits in another group, is merged with that group
    (transitively, as connected components over groups). Only groups listed
    in ``among`` (``group``; default all) take part: a beneficiary host's
    honest fans pay it too, and must not be merged into its ring.

    Returns
    -------
    (members, renamed)
        ``group, uid`` with merged group ids (the smallest id of each merged
        set), and ``old, new`` group ids.
    """
    sent = gift_flow.select("src", "dst", "coins").join(members.rename({"uid": "src"}), on="src")
    totals = sent.group_by("group").agg(pl.col("coins").sum().alias("out"))
    if among is not None:
        sent = sent.join(among, on="group", how="semi")
    top = (
        sent.group_by("group", "dst").agg(pl.col("coins").sum())
        .sort(["group", "coins", "dst"], descending=[False, True, False])
        .unique("group", keep="first", maintain_order=True)
        .join(totals, on="group")
        .filter(pl.col("coins") >= min_share * pl.col("out"))
        .join(members.rename({"uid": "dst", "group": "target"}), on="dst")
        .filter(pl.col("target") != pl.col("group"))
    )
    if among is not None:
        top = top.join(among.rename({"group": "target"}), on="target", how="semi")
    groups = members.select("group").unique().sort("group").with_row_index("v")
    links = top.join(groups, on="group").join(groups.rename({"group": "target", "v": "vt"}), on="target")
    component = weak_components(groups.height, links["v"], links["vt"])
    renamed = groups.with_columns(pl.Series("component", component)).with_columns(
        pl.col("group").min().over("component").alias("new")
    ).select(pl.col("group").alias("old"), "new")
    merged = members.join(renamed, left_on="group", right_on="old").select(pl.col("new").alias("group"), "uid")
    return merged, renamed


def ring_threshold(scores: pl.Series, config: Config) -> float:
    """The score a group needs to be reported: ``max(min_score, median + outlier_z * MAD)``.

    The bar is set by the data's own groups: a ring stands far above the
    median group of the same platform.

    Examples
    --------
    >>> round(ring_threshold(pl.Series([0.05, 0.06, 0.04, 0.05, 0.9]), Config(outlier_z=8.0, min_score=0.0)), 2)
    0.13
    """
    if scores.len() == 0:
        return config.min_score
    median = float(scores.median())
    mad = float((scores - median).abs().median())
    return max(config.min_score, median + config.outlier_z * mad)


def beneficiaries_of(
    internal: pl.DataFrame, activity: pl.DataFrame, coins_total: pl.DataFrame, *, min_share: float = 0.05
) -> pl.DataFrame:
    """Members receiving at least ``min_share`` (``Config.beneficiary_listed_min_share``) of the coins their
    group's members sent each other.

    Parameters
    ----------
    internal : polars.DataFrame
        The groups' member-to-member gift flow (:func:`graphkit.detect.signals.internal_flow`).
    activity : polars.DataFrame
        :func:`graphkit.detect.signals.user_activity` (``coins_received``: each account's whole income).
    coins_total : polars.DataFrame
        ``group, coins_total``: the coins each group's members sent, to anyone (the ``coins_total``
        signal, the ring's coins of ``rings.json`` and of its reasons).

    Returns
    -------
    polars.DataFrame
        ``group, uid, coins_in, share_of_ring, share_of_income`` sorted by group, then coins_in
        (most first). ``share_of_ring`` is ``coins_in / coins_total``: the share of the ring's
        coins, the same figure the reason "N% of the ring's coins went to ..." adds up; all
        within the report's time window, like every input of the run.

    Examples
    --------
    >>> internal = pl.DataFrame({"group": [0, 0, 0], "src": [1, 2, 3], "dst": [9, 9, 8], "coins": [60.0, 20.0, 5.0]},
    ...                         schema_overrides={"src": pl.UInt32, "dst": pl.UInt32})
    >>> activity = pl.DataFrame({"uid": [8, 9], "coins_received": [50.0, 80.0]}, schema_overrides={"uid": pl.UInt32})
    >>> beneficiaries_of(internal, activity, pl.DataFrame({"group": [0], "coins_total": [100.0]})).rows()
    [(0, 9, 80.0, 0.8, 1.0), (0, 8, 5.0, 0.05, 0.1)]
    """
    by_dst = internal.group_by("group", "dst").agg(pl.col("coins").sum().alias("coins_in"))
    totals = by_dst.group_by("group").agg(pl.col("coins_in").sum().alias("internal"))
    return (
        by_dst.join(totals, on="group")
        .join(coins_total.select("group", "coins_total"), on="group", how="left")
        .join(activity.select(pl.col("uid").alias("dst"), "coins_received"), on="dst")
        .filter(pl.col("coins_in") / pl.col("internal") >= min_share)
        .with_columns(
            (pl.col("coins_in") / pl.col("coins_total")).alias("share_of_ring"),
            (pl.col("coins_in") / pl.col("coins_received")).alias("share_of_income"),
        )
        .select("group", pl.col("dst").alias("uid"), "coins_in", "share_of_ring", "share_of_income")
        .sort(["group", "coins_in", "uid"], descending=[False, True, False])
    )


def money_loop(inner: pl.DataFrame, person: np.ndarray) -> list[tuple[int, str]]:
    """One loop of coins inside a ring, or ``[]``.

    ``inner`` holds the ring's member-to-member gift flow (``src, dst, coins``).

    Accounts on one (non-hub) device count as one person
    (``person[uid]`` from :func:`graphkit.detect.signals.person_of`). The loop goes through the
    heaviest person-to-person gift link that lies on a cycle, closed by the
    shortest way back; each person-to-person hop is shown as its heaviest
    account-to-account gift. When members outside the loop paid into it, the
    biggest of them comes first (funder -> host -> alt -> host ...).

    Returns
    -------
    list of (uid, how)
        ``how`` says how the loop reached ``uid`` from the previous entry:
        ``"start"``, ``"gift"`` or ``"device"`` (same person, another account).
        The first account is repeated at the end.
    """
    # persons numbered locally: the ring's graph has as many vertices as the ring has persons
    local, ends = np.unique(person[np.r_[inner["src"].to_numpy(), inner["dst"].to_numpy()]], return_inverse=True)
    flow = inner.with_columns(
        pl.Series("ps", ends[: inner.height]), pl.Series("pd", ends[inner.height:])
    ).filter(pl.col("ps") != pl.col("pd"))
    if flow.height == 0:
        return []
    # heaviest account edge per person pair, heaviest pair first
    hops = flow.sort(["coins", "src", "dst"], descending=[True, False, False]).unique(["ps", "pd"], keep="first", maintain_order=True)
    graph = graph_from_edges(len(local), hops["ps"], hops["pd"], directed=True)
    scc = np.asarray(graph.connected_components(mode="strong").membership)
    ps, pd = hops["ps"].to_numpy(), hops["pd"].to_numpy()
    on_cycle = np.flatnonzero(scc[ps] == scc[pd])
    if len(on_cycle) == 0:
        return []
    first = int(on_cycle[0])
    back = graph.get_shortest_path(int(pd[first]), to=int(ps[first]), mode="out")
    people = [int(ps[first])] + back
    edge_of = {(int(a), int(b)): (int(u), int(v)) for a, b, u, v in zip(ps, pd, hops["src"].to_numpy(), hops["dst"].to_numpy())}
    loop: list[tuple[int, str]] = []
    for a, b in zip(people, people[1:]):
        u, v = edge_of[(a, b)]
        if not loop:
            loop.append((u, "start"))
        elif loop[-1][0] != u:
            loop.append((u, "device"))
        loop.append((v, "gift"))
    if loop[-1][0] != loop[0][0]:
        loop.append((loop[0][0], "device"))
    return _with_funder(loop, inner)


def _with_funder(loop: list[tuple[int, str]], inner: pl.DataFrame) -> list[tuple[int, str]]:
    """Start the loop where the ring's biggest outside funder paid in, with that funder first."""
    on_loop = {uid for uid, _ in loop}
    paid = (
        inner.filter(~pl.col("src").is_in(list(on_loop)) & pl.col("dst").is_in(list(on_loop)))
        .sort(["coins", "src", "dst"], descending=[True, False, False])
    )
    if paid.height == 0:
        return loop
    funder, entry = int(paid["src"][0]), int(paid["dst"][0])
    # as a cycle: each entry with how it is reached from the one before (the last entry repeats the first)
    cycle = [(loop[0][0], loop[-1][1]), *loop[1:-1]]
    at = next(i for i, (uid, _) in enumerate(cycle) if uid == entry)
    rotated = cycle[at:] + cycle[:at]
    return [(funder, "start"), (entry, "gift"), *rotated[1:], (entry, cycle[at][1])]
