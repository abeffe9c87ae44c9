"""Atomic file and directory writes: a reader never sees half a file, and nothing of the user's is lost.

Files are written next to their target under a temporary name and renamed
into place (``os.replace`` is atomic on POSIX within one file system).
Folders are filled under a hidden sibling name and swapped in
(:func:`atomic_directory`), which also:

- holds a lock (``.NAME.lock`` beside the folder, :func:`output_lock`) so
  that two processes never write the same folder: the second is refused with
  :class:`~graphkit.errors.OutputBusyError`;
- removes what a killed run (``kill -9``, a crash) left beside the folder,
  since a run holding the lock knows that no other run is writing there;
- carries the entries the caller does not own (an investigator's
  ``case-notes.md``) from the previous folder into the new one;
- turns SIGTERM into :class:`KeyboardInterrupt` while it writes, so that a
  terminated run cleans up as Ctrl-C does.

Every file and folder is created with the modes the user's umask gives
(``0666 & ~umask``, ``0777 & ~umask``), as ``open`` and ``mkdir`` do.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import polars as pl

from graphkit.errors import InputError, OutputBusyError

__all__ = [
    "through_link",
    "atomic_write_text",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_directory",
    "output_lock",
    "unowned_entries",
    "parquet_bytes",
    "check_replaceable_file",
    "PARQUET_MARK",
    "TEXT_MARKS",
]


def _hidden_sibling(path: Path, kind: str) -> Path:
    """``.NAME.PID-RANDOM.KIND`` beside ``path``: unique to this process, found again by :func:`_leftovers`."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.{kind}")


def _leftovers(path: Path, kind: str) -> list[Path]:
    """The hidden siblings of ``path`` of one kind, including the names older versions gave them."""
    name = re.escape(path.name)
    older = {"partial": rf"\.{name}\.[a-z0-9_]{{8}}\.partial", "old": rf"\.{name}\.old-\d+"}[kind]
    pattern = re.compile(rf"\.{name}\.\d+-[0-9a-f]{{8}}\.{kind}|{older}")
    try:
        return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name))
    except FileNotFoundError:
        return []


def _make_parent(path: Path) -> None:
    """Create the parent folder of ``path``; :class:`InputError` when that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc}); choose another folder") from None


def atomic_write_bytes(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent folders.

    The file gets the mode a plain ``open(path, "w")`` would give it
    (``0666`` less the umask), not the ``0600`` of :func:`tempfile.mkstemp`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = atomic_write_bytes(b"done", pathlib.Path(tempfile.mkdtemp()) / "sub" / "a.bin")
    >>> path.read_bytes()
    b'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _hidden_sibling(path, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    return atomic_write_bytes(text.encode("utf-8"), path)


def atomic_write_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write a polars frame as CSV to ``path`` atomically (times in ISO-8601)."""
    return atomic_write_bytes(frame.write_csv().encode("utf-8"), path)


PARQUET_MARK = {"written_by": "graphkit"}
"""Key-value metadata of every Parquet file graphkit writes as a command's ``--out`` (features, export)."""

TEXT_MARKS = (b"<!-- written by graphkit", b"<creator>graphkit", b"<title>graphkit ")
"""How graphkit's one-file text outputs start: GraphML's comment, GEXF's creator, a page's title (within 4 KB)."""


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as a Parquet file carrying :data:`PARQUET_MARK`, so that a later run may replace it."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, metadata=PARQUET_MARK)
    return buffer.getvalue()


def check_replaceable_file(path: str | Path, option: str = "--out") -> None:
    """Refuse to write over an existing file that graphkit did not write (one line, :class:`InputError`).

    A command that writes one file (``features``, ``export``, ``expand``)
    replaces it when a graphkit run wrote it: a Parquet file whose metadata
    holds :data:`PARQUET_MARK`, or a text file that starts with one of
    :data:`TEXT_MARKS`. Anything else (an investigator's notes, a file of
    another tool, a folder) is kept, and the run stops before any work.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("case notes")
    >>> check_replaceable_file(folder / "notes.txt")
    Traceback (most recent call last):
    ...
    graphkit.errors.InputError: ...notes.txt: exists and was not written by graphkit; choose another --out file, or move that one away first (graphkit replaces only files it wrote)
    >>> _ = atomic_write_bytes(parquet_bytes(pl.DataFrame({"a": [1]})), folder / "f.parquet")
    >>> check_replaceable_file(folder / "f.parquet")  # graphkit's own: replaced
    >>> check_replaceable_file(folder / "new.parquet")  # nothing there
    """
    path = Path(path)
    if not os.path.lexists(path):
        return
    if path.is_file() and _written_by_graphkit(path):
        return
    raise InputError(f"{path}: exists and was not written by graphkit; choose another {option} file, "
                     "or move that one away first (graphkit replaces only files it wrote)")


