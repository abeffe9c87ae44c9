"""Detection quality against ground truth: ring recall/precision, user-level ranking.

A planted ring counts as *found* when one reported ring (within the top K)
holds at least half of its members and at least half of that reported ring
are its members. A reported ring that matches a benign look-alike group by the
same rule is a *false alarm on a look-alike*. User-level metrics rank every
scored account by ``score`` against its label (a planted ring's members, or
``users.label == "bad"``).

Examples
--------
>>> truth = {"rings": [{"ring_id": "T1", "kind": "account_farm", "members": ["a", "b", "c"],
...                     "beneficiaries": ["c"]}], "lookalikes": []}
>>> reported = [["a", "b", "c", "d"]]
>>> ev = evaluate_rings(reported, truth, k=2)
>>> ev.ring_recall, ev.ring_precision
(1.0, 1.0)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import polars as pl

from graphkit.errors import InputError
from graphkit.model import Decision, latest_decisions
from graphkit.report.reader import read_report

__all__ = [
    "DecisionEvaluation",
    "Evaluation",
    "HeldOutFlags",
    "held_out_flags",
    "hide_flags",
    "RingMatch",
    "SIZE_BANDS",
    "average_precision",
    "evaluate",
    "evaluate_decisions",
    "evaluate_output",
    "evaluate_rings",
    "load_truth",
    "roc_auc",
    "size_band",
    "threshold_table",
    "user_labels",
]


@dataclass(frozen=True)
class RingMatch:
    """How one planted ring fared."""

    ring_id: str
    kind: str
    size: int
    found_by: str | None
    """The reported ring_id (or rank) that found it, or None."""
    overlap: float
    """Best share of the planted ring's members held by one reported ring in the top K."""


@dataclass(frozen=True)
class Evaluation:
    """Detection quality of one run.

    Attributes
    ----------
    k : int
        How many top rings were judged.
    ring_recall, ring_precision : float
        Planted rings found in the top K; top-K reported rings that match a planted ring.
    lookalikes_reported : list of str
        Look-alike groups (benign) matched by a reported ring in the top K.
    matches : list of RingMatch
        One per planted ring.
    auc, average_precision : float or None
        User level, over every scored account; None without labels or scores.
    precision_at : dict
        k -> precision of the k highest-scored accounts.
    thresholds : polars.DataFrame
        threshold, flagged, precision, recall.
    auc_without_flags, average_precision_without_flags : float or None
        The same measures on scores.csv's ``score_without_flags`` (a report with a flags table:
        the scores with the flags' parts taken out); None without that column.
    """

    k: int
    ring_recall: float
    ring_precision: float
    lookalikes_reported: list[str] = field(default_factory=list)
    matches: list[RingMatch] = field(default_factory=list)
    auc: float | None = None
    average_precision: float | None = None
    precision_at: dict[int, float] = field(default_factory=dict)
    thresholds: pl.DataFrame | None = None
    n_reported: int = 0
    n_planted: int = 0
    decisions: "DecisionEvaluation | None" = None
    """Against investigators' decisions (``graphkit eval --labels``); None without them."""
    has_truth: bool = True
    """False when only decisions were given: the ground-truth measures are then left out of :meth:`to_dict`."""
    auc_without_flags: float | None = None
    average_precision_without_flags: float | None = None

    def recall_by_kind(self) -> dict[str, float]:
        kinds: dict[str, list[bool]] = {}
        for m in self.matches:
            kinds.setdefault(m.kind, []).append(m.found_by is not None)
        return {kind: sum(v) / len(v) for kind, v in sorted(kinds.items())}

    def recall_by_size(self) -> dict[str, tuple[int, int]]:
        """``band -> (found, planted)`` for the size bands of :data:`SIZE_BANDS` that hold a planted ring.

        Examples
        --------
        >>> ev = Evaluation(k=4, ring_recall=0.5, ring_precision=0.5, matches=[
        ...     RingMatch("T1", "account_farm", 12, "R0001", 1.0), RingMatch("T2", "gifting_burst", 600, None, 0.1)])
        >>> ev.recall_by_size()
        {'5-49': (1, 1), '200+': (0, 1)}
        """
        bands: dict[str, tuple[int, int]] = {}
        for m in self.matches:
            band = size_band(m.size)
            found, planted = bands.get(band, (0, 0))
            bands[band] = (found + (m.found_by is not None), planted + 1)
        return {label: bands[label] for label in _BAND_LABELS if label in bands}

    def to_dict(self) -> dict[str, Any]:
        if not self.has_truth:
            return {"reported_rings": self.n_reported,
                    **({"decisions": self.decisions.to_dict()} if self.decisions is not None else {})}
        return {
            "k": self.k,
            "planted_rings": self.n_planted,
            "reported_rings": self.n_reported,
            "ring_recall": round(self.ring_recall, 4),
            "ring_precision": round(self.ring_precision, 4),
            "recall_by_kind": {k: round(v, 4) for k, v in self.recall_by_kind().items()},
            "recall_by_size": {band: {"found": f, "planted": n} for band, (f, n) in self.recall_by_size().items()},
            "lookalikes_reported": list(self.lookalikes_reported),
            "user_auc": None if self.auc is None else round(self.auc, 4),
            "user_average_precision": None if self.average_precision is None else round(self.average_precision, 4),
            "precision_at": {str(k): round(v, 4) for k, v in self.precision_at.items()},
            "thresholds": [] if self.thresholds is None else self.thresholds.to_dicts(),
            "rings": [m.__dict__ for m in self.matches],
            **({"decisions": self.decisions.to_dict()} if self.decisions is not None else {}),
            **({"user_auc_without_flags": _round4(self.auc_without_flags),
                "user_average_precision_without_flags": _round4(self.average_precision_without_flags)}
               if self.auc_without_flags is not None or self.average_precision_without_flags is not None else {}),
        }


