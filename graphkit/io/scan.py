"""Finding and scanning one table file: a lazy frame of the values as read, or one line saying what is wrong.

CSV (also gzipped), Parquet and NDJSON are scanned lazily (``polars.scan_*``), every CSV and NDJSON
value as text so that ids keep their digits; :func:`scan_table` chooses the scanner by the file's suffix.
Error messages name the file and what is wrong with it, never what it holds.
"""

from __future__ import annotations

import codecs
import csv
import errno
import gzip
import os
import re
import zlib
from pathlib import Path
from typing import Callable

import polars as pl

from graphkit.errors import InputError, SchemaError
from graphkit.io.mapping import TableMapping
from graphkit.io.schema import TableSpec

ROW = "__row"
"""The column a scan of one file adds: the row's 1-based position in the file (its data rows, the header not counted).

It is made by the scan itself, not by ``with_row_index`` afterwards: polars then still pushes a filter into
the scan (a window's bounds meet Parquet row-group statistics), which a row index added to a frame whose
schema was already collected prevents (polars 2.1: the whole file was read for a 1-hour window)."""

__all__ = ["ROW", "SCANNERS", "SUFFIXES", "READ_ERRORS", "check_id_types", "check_table_file", "find_table_file", "header_size", "is_csv", "locate_bad_utf8", "near_match", "parquet_parts", "scan_table", "unreadable"]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".ndjson")


def find_table_file(
    data_dir: Path, name: str, mapping: TableMapping | None = None, *, allow_outside_data_dir: bool = False
) -> Path | None:
    """The file that holds table ``name`` in ``data_dir``, or ``None`` when absent.

    A table file must be a regular file (a symbolic link to one is fine) that
    lies inside ``data_dir`` once links and ``..`` are resolved, unless
    ``allow_outside_data_dir``: a mapping or a link cannot make graphkit read
    any other file of the machine.

    Raises
    ------
    InputError
        When the mapping names a file that does not exist; when the table's
        file is a directory, a dangling or looping symbolic link, or lies
        outside ``data_dir``; when the table exists in two formats.

    Examples
    --------
    >>> find_table_file(Path("fixtures/demo"), "gifts")
    PosixPath('fixtures/demo/gifts.csv')
    >>> find_table_file(Path("fixtures/demo"), "flags") is None
    True
    """
    if mapping is not None and mapping.file:
        path = data_dir / mapping.file
        if not os.path.lexists(path):
            raise InputError(
                f"{path}: file named for table {name} in {mapping.source} does not exist; "
                f"fix the file name under [tables.{name}] (it is relative to {data_dir})"
            )
        check_table_file(path, name, data_dir, f"named for table {name} in {mapping.source}", allow_outside_data_dir)
        return path
    found = [data_dir / f"{name}{suffix}" for suffix in SUFFIXES if os.path.lexists(data_dir / f"{name}{suffix}")]
    if (data_dir / name).is_dir():  # a partitioned folder of Parquet parts: gifts/date=2026-10-01/part-0.parquet
        found.append(data_dir / name)
    for path in found:
        check_table_file(path, name, data_dir, f"table {name}", allow_outside_data_dir)
    if len(found) > 1:
        raise InputError(
            f"{data_dir}: table {name} is there as {' and '.join(p.name for p in found)}; keep one of them"
        )
    return found[0] if found else None


