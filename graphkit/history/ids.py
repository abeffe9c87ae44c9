"""Stable ring ids across daily runs: ``graphkit report --previous OLD_OUT``.

A ring that continues an earlier one (matched one to one by member overlap,
:func:`graphkit.history.diff_rings`) keeps the earlier ring's id; every
other ring gets a number never given before. The highest number given so far
(``ring_counter``) is written to ``rings.json``, so ids of rings that went
quiet are never reused, however many reports later. Each ring also records
its ``status``, the ``previous_ids`` it continues, and ``first_seen`` (the
``as_of`` of the first report that listed it).

Examples
--------
>>> import polars as pl
>>> from graphkit.model import Report, Ring
>>> from graphkit.report import SavedReport
>>> earlier = SavedReport(None, {"ring_counter": 7, "summary": {"as_of": "2024-05-01T23:00:00Z"}, "rings": [
...     {"ring_id": "R0007", "members": ["a", "b", "c"], "first_seen": "2024-04-30T20:00:00Z"}]}, pl.DataFrame())
>>> today = Report((Ring("R0001", 1, 0.9, ("x", "y", "z"), 5.0), Ring("R0002", 2, 0.8, ("a", "b", "c", "d"), 9.0)),
...                pl.DataFrame({"user_id": ["a", "x"], "score": [0.9, 0.9], "ring_id": ["R0002", "R0001"]}),
...                {}, {"as_of": "2024-05-02T23:00:00Z"})
>>> carried = carry_ring_ids(today, earlier)
>>> [(r.ring_id, r.status, r.previous_ids, r.first_seen) for r in carried.rings]
[('R0008', 'new', (), '2024-05-02T23:00:00Z'), ('R0007', 'grown', ('R0007',), '2024-04-30T20:00:00Z')]
>>> carried.ring_counter, carried.user_scores["ring_id"].to_list()
(8, ['R0007', 'R0008'])
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import polars as pl

from graphkit.config import Config
from graphkit.history.diff import diff_rings, match_settings, quiet_rings_of
from graphkit.model import Report
from graphkit.report.reader import SavedReport

__all__ = ["carry_ring_ids", "ring_counter"]

_NUMBERED = re.compile(r"^R(\d+)$")


def ring_counter(previous: SavedReport) -> int:
    """The highest ring number an earlier report (and the reports before it) gave: its
    ``ring_counter``, or its highest ``R<number>`` id when it has none."""
    numbers = [int(m.group(1)) for r in previous.rings if (m := _NUMBERED.match(str(r.get("ring_id", ""))))]
    counter = previous.document.get("ring_counter")
    return max([counter if isinstance(counter, int) else 0, *numbers])


def carry_ring_ids(report: Report, previous: SavedReport, *, config: Config | None = None) -> Report:
    """``report`` with the ids of the earlier report's rings it continues, and new numbers for the others.

    Parameters
    ----------
    report : Report
        Today's result (:func:`graphkit.analyze`), rings ``R0001 ..`` in rank order.
    previous : SavedReport
        The earlier report (:func:`graphkit.report.read_report`).
    config : Config, optional
        Its ``match_*`` and ``reform_*`` settings decide which earlier ring a ring
        continues (:func:`graphkit.history.diff_rings`); default ``Config()``.
        A ``re-formed`` ring (new accounts on an earlier ring's devices and IPs)
        keeps the earlier ring's id too.

    Returns
    -------
    Report
        The same rings in the same rank order, with carried or new ids,
        ``status``, ``previous_ids`` and ``first_seen``; ``user_scores`` with
        the same ids; ``ring_counter`` the highest number given so far;
        ``quiet_rings`` the rings that went quiet in this report or before and are
        remembered (``Config.reform_memory`` reports, with their devices and IPs;
        rings that recorded none are dropped), so that the next report can still
        find one of them ``re-formed``.
    """
    config = config or Config()
    remembered = quiet_rings_of(previous.document)
    diff = diff_rings(previous.rings, [r.to_dict() for r in report.rings], remembered=remembered,
                      **match_settings(config))
    change_of = {c.ring_id: c for c in diff.changes if c.ring_id is not None}
    earlier = {**{r["ring_id"]: r for r in remembered}, **{r["ring_id"]: r for r in previous.rings}}
    as_of_then = previous.document.get("summary", {}).get("as_of")
    counter = ring_counter(previous)
    renamed: dict[str, str] = {}
    rings = []
    for ring in report.rings:
        change = change_of[ring.ring_id]
        if change.matched_id is not None:
            new_id = change.matched_id
            first_seen = earlier[new_id].get("first_seen") or as_of_then
        else:
            counter += 1
            new_id = f"R{counter:04d}"
            first_seen = report.summary.get("as_of")
        renamed[ring.ring_id] = new_id
        rings.append(dataclasses.replace(ring, ring_id=new_id, status=change.status,
                                         previous_ids=change.previous_ids, first_seen=_text(first_seen)))
    scores = report.user_scores
    if "ring_id" in scores.columns and renamed:
        scores = scores.with_columns(pl.col("ring_id").replace_strict(renamed, default=None, return_dtype=pl.Utf8))
    matched = {c.matched_id for c in diff.changes if c.matched_id is not None}
    listed = {r.get("ring_id") for r in previous.rings}
    quiet = [_quiet(earlier[c.previous_ids[0]], 1, as_of_then) for c in diff.changes if c.status == "quiet"]
    quiet += [_quiet(r, _whole(r.get("quiet_reports")) + 1, r.get("last_seen")) for r in remembered
              if r["ring_id"] not in matched and r["ring_id"] not in listed]
    kept = tuple(q for q in quiet if q["quiet_reports"] <= max(config.reform_memory, 0) and
                 (q["shared_devices"] or q["shared_ips"]))
    return dataclasses.replace(report, rings=tuple(rings), user_scores=scores, ring_counter=counter, quiet_rings=kept)


def _quiet(ring: dict[str, Any], reports: int, last_seen: Any) -> dict[str, Any]:
    """A ``quiet_rings`` entry: what is remembered of a ring that went quiet (its equipment, when it was seen)."""
    return {"ring_id": ring["ring_id"], "first_seen": _text(ring.get("first_seen")), "last_seen": _text(last_seen),
            "quiet_reports": reports,
            "shared_devices": [d for d in ring.get("shared_devices", []) if isinstance(d, str)]
            if isinstance(ring.get("shared_devices"), list) else [],
            "shared_ips": [i for i in ring.get("shared_ips", []) if isinstance(i, str)]
            if isinstance(ring.get("shared_ips"), list) else []}


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