SIZE_BANDS: tuple[tuple[int, int | None], ...] = ((0, 5), (5, 50), (50, 200), (200, None))
"""Planted-ring size bands of :meth:`Evaluation.recall_by_size` (lower bound included, upper excluded;
``None``: no upper bound): small rings, the 50-200 accounts ``hub_cap`` and ``cogift_stream_cap`` sit in, and
the farms and bursts of hundreds that issue 21 is about."""

_BAND_LABELS = tuple(f"{lo}-{hi - 1}" if hi is not None else f"{lo}+" for lo, hi in SIZE_BANDS)


def size_band(size: int) -> str:
    """The label of the :data:`SIZE_BANDS` band ``size`` falls in.

    >>> size_band(4), size_band(5), size_band(199), size_band(2000)
    ('0-4', '5-49', '50-199', '200+')
    """
    for (lo, hi), label in zip(SIZE_BANDS, _BAND_LABELS):
        if size >= lo and (hi is None or size < hi):
            return label
    raise ValueError(f"size {size} is negative")


@dataclass(frozen=True)
class DecisionEvaluation:
    """Detection quality against investigators' decisions: partial labels, judged where they exist.

    A ring decided ``confirmed`` is a positive, ``benign`` a negative; ``unsure``
    and undecided rings are left out (they are counted, not guessed). The same for
    accounts. For each ring or account the latest decision holds
    (:func:`graphkit.model.latest_decisions`).

    Attributes
    ----------
    ring_precision_at : dict
        k -> confirmed / (confirmed + benign) among the top k rings; None when none of them was judged.
    rings_judged_at : dict
        k -> how many of the top k rings were judged confirmed or benign.
    rings_confirmed, rings_benign, rings_unsure : int
        The report's rings with each verdict.
    rings : int
        The report's rings.
    user_auc, user_average_precision : float or None
        ROC AUC and average precision of the account scores, over the accounts decided confirmed (positive) or
        benign (negative); None unless both kinds are there (AP needs a confirmed account).
    users_confirmed, users_benign, users_unsure : int
        Decided accounts with each verdict.
    """

    ring_precision_at: dict[int, float | None]
    rings_judged_at: dict[int, int]
    rings_confirmed: int
    rings_benign: int
    rings_unsure: int
    rings: int
    user_auc: float | None
    user_average_precision: float | None
    users_confirmed: int
    users_benign: int
    users_unsure: int
    user_auc_without_flags: float | None = None
    user_average_precision_without_flags: float | None = None
    """The same two measures on scores.csv's ``score_without_flags`` (a report with a flags table); None without it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._to_dict(),
            **({"user_auc_without_flags": _round4(self.user_auc_without_flags),
                "user_average_precision_without_flags": _round4(self.user_average_precision_without_flags)}
               if self.user_auc_without_flags is not None or self.user_average_precision_without_flags is not None
               else {}),
        }

    def _to_dict(self) -> dict[str, Any]:
        return {
            "rings": self.rings,
            "rings_confirmed": self.rings_confirmed,
            "rings_benign": self.rings_benign,
            "rings_unsure": self.rings_unsure,
            "ring_precision_at": {str(k): None if v is None else round(v, 4) for k, v in self.ring_precision_at.items()},
            "rings_judged_at": {str(k): v for k, v in self.rings_judged_at.items()},
            "users_confirmed": self.users_confirmed,
            "users_benign": self.users_benign,
            "users_unsure": self.users_unsure,
            "user_auc": None if self.user_auc is None else round(self.user_auc, 4),
            "user_average_precision": (None if self.user_average_precision is None
                                       else round(self.user_average_precision, 4)),
        }


def evaluate_decisions(
    ring_ids: Sequence[str],
    user_scores: pl.DataFrame,
    decisions: Sequence[Decision],
    *,
    ks: Sequence[int] = (5, 10, 20, 50),
) -> DecisionEvaluation:
    """Precision@k of rings and account-level ROC AUC / AP against investigators' decisions.

    Parameters
    ----------
    ring_ids : sequence of str
        The report's rings in rank order (``rings.json``).
    user_scores : polars.DataFrame
        ``user_id, score`` (``scores.csv``).
    decisions : sequence of Decision
        About rings of this report (``ring_id``) and accounts (``user_id``);
        :meth:`graphkit.model.Decision.from_row` on a labels file's rows.
    ks : sequence of int
        The k of precision@k; a k beyond the number of rings is left out, and
        every ring (k = the number of rings) is always judged.

    Returns
    -------
    DecisionEvaluation

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.model import Decision
    >>> decided = [Decision("confirmed", ring_id="R1"), Decision("benign", ring_id="R3"), Decision("unsure", ring_id="R2"),
    ...            Decision("confirmed", user_id="a"), Decision("benign", user_id="b"), Decision("benign", user_id="c")]
    >>> scores = pl.DataFrame({"user_id": ["a", "b", "c", "d"], "score": [0.9, 0.2, 0.95, 0.5]})
    >>> ev = evaluate_decisions(["R1", "R2", "R3", "R4"], scores, decided, ks=(1, 2))
    >>> ev.ring_precision_at, ev.rings_judged_at
    ({1: 1.0, 2: 1.0, 4: 0.5}, {1: 1, 2: 1, 4: 2})
    >>> ev.user_auc, ev.user_average_precision
    (0.5, 0.5)
    """
    latest = latest_decisions(decisions)
    ring_verdict = {target: d.verdict for (kind, target), d in latest.items() if kind == "ring"}
    user_verdict = {target: d.verdict for (kind, target), d in latest.items() if kind == "user"}
    verdicts = [ring_verdict.get(r) for r in ring_ids]
    precision: dict[int, float | None] = {}
    judged_at: dict[int, int] = {}
    for k in sorted({*(k for k in ks if k < len(ring_ids)), len(ring_ids)} - {0}):
        top = verdicts[:k]
        judged = sum(v in ("confirmed", "benign") for v in top)
        judged_at[k] = judged
        precision[k] = top.count("confirmed") / judged if judged else None
    decided = pl.DataFrame({"user_id": list(user_verdict), "verdict": list(user_verdict.values())},
                           schema={"user_id": pl.Utf8, "verdict": pl.Utf8})
    without = ["score_without_flags"] if "score_without_flags" in user_scores.columns else []
    scored = decided.filter(pl.col("verdict") != "unsure").join(
        user_scores.select(pl.col("user_id").cast(pl.Utf8), pl.col("score").cast(pl.Float64),
                           *(pl.col(c).cast(pl.Float64) for c in without)), on="user_id", how="left",
    ).sort("user_id")
    y = (scored["verdict"] == "confirmed").to_numpy()
    s = scored["score"].fill_null(0.0).to_numpy()
    s_without = scored["score_without_flags"].fill_null(0.0).to_numpy() if without else None
    return DecisionEvaluation(
        ring_precision_at=precision, rings_judged_at=judged_at,
        rings_confirmed=verdicts.count("confirmed"), rings_benign=verdicts.count("benign"),
        rings_unsure=verdicts.count("unsure"), rings=len(ring_ids),
        user_auc=roc_auc(y, s) if len(y) else None, user_average_precision=average_precision(y, s) if len(y) else None,
        users_confirmed=list(user_verdict.values()).count("confirmed"),
        users_benign=list(user_verdict.values()).count("benign"),
        users_unsure=list(user_verdict.values()).count("unsure"),
        user_auc_without_flags=roc_auc(y, s_without) if s_without is not None and len(y) else None,
        user_average_precision_without_flags=(average_precision(y, s_without)
                                              if s_without is not None and len(y) else None),
    )


def _common_members(top: list[set[str]], groups: list[set[str]]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each group ``j`` sharing an account with a reported ring: ``(reported ring indexes, shared counts)``.

    One join over the accounts, not a set intersection per (group, ring) pair: 10^3 planted rings, 10^4
    look-alike groups and 2 x 10^3 reported rings of up to thousands of accounts each (a 10^7-gift
    ``--ring-size-max`` platform) took minutes pair by pair.
    """
    if not top or not groups:
        return {}

    def exploded(sets: list[set[str]], name: str) -> pl.DataFrame:
        lengths = [len(x) for x in sets]
        return pl.DataFrame({name: np.repeat(np.arange(len(sets), dtype=np.int64), lengths),
                             "member": [m for x in sets for m in x]}, schema={name: pl.Int64, "member": pl.Utf8})

    pairs = (
        exploded(groups, "g").join(exploded(top, "r"), on="member")
        .group_by("g", "r").len().sort("g", "r")
    )
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for (g,), part in pairs.group_by("g", maintain_order=True):
        out[int(g)] = (part["r"].to_numpy(), part["len"].to_numpy().astype(np.int64))
    return out


