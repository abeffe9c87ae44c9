"""Writers for the output contract (rings.json, rings.csv, scores.csv, members.csv, report.md), and its reader.

:func:`write_report` writes them all, with the HTML views, into one folder
atomically; :func:`read_report` reads a report folder back. The writers,
the reader and report.md are imported on first use
(:func:`graphkit.util.lazy.lazy_exports`): report.md's reasons need the
detectors' signals and igraph, which a light import of this package (a
command's ``-h``, :mod:`graphkit.report.reader`) does not.
"""

from typing import TYPE_CHECKING

from graphkit.util.atomic import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_csv,
    atomic_write_text,
    output_lock,
    unowned_entries,
)
from graphkit.util.lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(__name__, {
    "escape_markdown": "graphkit.report.markdown",
    "render_markdown": "graphkit.report.markdown",
    "SavedReport": "graphkit.report.reader",
    "read_report": "graphkit.report.reader",
    "read_scores": "graphkit.report.reader",
    **{name: "graphkit.report.writers" for name in (
        "REPORT_ENTRIES", "ReportFiles", "check_out_dir", "failed_rejected_dir", "members_csv_text", "rings_csv_text",
        "rings_json_text", "scores_csv_text", "write_failed_rejected", "write_report",
    )},
})
