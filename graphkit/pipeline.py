"""``analyze(tables, config) -> Report``: the one orchestration, used by the CLI and the notebooks.

Stages (each a plain function of the previous stage's data):

``build``
    ids mapped to dense integers, the gift flow, shared-identifier and
    co-gifting projections (:func:`graphkit.graphs.build_graphs`).
``communities``
    Leiden on the combined user graph (:func:`graphkit.detect.communities.user_communities`;
    with two workers it runs in a child process during ``detect``).
``detect``
    per-account activity and the platform's baseline, candidate groups from
    every registered detector (:data:`graphkit.detect.registry.DETECTORS`),
    centrality; with a flags table, each account's nearness to the flagged
    ones (:mod:`graphkit.detect.known_bad`).
``score``
    groups scored and explained, accounts given to at most one ring, per-user
    scores (:mod:`graphkit.rings`, :mod:`graphkit.score`).

Examples
--------
From the repository's root, on the bundled demo data:

>>> from graphkit import Config, analyze, read_tables
>>> report = analyze(read_tables("fixtures/demo"), Config(seed=0))
>>> top = report.rings[0]
>>> top.ring_id, top.kind
('R0001', 'cashout_mules')
>>> top.reasons[0]
'18 accounts sent only one or two gifts, at least one of 499+ coins'
>>> report.user_scores.columns
['user_id', 'score', 'ring_id', 'role']
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Callable, Iterator

import numpy as np
import polars as pl

from graphkit.graphs import Graphs, build_graphs
from graphkit.graphs.relays import equal_fans, relay_hops
from graphkit.config import Config
from graphkit.detect.candidates import lockstep_groups
from graphkit.detect.centrality import centrality, gift_centrality_graph
from graphkit.detect.communities import user_communities
from graphkit.detect.registry import (
    DETECTORS,
    Detector,
    DetectorInputs,
    crowd_sources,
    detector_inputs,
    run_detectors,
)
from graphkit.detect.known_bad import account_flags, known_bad
from graphkit.detect.worker import remove_stale_folders
from graphkit.graphs.window import time_window
from graphkit.rings import (
    RingGroups,
    beneficiaries_of,
    find_ring_groups,
    money_loop,
    pool_candidates,
    ring_threshold,
)
from graphkit.detect.signals import (
    EVIDENCE_IDS,
    Baseline,
    internal_flow,
    person_of,
    platform_baseline,
    signal_context,
    user_activity,
)
from graphkit.io import Tables
from graphkit.model import Beneficiary, LearnedScores, Report, Ring
from graphkit.score import account_score, contributions, flag_rate_reasons, ring_reasons, user_evidence, with_exposure

__all__ = ["analyze", "detection_inputs", "device_links", "leiden_groupings", "ring_equipment", "ring_threshold", "STAGES"]

STAGES = ("build", "communities", "detect", "score")


def analyze(
    tables: Tables,
    config: Config = Config(),
    *,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    detectors: tuple[Detector, ...] = DETECTORS,
    learned: Callable[[pl.DataFrame, Graphs], LearnedScores] | None = None,
    baseline: Baseline | None = None,
    threshold: float | Callable[[pl.Series], float] | None = None,
    as_of: datetime | None = None,
    ring_parts: bool = False,
) -> Report:
    """Run the whole pipeline on validated tables.

    Parameters
    ----------
    tables : Tables
        From :func:`graphkit.read_tables` or :meth:`Tables.from_frames`.
    config : Config
        Every setting; its values go into ``Report.params``.
    progress : callable, optional
        Called with each stage name of :data:`STAGES` as the stage starts.
    workers : int, optional
        Processes the run may use (default: 2, or 1 on a one-core machine).
        With 2, the Leiden runs on big graphs (the communities of the user
        graph, the lockstep groups of the co-gifting graph) go to child
        processes while this one runs the other detectors
        (:func:`graphkit.detect.communities.user_communities`,
        :func:`graphkit.detect.candidates.lockstep_groups`); the results
        are the same with 1.
    detectors : tuple of Detector
        The detectors to run, in the order their candidates are pooled
        (default: every registered one, :data:`graphkit.detect.registry.DETECTORS`).
    learned : callable, optional
        A trained account model (:func:`graphkit.learn.learned_scorer`): called
        with the per-user features and the graphs before the rings are scored,
        it gives each account a calibrated probability and its reasons. The
        probability becomes the account's score, and each group's mean
        probability is one more ring signal (``learned_score``, weighed by
        ``Config.weight_learned``). Without it the run is as before.
    baseline : Baseline, optional
        What is normal on the platform, when ``tables`` hold only part of it
        (a work unit of the Spark engine, :mod:`graphkit.engines.spark`);
        default: measured on ``tables`` (:func:`graphkit.detect.signals.platform_baseline`).
    threshold : float or callable, optional
        The score a group needs to be reported, or a function from the scores
        of every group scored here to that score; default: :func:`ring_threshold`
        of those scores. The Spark engine sets one bar across its work units.
    as_of : datetime, optional
        The platform's last gift or device sighting in the window, when
        ``tables`` hold only part of it (a Spark work unit): flags dated after
        it are not used. Default: the last event of ``tables``.
    ring_parts : bool
        With a flags table, ``user_scores`` also holds
        ``ring_score_without_flags``: the score without flags of the group of
        each account in a ring (null outside rings), for a caller that sets
        the ring bar across several runs (the Spark engine) and so decides
        ``score_without_flags`` itself. Default: not there.

    Returns
    -------
    Report
        Rings ranked by score, per-user scores, params and summary, with the
        tables, graphs and per-user features for views and notebooks.
    """
    say = progress or (lambda stage: None)
    remove_stale_folders()  # of Leiden workers whose run was killed before it could clean up
    say("build")
    graphs = build_graphs(tables, config)
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    say("communities")
    # with two workers, the two Leiden runs (communities, lockstep) go to child processes while this one
    # runs every detector that does not need them; the igraph user graph lives only in its run
    with leiden_groupings(graphs, config, workers=workers) as groupings:
        say("detect")
        inputs = detection_inputs(tables, graphs, config, baseline=baseline)
        early = run_detectors(inputs, detectors)
        activity, links, baseline = inputs.activity, inputs.device_links, inputs.baseline
        person = inputs.person["person"].to_numpy()
        seeds, near = _known_bad(tables, graphs, config, as_of)
        gift_graph = gift_centrality_graph(graphs)
        features = centrality(graphs, config, graph=gift_graph)
        context = signal_context(
            gifts=graphs.gifts, gift_flow=graphs.gift_flow, shared=graphs.shared, cogift=graphs.cogift,
            device_links=links, person=person, activity=activity, baseline=baseline, config=config,
            relays=inputs.relays, fans=inputs.fans, flags=near,
        )
        evidence = user_evidence(activity, links, graphs.cogift, graphs.gift_flow, baseline, config, gift_graph=gift_graph,
                                 relays=context.relays, flags=near)
        evidence = with_exposure(evidence, graphs.gift_flow)
        del gift_graph
        inputs = inputs.with_inputs(**groupings())
    n_communities = int(inputs.communities["community"].max()) + 1 if graphs.n_users else 0
    found = {**early, **run_detectors(inputs, detectors, skip=frozenset(early))}
    cands = pool_candidates([found[d.name] for d in detectors])
    grouped = _groupings(inputs.communities, inputs.lockstep)
    del inputs
    user_features = graphs.index.decode(
        activity.join(features, on="uid", how="left").join(evidence, on="uid", how="left")
        .join(grouped, on="uid", how="left").sort("uid"), "uid", as_="user_id"
    )
    model_scores = learned(user_features, graphs) if learned is not None else None
    if model_scores is not None:
        context = replace(context, learned=graphs.index.encode(
            model_scores.scores.select("user_id", pl.col("probability").alias("learned")), "user_id", as_="uid"))
    groups = find_ring_groups(cands, context, crowd_sources=crowd_sources(found, detectors))
    say("score")
    if threshold is None:
        threshold = ring_threshold(groups.scored["score"], config)
    elif callable(threshold):
        threshold = float(threshold(groups.scored["score"]))
    rings, ring_of = _rings(groups, graphs, activity, baseline, config, threshold, person, seeds)
    user_scores = _user_scores(graphs, ring_of, evidence, rings, config)
    if seeds is not None:
        user_scores = _with_scores_without_flags(user_scores, graphs, ring_of, evidence, groups.scored, threshold,
                                                 config, ring_parts=ring_parts)
        reasons = graphs.index.decode(flag_rate_reasons(seeds, near), "uid", as_="user_id").select("user_id", "flag_reason")
        user_scores = user_scores.join(reasons, on="user_id", how="left", maintain_order="left")
    if model_scores is not None:
        user_scores = _learned_user_scores(user_scores, model_scores.scores)
    summary = {
        "users": graphs.n_users,
        "gifts": graphs.gifts.height,
        "devices": int(graphs.index.devices.height),
        "ips": int(graphs.index.ips.height),
        "streams": int(graphs.index.streams.height),
        "coins": round(float(graphs.gifts["coins"].sum()), 2) if graphs.gifts.height else 0.0,
        "communities": n_communities,
        "candidates": int(cands["cand"].n_unique()) if cands.height else 0,
        "groups_scored": int(groups.scored.height),
        "ring_threshold": round(threshold, 4),
        "rings": len(rings),
        "accounts_in_rings": int(sum(r.size for r in rings)),
        "placeholder_devices": _placeholder_devices(graphs),
        "rejected_rows": tables.rejected_rows,
        "exact_duplicate_rows": tables.exact_duplicate_rows,
        "unknown_accounts": tables.unknown_accounts,
        **({"out_of_window_rows": sum(stats.out_of_window for stats in tables.stats.values()),
            "accounts_out_of_window": _accounts_out_of_window(tables, graphs)}
           if config.since is not None or config.until is not None else {}),
        "baseline": {k: round(v, 4) for k, v in baseline.to_dict().items()},
        "as_of": _as_of(graphs),
        **({"flags": _flag_summary(tables, seeds)} if seeds is not None else {}),
        **({"model": model_scores.summary} if model_scores is not None else {}),
    }
    return Report(
        rings=tuple(rings),
        user_scores=user_scores,
        params=config.to_params(learned=model_scores is not None),
        summary=summary,
        tables=tables,
        graphs=graphs,
        user_features=user_features,
    )


def detection_inputs(tables: Tables, graphs: Graphs, config: Config, *, baseline: Baseline | None = None) -> DetectorInputs:
    """Stage ``detect``, first step: what every detector but the Leiden-based ones reads.

    Per-account activity (:func:`graphkit.detect.signals.user_activity`),
    who used which device or IP (:func:`device_links`), the platform's
    measured thresholds (:func:`graphkit.detect.signals.platform_baseline`)
    and persons (:func:`graphkit.detect.signals.person_of`), beside the
    graphs' gift events, gift flow and co-gifting pairs, and the money flow's relay hops and
    equal-amount fans (:mod:`graphkit.graphs.relays`). The Leiden
    groupings come later (:func:`leiden_groupings`). A ``baseline`` given
    (measured on the whole platform when ``tables`` are one part of it) is
    used instead of the one measured here.

    Examples
    --------
    >>> from graphkit import read_tables
    >>> tables = read_tables("fixtures/demo")
    >>> graphs = build_graphs(tables, Config())
    >>> inputs = detection_inputs(tables, graphs, Config())
    >>> sorted(inputs.present())
    ['activity', 'baseline', 'cogift', 'config', 'device_links', 'fans', 'gift_flow', 'gifts', 'n_users', 'person', 'relays']
    >>> sorted(run_detectors(inputs))
    ['burst_bucket', 'crowded_identifier', 'dense_block', 'equal_fan', 'fan_in', 'flow_motif', 'money_loop', 'relay_chain']
    """
    users = graphs.index.encode(tables.users.select("user_id", "created_at"), "user_id", as_="uid")
    activity = user_activity(graphs.gifts, users, graphs.n_users)
    links = device_links(graphs)
    if baseline is None:
        baseline = platform_baseline(activity, graphs.gifts, links, config)
    person = pl.DataFrame({"uid": np.arange(graphs.n_users, dtype=np.uint32), "person": person_of(links, graphs.n_users)})
    relays = relay_hops(graphs.gifts, max_delay_s=config.flow_max_delay_s, amount_tolerance=config.flow_amount_tolerance,
                        max_chance=config.flow_max_amount_chance)
    fans = equal_fans(graphs.gifts, window_s=config.flow_max_delay_s, amount_tolerance=config.flow_amount_tolerance,
                      max_chance=config.flow_max_amount_chance, min_fan=config.flow_min_fan,
                      popular_senders=baseline.popular_senders)
    return detector_inputs(graphs, config, activity=activity, baseline=baseline, device_links=links, person=person,
                           relays=relays, fans=fans)


@contextmanager
def leiden_groupings(graphs: Graphs, config: Config, *, workers: int = 1) -> Iterator[Callable[[], dict[str, pl.DataFrame]]]:
    """Stage ``communities``: start both Leiden runs; the context yields a function that returns their groupings.

    The function returns ``{"communities": uid, community, "lockstep": uid, group}``,
    the :class:`~graphkit.detect.registry.DetectorInputs` of the ``community``
    and ``synchrony`` detectors. With ``workers >= 2`` on big graphs the runs
    go to child processes, and the caller does other work before calling it
    (:func:`graphkit.detect.communities.user_communities`,
    :func:`graphkit.detect.candidates.lockstep_groups`).

    Examples
    --------
    >>> from graphkit import read_tables
    >>> graphs = build_graphs(read_tables("fixtures/demo"), Config())
    >>> with leiden_groupings(graphs, Config()) as groupings:
    ...     found = groupings()
    >>> sorted(found), found["communities"].height == graphs.n_users
    (['communities', 'lockstep'], True)
    """
    with lockstep_groups(graphs.cogift, graphs.n_users, config, workers=workers) as lockstep, \
            user_communities(graphs, config, workers=workers) as communities:
        yield lambda: {
            "communities": pl.DataFrame({"uid": np.arange(graphs.n_users, dtype=np.uint32), "community": communities()}),
            "lockstep": lockstep(),
        }


def _known_bad(tables: Tables, graphs: Graphs, config: Config,
               as_of: datetime | None = None) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """With a flags table: the flags used as seeds (dated before ``until`` and at or before the data's
    ``as_of``, by default its last event: no score knows what came later) and each account's nearness to them
    (:mod:`graphkit.detect.known_bad`); ``(None, None)`` without one."""
    if "flags" not in tables.present:
        return None, None
    flags = tables.flags.filter(time_window(config.since, config.until).flags())
    seeds = account_flags(flags, graphs, config, as_of=as_of if as_of is not None else _last_event(graphs))
    return seeds, known_bad(graphs, seeds, config)


def _accounts_out_of_window(tables: Tables, graphs: Graphs) -> int:
    """The users left out of a window's analysis as untouched by it (:meth:`graphkit.io.window.TimeWindow.accounts`):
    by :func:`graphkit.io.read_tables` (``out_of_window`` of the users), or by the graphs' window when the
    tables were read whole."""
    read = tables.stats["users"].out_of_window if "users" in tables.stats else 0
    kept = graphs.index.users.select("user_id")
    return read + tables.users.select("user_id").join(kept, on="user_id", how="anti").height


def _flag_summary(tables: Tables, seeds: pl.DataFrame) -> dict[str, int]:
    """``rings.json`` ``summary.flags``: the flags read, the ones used as seeds, and their accounts."""
    return {
        "flags_read": int(tables.flags.height),
        "flags_used": int(seeds.height),
        "accounts_flagged": int(seeds["uid"].n_unique()),
    }


def _with_scores_without_flags(
    user_scores: pl.DataFrame, graphs: Graphs, ring_of: pl.DataFrame, evidence: pl.DataFrame,
    scored: pl.DataFrame, threshold: float, config: Config, *, ring_parts: bool = False,
) -> pl.DataFrame:
    """``user_scores`` with ``score_without_flags``: the same rule as :func:`_user_scores` with the flags' parts
    taken out of the ring scores and the account evidence. The rings are the ones found with the flags; a
    ring whose score without flags is below the report's bar counts as no ring (its members score on their
    own evidence), so the column is what a report without the flags table would say, up to the groups the
    flags changed. With ``ring_parts``, ``ring_score_without_flags`` too (see :func:`analyze`)."""
    of_ring = ring_of.join(scored.select("group", "score_without_flags"), on="group", how="left").select(
        "uid", "role", pl.col("score_without_flags").alias("ring_score")
    )
    rings = of_ring.filter(pl.col("ring_score") >= threshold)
    frame = (
        graphs.index.users.select("uid", "user_id")
        .join(evidence.select("uid", "evidence_without_flags", "exposure_without_flags", "funder"), on="uid", how="left")
        .join(rings, on="uid", how="left")
        .with_columns(pl.col("evidence_without_flags").fill_null(0.0))
    )
    member = (pl.col("role").is_null() & ~pl.col("funder").fill_null(False))
    ring_score = 0.5 + 0.5 * pl.col("ring_score") * pl.when(member).then(0.95).otherwise(1.0)
    without = frame.select(
        "user_id",
        pl.when(pl.col("ring_score").is_not_null()).then(ring_score.round(4))
        .otherwise(account_score(pl.col("evidence_without_flags"), pl.col("exposure_without_flags"), config))
        .alias("score_without_flags"),
    )
    if ring_parts:
        parts = graphs.index.users.select("uid", "user_id").join(of_ring, on="uid", how="left")
        without = without.join(parts.select("user_id", pl.col("ring_score").alias("ring_score_without_flags")),
                               on="user_id", how="left", maintain_order="left")
    return user_scores.join(without, on="user_id", how="left", maintain_order="left")


def _groupings(communities: pl.DataFrame, lockstep: pl.DataFrame) -> pl.DataFrame:
    """``uid, community, community_size, lockstep_group, lockstep_size`` (lockstep null outside a group)."""
    sized = communities.with_columns(pl.len().over("community").cast(pl.Int64).alias("community_size"))
    steps = lockstep.select("uid", pl.col("group").alias("lockstep_group"),
                            pl.len().over("group").cast(pl.Int64).alias("lockstep_size"))
    return sized.join(steps, on="uid", how="left")


def _last_event(graphs: Graphs) -> datetime | None:
    """The latest gift or device sighting in the window (``None`` without dated events): what a report knows up to."""
    times = pl.concat([graphs.gifts.get_column("sent_at"), graphs.devices.get_column("seen_at")]).drop_nulls()
    return times.max() if times.len() else None


def _as_of(graphs: Graphs) -> str | None:
    """:func:`_last_event`, ISO-8601 UTC."""
    last = _last_event(graphs)
    return f"{last:%Y-%m-%dT%H:%M:%SZ}" if last is not None else None


def device_links(graphs: Graphs) -> pl.DataFrame:
    """Who used which device or IP (within the time window): the input of the identifier signals.

    Parameters
    ----------
    graphs : Graphs
        From :func:`graphkit.graphs.build_graphs` (its links, and which
        identifiers are hubs).

    Returns
    -------
    polars.DataFrame
        ``uid``, ``identifier`` (``device:<did>`` or ``ip:<iid>``, unique across
        kinds), ``kind`` (``device``/``ip``), ``hub`` (the identifier has more
        than ``Config.hub_cap`` accounts, or is a placeholder), ``placeholder``
        (a default device id, ``Config.placeholder_device_ids``): one row per
        distinct account and identifier.

    Examples
    --------
    >>> from graphkit import Tables
    >>> t = Tables.from_frames(devices=pl.DataFrame(
    ...     {"user_id": ["a", "b", "c"], "device_id": ["d1", "d1", "d2"], "ip": ["10.0.0.1"] * 3}))
    >>> device_links(build_graphs(t, Config(hub_cap=2))).rows()[-3:]
    [(0, 'ip:0', 'ip', True, False), (1, 'ip:0', 'ip', True, False), (2, 'ip:0', 'ip', True, False)]
    """
    hubs = graphs.identifiers.select("kind", "ident", "hub", "placeholder")
    return graphs.links.join(hubs, on=["kind", "ident"], how="left").select(
        "uid",
        (pl.col("kind").cast(pl.Utf8) + ":" + pl.col("ident").cast(pl.Utf8)).alias("identifier"),
        pl.col("kind").cast(pl.Utf8),
        pl.col("hub").fill_null(False),
        pl.col("placeholder").fill_null(False),
    )


def _placeholder_devices(graphs: Graphs) -> list[dict[str, object]]:
    """``[{"device_id", "accounts"}]``: the placeholder device ids seen (``Config.placeholder_device_ids``),
    most accounts first; they link no one, and the report says so."""
    seen = graphs.identifiers.filter(pl.col("placeholder")).sort(["accounts", "key"], descending=[True, False])
    return [{"device_id": key, "accounts": int(n)} for key, n in zip(seen["key"].to_list(), seen["accounts"].to_list())]


def _rings(
    groups: RingGroups,
    graphs: Graphs,
    activity: pl.DataFrame,
    baseline: Baseline,
    config: Config,
    threshold: float,
    person: np.ndarray,
    seeds: pl.DataFrame | None = None,
) -> tuple[list[Ring], pl.DataFrame]:
    """Ring objects for the groups scoring at least ``threshold``, ranked; and ``uid, ring_id, role`` for their members."""
    passing = groups.scored.filter(pl.col("score") >= threshold).sort(
        ["score", "size", "group"], descending=[True, True, False]
    )
    members = groups.members.join(passing.select("group"), on="group", how="semi")
    internal = internal_flow(members, graphs.gift_flow).sort("group", "src", "dst")
    bens = beneficiaries_of(internal, activity, passing.select("group", "coins_total"),
                            min_share=config.beneficiary_listed_min_share)
    flow_of = {key[0]: frame.drop("group") for key, frame in internal.partition_by("group", as_dict=True).items()}
    empty_flow = internal.clear().drop("group")
    decode = graphs.index.users.select("uid", "user_id")
    members = members.join(decode, on="uid")
    bens = bens.join(decode, on="uid", maintain_order="left")  # keeps most coins first
    by_group_members = members.sort("user_id").group_by("group", maintain_order=True).agg("user_id", "uid")
    members_of = {row["group"]: row for row in by_group_members.iter_rows(named=True)}
    equipment = ring_equipment(members.select("group", "uid"), graphs)
    bens_of: dict[int, list[dict]] = {}
    for row in bens.iter_rows(named=True):
        bens_of.setdefault(row["group"], []).append(row)
    signal_cols = [c for c in passing.columns if c not in ("group", "sources", "kind", "score_without_flags", *EVIDENCE_IDS)]
    member_flags, ben_flags = _flag_notes(seeds, members, graphs) if seeds is not None else ({}, {})
    rings, roles = [], []
    for rank, row in enumerate(passing.iter_rows(named=True), start=1):
        ring_id = f"R{rank:04d}"
        group_members = members_of[row["group"]]
        beneficiaries = tuple(
            Beneficiary(b["user_id"], float(b["coins_in"]), float(b["share_of_ring"]), float(b["share_of_income"]))
            for b in bens_of.get(row["group"], [])
        )
        loop = []
        if row.get("coins_on_cycles", 0) > 0:
            steps = money_loop(flow_of.get(row["group"], empty_flow), person)
            if steps:
                ids = graphs.index.decode_series([uid for uid, _ in steps]).to_list()
                loop = list(zip(ids, [how for _, how in steps]))
        reasons = ring_reasons(
            row,
            beneficiaries=[(b.user_id, b.coins_in, b.share_of_income) for b in beneficiaries],
            money_path=loop,
            config=config,
            young_days=baseline.young_days,
            large_gift=baseline.large_gift,
            burst=_burst(row, graphs),
            relay=_relay(row, graphs),
            fan_center=graphs.index.decode_series([row["fan_center"]]).item() if row.get("fan_center") is not None else None,
            member_flags=member_flags.get(row["group"]),
            beneficiary_flags=ben_flags,
        )
        rings.append(
            Ring(
                ring_id=ring_id,
                rank=rank,
                score=float(row["score"]),
                members=tuple(group_members["user_id"]),
                coins_total=float(row["coins_total"]),
                beneficiaries=beneficiaries,
                signals={c: float(row[c]) for c in signal_cols if isinstance(row[c], (int, float)) and not c.startswith("part_")},
                reasons=tuple(reasons),
                kind=row["kind"],
                sources=tuple(row["sources"] or ()),
                money_path=tuple(user_id for user_id, _ in loop),
                money_path_hops=tuple(how for _, how in loop),
                contributions=contributions(row),
                shared_devices=equipment.get((row["group"], "device"), ()),
                shared_ips=equipment.get((row["group"], "ip"), ()),
            )
        )
        roles.append(pl.DataFrame({"uid": group_members["uid"], "ring_id": ring_id, "group": row["group"]},
                                  schema={"uid": pl.UInt32, "ring_id": pl.Utf8, "group": pl.Int64}))
    ring_of = pl.concat(roles) if roles else pl.DataFrame(schema={"uid": pl.UInt32, "ring_id": pl.Utf8, "group": pl.Int64})
    ring_of = ring_of.join(bens.select("group", "uid", pl.lit("beneficiary").alias("role")), on=["group", "uid"], how="left")
    return rings, ring_of


def ring_equipment(members: pl.DataFrame, graphs: Graphs) -> dict[tuple[int, str], tuple[str, ...]]:
    """The devices and IPs that at least two members of each group used, hubs and placeholders left out.

    Parameters
    ----------
    members : polars.DataFrame
        ``group, uid``: one row per (group, member).
    graphs : Graphs
        Its ``links`` (who used which identifier) and ``identifiers`` (which are hubs or placeholders).

    Returns
    -------
    dict
        ``(group, "device" or "ip") -> sorted id strings``: what ``Ring.shared_devices`` and
        ``Ring.shared_ips`` record. A hub (more than ``Config.hub_cap`` accounts on the whole
        platform) or a placeholder device id says nothing about who runs a ring, so it is left out.

    Examples
    --------
    >>> from graphkit import Tables
    >>> t = Tables.from_frames(devices=pl.DataFrame({"user_id": ["a", "b", "c", "d"],
    ...     "device_id": ["d1", "d1", "unknown", "unknown"], "ip": ["1.1.1.1", "1.1.1.1", "2.2.2.2", "3.3.3.3"]}))
    >>> g = build_graphs(t, Config())
    >>> ring_equipment(pl.DataFrame({"group": [0] * 4, "uid": [0, 1, 2, 3]}, schema={"group": pl.Int64, "uid": pl.UInt32}), g)
    {(0, 'device'): ('d1',), (0, 'ip'): ('1.1.1.1',)}
    """
    usable = graphs.identifiers.filter(~pl.col("hub")).select("kind", "ident", "key")
    shared = (
        members.lazy().select(pl.col("group").cast(pl.Int64), pl.col("uid").cast(pl.UInt32))
        .join(graphs.links.lazy().select("kind", "ident", pl.col("uid").cast(pl.UInt32)), on="uid")
        .join(usable.lazy(), on=["kind", "ident"])
        .group_by("group", "kind", "key")
        .agg(pl.col("uid").n_unique().alias("accounts"))
        .filter(pl.col("accounts") >= 2)
        .group_by("group", "kind")
        .agg(pl.col("key").sort())
        .sort("group", "kind")
        .collect()
    )
    return {(g, str(k)): tuple(keys) for g, k, keys in shared.select("group", "kind", "key").iter_rows()}
def _flag_notes(
    seeds: pl.DataFrame, members: pl.DataFrame, graphs: Graphs
) -> tuple[dict[int, dict[str, int]], dict[str, tuple[str, datetime]]]:
    """What the reasons say of flags: per group, kind -> members with such a flag; per flagged account
    (user_id), its first flag's kind and time."""
    counts = (
        members.select("group", "uid").join(seeds.select("uid", "kind"), on="uid")
        .group_by("group", "kind").agg(pl.col("uid").n_unique().alias("n"))
    )
    per_group: dict[int, dict[str, int]] = {}
    for group, kind, n in counts.sort("group", "kind").iter_rows():
        per_group.setdefault(group, {})[kind] = int(n)
    first = seeds.sort("uid", "at", "kind").unique("uid", keep="first", maintain_order=True)
    first = graphs.index.decode(first, "uid", as_="user_id")
    return per_group, {u: (k, at) for u, k, at in first.select("user_id", "kind", "at").iter_rows()}


