"""Investigations over time: what changed between two reports.

- :mod:`~graphkit.history.diff`: each ring of a new report matched to the earlier one's
  (Hungarian assignment on member overlap) with its status, behind ``graphkit diff``.
- :mod:`~graphkit.history.ids`: stable ring ids across runs, behind ``graphkit report --previous``.
"""

from graphkit.history.diff import STATUSES, ReportDiff, RingChange, diff_reports, diff_rings, write_diff
from graphkit.history.ids import carry_ring_ids, ring_counter

__all__ = ["STATUSES", "ReportDiff", "RingChange", "carry_ring_ids", "diff_reports", "diff_rings", "ring_counter",
           "write_diff"]
