"""Rings over time on ``graphkit synth --days``: do ids stay, and do the statuses agree with the truth?

``python -m benchmarks history`` (and ``make bench``): a platform observed day by
day (:func:`graphkit.synth.generate_days`), reported day by day with the day
before as ``--previous`` (the library path of ``graphkit report DAY --previous
DAY_BEFORE``: read, analyse, carry ids, write) and diffed
(:func:`graphkit.history.diff_reports`, what ``graphkit diff`` prints). Each
planted farm of each day is looked up in that day's report (the ring holding
most of its members, found when it holds at least half of them) and its
status compared with the one ``timeline.json`` says a diff should give. What
is measured, from the second day on:

- ids kept: farms present the day before and today (stable, grown, shrunk,
  re-formed, and the piece of a split farm that keeps its identity) whose
  ring today has the id of its ring the day before; per day and overall;
- re-formed: each farm re-formed on a day (the day after its ban, or after a
  day away), reported ``re-formed`` with its last ring as ``previous_ids`` (and its id);
- status agreement and the confusion table (truth x reported; ``missed`` when
  the farm is not found; a quiet farm is ``quiet`` when the diff lists its
  ring of the day before as quiet);
- rings that are no planted farm, and how many of them are look-alikes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from graphkit.config import Config
from graphkit.history import STATUSES, carry_ring_ids, diff_reports, match_settings
from graphkit.io import read_tables
from graphkit.pipeline import analyze
from graphkit.report import read_report, write_report
from graphkit.synth import TIMELINE_FILE, day_folder, generate_days

__all__ = ["judge_day", "render_history", "run_history"]

KEEPS_ID = ("stable", "grown", "shrunk", "re-formed", "split")
"""Truth statuses of a farm that was there the day before under the same identity (a split piece
that is a new identity is left out: its id is new by design)."""


def run_history(root: Path, *, days: int = 7, users: int = 20_000, gifts: int = 140_000, seed: int = 0,
                config: Config = Config(), workers: int | None = 1) -> dict[str, Any]:
    """Generate the timeline under ``root/data``, report each day under ``root/reports``, judge them all."""
    data, reports = root / "data", root / "reports"
    started = time.perf_counter()
    generate_days(days, users=users, gifts=gifts, seed=seed).write(data, format="parquet")
    timeline = json.loads((data / TIMELINE_FILE).read_text(encoding="utf-8"))
    report_s = []
    judged = []
    last_ring: dict[str, str] = {}
    for day in range(1, days + 1):
        t = time.perf_counter()
        out = reports / day_folder(day)
        result = analyze(read_tables(data / day_folder(day)), config, workers=workers)
        if day > 1:
            result = carry_ring_ids(result, read_report(reports / day_folder(day - 1)), config=config)
        write_report(result, out, html=False)
        report_s.append(round(time.perf_counter() - t, 2))
        if day > 1:
            diff = diff_reports(reports / day_folder(day - 1), out, **match_settings(config))
            judged.append(judge_day(timeline["days"][day - 2], timeline["days"][day - 1],
                                    read_report(reports / day_folder(day - 1)).rings, read_report(out).rings,
                                    diff.to_dict(), _lookalikes(data / day_folder(day)), last_ring=last_ring))
        for farm in timeline["days"][day - 1]["rings"]:
            found = _found(farm["members"], read_report(out).rings)
            if found is not None:
                last_ring[farm["identity"]] = found["ring_id"]
    return {"params": {"days": days, "users": users, "gifts": gifts, "seed": seed},
            "seconds": round(time.perf_counter() - started, 1), "report_s": report_s, **summarise(judged)}


def _lookalikes(day_dir: Path) -> list[list[str]]:
    truth = json.loads((day_dir / "truth.json").read_text(encoding="utf-8"))
    return [g["members"] for g in truth.get("lookalikes", [])]


def _found(members: list[str], rings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ring holding most of ``members``, when it holds at least half of them."""
    wanted = set(members)
    best = max(rings, key=lambda r: len(wanted & set(r["members"])), default=None)
    if best is None or 2 * len(wanted & set(best["members"])) < len(wanted):
        return None
    return best


