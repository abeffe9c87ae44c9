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
- rings that are no planted farm, and how many of them are look-alikes;
- benign decisions on look-alikes: the fan clubs that live through the days
  (``fan_club_burst``, with an ``identity`` in each day's truth) are judged the
  way an investigator would. On the first day a club is there, if a ring of
  that day's report is the club (it holds at least half of the club's fans,
  and they are at least half of it), a row ``ring_id, benign`` (with a note,
  ``decided_at`` at the day's end and ``by``) goes into ``labels.csv``; if no
  ring is, the club's fans are labelled benign one by one (``user_id`` rows),
  and the figures say which case happened. From the next day on every report
  is made with ``--labels labels.csv`` (the library path of ``graphkit report
  --previous DAY_BEFORE --labels labels.csv``), and for each following day on
  which the club is there it counts whether no reported ring is the club
  (kept out) and whether a group of ``held_back`` holds at least half of its
  fans (listed as held back).
"""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from graphkit.config import Config
from graphkit.history import (
    STATUSES,
    continue_report,
    decisions_from_labels,
    diff_reports,
    known_ring_ids,
    match_settings,
)
from graphkit.io import read_tables
from graphkit.io.labels import read_labels
from graphkit.pipeline import analyze
from graphkit.report import read_report, write_report
from graphkit.synth import CLUB_KIND, TIMELINE_FILE, day_folder, generate_days

__all__ = ["judge_day", "judge_decisions", "render_history", "run_history"]

LABELS_FILE = "labels.csv"
"""The investigator's decisions, under the benchmark's root."""
INVESTIGATOR = "benchmark investigator"
"""``by`` of the decisions the benchmark writes."""

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
    labels = root / LABELS_FILE
    labelled: list[dict[str, Any]] = []
    for day in range(1, days + 1):
        t = time.perf_counter()
        out = reports / day_folder(day)
        result = analyze(read_tables(data / day_folder(day)), config, workers=workers)
        if day > 1:  # graphkit report DAY --previous DAY_BEFORE [--labels labels.csv]
            earlier = read_report(reports / day_folder(day - 1))
            decided = (decisions_from_labels(read_labels(labels, known_rings=known_ring_ids(earlier),
                                                         now=datetime.now().astimezone()).decisions, earlier)
                       if labels.is_file() else None)
            result = continue_report(result, earlier, decided, config)
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
        if day < days:
            labelled += _decide(data / day_folder(day), read_report(out).rings, labels, day,
                                {g["identity"] for g in labelled})
    decisions = judge_decisions(labelled, [json.loads((data / day_folder(d) / "truth.json").read_text(encoding="utf-8"))
                                           for d in range(1, days + 1)],
                                [read_report(reports / day_folder(d)).document for d in range(1, days + 1)], config)
    return {"params": {"days": days, "users": users, "gifts": gifts, "seed": seed},
            "measured": datetime.now().astimezone().strftime("%Y-%m-%d"),
            "seconds": round(time.perf_counter() - started, 1), "report_s": report_s, **summarise(judged),
            "decisions": decisions}


def _clubs(truth: dict[str, Any]) -> dict[str, list[str]]:
    """The persistent look-alikes of one day's truth: identity -> that day's members."""
    return {g["identity"]: g["members"] for g in truth.get("lookalikes", [])
            if g.get("kind") == CLUB_KIND and isinstance(g.get("identity"), str)}


def _is_group(members: list[str], group: list[str]) -> bool:
    """``group`` (a ring or a held-back group) is the look-alike of ``members``: it holds at least half of
    them, and they are at least half of it."""
    both = len(set(members) & set(group))
    return 2 * both >= len(members) and 2 * both >= len(group)


def _decide(day_dir: Path, rings: list[dict[str, Any]], labels: Path, day: int, done: set[str]) -> list[dict[str, Any]]:
    """An investigator's look at one day's report: each persistent look-alike not judged yet is judged benign,
    by its ring when the report has one, else account by account. Appends the rows to ``labels``."""
    truth = json.loads((day_dir / "truth.json").read_text(encoding="utf-8"))
    end = datetime.fromisoformat(truth["params"]["start"].replace("Z", "+00:00")) + timedelta(days=day, minutes=-1)
    rows, judged = [], []
    for identity, members in sorted(_clubs(truth).items()):
        if identity in done:
            continue
        ring = next((r for r in rings if _is_group(members, r["members"])), None)
        note = f"fan club {identity}: long-standing fans cheering their host together"
        when = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        if ring is not None:
            rows.append({"ring_id": ring["ring_id"], "user_id": "", "verdict": "benign", "note": note,
                         "decided_at": when, "by": INVESTIGATOR})
        else:
            rows += [{"ring_id": "", "user_id": m, "verdict": "benign", "note": note, "decided_at": when,
                      "by": INVESTIGATOR} for m in members]
        judged.append({"identity": identity, "day": day, "case": "ring" if ring is not None else "accounts",
                       "ring_id": ring["ring_id"] if ring is not None else None,
                       "decided": len(ring["members"]) if ring is not None else len(members)})
    if rows:
        new = not labels.is_file()
        with labels.open("a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=["ring_id", "user_id", "verdict", "note", "decided_at", "by"])
            if new:
                writer.writeheader()
            writer.writerows(rows)
    return judged


def judge_decisions(labelled: list[dict[str, Any]], truths: list[dict[str, Any]],
                    documents: list[dict[str, Any]], config: Config = Config()) -> dict[str, Any]:
    """For each judged look-alike, on each later day it is there: kept out of the rings, and listed as held back.

    ``truths`` and ``documents`` are the days' ``truth.json`` and ``rings.json``, day 1 first. Returns
    ``{"judged": [{"identity", "day", "case", "ring_id", "decided", "days": [{"day", "kept_out",
    "held_back", "why"}]}], "by_ring", "by_accounts", "following_days", "kept_out", "held_back", "both",
    "unscored", "why"}``; ``unscored`` counts the days the club was neither a ring nor held back (it did
    not score as a ring that day, so no decision had anything to hold); ``why`` (a day the club was
    reported again) is ``grew`` (more new accounts than ``benign_max_growth`` per decided one),
    ``overlap`` (Jaccard with the decided accounts below ``decision_min_jaccard``) or ``other``, and
    ``why`` at the top counts them.
    """
    judged = []
    for entry in labelled:
        days = []
        for day in range(entry["day"] + 1, len(truths) + 1):
            members = _clubs(truths[day - 1]).get(entry["identity"])
            if not members:
                continue
            doc = documents[day - 1]
            kept_out = not any(_is_group(members, r["members"]) for r in doc.get("rings", []))
            held = any(2 * len(set(members) & set(h.get("members", []))) >= len(members)
                       for h in doc.get("held_back") or [])
            ring = next((r for r in doc.get("rings", []) if _is_group(members, r["members"])), None)
            days.append({"day": day, "kept_out": kept_out, "held_back": held,
                         "why": None if ring is None else _why_reported(ring, doc.get("decisions") or [], config)})
        judged.append({**entry, "days": days})
    following = [d for j in judged for d in j["days"]]
    why: dict[str, int] = {}
    for d in following:
        if d["why"] is not None:
            why[d["why"]] = why.get(d["why"], 0) + 1
    return {"judged": judged, "by_ring": sum(j["case"] == "ring" for j in judged),
            "by_accounts": sum(j["case"] == "accounts" for j in judged), "following_days": len(following),
            "kept_out": sum(d["kept_out"] for d in following), "held_back": sum(d["held_back"] for d in following),
            "both": sum(d["kept_out"] and d["held_back"] for d in following),
            "unscored": sum(d["kept_out"] and not d["held_back"] for d in following), "why": why}


def _why_reported(ring: dict[str, Any], trail: list[dict[str, Any]], config: Config) -> str:
    """Why a judged look-alike's ring was reported again: ``grew``, ``overlap`` or ``other`` (see
    :func:`judge_decisions`), against the benchmark's benign decision that overlaps it most."""
    group = set(ring["members"])
    best, jaccard = None, -1.0
    for decision in trail:
        if decision.get("by") != INVESTIGATOR or decision.get("verdict") != "benign" or not decision.get("members"):
            continue
        decided = set(decision["members"])
        j = len(group & decided) / len(group | decided)
        if j > jaccard:
            best, jaccard = decided, j
    if best is None:
        return "other"
    if len(group - best) > config.benign_max_growth * len(best):
        return "grew"
    return "overlap" if jaccard < config.decision_min_jaccard else "other"


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
    return lines + _render_decisions(found)


