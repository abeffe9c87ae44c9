"""Read a data directory into validated :class:`Tables` (CONTRACT.md, Input).

Reading is lazy (``polars.scan_*``) and each table is collected once: the
parsed values, the raw values and the rejection reason come out of one pass,
then split into accepted rows and rejected rows. Accepted + rejected = rows
read, always.
"""

from __future__ import annotations

import codecs
import csv
import errno
import gzip
import os
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import polars as pl

from graphkit.config import Config
from graphkit.errors import ColumnNotFoundError, InputError, SchemaError, TooManyRejectedError
from graphkit.io.mapping import MAPPING_FILE, TableMapping, load_mapping
from graphkit.io.parse import TIME_DTYPE, parse_coins, parse_id, parse_label, parse_time_checked
from graphkit.io.schema import TABLE_NAMES, TABLES, TableSpec

__all__ = [
    "SUFFIXES",
    "TableStats",
    "Tables",
    "empty_table",
    "find_table_file",
    "read_table",
    "read_tables",
    "write_rejected_frames",
]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".ndjson")
_DTYPES = {"id": pl.Utf8, "str": pl.Utf8, "label": pl.Utf8, "time": TIME_DTYPE, "number": pl.Float64}
_ROW = "__row"
_REASON = "reason"
DUPLICATE_ROW = "exact duplicate row"
"""The reason of a row dropped by ``dedupe_exact_rows`` (it does not count towards ``max_bad_share``)."""


@dataclass(frozen=True)
class _RowRules:
    """The settings that decide which rows are accepted (from :class:`graphkit.config.Config`)."""

    max_coins: float = Config.max_coins
    dedupe_exact_rows: bool = Config.dedupe_exact_rows

    def __post_init__(self) -> None:
        Config(max_coins=self.max_coins, dedupe_exact_rows=self.dedupe_exact_rows)  # the same range checks


@dataclass(frozen=True)
class TableStats:
    """What reading one table found."""

    name: str
    path: Path | None
    rows_read: int
    accepted: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    time_min: datetime | None = None
    time_max: datetime | None = None
    distinct_ids: dict[str, int] = field(default_factory=dict)
    exact_duplicates: int = 0
    """Accepted-looking rows that repeat an earlier row in every column and
    have no ``gift_id`` (tables with an optional event id: gifts). Kept as
    gifts unless ``dedupe_exact_rows``, which rejects them as ``exact
    duplicate row``; counted either way."""

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def duplicates_kept(self) -> int:
        """Exact duplicates that were accepted (``dedupe_exact_rows`` off)."""
        return self.exact_duplicates - self.rejected_by_reason.get(DUPLICATE_ROW, 0)

    def to_dict(self) -> dict:
        return {
            "table": self.name,
            "file": str(self.path) if self.path else None,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "time_min": self.time_min.isoformat() if self.time_min else None,
            "time_max": self.time_max.isoformat() if self.time_max else None,
            "distinct_ids": dict(self.distinct_ids),
            "exact_duplicates": self.exact_duplicates,
        }