def _round4(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def evaluate_rings(
    reported: Sequence[Sequence[str]],
    truth: dict[str, Any],
    *,
    k: int | None = None,
    reported_ids: Sequence[str] | None = None,
) -> Evaluation:
    """Ring-level recall and precision of ``reported`` (rank order) against ``truth``.

    Parameters
    ----------
    reported : sequence of member lists, most suspicious first.
    truth : dict
        ``truth.json`` content: ``rings`` (ring_id, kind, members) and ``lookalikes``.
    k : int, optional
        Judge the top ``k`` rings; default twice the number of planted rings.

    A planted ring is found when one ring of the top holds at least half of its members and at least half
    of that ring are its members. A look-alike group is reported when at least half of a ring of the top
    are its members, however little of the group that ring holds.
    """
    planted = truth.get("rings", [])
    lookalikes = truth.get("lookalikes", [])
    k = k if k is not None else max(1, 2 * len(planted))
    top = [set(map(str, members)) for members in list(reported)[:k]]
    ids = list(reported_ids or [f"#{i + 1}" for i in range(len(reported))])[:k]
    top_sizes = np.array([len(rep) for rep in top], dtype=np.int64)
    groups = [set(map(str, ring["members"])) for ring in planted]
    common = _common_members(top, groups)
    matches = []
    hits_per_reported = np.zeros(len(top), dtype=bool)
    for j, (ring, members) in enumerate(zip(planted, groups)):
        found, best = None, 0.0
        shared = common.get(j)
        if shared is not None:
            reps, counts = shared
            best = float(counts.max()) / len(members)
            hit = (counts * 2 >= len(members)) & (counts * 2 >= top_sizes[reps])
            if hit.any():
                hits_per_reported[reps[hit]] = True
                found = ids[int(reps[hit].min())]
        matches.append(RingMatch(str(ring.get("ring_id", "")), str(ring.get("kind", "")), len(members), found, best))
    look_sets = [set(map(str, group["members"])) for group in lookalikes]
    look_common = _common_members(top, look_sets)
    # a look-alike is reported when a ring of the top is mostly its accounts, even a piece of it: a promotion
    # wave cut into five rings of its own accounts wastes five investigations
    false_lookalikes = [
        str(group.get("group_id", ""))
        for j, group in enumerate(lookalikes)
        if j in look_common and bool((look_common[j][1] * 2 >= top_sizes[look_common[j][0]]).any())
    ]
    recall = sum(m.found_by is not None for m in matches) / len(matches) if matches else 0.0
    precision = float(hits_per_reported.sum()) / len(top) if top else 0.0
    return Evaluation(
        k=k,
        ring_recall=recall,
        ring_precision=precision,
        lookalikes_reported=false_lookalikes,
        matches=matches,
        n_reported=len(reported),
        n_planted=len(planted),
    )


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half), or None with one class only.

    Examples
    --------
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from scipy.stats import rankdata

    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision (area under the precision-recall step curve), ties grouped.

    Examples
    --------
    >>> average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.8333333333333333
    """
    labels = np.asarray(labels, dtype=bool)
    n_pos = int(labels.sum())
    if n_pos == 0:
        return None
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    sorted_scores = np.asarray(scores, dtype=np.float64)[order]
    tp = np.cumsum(labels[order])
    # evaluate only at the last position of each group of tied scores
    last_of_tie = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    tp = tp[last_of_tie]
    positions = np.flatnonzero(last_of_tie) + 1
    precision = tp / positions
    recall = tp / n_pos
    recall_steps = np.diff(np.r_[0.0, recall])
    return float((recall_steps * precision).sum())


def threshold_table(labels: np.ndarray, scores: np.ndarray, thresholds: Sequence[float] | None = None) -> pl.DataFrame:
    """Accounts flagged, precision and recall at each score threshold (score >= threshold)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    thresholds = list(thresholds) if thresholds is not None else [round(t, 2) for t in np.arange(0.9, 0.0, -0.1)]
    n_pos = max(int(labels.sum()), 1)
    flagged = [int((scores >= t).sum()) for t in thresholds]
    true_pos = [int((labels & (scores >= t)).sum()) for t in thresholds]
    return pl.DataFrame(
        {
            "threshold": thresholds,
            "flagged": flagged,
            "precision": [tp / f if f else None for tp, f in zip(true_pos, flagged)],
            "recall": [tp / n_pos for tp in true_pos],
        },
        schema={"threshold": pl.Float64, "flagged": pl.Int64, "precision": pl.Float64, "recall": pl.Float64},
    )