def check_table_file(path: Path, name: str, data_dir: Path, what: str, allow_outside: bool) -> None:
    """Raise :class:`InputError` unless ``path`` is a regular file that may be read (see :func:`find_table_file`)."""
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        raise InputError(f"{path}: is a symbolic link that loops ({what}); fix the link or remove it") from None
    except FileNotFoundError:
        raise InputError(
            f"{path}: is a symbolic link to a file that does not exist ({what}); fix the link or remove it"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: is a symbolic link that loops ({what}); fix the link or remove it") from None
        raise InputError(f"{path}: cannot be opened ({exc.strerror or type(exc).__name__}) ({what})") from None
    if resolved.is_dir() and path.suffix in ("", ".parquet"):
        _check_parquet_folder(path, resolved, name, data_dir, what, allow_outside)
        return
    if resolved.is_dir():
        raise InputError(
            f"{path}: is a directory, not a file ({what}); graphkit reads each table from one file: "
            "combine the parts into one file, or rename or remove the directory"
        )
    if not resolved.is_file():
        raise InputError(f"{path}: is not a regular file ({what}); export the table to a file")
    if not allow_outside and not resolved.is_relative_to(data_dir.resolve()):
        raise InputError(
            f"{path}: table {name} is outside the data directory {data_dir} ({what}; it resolves to {resolved}); "
            "move or copy it into the data directory, or pass --allow-outside-data-dir to read it anyway"
        )


def parquet_parts(folder: Path) -> list[Path]:
    """The Parquet files of a partitioned folder, at any depth, sorted (hidden files and folders left out).

    Examples
    --------
    >>> parquet_parts(Path("fixtures/demo"))
    []
    """
    return sorted(
        part for part in folder.rglob("*.parquet")
        if not any(piece.startswith((".", "_")) for piece in part.relative_to(folder).parts)
    )


def _check_parquet_folder(path: Path, resolved: Path, name: str, data_dir: Path, what: str, allow_outside: bool) -> None:
    """A folder may hold a table as Parquet parts (Hive-style ``key=value`` folders or not), all inside ``data_dir``."""
    parts = parquet_parts(resolved)
    if not parts:
        raise InputError(
            f"{path}: is a directory without .parquet files ({what}); graphkit reads a table from one file or "
            "from a folder of Parquet parts (gifts/date=2026-10-01/part-0.parquet): combine the parts, or "
            "rename or remove the directory"
        )
    if allow_outside:
        return
    for part in [resolved, *(p.resolve() for p in parts)]:
        if not part.is_relative_to(data_dir.resolve()):
            raise InputError(
                f"{path}: table {name} is outside the data directory {data_dir} ({what}; it resolves to {part}); "
                "move or copy it into the data directory, or pass --allow-outside-data-dir to read it anyway"
            )


_NOT_IDS = {
    pl.Float32: "floating-point numbers",
    pl.Float64: "floating-point numbers",
    pl.List: "lists",
    pl.Array: "arrays",
    pl.Struct: "objects",
    pl.Object: "Python objects",
}
"""Column types that cannot hold an id exactly (a float rounds a 19-digit id; a list is no id)."""


def check_id_types(spec: TableSpec, types: dict[str, pl.DataType], origin: dict[str, str], where: str) -> None:
    """Raise :class:`SchemaError` when an id column's type cannot hold ids exactly.

    ``types`` are the file's own column types by canonical name; ``origin``
    maps a canonical name to the file's column name when a mapping renamed it.
    A float id column would round ``1234567890123456789`` and
    ``1234567890123456790`` to one account, and a list column would turn
    ``a`` into ``["a"]``: neither is read.
    """
    for col in spec.columns:
        dtype = types.get(col.name)
        if col.kind != "id" or dtype is None:
            continue
        kind = _NOT_IDS.get(dtype.base_type())
        if kind is not None:
            shown = f"{origin[col.name]!r} ({spec.name}.{col.name})" if col.name in origin else repr(col.name)
            raise SchemaError(
                f"{where}: column {shown} holds {kind} ({dtype}), which cannot hold ids exactly; "
                "store ids as strings or integers"
            )


def scan_table(path: Path, known: set[str]) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    """A lazy frame over one table file, every value as read (CSV and NDJSON as
    text), and the types the file itself gives its columns (NDJSON: as inferred
    from its first rows, before they are read as text).

    The scanner is chosen by the file's suffix (:data:`SCANNERS`); a file of
    any other suffix (a mapped ``file =``) is read as CSV. Error messages name
    the file and what is wrong with it, never what it holds: a mapped file may
    be one the user did not mean to show.
    """
    if path.is_dir():
        try:
            return _scan_parquet_folder(path, known)
        except READ_ERRORS as exc:
            raise InputError(unreadable(path, exc, "check that every part is a valid .parquet file")) from None
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".csv.gz") else path.suffix
    if path.stat().st_size == 0:
        fix = "export the table again" + (" with a header row" if is_csv(path) else "")
        raise InputError(f"{path}: file is empty; {fix}")
    try:
        return SCANNERS.get(suffix, _scan_csv)(path, known)
    except READ_ERRORS as exc:
        raise InputError(unreadable(path, exc, f"check that it is a valid {suffix} file")) from None


def _types(frame: pl.LazyFrame) -> dict[str, pl.DataType]:
    """The file's own column types (the row number :data:`ROW` left out)."""
    return {name: dtype for name, dtype in frame.collect_schema().items() if name != ROW}