def _burst(row: dict, graphs: Graphs) -> tuple[str, datetime] | None:
    """The stream id and start of a group's biggest gifting burst, for its reason; None without one."""
    if row.get("sync_sid") is None or row.get("sync_start") is None:
        return None
    return graphs.index.decode_series([row["sync_sid"]], "stream").item(), row["sync_start"]


def _relay(row: dict, graphs: Graphs) -> tuple[str, str, str] | None:
    """The user ids of a group's biggest relay hop (source, middle, receiver), for its reason; None without one."""
    hop = [row.get(k) for k in ("relay_a", "relay_m", "relay_c")]
    if any(uid is None for uid in hop):
        return None
    a, m, c = graphs.index.decode_series(hop).to_list()
    return a, m, c


def _learned_user_scores(user_scores: pl.DataFrame, learned: pl.DataFrame) -> pl.DataFrame:
    """``user_scores`` with a trained model: ``score`` is the account's calibrated probability, and
    ``reasons`` its top feature contributions (``ring_id`` and ``role`` unchanged, and with a flags table
    ``flag_reason`` kept). ``score_without_flags`` is dropped: it is the rule-based score without the
    flags' parts, not the model's probability without them, and would credit the model's gain to the flags."""
    kept = [c for c in user_scores.columns if c not in ("user_id", "score", "ring_id", "role", "score_without_flags")]
    return (
        user_scores.drop("score")
        .join(learned.select("user_id", pl.col("probability").round(4).alias("score"), "reasons"), on="user_id", how="left")
        .with_columns(pl.col("score").fill_null(0.0), pl.col("reasons").fill_null(""))
        .select("user_id", "score", "ring_id", "role", *kept, "reasons")
        .sort(["score", "user_id"], descending=[True, False])
    )


