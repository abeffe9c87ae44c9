"""The detector contract and the registry of detectors.

A detector proposes candidate groups of accounts. Every detector has the same
shape: a :class:`Detector` names itself, says which :class:`DetectorInputs`
it reads (``needs``), and its ``find`` function returns a candidate frame of
:data:`CANDIDATE_SCHEMA` (``cand, uid, source``: one row per member of each
candidate group; groups may overlap). :data:`DETECTORS` lists them all, in
the order their candidates are pooled; :func:`graphkit.rings.find_ring_groups`
scores the pooled candidates and gives each account to its best group.

Adding a detector is one module in ``graphkit/detect/`` with a pure function
(frames and keyword options in, a candidate frame out) plus one line in
:data:`DETECTORS` that maps ``Config`` to its options; ``tests/test_detectors.py``
then runs it through the conformance checks with every other detector.

Inputs that take long to compute (the Leiden ``communities`` and ``lockstep``
memberships) may arrive later than the others: :func:`run_detectors` runs the
detectors whose inputs are all present, so the pipeline runs every other
detector while those are computed in child processes.

Examples
--------
A toy detector that proposes the accounts that received any gift as one group:

>>> import polars as pl
>>> from graphkit import Config, Tables
>>> from graphkit.graphs import build_graphs
>>> def receivers(inputs: DetectorInputs) -> pl.DataFrame:
...     uids = inputs.gift_flow.select(pl.col("dst").unique().sort().alias("uid"))
...     return uids.select(pl.lit(0, dtype=pl.Int64).alias("cand"), "uid", pl.lit("receivers").alias("source"))
>>> toy = Detector("receivers", needs=frozenset({"gift_flow"}), find=receivers)
>>> gifts = pl.DataFrame({"sender_id": ["a", "b", "c"], "receiver_id": ["h", "h", "k"], "coins": [5.0, 5.0, 1.0],
...                       "sent_at": ["2024-05-01T10:00:00Z"] * 3})
>>> config = Config()
>>> inputs = detector_inputs(build_graphs(Tables.from_frames(gifts=gifts), config), config)
>>> run_detectors(inputs, (toy,))["receivers"].rows()
[(0, 3, 'receivers'), (0, 4, 'receivers')]
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable

import numpy as np
import polars as pl

from graphkit.config import Config
from graphkit.detect import big, candidates, flow
from graphkit.detect.signals import Baseline
from graphkit.graphs import Graphs

__all__ = [
    "CANDIDATE_SCHEMA",
    "DETECTORS",
    "Detector",
    "DetectorInputs",
    "check_candidates",
    "crowd_sources",
    "detector_inputs",
    "run_detectors",
]

CANDIDATE_SCHEMA: dict[str, pl.DataType] = candidates.CANDIDATE_SCHEMA
"""The columns every detector returns: ``cand`` (the group's id within the detector),
``uid`` (a member) and ``source`` (which detector, or which view of it, found the group)."""


@dataclass(frozen=True)
class DetectorInputs:
    """What detectors may read: one run's frames, keyed by ``uid``.

    Attributes
    ----------
    config : Config
        Every setting (detectors take their options from it through the registry).
    n_users : int
        Accounts in the graph; uids are ``0 .. n_users - 1``.
    gifts : polars.DataFrame
        Gift events in the window: ``src, dst, sid, coins, sent_at``.
    gift_flow : polars.DataFrame
        ``src, dst, coins, count``: one row per (sender, receiver).
    cogift : polars.DataFrame
        Co-gifting pairs ``a, b, weight, streams``.
    activity : polars.DataFrame or None
        Per-account activity (:func:`graphkit.detect.signals.user_activity`).
    baseline : Baseline or None
        The platform's measured thresholds.
    device_links : polars.DataFrame or None
        ``uid, identifier, kind, hub, placeholder``: who used which device or IP.
    person : polars.DataFrame or None
        ``uid, person``: accounts on one (non-hub) device are one person.
    communities : polars.DataFrame or None
        ``uid, community``: Leiden communities of the user graph (computed
        last, maybe in a child process).
    lockstep : polars.DataFrame or None
        ``uid, group``: lockstep groups of repeated co-gifting pairs, only the
        accounts that have such a pair (computed last, maybe in a child process).
    relays : polars.DataFrame or None
        The relay hops of the gifts (:func:`graphkit.graphs.relays.relay_hops`).
    fans : polars.DataFrame or None
        The gifts of equal-amount fans (:func:`graphkit.graphs.relays.equal_fans`).
    """

    config: Config
    n_users: int
    gifts: pl.DataFrame
    gift_flow: pl.DataFrame
    cogift: pl.DataFrame
    activity: pl.DataFrame | None = None
    baseline: Baseline | None = None
    device_links: pl.DataFrame | None = None
    person: pl.DataFrame | None = None
    communities: pl.DataFrame | None = None
    lockstep: pl.DataFrame | None = None
    relays: pl.DataFrame | None = None
    fans: pl.DataFrame | None = None

    def with_inputs(self, **inputs: pl.DataFrame) -> "DetectorInputs":
        """A copy with more inputs present (for example the communities, once computed)."""
        return replace(self, **inputs)

    def present(self) -> frozenset[str]:
        """The names of the inputs that are present (not ``None``)."""
        return frozenset(f.name for f in fields(self) if getattr(self, f.name) is not None)


@dataclass(frozen=True)
class Detector:
    """One detector: its name, the inputs it reads, and the function that finds its candidates.

    Attributes
    ----------
    name : str
        The detector's name; its candidates' ``source`` starts with it.
    needs : frozenset of str
        Fields of :class:`DetectorInputs` that ``find`` reads.
    find : callable
        ``find(inputs) -> polars.DataFrame`` of :data:`CANDIDATE_SCHEMA`.
    crowds : bool
        Its candidates are whole crowds proposed by size (every account behind
        a hub identifier, every gifter of a burst bucket), honest as often as
        not: they are kept only when they score above the bar the other
        candidates set (:func:`graphkit.rings.find_ring_groups`).
    """

    name: str
    needs: frozenset[str]
    find: Callable[[DetectorInputs], pl.DataFrame]
    crowds: bool = False

    def __post_init__(self) -> None:
        unknown = self.needs - {f.name for f in fields(DetectorInputs)}
        if unknown:
            raise ValueError(f"detector {self.name!r} needs unknown inputs {sorted(unknown)}")


def check_candidates(frame: pl.DataFrame, detector: str, n_users: int) -> pl.DataFrame:
    """Return ``frame`` when it keeps the detector contract; raise ``ValueError`` naming what it breaks.

    The contract: exactly the columns of :data:`CANDIDATE_SCHEMA` with their
    types, every uid below ``n_users``, no member twice in one group, and
    every ``source`` starting with the detector's name.

    Examples
    --------
    >>> ok = pl.DataFrame({"cand": [0, 0], "uid": [1, 2], "source": ["toy"] * 2}, schema=CANDIDATE_SCHEMA)
    >>> check_candidates(ok, "toy", n_users=3).height
    2
    >>> check_candidates(ok, "toy", n_users=2)
    Traceback (most recent call last):
    ...
    ValueError: detector 'toy' returned uids up to 2 for 2 accounts
    """
    if dict(frame.schema) != CANDIDATE_SCHEMA:
        raise ValueError(f"detector {detector!r} returned columns {dict(frame.schema)}, expected {CANDIDATE_SCHEMA}")
    if frame.height == 0:
        return frame
    top = int(frame["uid"].max())
    if top >= n_users:
        raise ValueError(f"detector {detector!r} returned uids up to {top} for {n_users} accounts")
    if frame.select("cand", "uid").is_duplicated().any():
        raise ValueError(f"detector {detector!r} listed an account twice in one group")
    if not frame["source"].str.starts_with(detector).all():
        raise ValueError(f"detector {detector!r} returned sources {sorted(frame['source'].unique())}")
    return frame


def detector_inputs(graphs: Graphs, config: Config, **inputs: object) -> DetectorInputs:
    """The :class:`DetectorInputs` of one run, from its graphs and any further inputs by name."""
    return DetectorInputs(
        config=config, n_users=graphs.n_users, gifts=graphs.gifts, gift_flow=graphs.gift_flow,
        cogift=graphs.cogift, **inputs,
    )


def run_detectors(
    inputs: DetectorInputs, detectors: tuple[Detector, ...] = (), *, skip: frozenset[str] = frozenset()
) -> dict[str, pl.DataFrame]:
    """Run the detectors whose inputs are all present, except those named in ``skip``.

    Returns each detector's candidates by name, in the order of ``detectors``
    (default: :data:`DETECTORS`), each checked by :func:`check_candidates`.
    """
    present = inputs.present()
    found = {}
    for detector in detectors or DETECTORS:
        if detector.name in skip or not detector.needs <= present:
            continue
        found[detector.name] = check_candidates(detector.find(inputs), detector.name, inputs.n_users)
    return found


def crowd_sources(found: dict[str, pl.DataFrame], detectors: tuple[Detector, ...] = ()) -> frozenset[str]:
    """The ``source`` values of the candidates that are whole crowds (:attr:`Detector.crowds`), for
    :func:`graphkit.rings.find_ring_groups`; ``found`` is :func:`run_detectors`' result.

    Examples
    --------
    >>> found = {"crowded_identifier": pl.DataFrame({"cand": [0], "uid": [1], "source": ["crowded_identifier_ip"]},
    ...                                             schema=CANDIDATE_SCHEMA)}
    >>> sorted(crowd_sources(found))
    ['crowded_identifier_ip']
    """
    return frozenset(
        source for d in detectors or DETECTORS if d.crowds and d.name in found
        for source in found[d.name]["source"].unique().to_list()
    )


def _membership(frame: pl.DataFrame, column: str, n_users: int) -> np.ndarray:
    """``membership[uid]`` from a ``uid, <column>`` frame, -1 for absent uids."""
    membership = np.full(n_users, -1, dtype=np.int64)
    membership[frame["uid"].to_numpy()] = frame[column].to_numpy()
    return membership


def _sizes(config: Config) -> dict[str, int]:
    return {"min_size": config.min_ring_size, "max_size": config.max_community_size}


DETECTORS: tuple[Detector, ...] = (
    Detector("community", frozenset({"communities"}), lambda i: candidates.community_candidates(
        _membership(i.communities, "community", i.n_users), **_sizes(i.config))),
    Detector("dense_block", frozenset({"gifts"}), lambda i: candidates.dense_block_candidates(
        i.gifts, i.n_users, window_s=i.config.cogift_window_s, max_blocks=i.config.dense_max_blocks,
        **_sizes(i.config))),
    Detector("synchrony", frozenset({"lockstep"}), lambda i: candidates.synchrony_candidates(
        _membership(i.lockstep, "group", i.n_users), **_sizes(i.config))),
    Detector("money_loop", frozenset({"gift_flow", "person"}), lambda i: candidates.loop_candidates(
        i.gift_flow, i.person, min_size=i.config.min_ring_size, max_persons=i.config.max_community_size,
        min_out_share=i.config.loop_min_out_share, min_in_share=i.config.loop_min_in_share)),
    Detector("fan_in", frozenset({"gift_flow", "activity", "baseline"}), lambda i: candidates.fan_in_candidates(
        i.gift_flow, i.activity, i.baseline, min_size=i.config.min_ring_size)),
    Detector("crowded_identifier", frozenset({"device_links"}), lambda i: big.crowded_identifier_candidates(
        i.device_links, min_size=i.config.min_ring_size), crowds=True),
    Detector("burst_bucket", frozenset({"gifts"}), lambda i: big.burst_bucket_candidates(
        i.gifts, window_s=i.config.cogift_window_s, min_gifters=i.config.cogift_stream_cap,
        min_excess=i.config.burst_min_excess), crowds=True),
    Detector("relay_chain", frozenset({"relays"}), lambda i: flow.relay_chain_candidates(
        i.relays, n_users=i.n_users, **_sizes(i.config))),
    Detector("flow_motif", frozenset({"gift_flow"}), lambda i: flow.flow_motif_candidates(
        i.gift_flow, n_users=i.n_users, min_branches=i.config.flow_min_branches,
        max_middle_degree=i.config.flow_max_middle_degree, balance_tolerance=i.config.flow_balance_tolerance,
        **_sizes(i.config))),
    Detector("equal_fan", frozenset({"fans"}), lambda i: flow.equal_fan_candidates(i.fans, min_size=i.config.min_ring_size)),
)
"""Every detector, in the order their candidates are pooled (the order fixes candidate ids, so it is part of
what makes a report reproducible)."""