def _scan_csv(path: Path, known: set[str]) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    eol = _check_head(path, delimited=True, known=known)
    frame = pl.scan_csv(path, infer_schema=False, encoding="utf8", glob=False, eol_char=eol,
                        row_index_name=ROW, row_index_offset=1)
    return frame, _types(frame)


def _scan_parquet(path: Path, known: set[str]) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    frame = pl.scan_parquet(path, glob=False, row_index_name=ROW, row_index_offset=1)
    return frame, _types(frame)


def _scan_parquet_folder(path: Path, known: set[str]) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    """A folder of Parquet parts as one table; ``key=value`` folder names become columns (Hive partitioning).

    Each part's row-group statistics and each folder's partition values are
    checked against a filter before the part is read (a window, a filter on
    the partition column), so whole folders outside it are never opened.
    """
    parts = parquet_parts(path)
    # no row index here: numbering rows across parts needs every part's row count, and then polars no longer
    # prunes the folders a filter excludes; validation numbers the rows it reads (a window's bounds then stay
    # above the scan, while a filter on the partition column still skips whole folders)
    frame = pl.scan_parquet([str(p) for p in parts], hive_partitioning=True, glob=False, hive_schema=None)
    return frame, _types(frame)


def _scan_ndjson(path: Path, known: set[str]) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    _check_head(path, delimited=False, known=known)
    # every value as text, as with CSV: a numeric id keeps its digits, and a
    # column whose type changes after the first rows does not fail the read
    literal = _glob_escape(path)  # scan_ndjson has no glob=False: a folder named "[x]" is not a pattern
    inferred = dict(pl.scan_ndjson(literal, infer_schema_length=10_000).collect_schema())
    if not inferred:
        raise InputError(f"{path}: no JSON objects found; write one JSON object per line")
    frame = pl.scan_ndjson(literal, schema_overrides=dict.fromkeys(inferred, pl.Utf8), infer_schema_length=10_000,
                           row_index_name=ROW, row_index_offset=1)
    frame.collect_schema()
    return frame, {**inferred, **_floats_among_text(path, [c for c in known if inferred.get(c) == pl.Utf8])}


def _floats_among_text(path: Path, columns: list[str]) -> dict[str, pl.DataType]:
    """``{column: Float64}`` for the text columns whose JSON values include a float (``1.0``, ``1e3``).

    A column of strings and floats is inferred as text, and read as text a
    float has already lost its digits (``1234567890123456789.0`` reads as
    ``1234567890123456800``): only the raw JSON tells, so each line is
    matched, vectorised, against ``"column": <number with a point or an
    exponent>``. Lines are read whole (a NUL byte, which JSON text cannot
    hold unescaped, as the separator).
    """
    if not columns:
        return {}
    lines = pl.scan_csv(path, has_header=False, separator="\x00", quote_char=None,
                        new_columns=["line"], schema_overrides={"line": pl.Utf8}, glob=False)
    number = r"\s*:\s*-?[0-9]+(?:\.[0-9]*|(?:\.[0-9]*)?[eE][-+]?[0-9]+)\s*[,}]"
    found = lines.select(
        pl.col("line").str.contains(f'"{pl.escape_regex(column)}"{number}').any().alias(column) for column in columns
    ).collect().row(0, named=True)
    return {column: pl.Float64 for column, has_float in found.items() if has_float}


SCANNERS: dict[str, Callable[[Path, set[str]], tuple[pl.LazyFrame, dict[str, pl.DataType]]]] = {
    ".csv": _scan_csv,
    ".csv.gz": _scan_csv,
    ".parquet": _scan_parquet,
    ".ndjson": _scan_ndjson,
    ".jsonl": _scan_ndjson,
}
"""File suffix -> scanner: ``scanner(path, known_columns) -> (lazy frame, the file's own column types)``.
A new input format is one scanner here (and its suffix in :data:`SUFFIXES` if ``DATA_DIR/NAME<suffix>``
should be found without a mapping)."""


READ_ERRORS = (pl.exceptions.PolarsError, OSError, EOFError, zlib.error)
"""What reading a damaged file raises (a cut gzip raises ``EOFError`` or ``OSError``)."""


def _glob_escape(path: Path) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", str(path))