def user_labels(
    user_ids: pl.Series | Sequence[str],
    truth: dict[str, Any] | None = None,
    *,
    labels: pl.DataFrame | None = None,
) -> np.ndarray:
    """Which of ``user_ids`` are positives (bad), as :func:`evaluate` counts them.

    Parameters
    ----------
    user_ids : polars.Series or sequence of str
        The accounts to label, in the order wanted (e.g. ``report.user_scores["user_id"]``).
    truth : dict, optional
        ``truth.json`` content: the members of its planted rings are the positives.
    labels : polars.DataFrame, optional
        ``user_id, label``: accounts labelled ``bad`` are the positives
        (takes precedence over ``truth``).

    Returns
    -------
    numpy.ndarray
        Booleans aligned with ``user_ids``.

    Examples
    --------
    >>> truth = {"rings": [{"ring_id": "T1", "kind": "account_farm", "members": ["a", "b"]}]}
    >>> user_labels(["a", "x", "b"], truth).tolist()
    [True, False, True]
    >>> user_labels(["a", "x"], labels=pl.DataFrame({"user_id": ["x"], "label": ["bad"]})).tolist()
    [False, True]
    """
    ids = pl.Series("user_id", user_ids, dtype=pl.Utf8) if not isinstance(user_ids, pl.Series) else user_ids.cast(pl.Utf8)
    if labels is not None:
        bad = labels.filter(pl.col("label") == "bad")["user_id"].cast(pl.Utf8)
    else:
        bad = pl.Series("user_id", sorted({str(m) for ring in (truth or {}).get("rings", []) for m in ring["members"]}),
                        dtype=pl.Utf8)
    return ids.is_in(bad.implode()).to_numpy()


