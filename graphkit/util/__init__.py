"""Generic helpers at the bottom of the stack: every stage may import them, they import no stage.

- :mod:`~graphkit.util.atomic`: atomic file and folder writes.
"""

from graphkit.util.atomic import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_csv,
    atomic_write_text,
    output_lock,
    unowned_entries,
)

__all__ = [
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_text",
    "output_lock",
    "unowned_entries",
]