def _check_head(path: Path, delimited: bool, known: set[str] = frozenset()) -> str:
    """Catch the usual export mistakes from the first bytes: emptiness, encoding,
    and for CSV the delimiter and repeated column names.

    Returns the line ending to read the file with: ``"\\r"`` for a file with
    CR-only line endings (old spreadsheet exports), else ``"\\n"`` (CRLF reads
    as LF). Messages never quote the file: a repeated column is named only
    when it is one graphkit looks for (``known``), else by its position.
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(1 << 16)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(unreadable(path, exc, "check that it is a complete file")) from None
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    if not head.strip():
        fix = "export the table again with a header row" if delimited else "export the table again"
        raise InputError(f"{path}: file is empty; {fix}")
    _check_utf8(path, head, complete=len(head) < (1 << 16))
    eol = "\r" if b"\r" in head and b"\n" not in head else "\n"
    if not delimited:
        return eol
    first = head.split(eol.encode(), 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    if not first.strip():
        raise InputError(f"{path}: first line is empty; the file needs a header row with column names")
    for delimiter, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        if "," not in first and first.count(delimiter) >= 1:
            raise SchemaError(
                f"{path}: looks {label}-delimited (the header has {first.count(delimiter)} {label}s and no comma); "
                "graphkit reads comma-separated files: export with ',' as the delimiter"
            )
    try:
        header = next(csv.reader([first]), [])
    except csv.Error:
        header = first.split(",")
    repeated = [name for name in dict.fromkeys(header) if header.count(name) > 1]
    if repeated:
        name = next((n for n in repeated if n in known), None)
        where = [i + 1 for i, n in enumerate(header) if n == repeated[0]]
        what = f"column {name!r}" if name is not None else f"a column name (columns {where[0]} and {where[1]})"
        raise SchemaError(
            f"{path}: {what} appears more than once in the header; "
            "rename or drop the copies so that each column name is unique"
        )
    return eol


def _check_utf8(path: Path, data: bytes, complete: bool) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(data) - 4:
            return  # a multi-byte character cut by the read window
        line = data[: exc.start].count(b"\n") + 1
        raise SchemaError(
            f"{path}: line {line} has bytes that are not UTF-8 (byte {exc.start}); "
            "re-export the file as UTF-8"
        ) from None


def locate_bad_utf8(path: Path) -> str:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f"line {number} has bytes that are not UTF-8"
    return "bytes that are not UTF-8"


def unreadable(path: Path | str, exc: BaseException, fix: str) -> str:
    """The one-line message for a file that cannot be read, in graphkit's words.

    The reader's own message is not passed on: parsers quote the line they
    failed on, and the file may be one the user did not mean to show.
    """
    text = str(exc).lower()
    if str(path).endswith(".gz") and (
        isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile))
        or any(k in text for k in ("end of file", "gzip", "deflate", "decompress", "end-of-stream"))
    ):
        return f"{path}: the compressed file ends early or is damaged; copy or export it again"
    for needle, what in _READ_FAILURES:
        if needle in text:
            return f"{path}: cannot be read ({what}); {fix}"
    return f"{path}: cannot be read ({_FORMAT_FAILURES.get(Path(path).suffix, type(exc).__name__)}); {fix}"


_READ_FAILURES = (
    ("more fields than defined", "a line has more fields than the header"),
    ("quote", "a quoted field is not closed"),
    ("utf-8", "bytes that are not UTF-8"),
    ("utf8", "bytes that are not UTF-8"),
    ("parquet", "not a Parquet file, or a damaged one"),
    ("magic", "not a Parquet file, or a damaged one"),
    ("json", "not valid JSON lines"),
    ("permission denied", "permission denied"),
)
"""Substrings of a reader's error -> what to say instead of quoting it."""


_FORMAT_FAILURES = {
    ".ndjson": "not valid JSON lines: one JSON object per line",
    ".jsonl": "not valid JSON lines: one JSON object per line",
    ".parquet": "not a Parquet file, or a damaged one",
    ".csv": "a line does not fit the header",
}
"""What to say about an unrecognised reader error, by file suffix."""


def header_size(names: list[str]) -> str:
    """``"the header has 4 columns"``: how many, never what they are called."""
    return f"the header has {len(names)} column{'s' if len(names) != 1 else ''}" if names else "the header has no columns"


def near_match(wanted: str, names: list[str]) -> str:
    """``" (found 'Sender_ID ')"`` when a column differs only by case or spaces."""
    near = [n for n in names if n != wanted and n.strip().lower() == wanted.strip().lower()]
    return f" (found {near[0]!r}: fix its case or spaces)" if near else ""


def is_csv(path: Path) -> bool:
    return path.suffix not in (".parquet", ".ndjson", ".jsonl") and not path.is_dir()
