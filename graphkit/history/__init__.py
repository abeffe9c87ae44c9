"""Investigations over time: what changed between two reports.

- :mod:`~graphkit.history.diff`: each ring of a new report matched to the earlier one's
  (Hungarian assignment on member overlap) with its status, behind ``graphkit diff``.
"""

from graphkit.history.diff import STATUSES, ReportDiff, RingChange, diff_reports, diff_rings, write_diff

__all__ = ["STATUSES", "ReportDiff", "RingChange", "diff_reports", "diff_rings", "write_diff"]
