"""Investigators' decisions over time: ``graphkit report --labels FILE [--previous OLD_OUT]``.

A decision (:class:`graphkit.model.Decision`, read from a labels file by
:func:`graphkit.io.labels.read_labels`) is about a ring of an earlier report
or about an account. A decision about a ring keeps the ring's members as they
were when it was decided on, so it follows those accounts whatever id their
group has later. Decisions carry forward: ``rings.json`` lists every decision
(``decisions``, the audit trail: verdict, who, when, note), and a report made
with ``--previous`` of it applies them again, with or without ``--labels``.
For each ring or account the latest decision holds
(:func:`graphkit.model.latest_decisions`: by ``decided_at``; at equal times the labels
file wins over the carried trail).

The rules, applied by :func:`apply_decisions` to each group that scored as a
ring (``J`` is the Jaccard overlap of the group with the decided members; for
decisions about accounts, the decided members are the group's members with
that verdict, so ``J`` is their share of the group):

- **benign**: the group is *held back*, not reported as a ring, while it is
  materially the same as what was cleared: ``J >= decision_min_jaccard`` and
  at most ``benign_max_growth`` new accounts per decided account, and no
  confirmed decision covers it. It is listed under ``held_back`` with the
  decisions that hold it and why, so nothing disappears silently. A cleared
  group that grew more is reported again, and its reasons say so. With
  ``--previous``, the accounts of a group the earlier report held back under
  a decision count as decided on by it: a fan club's regulars who were away
  on the day it was cleared are not new when they come back (the earlier
  report listed them under ``held_back`` ``joined``); an account never seen
  in the group still is.
- **confirmed**: the ring stays tracked. A decision about a ring follows it by
  overlap (``J >= decision_min_jaccard``) or, with ``--previous``, by its
  carried id; ``new_members`` lists its members that were not in it when it
  was confirmed, and a reason sentence names them.
- **unsure**: kept in the audit trail and on the ring, nothing else.

Examples
--------
>>> import polars as pl
>>> from graphkit.model import Decision, Report, Ring
>>> fans = Ring("R0001", 1, 0.8, ("f1", "f2", "f3", "h1"), 90.0)
>>> farm = Ring("R0002", 2, 0.7, ("a", "b", "c", "d", "h2"), 50.0)
>>> scores = pl.DataFrame({"user_id": ["f1", "a"], "score": [0.8, 0.7], "ring_id": ["R0001", "R0002"]})
>>> today = Report((fans, farm), scores, {}, {"rings": 2})
>>> cleared = Decision("benign", ring_id="R0009", by="ana", decided_at="2024-05-02T00:00:00Z",
...                    members=("f1", "f2", "f3", "h1"))
>>> caught = Decision("confirmed", ring_id="R0004", members=("a", "b", "c", "h2"))
>>> after = apply_decisions(today, (cleared, caught))
>>> [(r.ring_id, r.rank, r.new_members) for r in after.rings]
[('R0002', 1, ('d',))]
>>> [(h.ring_id, h.overlap, h.joined) for h in after.held_back], after.summary
([('R0001', 1.0, ())], {'rings': 1, 'held_back': 1})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from graphkit.config import Config
from graphkit.errors import InputError
from graphkit.history.ids import carry_ring_ids
from graphkit.model import Decision, HeldBack, Report, Ring, latest_decisions
from graphkit.report.reader import SavedReport
from graphkit.util.format import plural

__all__ = [
    "apply_decisions",
    "continue_report",
    "carried_decisions",
    "decisions_from_labels",
    "known_ring_ids",
    "merge_decisions",
    "with_held_back",
]

_SHOWN = 10
"""Accounts named in one reason sentence; the rest are counted."""


def carried_decisions(previous: SavedReport | None) -> tuple[Decision, ...]:
    """The audit trail of an earlier report (``rings.json`` ``decisions``), as :class:`Decision` objects.

    Raises :class:`InputError` when an entry is not a decision graphkit wrote.
    """
    if previous is None:
        return ()
    entries = previous.document.get("decisions") or []
    where = f"{previous.out_dir}/rings.json" if previous.out_dir is not None else "rings.json"
    if not isinstance(entries, list):
        raise InputError(f"{where}: 'decisions' must be a list; rerun graphkit report")
    decisions = []
    for i, entry in enumerate(entries):
        target_ok = isinstance(entry, dict) and (isinstance(entry.get("ring_id"), str) or isinstance(entry.get("user_id"), str))
        if not target_ok or entry.get("verdict") not in ("confirmed", "benign", "unsure"):
            raise InputError(f"{where}: decisions entry #{i + 1} is not a decision (ring_id or user_id, verdict); "
                             "rerun graphkit report")
        decisions.append(_entry_decision(entry))
    return tuple(decisions)


def _entry_decision(entry: Mapping[str, Any]) -> Decision:
    """A decision as ``rings.json`` writes it (:meth:`Decision.to_dict`), read back."""
    return Decision(
        verdict=entry["verdict"], ring_id=_text(entry.get("ring_id")),
        user_id=None if isinstance(entry.get("ring_id"), str) else _text(entry.get("user_id")),
        note=_text(entry.get("note")), decided_at=_text(entry.get("decided_at")), by=_text(entry.get("by")),
        members=tuple(sorted(str(m) for m in entry.get("members") or ())),
    )


def known_ring_ids(previous: SavedReport | None) -> set[str]:
    """The ring ids a labels file may name with ``--previous``: the earlier report's rings, the groups it held
    back, and the rings of its audit trail."""
    if previous is None:
        return set()
    return ({str(r.get("ring_id")) for r in previous.rings}
            | {h["ring_id"] for h in previous.held_back}
            | {d.ring_id for d in carried_decisions(previous) if d.ring_id is not None})


def with_held_back(previous: SavedReport) -> SavedReport:
    """``previous`` as if its held-back groups were rings too, so that ``carry_ring_ids`` keeps their ids."""
    held = previous.held_back
    if not held:
        return previous
    return dataclasses.replace(previous, document={**previous.document, "rings": [*previous.rings, *held]})


def decisions_from_labels(labels: pl.DataFrame, previous: SavedReport | None = None) -> tuple[Decision, ...]:
    """The rows of a labels file (:attr:`graphkit.io.labels.Labels.decisions`) as decisions, in file order.

    A decision about a ring takes the ring's members from ``previous`` (its
    rings, then its held-back groups, then the latest decision about that
    ring in its audit trail); a ring id found in none of them keeps no
    members, and so matches no group of a later report.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> rows = pl.DataFrame({"ring_id": [None], "user_id": ["u7"], "verdict": ["benign"], "note": [None],
    ...                      "decided_at": [datetime(2024, 5, 2, 9, 30, tzinfo=timezone.utc)], "by": ["ana"]})
    >>> decisions_from_labels(rows)
    (Decision(verdict='benign', ring_id=None, user_id='u7', note=None, decided_at='2024-05-02T09:30:00Z', by='ana', members=()),)
    """
    members: dict[str, tuple[str, ...]] = {}
    if previous is not None:
        for decision in carried_decisions(previous):
            if decision.ring_id is not None and decision.members:
                members[decision.ring_id] = decision.members
        for group in [*previous.held_back, *previous.rings]:
            members[str(group.get("ring_id"))] = tuple(sorted(str(m) for m in group["members"]))
    return tuple(Decision.from_row(row, members.get(row.get("ring_id"), ()))
                 for row in labels.iter_rows(named=True))


def merge_decisions(carried: Sequence[Decision], new: Sequence[Decision]) -> tuple[Decision, ...]:
    """The audit trail: ``carried`` then ``new``, a decision given again (same target, time, verdict, who and
    note: the same labels file passed every day) kept once, with the members it was first given."""
    seen: set[tuple[Any, ...]] = set()
    trail = []
    for decision in [*carried, *new]:
        key = (decision.target, decision.decided_at, decision.verdict, decision.by, decision.note)
        if key not in seen:
            seen.add(key)
            trail.append(decision)
    return tuple(trail)


def apply_decisions(
    report: Report,
    decisions: Sequence[Decision],
    *,
    min_jaccard: float = Config.decision_min_jaccard,
    max_growth: float = Config.benign_max_growth,
    held_before: Sequence[Mapping[str, Any]] = (),
) -> Report:
    """``report`` with the investigators' decisions applied (the rules are in the module's documentation).

    Parameters
    ----------
    report : Report
        Today's result, its ring ids already carried (:func:`graphkit.history.carry_ring_ids`) when there is
        an earlier report.
    decisions : sequence of Decision
        The audit trail (:func:`merge_decisions`), oldest first.
    min_jaccard, max_growth : float
        ``Config.decision_min_jaccard`` and ``Config.benign_max_growth``.
    held_before : sequence of mapping
        The earlier report's ``held_back`` entries (``rings.json``, with ``--previous``): their members count
        as decided on by the benign decisions about rings that held them.

    Returns
    -------
    Report
        The rings no benign decision holds back, ranked 1.. again, with their ``decisions`` and
        ``new_members`` (and a reason sentence for each decision that touched them); ``held_back``;
        ``decisions`` (the trail); ``user_scores`` without ring for the held-back groups' members; and
        ``summary`` with ``rings``, ``accounts_in_rings`` and ``held_back`` counting what is reported.
    """
    trail = tuple(sorted(decisions, key=lambda d: d.decided_at or ""))
    history: dict[tuple[str, str], list[tuple[int, Decision]]] = {}  # target -> (place in the trail, decision)
    for place, decision in enumerate(trail):
        history.setdefault(decision.target, []).append((place, decision))
    effective = latest_decisions(decisions)
    ring_decisions = [d for d in effective.values() if d.ring_id is not None]
    seen_held = _held_members(held_before)
    decided_sets = [set(d.members) | (seen_held.get(_key(d), set()) if d.verdict == "benign" else set())
                    for d in ring_decisions]
    covered = {_key(d): decided for d, decided in zip(ring_decisions, decided_sets)}  # the accounts each one covers
    sharing: dict[str, list[int]] = {}  # account -> the ring decisions that name it: only those can overlap
    for i, members in enumerate(decided_sets):
        for member in members:
            sharing.setdefault(member, []).append(i)
    by_id = {d.ring_id: i for i, d in enumerate(ring_decisions)}
    user_verdict = {d.user_id: d for d in effective.values() if d.user_id is not None}
    carried_ids = any(r.status is not None for r in report.rings)
    kept: list[Ring] = []
    held: list[HeldBack] = []
    for ring in report.rings:
        group = set(ring.members)
        candidates = {i for m in group for i in sharing.get(m, ())}
        if carried_ids and ring.ring_id in by_id:
            candidates.add(by_id[ring.ring_id])
        related = [(ring_decisions[i], _jaccard(group, decided_sets[i])) for i in sorted(candidates)]
        related = [(d, j) for d, j in related if j >= min_jaccard or (carried_ids and d.ring_id == ring.ring_id)]
        about_members = [user_verdict[m] for m in sorted(group) if m in user_verdict]
        confirmed = [d for d, _ in related if d.verdict == "confirmed"] + [d for d in about_members if d.verdict == "confirmed"]
        holding, decided, overlap = _benign_hold(group, related, about_members, min_jaccard, max_growth, covered)
        if holding and not confirmed:
            held.append(HeldBack(ring.ring_id, ring.score, ring.members, ring.coins_total, tuple(holding),
                                 round(overlap, 4), tuple(sorted(group - decided))))
            continue
        sentences, new_members = _sentences(group, related, about_members, confirmed, max_growth, covered)
        targets = {d.target for d in [*(d for d, _ in related), *about_members]}
        about = sorted(entry for t in targets for entry in history[t])
        kept.append(dataclasses.replace(
            ring, rank=len(kept) + 1, reasons=ring.reasons + tuple(sentences), new_members=new_members,
            decisions=tuple(d for _, d in about),
        ))
    scores = report.user_scores
    if held and "ring_id" in scores.columns:
        gone = pl.col("ring_id").is_in(pl.Series([h.ring_id for h in held], dtype=pl.Utf8).implode())
        scores = scores.with_columns(
            pl.when(gone).then(pl.lit(None, c_type)).otherwise(pl.col(c)).alias(c)
            for c, c_type in (("ring_id", pl.Utf8), ("role", pl.Utf8)) if c in scores.columns
        )
    summary = {**report.summary, "rings": len(kept), "held_back": len(held)}
    if "accounts_in_rings" in summary:
        summary["accounts_in_rings"] = sum(r.size for r in kept)
    return dataclasses.replace(report, rings=tuple(kept), held_back=tuple(held), decisions=trail,
                               user_scores=scores, summary=summary)


def continue_report(
    report: Report, earlier: SavedReport | None, decided: Sequence[Decision] | None, config: Config
) -> Report:
    """``graphkit report --previous EARLIER [--labels FILE]`` after the analysis: the earlier report's ring ids
    carried (its held-back groups' too), then the decisions applied: the earlier report's audit trail and
    ``decided`` (:func:`decisions_from_labels`; None without ``--labels``).

    Without an earlier report and without decisions, ``report`` is returned as it is.
    """
    if earlier is not None:
        report = carry_ring_ids(report, with_held_back(earlier), config=config)
    trail = merge_decisions(carried_decisions(earlier), decided or ())
    if decided is None and not trail:
        return report
    return apply_decisions(report, trail, min_jaccard=config.decision_min_jaccard, max_growth=config.benign_max_growth,
                           held_before=earlier.held_back if earlier is not None else ())


def _key(decision: Decision) -> tuple[Any, ...]:
    """What identifies one decision in the audit trail of a report and of the next one."""
    return (decision.target, decision.verdict, decision.decided_at, decision.by)


def _held_members(held_before: Sequence[Mapping[str, Any]]) -> dict[tuple[Any, ...], set[str]]:
    """decision key (:func:`_key`) -> the accounts of the earlier report's held-back groups (well-formed:
    :func:`graphkit.report.reader.held_back_of`) that a benign decision about a ring held."""
    seen: dict[tuple[Any, ...], set[str]] = {}
    for group in held_before:
        for entry in group.get("decisions") or ():
            if isinstance(entry, Mapping) and isinstance(entry.get("ring_id"), str) and entry.get("verdict") == "benign":
                seen.setdefault(_key(_entry_decision(entry)), set()).update(group["members"])
    return seen


def _benign_hold(
    group: set[str],
    related: list[tuple[Decision, float]],
    about_members: list[Decision],
    min_jaccard: float,
    max_growth: float,
    covered: Mapping[tuple[Any, ...], set[str]],
) -> tuple[list[Decision], set[str], float]:
    """The benign decisions that hold ``group`` back (empty when none does), the accounts they cover (``covered``:
    decided on, or held back under them before), and the overlap."""
    holding: list[Decision] = []
    decided: set[str] = set()
    overlap = 0.0
    for decision, jaccard in related:
        members = covered[_key(decision)]
        if decision.verdict == "benign" and jaccard >= min_jaccard and _held(group, members, max_growth):
            holding.append(decision)
            decided |= members
            overlap = max(overlap, jaccard)
    benign = [d for d in about_members if d.verdict == "benign"]
    cleared = {d.user_id for d in benign if d.user_id is not None}
    if cleared and len(cleared) / len(group) >= min_jaccard and _held(group, cleared, max_growth):
        holding.extend(benign)
        decided |= cleared
        overlap = max(overlap, len(cleared) / len(group))
    return holding, decided, overlap


def _held(group: set[str], decided: set[str], max_growth: float) -> bool:
    """Materially the same as what was decided on: at most ``max_growth`` new accounts per decided account."""
    return len(group - decided) <= max_growth * len(decided)


def _sentences(
    group: set[str],
    related: list[tuple[Decision, float]],
    about_members: list[Decision],
    confirmed: list[Decision],
    max_growth: float,
    covered: Mapping[tuple[Any, ...], set[str]],
) -> tuple[list[str], tuple[str, ...]]:
    """The reason sentences of a reported ring the decisions touched, and its new members since it was confirmed.

    The sentences give the verdict and the date, not who decided or the note (those are in ``decisions``):
    reasons go into case files and the redacted copy, and a note is free text.
    """
    sentences: list[str] = []
    new_members: set[str] = set()
    for decision, _ in related:
        members = covered[_key(decision)]
        when = f" on {decision.decided_at[:10]}" if decision.decided_at else ""
        joined = sorted(group - members)
        if decision.verdict == "confirmed":
            new_members |= set(joined)
            since = f"{plural(len(joined), 'account')} joined since: {_names(joined)}" if joined else "no account joined since"
            sentences.append(f"Confirmed as a ring by an investigator{when} (as {decision.ring_id}); {since}")
        elif decision.verdict == "benign":
            why = ("a confirmed decision covers it too" if confirmed and _held(group, members, max_growth)
                   else f"{plural(len(joined), 'account')} joined since, more than {max_growth:.0%} of the cleared group")
            sentences.append(f"Judged benign by an investigator{when} (as {decision.ring_id}), reported again: {why}")
        else:
            sentences.append(f"Judged unsure by an investigator{when} (as {decision.ring_id})")
    by_verdict: dict[str, list[str]] = {}
    for decision in about_members:
        by_verdict.setdefault(decision.verdict, []).append(decision.user_id or "")
    for verdict, users in by_verdict.items():
        sentences.append(f"{plural(len(users), 'member')} judged {verdict} by investigators: {_names(users)}")
    return sentences, tuple(sorted(new_members))


def _names(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN:,} more" if len(ids) > _SHOWN else "")


def _jaccard(a: set[str], b: set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