def _written_by_graphkit(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if head.startswith(b"PAR1"):
        try:
            metadata = pl.read_parquet_metadata(path)
        except (OSError, pl.exceptions.PolarsError):  # a damaged or foreign Parquet file is not ours
            return False
        return all(metadata.get(key) == value for key, value in PARQUET_MARK.items())
    return any(mark in head for mark in TEXT_MARKS)


# --- the lock ----------------------------------------------------------------------


@dataclass
class _Held:
    fd: int
    thread: int
    depth: int


_held: dict[Path, _Held] = {}
_held_guard = threading.Lock()


def _lock_path(path: Path) -> Path:
    return Path(os.path.abspath(path.parent)).resolve() / f".{path.name}.lock"



def through_link(path: str | Path) -> Path:
    """The folder an output path names: a symbolic link's target, so that writing through a link
    (``latest -> 2024-05-02``) replaces the folder it points to, not the link.

    Raises :class:`InputError` for a link whose target does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "real").mkdir(); (root / "latest").symlink_to(root / "real")
    >>> through_link(root / "latest") == (root / "real").resolve()
    True
    """
    path = Path(path)
    if not path.is_symlink():
        return path
    target = path.resolve()
    if not target.exists():
        raise InputError(f"{path}: is a link to {target}, which does not exist; choose another folder for --out")
    return target

@contextmanager
def output_lock(path: str | Path) -> Iterator[None]:
    """Hold the lock of the output folder (or file) ``path`` for the duration of the block.

    The lock is ``fcntl.flock`` on ``.NAME.lock`` beside ``path``; the file
    holds the pid of the run that holds it and is removed when the lock is
    released. The kernel releases the lock of a killed process, so a dead run
    never blocks the next one; and since no live run writes ``path`` while we
    hold its lock, taking it removes what killed runs left beside ``path``
    (their ``.NAME.*.partial`` folders) and puts back a folder a run killed
    mid-swap had set aside. Re-entrant within one thread: a command that
    holds the lock from its start (to refuse a second run before its
    analysis) may then write with :func:`atomic_directory`.

    Raises
    ------
    OutputBusyError
        When another process (or thread) holds the lock.
    InputError
        When the parent folder cannot be created or written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with output_lock(out):
    ...     sorted(p.name for p in out.parent.iterdir())
    ['.report.lock']
    >>> sorted(p.name for p in out.parent.iterdir())
    []
    """
    path = through_link(path)
    _make_parent(path)
    lock = _lock_path(path)
    with _held_guard:
        held = _held.get(lock)
        if held is not None and held.thread == threading.get_ident():
            held.depth += 1
        elif held is not None:
            raise OutputBusyError(_busy_message(path, os.getpid()))
        else:
            _held[lock] = _Held(_acquire(path, lock), threading.get_ident(), 1)
            try:
                _clean_leftovers(path)
            except BaseException:
                _release(lock)
                raise
    try:
        yield
    finally:
        with _held_guard:
            _release(lock)


def _release(lock: Path) -> None:
    held = _held[lock]
    held.depth -= 1
    if held.depth == 0:
        del _held[lock]
        lock.unlink(missing_ok=True)  # while still holding it: see _acquire
        os.close(held.fd)


def _acquire(path: Path, lock: Path) -> int:
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise InputError(
                f"{path}: cannot write in {path.parent} ({exc.strerror or exc}); choose another folder"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise OutputBusyError(_busy_message(path, holder)) from None
        # the run before us removes the lock file while it holds the lock: if we opened
        # that removed file, our lock guards nothing, so open the path again
        try:
            current = os.stat(lock)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(fd), current):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _busy_message(path: Path, pid: int | None) -> str:
    who = f"another graphkit run (pid {pid})" if pid is not None else "another graphkit run"
    return f"{who} is writing {path}; wait for it to finish, or choose another folder"


# --- the folder --------------------------------------------------------------------


def unowned_entries(path: str | Path, owned: Collection[str]) -> list[str]:
    """The names in folder ``path`` that are not in ``owned`` (sorted; ``[]`` when it does not exist).

    These are what :func:`atomic_directory` carries from a previous folder
    into the new one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "rings.json").write_text("{}"); _ = (out / "notes.md").write_text("mine")
    >>> unowned_entries(out, {"rings.json"})
    ['notes.md']
    """
    path = Path(path)
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.name not in owned)