def evaluate(
    rings: Sequence[Sequence[str]],
    user_scores: pl.DataFrame,
    truth: dict[str, Any] | None = None,
    *,
    labels: pl.DataFrame | None = None,
    k: int | None = None,
    ring_ids: Sequence[str] | None = None,
    precision_ks: Sequence[int] = (10, 50, 100, 500),
) -> Evaluation:
    """Evaluate reported rings and user scores against ground truth.

    Parameters
    ----------
    rings : member lists in rank order (``[r.members for r in report.rings]``).
    user_scores : polars.DataFrame
        ``user_id, score`` for every scored account (``report.user_scores`` or scores.csv).
    truth : dict, optional
        ``truth.json`` content (planted rings and look-alikes).
    labels : polars.DataFrame, optional
        ``user_id, label`` (``bad``/``good``); used for user-level metrics when
        given, else the planted rings' members are the positives.
    """
    truth = truth or {"rings": [], "lookalikes": []}
    ring_eval = evaluate_rings(rings, truth, k=k, reported_ids=ring_ids)
    scored = user_scores.select(pl.col("user_id").cast(pl.Utf8), pl.col("score").cast(pl.Float64))
    y = user_labels(scored["user_id"], truth, labels=labels)
    s = scored["score"].fill_null(0.0).to_numpy()
    order = np.argsort(-s, kind="stable")
    precision_at = {kk: float(y[order[:kk]].mean()) for kk in precision_ks if kk <= len(y)}
    without = None
    if "score_without_flags" in user_scores.columns:
        without = user_scores.select(pl.col("score_without_flags").cast(pl.Float64).fill_null(0.0)).to_series().to_numpy()
    return Evaluation(
        k=ring_eval.k,
        ring_recall=ring_eval.ring_recall,
        ring_precision=ring_eval.ring_precision,
        lookalikes_reported=ring_eval.lookalikes_reported,
        matches=ring_eval.matches,
        auc=roc_auc(y, s),
        average_precision=average_precision(y, s),
        precision_at=precision_at,
        thresholds=threshold_table(y, s),
        n_reported=ring_eval.n_reported,
        n_planted=ring_eval.n_planted,
        auc_without_flags=roc_auc(y, without) if without is not None else None,
        average_precision_without_flags=average_precision(y, without) if without is not None else None,
    )


