"""Investigations over time: what changed between two reports.

- :mod:`~graphkit.history.diff`: each ring of a new report matched to the earlier one's
  (Hungarian assignment on member overlap) with its status, behind ``graphkit diff``.
- :mod:`~graphkit.history.ids`: stable ring ids across runs, behind ``graphkit report --previous``.
- :mod:`~graphkit.history.decisions`: investigators' decisions (benign groups held back, confirmed
  rings tracked, the audit trail), behind ``graphkit report --labels``.
"""

from graphkit.history.diff import (
    STATUSES,
    ReportDiff,
    RingChange,
    diff_reports,
    diff_rings,
    held_back_of,
    match_settings,
    write_diff,
)
from graphkit.history.decisions import (
    apply_decisions,
    continue_report,
    carried_decisions,
    decisions_from_labels,
    known_ring_ids,
    merge_decisions,
    with_held_back,
)
from graphkit.history.ids import carry_ring_ids, ring_counter

__all__ = ["STATUSES", "ReportDiff", "RingChange", "apply_decisions", "carried_decisions", "carry_ring_ids", "continue_report",
           "decisions_from_labels", "diff_reports", "diff_rings", "held_back_of", "known_ring_ids", "match_settings",
           "merge_decisions", "ring_counter", "with_held_back", "write_diff"]