@contextmanager
def atomic_directory(path: str | Path, *, owned: Collection[str] | None = None) -> Iterator[Path]:
    """Fill a temporary sibling directory, then swap it in for ``path``.

    An exception (or Ctrl-C, or SIGTERM) inside the block removes the
    temporary directory and leaves any previous ``path`` untouched: an
    interrupted run never leaves a half-written output folder. The block runs
    under :func:`output_lock`, which first removes what killed runs left
    beside ``path``.

    Parameters
    ----------
    path : path
        The folder to create or replace.
    owned : collection of str, optional
        The top-level names the caller writes. On the swap, the entries of
        the previous folder under these names are dropped (the new folder
        has its own, or none); every other entry (files the user added) is
        carried into the new folder. Writing a name not in ``owned`` is a
        bug: :class:`ValueError`, and nothing is swapped in. Default: the
        names written this time.

    Raises
    ------
    OutputBusyError
        When another process is writing ``path``.
    InputError
        When ``path`` is a file, or the parent folder cannot be created or written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with atomic_directory(out, owned={"a.txt"}) as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> _ = (out / "notes.md").write_text("mine")
    >>> with atomic_directory(out, owned={"a.txt"}) as tmp:
    ...     _ = (tmp / "a.txt").write_text("again")
    >>> sorted(p.name for p in out.iterdir()), (out / "a.txt").read_text()
    (['a.txt', 'notes.md'], 'again')
    """
    path = through_link(path)
    with output_lock(path), _sigterm_as_interrupt():
        if (path.exists() or path.is_symlink()) and not path.is_dir():
            raise InputError(f"{path}: exists and is not a folder; move it away or choose another folder")
        tmp = _hidden_sibling(path, "partial")
        tmp.mkdir(0o777)  # the umask applies, as for any mkdir
        try:
            yield tmp
            names = {p.name for p in tmp.iterdir()}
            if owned is not None and not names <= set(owned):
                raise ValueError(
                    f"wrote {', '.join(sorted(names - set(owned)))} into {path}, which is not among the names it "
                    f"owns ({', '.join(sorted(owned))}); add it to them"
                )
            _carry_over(path, tmp, names if owned is None else set(owned))
            _swap(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _clean_leftovers(path: Path) -> None:
    """Remove the partial folders of dead runs; put back a folder a dead run had set aside.

    Called under the lock, so no live run owns any of them.
    """
    for partial in _leftovers(path, "partial"):
        _remove(partial)
    olds = _leftovers(path, "old")
    if olds and not path.exists() and not path.is_symlink():
        # killed between its two renames: the previous folder is set aside, the new one is not in place
        os.replace(olds.pop(), path)
    for old in olds:
        _remove(old)


def _remove(path: Path) -> None:
    """Remove a folder of graphkit's (or the link that stood in its place)."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _carry_over(path: Path, tmp: Path, owned: Collection[str]) -> None:
    """Link (or copy) the entries of ``path`` not in ``owned`` into ``tmp``; the originals stay until the swap."""
    for name in unowned_entries(path, owned):
        source, target = path / name, tmp / name
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(source, target)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _swap(tmp: Path, path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        os.replace(tmp, path)
        return
    old = _hidden_sibling(path, "old")
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    _remove(old)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`KeyboardInterrupt` in the block, so the partial folder is removed.

    Only where SIGTERM still has its default action (a handler someone else
    installed is left alone) and in the main thread (where Python runs
    signal handlers).
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
