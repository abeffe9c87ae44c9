"""What changed between two reports: each ring matched to its predecessor, and why it changed.

Rings of one report are disjoint (an account belongs to at most one ring), so
two reports are compared by member overlap:

- a new ring that holds a substantial part (``min_piece``) of two or more
  earlier rings is ``merged``;
- otherwise it continues the earlier ring it matches one to one: the
  Hungarian assignment on Jaccard similarity, at least ``min_jaccard``
  (Kuhn 1955; scipy's ``linear_sum_assignment``). It is ``split`` when the
  earlier ring's members went substantially into two or more new rings,
  ``grown`` or ``shrunk`` when its size changed by ``min_change`` or more, and
  ``stable`` otherwise;
- an unmatched new ring that is a substantial piece of an earlier one is a
  ``split`` piece of it; any other is ``new``;
- an earlier ring that nothing continues went ``quiet``;
- a group the new report *held back* (its ``held_back``: a benign decision
  covers it, see :mod:`graphkit.history.decisions`) is ``held_back``, with the
  decisions that hold it, not ``quiet``: it is matched to the earlier rings
  like a ring (by members, so its ``previous_ids`` are the rings it continues)
  but never re-formed. The earlier report's held-back groups take part in the
  matching too (a group reported again after being held back continues its
  held-back self), and never go quiet: they were not reported.

- a ring that would be ``new`` is an earlier ring ``re-formed`` when its
  accounts are new but its equipment is not: it shares at least
  ``reform_min_identifiers`` devices and IPs with an earlier ring that
  nothing else continues, and those make at least ``reform_min_share`` of the
  recorded devices and IPs of the ring with fewer (one to one, the Hungarian
  assignment on that share). It keeps the earlier ring's id. The devices and
  IPs are each ring's ``shared_devices`` and ``shared_ips`` in ``rings.json``:
  used by two or more of its members, and never a hub (more than
  ``Config.hub_cap`` accounts on the platform) or a placeholder device id
  (``Config.placeholder_device_ids``), so a carrier NAT or an emulator's zero
  IMEI cannot tie two unrelated rings. Reports written before those fields
  carry no equipment, and their rings are never re-formed. Besides the
  earlier report's rings, the rings it remembers as quiet (its
  ``quiet_rings``, written by ``report --previous`` for ``Config.reform_memory``
  reports) can be re-formed: a farm banned on Monday and back on Thursday.

Examples
--------
>>> old = [{"ring_id": "R0001", "members": ["a", "b", "c", "d"], "coins_total": 100.0},
...        {"ring_id": "R0002", "members": ["x", "y", "z"], "coins_total": 50.0}]
>>> new = [{"ring_id": "R0001", "members": ["a", "b", "c", "d", "e", "f"], "coins_total": 180.0}]
>>> diff = diff_rings(old, new)
>>> [(c.status, c.ring_id, c.previous_ids, c.joined) for c in diff.changes]
[('grown', 'R0001', ('R0001',), ('e', 'f')), ('quiet', None, ('R0002',), ())]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from graphkit.config import Config
from graphkit.errors import InputError
from graphkit.report.markdown import escape_markdown
from graphkit.report.reader import held_back_of, read_report
from graphkit.util.atomic import atomic_directory
from graphkit.util.format import format_coins, plural
from graphkit.util.version import GENERATOR
from graphkit.viz.diff_page import decision_words, diff_view

__all__ = ["DIFF_FILES", "STATUSES", "ReportDiff", "RingChange", "diff_reports", "diff_rings", "match_settings",
           "held_back_of", "quiet_rings_of", "write_diff"]

DIFF_FILES = ("diff.json", "diff.md", "diff.html")
"""What :func:`write_diff` writes into its folder (anything else there is left as it is)."""

STATUSES = ("new", "stable", "grown", "shrunk", "merged", "split", "re-formed", "held_back", "quiet")
"""Every status a ring can have in a diff, in the order they are listed."""


@dataclass(frozen=True)
class RingChange:
    """One ring of the new report (or one earlier ring that went quiet) and how it changed.

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    ring_id : str or None
        The ring's id in the new report; None for a quiet ring.
    previous_ids : tuple of str
        The earlier rings it continues (several when ``merged``); the quiet ring itself when ``quiet``.
    joined, left : tuple of str
        Members that are new in it, and members of its earlier rings that are not in it (sorted).
    coins_before, coins_after : float or None
        Coins sent by the members, in the earlier rings together and in this one.
    beneficiaries_before, beneficiaries_after : tuple of str
        Who received the coins, before and now.
    jaccard : float or None
        Member overlap with the earlier ring it was matched to (None when not matched one to one).
    matched_id : str or None
        The earlier ring it was matched to one to one, by members or, ``re-formed``, by
        devices and IPs (its id carries over with ``report --previous``).
    common_devices, common_ips : tuple of str
        ``re-formed`` only: the devices and IPs of the earlier ring that the new accounts use.
    size : int or None
        Its members now; None for a quiet ring.
    decisions : tuple of dict
        ``held_back`` only: the decisions that hold it back (``ring_id`` or ``user_id``, ``verdict``,
        ``note``, ``decided_at``, ``by``), as the new report's ``held_back`` lists them.
    """

    status: str
    ring_id: str | None
    previous_ids: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    coins_before: float | None = None
    coins_after: float | None = None
    beneficiaries_before: tuple[str, ...] = ()
    beneficiaries_after: tuple[str, ...] = ()
    jaccard: float | None = None
    matched_id: str | None = None
    common_devices: tuple[str, ...] = ()
    common_ips: tuple[str, ...] = ()
    size: int | None = None
    decisions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ReportDiff:
    """Every ring of the new report and every quiet earlier ring, with its status.

    Attributes
    ----------
    changes : tuple of RingChange
        The new report's rings in its rank order, then its held-back groups in its order, then the
        quiet rings in the earlier order.
    settings : dict
        ``min_jaccard``, ``min_piece`` and ``min_change``.
    """

    changes: tuple[RingChange, ...]
    settings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many rings have each status (every status listed, zeros included)."""
        counts = dict.fromkeys(STATUSES, 0)
        for change in self.changes:
            counts[change.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The content of ``diff.json``."""
        return {"generator": GENERATOR, "settings": self.settings, "counts": self.counts(),
                "rings": [{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(c).items()}
                          for c in self.changes]}

    def to_markdown(self, old: str = "the earlier report", new: str = "this report") -> str:
        """``diff.md``: the counts, then one line per ring that changed (stable rings counted only)."""
        counts = self.counts()
        lines = [f"# What changed from {escape_markdown(old)} to {escape_markdown(new)}", "",
                 ", ".join(f"{n} {status}" for status, n in counts.items() if n) + ".", ""]
        for change in self.changes:
            if change.status == "stable":
                continue
            lines.append(f"- {_sentence(change)}")
        return "\n".join(lines) + "\n"


def _sentence(change: RingChange) -> str:
    name = escape_markdown(change.ring_id or "")
    before = ", ".join(escape_markdown(p) for p in change.previous_ids)
    coins = ""
    if change.coins_before is not None and change.coins_after is not None:
        coins = f"; coins {format_coins(change.coins_before)} -> {format_coins(change.coins_after)}"
    moved = f" ({plural(len(change.joined), 'member')} joined, {len(change.left):,} left{coins})"
    if change.status == "new":
        return f"{name} is new ({plural(len(change.joined), 'member')})"
    if change.status == "quiet":
        return f"{before} went quiet: no ring of this report continues it"
    if change.status == "held_back":
        was = f" ({before} before)" if before else ""
        why = "; ".join(decision_words(d, escape_markdown) for d in change.decisions) or "a benign decision covers it"
        return (f"{name}{was} is held back, not reported ({plural(change.size or 0, 'account')}): "
                f"{why}{moved}")
    if change.status == "merged":
        return f"{name} merged {before}{moved}"
    if change.status == "split":
        return f"{name} is a piece of {before}, which split{moved}"
    if change.status == "re-formed":
        equipment = [f"device {escape_markdown(d)}" for d in change.common_devices]
        equipment += [f"IP {escape_markdown(i)}" for i in change.common_ips]
        return (f"{name} re-formed {before}: {plural(len(change.joined), 'new account')} on "
                f"{', '.join(equipment)}{moved}")
    return f"{name} ({before} before) {change.status}{moved}"


def match_settings(config: Config) -> dict[str, float]:
    """The keyword options of :func:`diff_rings` from a :class:`~graphkit.config.Config`.

    Examples
    --------
    >>> match_settings(Config())
    {'min_jaccard': 0.3, 'min_piece': 0.2, 'min_change': 0.2, 'reform_min_identifiers': 2, 'reform_min_share': 0.5}
    """
    return {"min_jaccard": config.match_min_jaccard, "min_piece": config.match_min_piece,
            "min_change": config.match_min_change, "reform_min_identifiers": config.reform_min_identifiers,
            "reform_min_share": config.reform_min_share}


def diff_rings(
    old: Sequence[dict[str, Any]],
    new: Sequence[dict[str, Any]],
    *,
    min_jaccard: float = 0.3,
    min_piece: float = 0.2,
    min_change: float = 0.2,
    reform_min_identifiers: int = 2,
    reform_min_share: float = 0.5,
    remembered: Sequence[dict[str, Any]] = (),
    held_back: Sequence[dict[str, Any]] = (),
    held_back_before: Sequence[dict[str, Any]] = (),
) -> ReportDiff:
    """Match the rings of a new report to an earlier one's and give each a status.

    Parameters
    ----------
    old, new : sequence of dict
        The ``rings`` of two ``rings.json`` files (``ring_id``, ``members``,
        optional ``coins_total`` and ``beneficiaries``), best first.
    min_jaccard : float
        The least member overlap (Jaccard) for a one-to-one match.
    min_piece : float
        The least share of an earlier ring that makes a substantial part of it.
    min_change : float
        The least relative size change that makes a matched ring ``grown`` or ``shrunk``.
    reform_min_identifiers : int
        The least number of devices and IPs a ring of new accounts must share with an
        earlier ring that nothing else continues to be that ring ``re-formed``.
    reform_min_share : float
        ... and the least share of the recorded devices and IPs of the ring with fewer.
    remembered : sequence of dict
        Rings that went quiet before the earlier report (its ``quiet_rings``: ``ring_id``,
        ``shared_devices``, ``shared_ips``): a ring of new accounts on their equipment is
        one of them ``re-formed`` too.
    held_back, held_back_before : sequence of dict
        The groups the new and the earlier report held back (their ``held_back``: ``ring_id``,
        ``members``, ``coins_total``, ``decisions``; :func:`held_back_of`). The new ones are
        ``held_back``; the earlier ones are matched like rings but never go quiet.

    The defaults are :class:`graphkit.config.Config`'s (``match_min_jaccard``,
    ``match_min_piece``, ``match_min_change``, ``reform_min_identifiers``,
    ``reform_min_share``; :func:`match_settings`).

    Returns
    -------
    ReportDiff
    """
    reported_old = list(old)
    old_ids, new_ids = {r["ring_id"] for r in old}, {r["ring_id"] for r in new}
    held = [h for h in held_back if h["ring_id"] not in new_ids]
    held_ids = {h["ring_id"] for h in held}
    old = [*old, *(h for h in held_back_before if h["ring_id"] not in old_ids)]
    new = [*new, *held]
    old_members, new_members = _members(old, "old"), _members(new, "new")
    old_size = old_members.group_by("old").len("old_size")
    new_size = new_members.group_by("new").len("new_size")
    links = (
        old_members.join(new_members, on="user_id").group_by("old", "new").len("shared")
        .join(old_size, on="old").join(new_size, on="new")
        .with_columns((pl.col("shared") / (pl.col("old_size") + pl.col("new_size") - pl.col("shared"))).alias("jaccard"))
        .sort("old", "new")
    )
    matched = _assignment(links.filter(pl.col("jaccard") >= min_jaccard))
    piece = links.filter(pl.col("shared") >= min_piece * pl.col("old_size"))
    parts_of_new = piece.group_by("new").agg(pl.col("old").sort().alias("parts"))
    pieces_of_old = piece.group_by("old").len("pieces")

    by_new = {r["ring_id"]: r for r in new}
    remembered = [r for r in remembered if r.get("ring_id") not in {o["ring_id"] for o in old}]
    by_old = {**{r["ring_id"]: r for r in remembered}, **{r["ring_id"]: r for r in old}}
    members_new = {r["ring_id"]: set(r["members"]) for r in new}
    members_old = {**{r["ring_id"]: set() for r in remembered}, **{r["ring_id"]: set(r["members"]) for r in old}}
    parts = dict(parts_of_new.iter_rows())
    split_olds = set(pieces_of_old.filter(pl.col("pieces") >= 2)["old"])
    match_of = {n: (o, j) for o, n, j in matched.select("old", "new", "jaccard").iter_rows()}

    decided: dict[str, tuple[str, tuple[str, ...], str | None, float | None]] = {}
    for ring in new:
        rid = ring["ring_id"]
        matched_id, jaccard = match_of.get(rid, (None, None))
        if len(parts.get(rid, [])) >= 2:
            status, previous = "merged", tuple(parts[rid])
        elif matched_id is not None:
            previous = (matched_id,)
            size_old, size_new = len(members_old[matched_id]), len(members_new[rid])
            if matched_id in split_olds:
                status = "split"
            elif size_new >= (1 + min_change) * size_old:
                status = "grown"
            elif size_new <= (1 - min_change) * size_old:
                status = "shrunk"
            else:
                status = "stable"
        elif parts.get(rid):
            status, previous = "split", tuple(parts[rid])
        else:
            status, previous = "new", ()
        decided[rid] = (status, previous, matched_id, jaccard)
    continued = {p for _, previous, _, _ in decided.values() for p in previous}
    reformed = _reformed(
        [r for r in old if r["ring_id"] not in continued] + list(remembered),
        [r for r in new if decided[r["ring_id"]][0] == "new" and r["ring_id"] not in held_ids],
        min_identifiers=reform_min_identifiers, min_share=reform_min_share,
    )
    changes = []
    for ring in new:
        rid = ring["ring_id"]
        status, previous, matched_id, jaccard = decided[rid]
        common: tuple[str, ...] = ()
        if rid in reformed:
            matched_id, common = reformed[rid]
            status, previous = "re-formed", (matched_id,)
            continued.add(matched_id)
            shared = len(members_new[rid] & members_old[matched_id])
            jaccard = shared / len(members_new[rid] | members_old[matched_id])
        decisions: tuple[dict[str, Any], ...] = ()
        if rid in held_ids:
            status = "held_back"
            decisions = tuple({k: v for k, v in d.items() if k != "members"}
                              for d in by_new[rid].get("decisions") or [] if isinstance(d, dict))
        before = set().union(*(members_old[p] for p in previous)) if previous else set()
        changes.append(RingChange(
            status=status, ring_id=rid, previous_ids=previous,
            joined=tuple(sorted(members_new[rid] - before)), left=tuple(sorted(before - members_new[rid])),
            coins_before=_coins(by_old, previous), coins_after=_coins(by_new, (rid,)),
            beneficiaries_before=_beneficiaries(by_old, previous), beneficiaries_after=_beneficiaries(by_new, (rid,)),
            jaccard=None if jaccard is None else round(float(jaccard), 4), matched_id=matched_id,
            common_devices=tuple(i.split(":", 1)[1] for i in common if i.startswith("device:")),
            common_ips=tuple(i.split(":", 1)[1] for i in common if i.startswith("ip:")),
            size=len(members_new[rid]), decisions=decisions,
        ))
    for ring in reported_old:
        if ring["ring_id"] not in continued:
            changes.append(RingChange(
                status="quiet", ring_id=None, previous_ids=(ring["ring_id"],), left=tuple(sorted(ring["members"])),
                coins_before=_coins(by_old, (ring["ring_id"],)), beneficiaries_before=_beneficiaries(by_old, (ring["ring_id"],)),
            ))
    return ReportDiff(tuple(changes), {"min_jaccard": min_jaccard, "min_piece": min_piece, "min_change": min_change,
                                       "reform_min_identifiers": reform_min_identifiers,
                                       "reform_min_share": reform_min_share})


def _equipment(rings: Sequence[dict[str, Any]], column: str) -> pl.DataFrame:
    """``column, identifier``: each ring's recorded devices and IPs as ``device:<id>`` / ``ip:<id>``
    (rings.json ``shared_devices``, ``shared_ips``; reports older than those fields have none)."""
    rows = [(r["ring_id"], f"{kind}:{value}") for r in rings
            for kind, field_name in (("device", "shared_devices"), ("ip", "shared_ips"))
            for value in (r.get(field_name) if isinstance(r.get(field_name), list) else [])
            if isinstance(value, str)]
    return pl.DataFrame(rows, schema={column: pl.Utf8, "identifier": pl.Utf8}, orient="row").unique()


def _reformed(
    old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]], *, min_identifiers: int, min_share: float,
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """New rings that are earlier rings re-formed: ``new id -> (old id, the identifiers they share)``.

    ``old`` are the earlier rings nothing continues by members, ``new`` the rings
    with new accounts. A pair qualifies when it shares at least
    ``min_identifiers`` devices and IPs, making at least ``min_share`` of the
    recorded ones of the ring with fewer; pairs are matched one to one (the
    Hungarian assignment on that share).
    """
    old_ids, new_ids = _equipment(old, "old"), _equipment(new, "new")
    if old_ids.height == 0 or new_ids.height == 0:
        return {}
    n_old = old_ids.group_by("old").len("n_old")
    n_new = new_ids.group_by("new").len("n_new")
    pairs = (
        old_ids.join(new_ids, on="identifier")
        .group_by("old", "new").agg(pl.col("identifier").sort().alias("common"))
        .join(n_old, on="old").join(n_new, on="new")
        .with_columns(pl.col("common").list.len().alias("n_common"))
        .with_columns((pl.col("n_common") / pl.min_horizontal("n_old", "n_new")).alias("jaccard"))
        .filter((pl.col("n_common") >= min_identifiers) & (pl.col("jaccard") >= min_share))
        .sort("old", "new")
    )
    if pairs.height == 0:
        return {}
    chosen = _assignment(pairs.select("old", "new", "jaccard")).join(pairs.select("old", "new", "common"),
                                                                      on=["old", "new"])
    return {n: (o, tuple(common)) for o, n, common in chosen.select("old", "new", "common").iter_rows()}


def _members(rings: Sequence[dict[str, Any]], column: str) -> pl.DataFrame:
    return pl.DataFrame(
        {column: [r["ring_id"] for r in rings for _ in r["members"]], "user_id": [m for r in rings for m in r["members"]]},
        schema={column: pl.Utf8, "user_id": pl.Utf8},
    )


def _assignment(links: pl.DataFrame) -> pl.DataFrame:
    """The one-to-one matching of most total Jaccard among ``links`` (``old, new, jaccard``).

    The links fall apart into connected groups of rings; a group of one link
    is its own match, and each larger group gets the Hungarian assignment of
    its own small matrix.
    """
    if links.height == 0:
        return links
    olds = links["old"].unique().sort()
    news = links["new"].unique().sort()
    o = links["old"].replace_strict(olds, pl.int_range(olds.len(), eager=True)).to_numpy()
    n = links["new"].replace_strict(news, pl.int_range(news.len(), eager=True)).to_numpy() + olds.len()
    size = olds.len() + news.len()
    _, component = connected_components(coo_matrix((np.ones(len(o)), (o, n)), shape=(size, size)), directed=False)
    links = links.with_columns(pl.Series("component", component[o]))
    sizes = links.group_by("component").len("links")
    single = links.join(sizes.filter(pl.col("links") == 1), on="component", how="semi")
    chosen = [single]
    for _, group in links.join(sizes.filter(pl.col("links") > 1), on="component", how="semi").group_by(
            "component", maintain_order=True):
        rows, cols = group["old"].unique().sort(), group["new"].unique().sort()
        weight = np.zeros((rows.len(), cols.len()))
        weight[group["old"].replace_strict(rows, pl.int_range(rows.len(), eager=True)).to_numpy(),
               group["new"].replace_strict(cols, pl.int_range(cols.len(), eager=True)).to_numpy()] = group["jaccard"].to_numpy()
        r, c = linear_sum_assignment(weight, maximize=True)
        keep = weight[r, c] > 0
        pairs = pl.DataFrame({"old": rows.gather(r[keep]), "new": cols.gather(c[keep])})
        chosen.append(group.join(pairs, on=["old", "new"], how="semi"))
    return pl.concat(chosen).drop("component").sort("old", "new")


def _coins(rings: dict[str, dict[str, Any]], ids: Sequence[str]) -> float | None:
    values = [rings[i].get("coins_total") for i in ids]
    return float(sum(values)) if ids and all(isinstance(v, (int, float)) for v in values) else None


def _beneficiaries(rings: dict[str, dict[str, Any]], ids: Sequence[str]) -> tuple[str, ...]:
    found = [b.get("user_id") for i in ids for b in rings[i].get("beneficiaries", []) if isinstance(b, dict)]
    return tuple(dict.fromkeys(b for b in found if isinstance(b, str)))


def diff_reports(old_dir: str | Path, new_dir: str | Path, **settings: float) -> ReportDiff:
    """:func:`diff_rings` on the ``rings.json`` of two report folders (read with
    :func:`graphkit.report.read_report`, so a folder that is not a report is one clear error)."""
    earlier, later = read_report(old_dir), read_report(new_dir)
    return diff_rings(earlier.rings, later.rings, remembered=quiet_rings_of(earlier.document),
                      held_back=later.held_back, held_back_before=earlier.held_back,
                      **settings)


def quiet_rings_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The well-formed ``quiet_rings`` of a ``rings.json`` (a report written with ``--previous``);
    entries without a text ``ring_id`` are left out, and reports without the field have none.

    Examples
    --------
    >>> quiet_rings_of({"quiet_rings": [{"ring_id": "R0003", "shared_devices": ["d1"]}, {"ring_id": 7}, "x"]})
    [{'ring_id': 'R0003', 'shared_devices': ['d1']}]
    """
    found = document.get("quiet_rings")
    return [q for q in found if isinstance(q, dict) and isinstance(q.get("ring_id"), str)] if isinstance(found, list) else []


def write_diff(diff: ReportDiff, out_dir: str | Path, *, old: str = "", new: str = "") -> list[Path]:
    """Write ``diff.json``, ``diff.md`` and ``diff.html`` (:func:`graphkit.viz.diff_view`) into ``out_dir``,
    atomically; other files there are kept.

    Raises :class:`InputError` when ``out_dir`` holds a ``diff.json`` that graphkit did not write.
    """
    out_dir = Path(out_dir)
    existing = out_dir / "diff.json"
    if existing.exists() and not _ours(existing):
        raise InputError(f"{existing}: was not written by graphkit; choose another folder for --out")
    with atomic_directory(out_dir, owned=DIFF_FILES) as tmp:
        (tmp / "diff.json").write_text(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "diff.md").write_text(diff.to_markdown(old or "the earlier report", new or "this report"), encoding="utf-8")
        (tmp / "diff.html").write_text(diff_view(diff.to_dict(), old=old or "the earlier report",
                                                 new=new or "this report"), encoding="utf-8")
    return [out_dir / name for name in DIFF_FILES]


def _ours(path: Path) -> bool:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and str(content.get("generator", "")).startswith("graphkit ")