@dataclass(frozen=True)
class HeldOutFlags:
    """How well the visible flags find the hidden ones (:func:`held_out_flags`).

    Attributes
    ----------
    auc, average_precision : float or None
        Hidden flagged accounts (positives) against accounts with no flag (negatives), ranked by
        the score; the accounts whose flags stayed visible are left out.
    hidden, negatives : int
        How many positives and negatives were ranked.
    """

    auc: float | None
    average_precision: float | None
    hidden: int
    negatives: int

    def to_dict(self) -> dict[str, Any]:
        return {"auc": _round4(self.auc), "average_precision": _round4(self.average_precision),
                "hidden": self.hidden, "negatives": self.negatives}


def hide_flags(flags: pl.DataFrame, *, share: float = 0.5, seed: int = 0) -> tuple[pl.DataFrame, pl.Series]:
    """The held-out-flags protocol, first step: hide every flag of a random ``share`` of the flagged accounts.

    Parameters
    ----------
    flags : polars.DataFrame
        A flags table (``user_id`` and any other columns), e.g. ``Tables.flags``.
    share : float
        Share of the flagged accounts hidden (at least one when there are two or more).
    seed : int

    Returns
    -------
    (visible, hidden)
        The flags that stay (run the report with them: ``dataclasses.replace(tables, flags=visible)``),
        and the hidden accounts' ``user_id`` (the positives of :func:`held_out_flags`).

    Examples
    --------
    >>> flags = pl.DataFrame({"user_id": ["a", "a", "b", "c", "d"], "kind": ["ban"] * 5})
    >>> visible, hidden = hide_flags(flags, seed=1)
    >>> sorted(hidden.to_list()), sorted(set(visible["user_id"]))
    (['b', 'c'], ['a', 'd'])
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share = {share} must be from 0 to 1")
    accounts = flags.get_column("user_id").cast(pl.Utf8).unique().sort()
    n = round(share * accounts.len())
    if accounts.len() >= 2:
        n = min(max(n, 1), accounts.len() - 1)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(accounts.len(), size=n, replace=False)) if n else np.array([], dtype=np.int64)
    hidden = accounts.gather(picked).rename("user_id")
    visible = flags.filter(~pl.col("user_id").cast(pl.Utf8).is_in(hidden.implode()))
    return visible, hidden


def held_out_flags(user_scores: pl.DataFrame, flags: pl.DataFrame, hidden: pl.Series | Sequence[str], *,
                   score: str = "score") -> HeldOutFlags:
    """The held-out-flags protocol, second step: rank the hidden flagged accounts among the unflagged ones.

    Parameters
    ----------
    user_scores : polars.DataFrame
        ``user_id`` and the ``score`` column of a run that saw only the visible flags
        (``report.user_scores``, scores.csv, or ``report.user_features`` with ``score="known_bad"``).
    flags : polars.DataFrame
        Every flag, hidden ones included (``user_id``).
    hidden : polars.Series or sequence of str
        From :func:`hide_flags`.
    score : str
        The column ranked.

    Examples
    --------
    >>> scores = pl.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "score": [0.9, 0.8, 0.1, 0.7, 0.2]})
    >>> flags = pl.DataFrame({"user_id": ["a", "b", "d"]})
    >>> held_out_flags(scores, flags, ["a", "d"]).to_dict()
    {'auc': 1.0, 'average_precision': 1.0, 'hidden': 2, 'negatives': 2}
    """
    hidden_ids = pl.Series("user_id", list(hidden), dtype=pl.Utf8).implode()
    flagged = flags.get_column("user_id").cast(pl.Utf8).unique().implode()
    frame = user_scores.select(pl.col("user_id").cast(pl.Utf8), pl.col(score).cast(pl.Float64).fill_null(0.0))
    is_hidden = pl.col("user_id").is_in(hidden_ids)
    ranked = frame.filter(is_hidden | ~pl.col("user_id").is_in(flagged))
    y = ranked.select(is_hidden).to_series().to_numpy()
    s = ranked[score].to_numpy()
    return HeldOutFlags(roc_auc(y, s), average_precision(y, s), int(y.sum()), int((~y).sum()))


def load_truth(path: str | Path, *, columns: str | Path | None = None) -> tuple[dict[str, Any] | None, pl.DataFrame | None]:
    """Read ground truth: a ``truth.json`` (rings, look-alikes) or a users table with ``label``.

    Parameters
    ----------
    path : path
        ``truth.json``, or a users table (CSV, Parquet, NDJSON) with ``user_id`` and ``label``.
    columns : path, optional
        A mapping file whose ``[tables.users.columns]`` renames the users
        table's columns (e.g. ``user_id = "nodeid"``, ``label = "isFraud"``).

    Returns ``(truth, labels)``; one of them is None.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: truth file not found; pass truth.json from graphkit synth or a users table with a label column")
    if path.suffix == ".json":
        try:
            truth = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(truth, dict) or "rings" not in truth:
            raise InputError(f"{path}: a truth file needs a 'rings' list (as graphkit synth writes)")
        _check_groups(truth.get("rings"), path, "rings")
        _check_groups(truth.get("lookalikes", []), path, "lookalikes")
        return truth, None
    from graphkit.io.mapping import load_mapping
    from graphkit.io.tables import read_table

    mapping = load_mapping(columns).get("users") if columns is not None else None
    part = read_table(path, "users", mapping, max_bad_share=1.0)
    if part.accepted["label"].null_count() == part.accepted.height:
        raise InputError(f"{path}: column 'label' is missing or empty; it must hold bad/good (or 1/0) per user_id")
    return None, part.accepted.select("user_id", "label")