@dataclass(frozen=True)
class Tables:
    """The four input tables, validated, with every canonical column present.

    Absent tables are empty frames and absent optional columns are null
    columns, so that later stages never test for presence; ``present`` says
    which tables were really read. ``extra`` columns of the files are kept
    (as strings) after the canonical ones.

    Attributes
    ----------
    users, streams, devices, gifts : polars.DataFrame
        Accepted rows. Ids are ``Utf8``, times ``Datetime("us", "UTC")``,
        coins ``Float64``, labels ``"bad"``/``"good"``/null.
    rejected : dict
        Table name -> rejected rows (raw values as read, plus ``row``, the
        1-based data row in the file, and ``reason``), only for tables with any.
    stats : dict
        Table name -> :class:`TableStats`, for the present tables.
    present : frozenset
        The tables found in the data directory.
    unknown_accounts : int
        Accounts seen in gifts, devices or streams but not in users (allowed;
        counted). Zero when there is no users table.
    """

    users: pl.DataFrame
    streams: pl.DataFrame
    devices: pl.DataFrame
    gifts: pl.DataFrame
    rejected: dict[str, pl.DataFrame] = field(default_factory=dict)
    stats: dict[str, TableStats] = field(default_factory=dict)
    present: frozenset[str] = frozenset()
    source: Path | None = None
    unknown_accounts: int = 0

    def table(self, name: str) -> pl.DataFrame:
        return getattr(self, name)

    @property
    def rejected_rows(self) -> int:
        return sum(len(df) for df in self.rejected.values())

    @property
    def exact_duplicate_rows(self) -> int:
        """Rows that repeat an earlier row exactly, kept or dropped (:attr:`TableStats.exact_duplicates`)."""
        return sum(stats.exact_duplicates for stats in self.stats.values())

    @property
    def warnings(self) -> list[str]:
        """One line per thing the input allowed that an investigator should know: exact duplicate rows kept."""
        lines = []
        for stats in self.stats.values():
            if stats.duplicates_kept:
                n = stats.duplicates_kept
                lines.append(
                    f"{stats.path or f'<{stats.name} frame>'}: {n:,} exact duplicate row{'s' if n != 1 else ''} "
                    f"(the same value in every column, no gift_id) kept, each counted as another gift; "
                    "if they are repeats of one event, set dedupe_exact_rows = true ([params] of a --config file) "
                    "to drop them, or export a gift_id"
                )
        return lines

    def write_rejected(self, out_dir: str | Path) -> list[Path]:
        """Write ``rejected/NAME.csv`` under ``out_dir`` for each table with rejected rows."""
        return write_rejected_frames(self.rejected, out_dir)

    @classmethod
    def from_frames(
        cls,
        *,
        max_bad_share: float = 1.0,
        max_coins: float = Config.max_coins,
        dedupe_exact_rows: bool = Config.dedupe_exact_rows,
        **frames: pl.DataFrame | None,
    ) -> "Tables":
        """Build :class:`Tables` from in-memory frames (notebooks, tests, the generator).

        Frames go through the same validation as files: rows that break the
        contract are moved to ``rejected``, and :class:`TooManyRejectedError` is
        raised only past ``max_bad_share`` (by default never). ``max_coins``
        and ``dedupe_exact_rows`` are as in :func:`read_tables`.

        Examples
        --------
        >>> import polars as pl
        >>> gifts = pl.DataFrame({"sender_id": ["a"], "receiver_id": ["h"], "coins": [5.0],
        ...                       "sent_at": ["2024-01-01T00:00:00Z"]})
        >>> Tables.from_frames(gifts=gifts).gifts.height
        1
        """
        unknown = sorted(set(frames) - set(TABLE_NAMES))
        if unknown:
            raise InputError(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLE_NAMES)}")
        rules = _RowRules(max_coins=max_coins, dedupe_exact_rows=dedupe_exact_rows)
        parts = {}
        for name in TABLE_NAMES:
            frame = frames.get(name)
            if frame is not None:
                _check_id_types(TABLES[name], dict(frame.schema), {}, f"<{name} frame>")
                parts[name] = _validate(TABLES[name], frame.lazy(), f"<{name} frame>", None, rules)
        _check_bad_share(parts, max_bad_share)
        return _assemble(parts, None)


