"""The overview of ``graphkit diff`` (``diff.html``): earlier rings -> today's rings, coloured by status."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import polars as pl

from graphkit.config import Config
from graphkit.util.format import format_coins
from graphkit.viz.network import LegendItem, TableBlock, render_network

__all__ = ["STATUS_COLORS", "decision_words", "diff_view"]

STATUS_COLORS: dict[str, str] = {
    "new": "#d7301f",
    "re-formed": "#e7298a",
    "merged": "#6a3d9a",
    "split": "#1f78b4",
    "grown": "#fd8d3c",
    "shrunk": "#74a9cf",
    "stable": "#969696",
    "held_back": "#1b9e77",
    "quiet": "#cccccc",
}
"""Node colour per status of :data:`graphkit.history.STATUSES` (the ones that want a look are the loudest)."""

EARLIER_COLOR = "#eceff1"
"""Earlier rings that a ring of today continues (a quiet one takes the colour of ``quiet``)."""

_IMPORTANCE = {"re-formed": 7.0, "new": 6.0, "merged": 5.0, "split": 4.0, "grown": 3.0, "quiet": 2.5,
               "held_back": 2.2, "shrunk": 2.0, "stable": 0.0}
"""Which rings stay when a diff has more than ``Config.view_max_nodes`` nodes: the changes first."""


def diff_view(diff: Mapping[str, Any], *, old: str = "the earlier report", new: str = "this report",
              config: Config = Config()) -> str:
    """``diff.html``: every ring of the new report and the earlier rings it continues, coloured by status.

    Each ring of the new report is a dot coloured by its status (:data:`STATUS_COLORS`), sized by
    its members (a group held back by a benign decision is a ``held_back`` dot, its decisions in the
    tooltip and the table); each earlier ring it continues is a square with an arrow to it (two arrows into a
    merged ring, two out of a split one); an earlier ring that went quiet is a grey square on its
    own. A sortable table lists every ring. Everything from the reports (ring ids, account ids,
    devices) is escaped by :func:`graphkit.viz.render_network`; the page makes no network request.

    Parameters
    ----------
    diff : mapping
        The content of ``diff.json`` (:meth:`graphkit.history.ReportDiff.to_dict`): ``counts`` and
        ``rings``, each with ``status``, ``ring_id``, ``size``, ``previous_ids``, ``joined``, ``left``,
        ``coins_before``, ``coins_after`` and, when re-formed, ``common_devices`` and ``common_ips``.
    old, new : str
        How the two reports are named in the title (their folders).
    config : Config
        ``view_max_nodes`` (the changes are kept first), ``physics_max_nodes`` and ``seed``.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> page = diff_view({"counts": {"re-formed": 1, "quiet": 1}, "rings": [
    ...     {"status": "re-formed", "ring_id": "R0007", "previous_ids": ["R0007"], "joined": ["x", "y"],
    ...      "left": ["a"], "common_devices": ["<b>d1"]},
    ...     {"status": "quiet", "ring_id": None, "previous_ids": ["R0002"], "left": ["b", "c"]}]})
    >>> "<b>d1" in page, "\\\\u003cb\\\\u003ed1" in page
    (False, True)
    """
    changes = list(diff.get("rings", []))
    now = [c for c in changes if c.get("ring_id") is not None]
    earlier: dict[str, str] = {}
    for change in changes:
        for previous in change.get("previous_ids", []):
            if change.get("status") == "quiet" or previous not in earlier:
                earlier[previous] = change.get("status", "")
    biggest = max([_size(c) for c in now] + [1])
    node_rows = []
    for change in now:
        status = change.get("status", "")
        size = _size(change)
        node_rows.append((f"now:{change['ring_id']}", str(change["ring_id"]), "ring", status,
                          10.0 + 25.0 * math.sqrt(size / biggest), _tooltip(change, size),
                          STATUS_COLORS.get(status, EARLIER_COLOR), _IMPORTANCE.get(status, 1.0)))
    for ring_id, status in earlier.items():
        quiet = status == "quiet"
        tip = f"{ring_id} in {old}" + ("\nwent quiet: no ring of this report continues it" if quiet else "")
        node_rows.append((f"before:{ring_id}", str(ring_id), "earlier ring", "quiet" if quiet else "earlier",
                          10.0, tip, STATUS_COLORS["quiet"] if quiet else EARLIER_COLOR,
                          _IMPORTANCE["quiet"] if quiet else _IMPORTANCE.get(status, 1.0) - 0.1))
    nodes = pl.DataFrame(node_rows, orient="row", schema={
        "id": pl.Utf8, "label": pl.Utf8, "type": pl.Utf8, "group": pl.Utf8, "size": pl.Float64,
        "tooltip": pl.Utf8, "color": pl.Utf8, "importance": pl.Float64})
    edge_rows = [
        (f"before:{previous}", f"now:{change['ring_id']}", "continues", 2.0 if change.get("status") != "stable" else 1.0,
         f"{previous} -> {change['ring_id']}: {change.get('status', '')}")
        for change in now for previous in change.get("previous_ids", [])
    ]
    edges = pl.DataFrame(edge_rows, orient="row", schema={
        "source": pl.Utf8, "target": pl.Utf8, "relation": pl.Utf8, "width": pl.Float64, "tooltip": pl.Utf8})
    counts = diff.get("counts", {})
    summary = [f"{n:,} {status}" for status, n in counts.items() if isinstance(n, int) and n]
    legend = [LegendItem(status, color) for status, color in STATUS_COLORS.items() if counts.get(status)]
    legend += [LegendItem("earlier ring", EARLIER_COLOR, "square"),
               LegendItem("edge: continued by", "#999999", "line")]
    table = TableBlock(
        columns=("ring", "status", "before", "joined", "left", "coins before", "coins now", "devices and IPs in common",
                 "decision"),
        rows=tuple(
            (c.get("ring_id") or "-", c.get("status", ""), ", ".join(c.get("previous_ids", [])) or "-",
             len(c.get("joined", [])), len(c.get("left", [])), _coins(c.get("coins_before")),
             _coins(c.get("coins_after")), ", ".join([*c.get("common_devices", []), *c.get("common_ips", [])]),
             "; ".join(decision_words(d) for d in c.get("decisions", []) if isinstance(d, Mapping)))
            for c in sorted(changes, key=lambda c: -_IMPORTANCE.get(c.get("status", ""), 1.0))
        ),
        caption="Every ring of the new report, every group it held back and every earlier ring that went quiet, "
                "changes first; "
                "click a column to sort.",
    )
    return render_network(nodes, edges, title=f"What changed from {old} to {new}",
                          panel=[("Rings by status", summary or ["no rings in either report"])], legend=legend,
                          table=table, max_nodes=config.view_max_nodes,
                          physics_max_nodes=config.physics_max_nodes, seed=config.seed)


def _size(change: Mapping[str, Any]) -> int:
    size = change.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else len(change.get("joined", []))


def _coins(value: Any) -> str:
    return format_coins(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def _tooltip(change: Mapping[str, Any], size: int) -> str:
    lines = [f"{change['ring_id']}: {change.get('status', '')}"]
    if change.get("previous_ids"):
        lines.append("before: " + ", ".join(change["previous_ids"]))
    lines.append(f"members: {size:,} ({len(change.get('joined', [])):,} joined, {len(change.get('left', [])):,} left)")
    if isinstance(change.get("coins_before"), (int, float)) or isinstance(change.get("coins_after"), (int, float)):
        lines.append(f"coins: {_coins(change.get('coins_before'))} -> {_coins(change.get('coins_after'))}")
    common = [*(f"device {d}" for d in change.get("common_devices", [])), *(f"IP {i}" for i in change.get("common_ips", []))]
    if common:
        lines.append("in common with before: " + ", ".join(common[:10]) + (" ..." if len(common) > 10 else ""))
    decisions = [decision_words(d) for d in change.get("decisions", []) if isinstance(d, Mapping)]
    if decisions:
        lines.append("held back: " + "; ".join(decisions[:5]) + (" ..." if len(decisions) > 5 else ""))
    return "\n".join(lines)


def decision_words(decision: Mapping[str, Any], escape: Callable[[Any], str] = str) -> str:
    """One decision of a held-back group as words, each value of the report passed through ``escape``
    (plain here, where ``render_network`` escapes what it draws; ``escape_markdown`` for diff.md).

    Examples
    --------
    >>> decision_words({"ring_id": "R0006", "verdict": "benign", "by": "ana", "decided_at": "2024-05-20T00:00:00Z",
    ...                 "note": "team"})
    'R0006 judged benign by ana on 2024-05-20T00:00:00Z ("team")'
    """
    what = escape(decision["ring_id"]) if decision.get("ring_id") is not None else f"account {escape(decision.get('user_id'))}"
    words = f"{what} judged {escape(decision.get('verdict'))}"
    for label, key in ((" by ", "by"), (" on ", "decided_at")):
        if decision.get(key):
            words += f"{label}{escape(decision[key])}"
    return words + (f' ("{escape(decision["note"])}")' if decision.get("note") else "")