def evaluate_output(
    out_dir: str | Path,
    truth_path: str | Path | None = None,
    *,
    k: int | None = None,
    columns: str | Path | None = None,
    labels_path: str | Path | None = None,
    now: datetime | None = None,
) -> Evaluation:
    """Evaluate a ``graphkit report`` output folder (rings.json, scores.csv) against ground truth, investigators'
    decisions, or both.

    Parameters
    ----------
    out_dir : path
        The report.
    truth_path : path, optional
        ``truth.json`` or a users table with ``label`` (:func:`load_truth`).
    labels_path : path, optional
        A decisions file (:func:`graphkit.io.labels.read_labels`) about this
        report's rings and accounts: its ``ring_id`` must name a ring (or a
        held-back group) of ``out_dir``, its ``user_id`` an account of its
        ``scores.csv``; any bad row raises :class:`graphkit.errors.TooManyRejectedError`.
    now : datetime, optional
        Decisions dated after it are bad rows.

    Raises
    ------
    InputError
        Neither ``truth_path`` nor ``labels_path`` is given, or one of them cannot be used.
    """
    if truth_path is None and labels_path is None:
        raise InputError("give --truth FILE, --labels FILE or both: there is nothing to evaluate against")
    saved = read_report(out_dir)
    doc, scores = saved.document, saved.scores
    ring_ids = [str(r.get("ring_id", f"#{i + 1}")) for i, r in enumerate(doc.get("rings", []))]
    truth, labels = load_truth(truth_path, columns=columns) if truth_path is not None else (None, None)
    evaluation = evaluate([r["members"] for r in doc.get("rings", [])], scores, truth, labels=labels, k=k,
                          ring_ids=ring_ids)
    if labels_path is None:
        return evaluation
    from graphkit.io.labels import read_labels

    held = [str(h.get("ring_id")) for h in doc.get("held_back") or [] if isinstance(h, dict)]
    read = read_labels(labels_path, known_users=scores["user_id"], known_rings={*ring_ids, *held},
                       rings_from=f"the report {out_dir}", now=now)
    decided = evaluate_decisions(ring_ids, scores, [Decision.from_row(row) for row in read.decisions.iter_rows(named=True)])
    if truth_path is None:  # the ground-truth measures mean nothing without ground truth
        evaluation = Evaluation(k=0, ring_recall=0.0, ring_precision=0.0, n_reported=len(ring_ids), has_truth=False)
    return dataclasses.replace(evaluation, decisions=decided)


def _check_groups(groups: Any, path: Path, what: str) -> None:
    """Each entry of ``groups`` must be an object whose ``members`` is a list: else one clear line."""
    if not isinstance(groups, list):
        raise InputError(f"{path}: '{what}' must be a list")
    for i, group in enumerate(groups):
        name = group.get("ring_id") or group.get("group_id") or f"#{i + 1}" if isinstance(group, dict) else f"#{i + 1}"
        if not isinstance(group, dict) or not isinstance(group.get("members"), list):
            raise InputError(f"{path}: {what} entry {name} needs a 'members' list of account ids")