def write_rejected_frames(rejected: dict[str, pl.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each frame of ``rejected`` to ``out_dir/rejected/NAME.csv`` (atomically)."""
    from graphkit.util.atomic import atomic_write_csv

    return [
        atomic_write_csv(frame, Path(out_dir) / "rejected" / f"{name}.csv")
        for name, frame in sorted(rejected.items())
        if frame.height
    ]


def empty_table(name: str) -> pl.DataFrame:
    """An empty frame with the canonical schema of table ``name``."""
    spec = TABLES[name]
    return pl.DataFrame(schema={c.name: _DTYPES[c.kind] for c in spec.columns})


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
        _check_table_file(path, name, data_dir, f"named for table {name} in {mapping.source}", allow_outside_data_dir)
        return path
    found = [data_dir / f"{name}{suffix}" for suffix in SUFFIXES if os.path.lexists(data_dir / f"{name}{suffix}")]
    for path in found:
        _check_table_file(path, name, data_dir, f"table {name}", allow_outside_data_dir)
    if len(found) > 1:
        raise InputError(
            f"{data_dir}: table {name} is there as {' and '.join(p.name for p in found)}; keep one of them"
        )
    return found[0] if found else None


def _check_table_file(path: Path, name: str, data_dir: Path, what: str, allow_outside: bool) -> None:
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


def read_tables(
    data_dir: str | Path,
    *,
    columns: str | Path | None = None,
    max_bad_share: float = 0.05,
    count_distinct: bool = False,
    allow_outside_data_dir: bool = False,
    max_coins: float = Config.max_coins,
    dedupe_exact_rows: bool = Config.dedupe_exact_rows,
) -> Tables:
    """Read and validate the tables of a data directory.

    Parameters
    ----------
    data_dir : path
        Holds ``users``, ``streams``, ``devices`` and ``gifts`` as ``.csv``,
        ``.csv.gz``, ``.parquet`` or ``.ndjson``; at least one of gifts and devices.
    columns : path, optional
        The mapping file; defaults to ``DATA_DIR/graphkit.toml`` when it exists.
    max_bad_share : float
        Raise :class:`TooManyRejectedError` when a larger share of a table's
        rows is rejected.
    count_distinct : bool
        Also count the distinct ids of every id column
        (``TableStats.distinct_ids``, shown by ``graphkit validate``); hashing
        every id string takes seconds on big tables (4 s at 10^7 gifts), so
        the analysis commands leave it out.
    allow_outside_data_dir : bool
        Read table files that lie outside ``data_dir`` once symbolic links and
        ``..`` are resolved (a mapping's ``file = "/elsewhere/x.csv"``, a link
        to another folder). Off by default: a data directory or mapping file
        from someone else cannot make graphkit read other files of the machine.
    max_coins : float
        Gifts with more coins are rejected rows (``Config.max_coins``).
    dedupe_exact_rows : bool
        Gifts without a ``gift_id`` that repeat an earlier row in every column
        are always counted (``TableStats.exact_duplicates``, and a line in
        ``Tables.warnings``); with ``True`` they are also dropped, as rejected
        rows with the reason ``exact duplicate row`` that do not count towards
        ``max_bad_share`` (``Config.dedupe_exact_rows``).

    Returns
    -------
    Tables

    Raises
    ------
    InputError
        (and its subclasses) with a one-line message naming the file, the
        column and the fix.

    Examples
    --------
    From the repository's root, on the bundled demo data:

    >>> tables = read_tables("fixtures/demo")
    >>> tables.gifts.height, tables.stats["gifts"].rejected
    (60000, 0)
    >>> tables.gifts.schema["sent_at"]
    Datetime(time_unit='us', time_zone='UTC')
    """
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise InputError(f"{data_dir}: data directory not found")
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: not a directory; pass the folder that holds gifts.csv, devices.csv, ...")
    mapping_path = Path(columns) if columns is not None else data_dir / MAPPING_FILE
    if columns is not None and not mapping_path.is_file():
        raise InputError(f"{mapping_path}: mapping file not found")
    if os.path.lexists(mapping_path) and not mapping_path.is_file():
        raise InputError(
            f"{mapping_path}: is not a readable file (a directory or a broken symbolic link); "
            "fix or remove it, or pass the mapping with --columns"
        )
    mapping = load_mapping(mapping_path)
    paths = {
        name: find_table_file(data_dir, name, mapping.get(name), allow_outside_data_dir=allow_outside_data_dir)
        for name in TABLE_NAMES
    }
    paths = {name: path for name, path in paths.items() if path is not None}
    if not paths:
        raise InputError(
            f"{data_dir}: no tables found; expected gifts and/or devices (and optionally users, streams) "
            f"as {', '.join(SUFFIXES)}, or a {MAPPING_FILE} naming the files"
        )
    if "gifts" not in paths and "devices" not in paths:
        raise InputError(
            f"{data_dir}: found {', '.join(sorted(paths))} but neither gifts nor devices; "
            "graphkit needs at least one of them"
        )
    rules = _RowRules(max_coins=max_coins, dedupe_exact_rows=dedupe_exact_rows)
    parts = {name: _read_part(path, name, mapping.get(name), rules) for name, path in paths.items()}
    _check_bad_share(parts, max_bad_share)
    if count_distinct:
        parts = {name: _with_distinct_ids(part) for name, part in parts.items()}
    return _assemble(parts, data_dir)


def _with_distinct_ids(part: _Part) -> _Part:
    """``part`` with ``stats.distinct_ids`` filled (id columns that hold any value; all counted in one parallel pass)."""
    frame = part.accepted
    columns = [
        c.name for c in TABLES[part.stats.name].columns
        if c.kind == "id" and c.name in frame.columns and frame[c.name].null_count() < frame.height
    ]
    counts = frame.select(pl.col(c).drop_nulls().n_unique() for c in columns).row(0) if columns else ()
    return replace(part, stats=replace(part.stats, distinct_ids=dict(zip(columns, counts))))


@dataclass(frozen=True)
class _Part:
    accepted: pl.DataFrame
    rejected: pl.DataFrame
    stats: TableStats
    where: str


def read_table(
    path: str | Path,
    name: str,
    mapping: TableMapping | None = None,
    *,
    max_bad_share: float = 0.05,
    max_coins: float = Config.max_coins,
    dedupe_exact_rows: bool = Config.dedupe_exact_rows,
) -> _Part:
    """Read and validate one table file (see :func:`read_tables`)."""
    part = _read_part(Path(path), name, mapping, _RowRules(max_coins=max_coins, dedupe_exact_rows=dedupe_exact_rows))
    _check_bad_share({name: part}, max_bad_share)
    return part


def _read_part(path: Path, name: str, mapping: TableMapping | None, rules: _RowRules) -> _Part:
    spec = TABLES[name]
    known = set(spec.names) | set(mapping.columns.values() if mapping is not None else ())
    frame, file_types = _scan(path, known)
    renames: dict[str, str] = {}
    clashes: dict[str, str] = {}
    if mapping is not None:
        schema_names = frame.collect_schema().names()
        for canonical, source in mapping.columns.items():
            if source not in schema_names:
                raise ColumnNotFoundError(
                    f"{path}: column {source!r} (mapped to {name}.{canonical} in {mapping.source}) is missing"
                    f"{_near_match(source, schema_names)} ({_header_size(schema_names)}); "
                    f'fix {canonical} = "{source}" under [tables.{name}.columns]'
                )
            renames[source] = canonical
        # a canonical name already used by another, unmapped column is set aside
        clashes = {c: f"{c}__original" for c in mapping.columns if c in schema_names and c not in renames}
        frame = frame.rename({**clashes, **renames})
    origin = {canonical: source for source, canonical in renames.items()}
    types = {renames.get(n, n): t for n, t in file_types.items() if n not in clashes}
    _check_id_types(spec, types, origin, str(path))
    return _validate(spec, frame, str(path), mapping, rules, source_path=path)


_NOT_IDS = {
    pl.Float32: "floating-point numbers",
    pl.Float64: "floating-point numbers",
    pl.List: "lists",
    pl.Array: "arrays",
    pl.Struct: "objects",
    pl.Object: "Python objects",
}
"""Column types that cannot hold an id exactly (a float rounds a 19-digit id; a list is no id)."""


def _check_id_types(spec: TableSpec, types: dict[str, pl.DataType], origin: dict[str, str], where: str) -> None:
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


def _scan(path: Path, known: set[str]) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    """A lazy frame over one table file, every value as read (CSV and NDJSON as
    text), and the types the file itself gives its columns (NDJSON: as inferred
    from its first rows, before they are read as text).

    Error messages name the file and what is wrong with it, never what it
    holds: a mapped file may be one the user did not mean to show.
    """
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".csv.gz") else path.suffix
    if path.stat().st_size == 0:
        fix = "export the table again" + (" with a header row" if _is_csv(path) else "")
        raise InputError(f"{path}: file is empty; {fix}")
    try:
        if suffix in (".csv", ".csv.gz", ".txt", ".tsv") or suffix not in (".parquet", ".ndjson", ".jsonl"):
            eol = _check_head(path, delimited=True, known=known)
            frame = pl.scan_csv(path, infer_schema=False, encoding="utf8", glob=False, eol_char=eol)
            return frame, dict(frame.collect_schema())
        if suffix == ".parquet":
            frame = pl.scan_parquet(path, glob=False)
            return frame, dict(frame.collect_schema())
        _check_head(path, delimited=False, known=known)
        # every value as text, as with CSV: a numeric id keeps its digits, and a
        # column whose type changes after the first rows does not fail the read
        literal = _glob_escape(path)  # scan_ndjson has no glob=False: a folder named "[x]" is not a pattern
        inferred = dict(pl.scan_ndjson(literal, infer_schema_length=10_000).collect_schema())
        if not inferred:
            raise InputError(f"{path}: no JSON objects found; write one JSON object per line")
        frame = pl.scan_ndjson(literal, schema_overrides=dict.fromkeys(inferred, pl.Utf8), infer_schema_length=10_000)
        frame.collect_schema()
        return frame, inferred
    except _READ_ERRORS as exc:
        raise InputError(_unreadable(path, exc, f"check that it is a valid {suffix} file")) from None


_READ_ERRORS = (pl.exceptions.PolarsError, OSError, EOFError, zlib.error)
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
        raise InputError(_unreadable(path, exc, "check that it is a complete file")) from None
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


def _locate_bad_utf8(path: Path) -> str:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f"line {number} has bytes that are not UTF-8"
    return "bytes that are not UTF-8"


def _unreadable(path: Path | str, exc: BaseException, fix: str) -> str:
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


def _header_size(names: list[str]) -> str:
    """``"the header has 4 columns"``: how many, never what they are called."""
    return f"the header has {len(names)} column{'s' if len(names) != 1 else ''}" if names else "the header has no columns"


def _validate(
    spec: TableSpec,
    frame: pl.LazyFrame,
    where: str,
    mapping: TableMapping | None,
    rules: _RowRules,
    source_path: Path | None = None,
) -> _Part:
    schema = frame.collect_schema()
    names = schema.names()
    hint = (
        f"rename it in the file or map it in {mapping.source if mapping else MAPPING_FILE} "
        f"under [tables.{spec.name}.columns]"
    )
    for column in spec.required:
        if column not in names:
            raise ColumnNotFoundError(
                f"{where}: required column {column!r} is missing{_near_match(column, names)} "
                f"({_header_size(names)}); {hint}"
            )
    if spec.one_of and not any(c in names for c in spec.one_of):
        raise ColumnNotFoundError(
            f"{where}: needs at least one of the columns {' or '.join(map(repr, spec.one_of))} "
            f"({_header_size(names)}); {hint}"
        )
    extra = [n for n in names if n not in spec.names]
    raw = frame.with_row_index(_ROW, offset=1).with_columns(
        [_as_text(n, schema[n]) for n in names if not _is_time(schema[n])]
    )
    parsed_exprs, checks, time_structs = [], [], []
    for col in spec.columns:
        p = f"__p_{col.name}"
        if col.name not in names:
            parsed_exprs.append(pl.lit(None, dtype=_DTYPES[col.kind]).alias(p))
            continue
        source = pl.col(col.name)
        if col.kind == "time":
            unit = mapping.units.get(col.name) if mapping is not None else None
            time_structs.append(parse_time_checked(source, unit=unit, name=col.name).alias(f"__t_{col.name}"))
            parsed = pl.col(f"__t_{col.name}").struct.field("time")
        elif col.kind == "number":
            parsed = parse_coins(source)
        elif col.kind == "label":
            parsed = parse_label(source)
        else:
            parsed = parse_id(source)
        parsed_exprs.append(parsed.alias(p))
        present = source.is_not_null() & (source.cast(pl.Utf8).str.len_bytes() > 0)
        if col.required:
            checks.append(pl.when(~present).then(pl.lit(f"missing {col.name}")))
        if col.kind == "time":
            checks.append(pl.when(present).then(pl.col(f"__t_{col.name}").struct.field("problem")))
        elif col.kind == "number":
            checks.append(pl.when(present & pl.col(p).is_null()).then(pl.lit(f"{col.name} not a number")))
            checks.append(pl.when(pl.col(p) < 0).then(pl.lit(f"negative {col.name}")))
            checks.append(pl.when(pl.col(p).is_nan() | pl.col(p).is_infinite()).then(pl.lit(f"{col.name} not a number")))
            checks.append(
                pl.when(pl.col(p) > rules.max_coins).then(pl.lit(f"{col.name} above max_coins ({rules.max_coins:,.0f})"))
            )
        elif col.kind == "label":
            checks.append(pl.when(present & pl.col(p).is_null()).then(pl.lit(f"unrecognised {col.name}")))
    if spec.one_of:
        any_present = pl.any_horizontal([pl.col(f"__p_{c}").is_not_null() for c in spec.one_of])
        checks.append(pl.when(~any_present).then(pl.lit(f"missing {' and '.join(spec.one_of)}")))
    staged = raw.with_columns(time_structs).with_columns(parsed_exprs).with_columns(
        pl.coalesce(checks or [pl.lit(None, pl.Utf8)]).alias(_REASON)
    )
    for col in spec.columns:
        if col.unique and col.name in names:
            # a duplicate is judged among the otherwise valid rows: the first valid row wins
            valid_id = pl.when(pl.col(_REASON).is_null()).then(pl.col(f"__p_{col.name}"))
            staged = staged.with_columns(
                pl.when(valid_id.is_not_null() & ~valid_id.is_first_distinct())
                .then(pl.lit(f"duplicate {col.name}"))
                .otherwise(pl.col(_REASON))
                .alias(_REASON)
            )
    try:
        collected = staged.collect()
    except _READ_ERRORS as exc:
        if "utf-8" in str(exc).lower() and source_path is not None:
            raise SchemaError(f"{where}: {_locate_bad_utf8(source_path)}; re-export the file as UTF-8") from None
        fix = (
            "check that every line has the header's fields and that quotes are closed"
            if source_path is not None and _is_csv(source_path)
            else "check that it is a complete, valid file"
        )
        raise InputError(_unreadable(where, exc, fix)) from None

    collected, duplicates = _mark_exact_duplicates(spec, collected, names, rules.dedupe_exact_rows)
    ok = pl.col(_REASON).is_null()
    accepted = collected.filter(ok).select(
        [pl.col(f"__p_{c.name}").alias(c.name) for c in spec.columns] + [pl.col(e) for e in extra]
    )
    rejected = collected.filter(~ok).select(
        [pl.col(_ROW).alias("row"), *[pl.col(n) for n in names], pl.col(_REASON)]
    )
    counts = rejected.group_by(_REASON).len().sort(_REASON)
    stats = TableStats(
        name=spec.name,
        path=source_path,
        rows_read=collected.height,
        accepted=accepted.height,
        rejected_by_reason=dict(zip(counts[_REASON].to_list(), counts["len"].to_list())),
        time_min=_time_bound(accepted, spec, "min"),
        time_max=_time_bound(accepted, spec, "max"),
        exact_duplicates=duplicates,
    )
    return _Part(accepted, rejected, stats, where)


def _mark_exact_duplicates(
    spec: TableSpec, collected: pl.DataFrame, names: list[str], drop: bool
) -> tuple[pl.DataFrame, int]:
    """Count the valid rows without an event id that repeat an earlier row in every column.

    Only tables whose rows are events with an optional id (gifts and its
    ``gift_id``) are checked: a repeated user or stream id is already a
    rejected row. With ``drop``, the repeats get the reason :data:`DUPLICATE_ROW`.
    Rows with an id are judged by the id (``duplicate gift_id``). The raw
    values are compared, so rows that differ in any column, used or not, are
    not duplicates. Hashing happens only on the candidate rows.
    """
    event_id = next((c.name for c in spec.columns if c.unique and not c.required), None)
    if event_id is None or not names or collected.height == 0:
        return collected, 0
    candidate = pl.col(_REASON).is_null() & pl.col(f"__p_{event_id}").is_null()
    pool = collected.select(_ROW, *names).filter(collected.select(candidate).to_series())
    if pool.height < 2:
        return collected, 0
    repeats = pool.filter(~pl.struct(names).is_first_distinct())[_ROW]
    if drop and repeats.len():
        collected = collected.with_columns(
            pl.when(pl.col(_ROW).is_in(repeats.implode())).then(pl.lit(DUPLICATE_ROW)).otherwise(pl.col(_REASON)).alias(_REASON)
        )
    return collected, repeats.len()


def _check_bad_share(parts: dict[str, _Part], max_bad_share: float) -> None:
    """Raise :class:`TooManyRejectedError` (carrying every table's rejected rows)
    when a table's rejected share is above ``max_bad_share``."""
    def bad(stats: TableStats) -> int:  # repeats dropped on request are not bad rows
        return stats.rejected - stats.rejected_by_reason.get(DUPLICATE_ROW, 0)

    over = [
        part for part in parts.values()
        if part.stats.rows_read and bad(part.stats) / part.stats.rows_read > max_bad_share
    ]
    if not over:
        return
    first = over[0]
    read, bad_rows = first.stats.rows_read, bad(first.stats)
    reasons = {r: n for r, n in first.stats.rejected_by_reason.items() if r != DUPLICATE_ROW}
    top_reason, top_count = max(reasons.items(), key=lambda kv: kv[1])
    also = f"; also over in {', '.join(p.where for p in over[1:])}" if len(over) > 1 else ""
    raise TooManyRejectedError(
        f"{first.where}: {bad_rows:,} of {read:,} rows rejected ({bad_rows / read:.1%}, more than max_bad_share "
        f"{max_bad_share:.0%}; most often {top_reason!r}: {top_count:,}){also}; "
        "fix the export or raise max_bad_share",
        rejected={name: part.rejected for name, part in parts.items() if part.rejected.height},
    )


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A file column as text, as the contract sees every value; nested values as JSON."""
    if isinstance(dtype, pl.Struct):
        return pl.col(name).struct.json_encode()
    if isinstance(dtype, (pl.List, pl.Array)):
        wrapped = pl.struct(pl.col(name).alias("v")).struct.json_encode()
        return pl.when(pl.col(name).is_not_null()).then(wrapped.str.slice(5, wrapped.str.len_chars() - 6)).alias(name)
    return pl.col(name).cast(pl.Utf8)


def _near_match(wanted: str, names: list[str]) -> str:
    """``" (found 'Sender_ID ')"`` when a column differs only by case or spaces."""
    near = [n for n in names if n != wanted and n.strip().lower() == wanted.strip().lower()]
    return f" (found {near[0]!r}: fix its case or spaces)" if near else ""


def _is_csv(path: Path) -> bool:
    return path.suffix not in (".parquet", ".ndjson", ".jsonl")


def _time_bound(frame: pl.DataFrame, spec: TableSpec, how: str) -> datetime | None:
    times = [c.name for c in spec.columns if c.kind == "time"]
    if not times or frame.height == 0:
        return None
    first = times[0]
    value = getattr(frame[first], how)()
    return value


def _is_time(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Datetime)


def _assemble(parts: dict[str, _Part], source: Path | None) -> Tables:
    frames = {name: (parts[name].accepted if name in parts else empty_table(name)) for name in TABLE_NAMES}
    users = frames["users"]
    unknown = 0
    if "users" in parts:
        seen = pl.concat(
            [
                frames["gifts"].lazy().select(pl.col("sender_id").alias("user_id")),
                frames["gifts"].lazy().select(pl.col("receiver_id").alias("user_id")),
                frames["devices"].lazy().select("user_id"),
                frames["streams"].lazy().select(pl.col("host_id").alias("user_id")),
            ]
        )
        # the (few) unknown ids are deduplicated, not the 10^7 seen ones
        unknown = seen.join(users.lazy().select("user_id"), on="user_id", how="anti").unique().select(pl.len()).collect().item()
    return Tables(
        users=frames["users"],
        streams=frames["streams"],
        devices=frames["devices"],
        gifts=frames["gifts"],
        rejected={name: p.rejected for name, p in parts.items() if p.rejected.height},
        stats={name: p.stats for name, p in parts.items()},
        present=frozenset(parts),
        source=source,
        unknown_accounts=unknown,
    )
