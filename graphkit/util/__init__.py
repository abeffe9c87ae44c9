"""Generic helpers at the bottom of the stack: every stage may import them, they import no stage.

- :mod:`~graphkit.util.atomic`: atomic file and folder writes.
- :mod:`~graphkit.util.display`: the display form of an untrusted string (ids in the terminal, report.md, views).
"""

from graphkit.util.atomic import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_csv,
    atomic_write_text,
    output_lock,
    unowned_entries,
)
from graphkit.util.display import display_text

__all__ = [
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_text",
    "display_text",
    "output_lock",
    "unowned_entries",
]