def _user_scores(graphs: Graphs, ring_of: pl.DataFrame, evidence: pl.DataFrame, rings: list[Ring],
                 config: Config) -> pl.DataFrame:
    """``user_id, score, ring_id, role`` for every account in the graph.

    Membership of a reported ring is the strongest evidence there is, so the
    two groups of accounts get two halves of the scale: ring members score
    ``0.5 + 0.5 * ring score`` (other members than beneficiaries and funders
    at 95% of the ring score), and every other account half of its own
    evidence (:func:`graphkit.score.user_evidence`), below 0.5, with ties
    ordered by its exposure to its gift partners' evidence
    (:func:`graphkit.score.account_score`). Ranking accounts by score
    therefore lists every reported ring's members first, strongest ring
    first, then the accounts with the most evidence of their own.
    """
    ring_scores = pl.DataFrame(
        {"ring_id": [r.ring_id for r in rings], "ring_score": [r.score for r in rings]},
        schema={"ring_id": pl.Utf8, "ring_score": pl.Float64},
    )
    frame = (
        graphs.index.users.select("uid", "user_id")
        .join(evidence.select("uid", "evidence", "exposure", "funder"), on="uid", how="left")
        .join(ring_of.select("uid", "ring_id", "role"), on="uid", how="left")
        .join(ring_scores, on="ring_id", how="left")
        .with_columns(pl.col("evidence").fill_null(0.0))
        .with_columns(
            pl.when(pl.col("ring_id").is_null()).then(None)
            .when(pl.col("role").is_not_null()).then(pl.col("role"))
            .when(pl.col("funder")).then(pl.lit("funder"))
            .otherwise(pl.lit("member"))
            .alias("role")
        )
    )
    member_score = 0.5 + 0.5 * pl.col("ring_score") * pl.when(pl.col("role") == "member").then(0.95).otherwise(1.0)
    return frame.select(
        "user_id",
        pl.when(pl.col("ring_id").is_not_null()).then(member_score.round(4))
        .otherwise(account_score(pl.col("evidence"), pl.col("exposure"), config)).alias("score"),
        "ring_id",
        "role",
    ).sort(["score", "user_id"], descending=[True, False])
