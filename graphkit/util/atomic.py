"""Atomic file and directory writes: a reader never sees half a file.

Files are written next to their target under a temporary name and renamed
into place (``os.replace`` is atomic on POSIX within one file system).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import polars as pl

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_write_csv", "atomic_directory"]


def atomic_write_bytes(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    return atomic_write_bytes(text.encode("utf-8"), path)


def atomic_write_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write a polars frame as CSV to ``path`` atomically (times in ISO-8601)."""
    return atomic_write_bytes(frame.write_csv().encode("utf-8"), path)


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Fill a temporary sibling directory, then swap it in for ``path``.

    An exception (or Ctrl-C) inside the block removes the temporary directory
    and leaves any previous ``path`` untouched: an interrupted run never leaves
    a half-written output folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with atomic_directory(out) as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> (out / "a.txt").read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