def judge_day(before: dict[str, Any], today: dict[str, Any], rings_before: list[dict[str, Any]],
              rings_today: list[dict[str, Any]], diff: dict[str, Any], lookalikes: list[list[str]], *,
              last_ring: dict[str, str] | None = None) -> dict[str, Any]:
    """Compare one day's report and diff with the timeline's truth for that day and the day before.

    ``last_ring``: each farm's ring id on the last day it was found (for a farm that was away and
    came back re-formed, the id it should have again).

    Returns ``{"day", "pairs": [(truth status, reported status)], "kept": [bool], "reformed": [bool],
    "other_rings", "other_lookalike"}``.
    """
    ring_before = {}
    for farm in before["rings"]:
        found = _found(farm["members"], rings_before)
        ring_before[farm["identity"]] = found["ring_id"] if found else None
    status_of = {c["ring_id"]: c for c in diff["rings"] if c["ring_id"] is not None}
    quiet = {c["previous_ids"][0] for c in diff["rings"] if c["status"] == "quiet"}
    pairs, kept, reformed, used = [], [], [], set()
    for farm in today["rings"]:
        found = _found(farm["members"], rings_today)
        reported = status_of[found["ring_id"]]["status"] if found else "missed"
        if found:
            used.add(found["ring_id"])
        pairs.append((farm["status"], reported))
        was = ring_before.get(farm["identity"])
        if farm["status"] in KEEPS_ID and farm["identity"] in ring_before and was is not None:
            kept.append(found is not None and found["ring_id"] == was)
        if farm["status"] == "re-formed":
            was = was if farm["identity"] in ring_before else (last_ring or {}).get(farm["identity"])
            change = status_of.get(found["ring_id"]) if found else None
            reformed.append(change is not None and change["status"] == "re-formed"
                            and change["previous_ids"] == [was] and found["ring_id"] == was)
    for identity in today["quiet"]:
        was = ring_before.get(identity)
        if was is None:
            pairs.append(("quiet", "missed"))
            continue
        continued = next((c["status"] for c in diff["rings"] if c["ring_id"] and was in c["previous_ids"]), None)
        pairs.append(("quiet", "quiet" if was in quiet else continued or "missed"))
    others = [r for r in rings_today if r["ring_id"] not in used]
    looks = [set(g) for g in lookalikes]
    other_lookalike = sum(1 for r in others if any(2 * len(g & set(r["members"])) >= len(r["members"]) for g in looks))
    return {"day": today["day"], "pairs": pairs, "kept": kept, "reformed": reformed, "other_rings": len(others),
            "other_lookalike": other_lookalike}


def summarise(judged: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of :func:`run_history` from the days :func:`judge_day` judged."""
    pairs = [p for d in judged for p in d["pairs"]]
    columns = [*STATUSES, "missed"]
    confusion = {truth: {col: 0 for col in columns} for truth in STATUSES}
    for truth, reported in pairs:
        confusion[truth][reported] += 1
    kept = [k for d in judged for k in d["kept"]]
    per_day_kept = [round(sum(d["kept"]) / len(d["kept"]), 4) if d["kept"] else None for d in judged]
    reformed = [r for d in judged for r in d["reformed"]]
    return {
        "farms_judged": len(pairs),
        "status_agreement": round(sum(t == r for t, r in pairs) / len(pairs), 4) if pairs else None,
        "ids_kept": round(sum(kept) / len(kept), 4) if kept else None,
        "ids_kept_per_day": per_day_kept,
        "days_with_95pct_ids_kept": sum(1 for k in per_day_kept if k is not None and k >= 0.95),
        "days_judged": len(judged),
        "reformed": [sum(reformed), len(reformed)],
        "confusion": confusion,
        "other_rings_per_day": [d["other_rings"] for d in judged],
        "other_lookalike_per_day": [d["other_lookalike"] for d in judged],
    }


def render_history(found: dict[str, Any]) -> list[str]:
    """The RESULTS.md section of :func:`run_history`'s figures."""
    if not found:
        return []
    p = found["params"]
    used = [s for s in STATUSES if any(found["confusion"][s].values())]
    cols = [c for c in [*STATUSES, "missed"] if any(found["confusion"][s][c] for s in STATUSES)]
    lines = [
        "", "## Rings over time (`benchmarks/bench_history.py`)", "",
        f"`graphkit synth --days {p['days']} --users {p['users']:,} --gifts {p['gifts']:,} --seed {p['seed']}`, "
        f"reported day by day with the day before as `--previous`, then diffed; {found['seconds']} s in all "
        f"(reports {', '.join(f'{s:.1f}' for s in found['report_s'])} s; measured with other jobs running). "
        f"From day 2 on, {found['farms_judged']} farm-days judged.",
        "",
        f"- Ids kept by farms present the day before: {_pct(found['ids_kept'])} overall; per day "
        f"{', '.join(_pct(k) for k in found['ids_kept_per_day'])}: {found['days_with_95pct_ids_kept']} of "
        f"{found['days_judged']} days at 95% or more (goal: at least 95% of days).",
        f"- Re-formed farms reported `re-formed` with their old id: {found['reformed'][0]} of {found['reformed'][1]} "
        "(goal: every one).",
        f"- Statuses that agree with the truth: {_pct(found['status_agreement'])} (goal: at least 90%).",
        f"- Rings that are no planted farm, per day: {', '.join(map(str, found['other_rings_per_day']))} (of which "
        f"look-alikes: {', '.join(map(str, found['other_lookalike_per_day']))}).",
        "", "Confusion table (rows: truth; columns: reported; `missed`: the farm was not found that day):", "",
        "| truth \\ reported | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|",
    ]
    for s in used:
        lines.append(f"| {s} | " + " | ".join(str(found["confusion"][s][c]) for c in cols) + " |")
    return lines


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"