_WHY = {"grew": "grown past `benign_max_growth` against the accounts decided on",
        "overlap": "overlapping the accounts decided on by less than `decision_min_jaccard`",
        "other": "for another reason"}


def _render_decisions(found: dict[str, Any]) -> list[str]:
    """The RESULTS.md subsection of the benign decisions on look-alikes (absent from results of before it)."""
    d = found.get("decisions")
    if not d:
        return []
    lines = [
        "", f"### Benign decisions on look-alikes (measured {found.get('measured', '?')}, with other jobs running)", "",
        f"The same run: the platform's fan clubs that cheer their host in bursts every day (`{CLUB_KIND}`, "
        "15-30 accounts a year old or more, the same fans day after day with slight churn) are judged benign "
        "on the first day they are there, by their ring when that day's report has one (else account by "
        "account), in `labels.csv`, passed with `--labels` to every later day's report.", "",
        f"- Look-alikes judged: {len(d['judged'])} ({d['by_ring']} by their reported ring, {d['by_accounts']} "
        "account by account because no ring was the club).",
        f"- Later days on which a judged club was there: {d['following_days']}; kept out of the rings on "
        f"{d['kept_out']}, listed as held back on {d['held_back']}, both on {d['both']}. Of the others, "
        f"{d.get('unscored', 0)} were days the club did not score as a ring at all (nothing to hold back), and on "
        f"{d['following_days'] - d['both'] - d.get('unscored', 0)} it was reported again"
        + (" (" + ", ".join(f"{n} {_WHY[k]}" for k, n in sorted(d["why"].items())) + ")" if d.get("why") else "") + ".",
    ]
    for j in d["judged"]:
        again = [str(x["day"]) for x in j["days"] if not x["kept_out"]]
        unscored = [str(x["day"]) for x in j["days"] if x["kept_out"] and not x["held_back"]]
        both = len(j["days"]) - len(again) - len(unscored)
        how = f"as {j['ring_id']}" if j["ring_id"] else "account by account"
        lines.append(f"- {j['identity']}: judged on day {j['day']} ({how}, {j['decided']} accounts); held back on {both} "
                     f"of {len(j['days'])} later days" + (f"; reported again on day {', '.join(again)}" if again else "")
                     + (f"; no ring to hold back on day {', '.join(unscored)}" if unscored else "") + ".")
    return lines


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"
