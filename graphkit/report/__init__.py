"""Writers for the output contract (rings.json, rings.csv, scores.csv, members.csv, report.md), and its reader.

:func:`write_report` writes them all, with the HTML views, into one folder
atomically; :func:`read_report` reads a report folder back.
"""

from graphkit.util.atomic import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_csv,
    atomic_write_text,
    output_lock,
    unowned_entries,
)
from graphkit.report.markdown import escape_markdown, render_markdown
from graphkit.report.reader import SavedReport, read_report, read_scores
from graphkit.report.writers import (
    REPORT_ENTRIES,
    ReportFiles,
    check_out_dir,
    failed_rejected_dir,
    members_csv_text,
    rings_csv_text,
    rings_json_text,
    scores_csv_text,
    write_failed_rejected,
    write_report,
)

__all__ = [
    "REPORT_ENTRIES",
    "ReportFiles",
    "SavedReport",
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_text",
    "check_out_dir",
    "failed_rejected_dir",
    "escape_markdown",
    "output_lock",
    "members_csv_text",
    "read_report",
    "read_scores",
    "render_markdown",
    "rings_csv_text",
    "rings_json_text",
    "scores_csv_text",
    "unowned_entries",
    "write_failed_rejected",
    "write_report",
]
