"""Read a data directory into validated :class:`Tables` (CONTRACT.md, Input).

Reading is lazy (``polars.scan_*``) and each table is collected once: the
parsed values, the raw values and the rejection reason come out of one pass,
then split into accepted rows and rejected rows. Accepted + rejected = rows
read, always.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from graphkit.config import Config
from graphkit.errors import ColumnNotFoundError, InputError
from graphkit.io.mapping import MAPPING_FILE, TableMapping, load_mapping
from graphkit.io.schema import TABLE_NAMES, TABLES
from graphkit.io.parse import TIME_DTYPE
from graphkit.io.scan import ROW, SUFFIXES, check_id_types, find_table_file, header_size, near_match, scan_table
from graphkit.io.validate import (
    AFTER_DATA, DTYPES, UNKNOWN_FLAG_ACCOUNT, RowRules, TableStats, ValidatedPart, check_bad_share, time_bound,
    validate_table,
)
from graphkit.io.window import TimeWindow, empty_window_message

__all__ = [
    "SUFFIXES",
    "TableStats",
    "Tables",
    "empty_table",
    "find_table_file",
    "mapped_names",
    "read_table",
    "read_tables",
    "write_rejected_frames",
]


@dataclass(frozen=True)
class Tables:
    """The input tables, validated, with every canonical column present.

    Absent tables are empty frames and absent optional columns are null
    columns, so that later stages never test for presence; ``present`` says
    which tables were really read. ``extra`` columns of the files are kept
    (as strings) after the canonical ones.

    Attributes
    ----------
    users, streams, devices, gifts : polars.DataFrame
        Accepted rows. Ids are ``Utf8``, times ``Datetime("us", "UTC")``,
        coins ``Float64``, labels ``"bad"``/``"good"``/null.
    flags : polars.DataFrame
        What the platform already knows about accounts (optional table):
        ``user_id``, ``kind`` (trimmed, lower-cased), ``at``, ``weight``
        (null when the file has none). Only flags of accounts seen in the
        other tables, dated at or before the data's last gift or device
        sighting, are accepted; the others are rejected rows.
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
    flags: pl.DataFrame = field(default_factory=lambda: empty_table("flags"))
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
        rules = RowRules(max_coins=max_coins, dedupe_exact_rows=dedupe_exact_rows)
        parts: dict[str, ValidatedPart] = {}
        for name in TABLE_NAMES:
            frame = frames.get(name)
            if frame is not None:
                check_id_types(TABLES[name], dict(frame.schema), {}, f"<{name} frame>")
                more = _flag_checks(parts) if name == "flags" else ()
                parts[name] = validate_table(TABLES[name], frame.lazy(), f"<{name} frame>", None, rules, more_checks=more)
        check_bad_share(parts, max_bad_share)
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
    return pl.DataFrame(schema={c.name: DTYPES[c.kind] for c in spec.columns})


def read_tables(
    data_dir: str | Path,
    *,
    columns: str | Path | None = None,
    max_bad_share: float = 0.05,
    count_distinct: bool = False,
    allow_outside_data_dir: bool = False,
    max_coins: float = Config.max_coins,
    dedupe_exact_rows: bool = Config.dedupe_exact_rows,
    window: TimeWindow | None = None,
) -> Tables:
    """Read and validate the tables of a data directory.

    Parameters
    ----------
    data_dir : path
        Holds ``users``, ``streams``, ``devices``, ``gifts`` and optionally ``flags`` as ``.csv``,
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
    window : TimeWindow, optional
        Read only the gifts, device sightings and streams of this window
        (:func:`graphkit.io.window.time_window`), pushed into the scans: a
        Parquet file sorted by time reads only the row groups of the window,
        CSV and NDJSON stream through the filter. Validation, rejected rows
        and ``max_bad_share`` cover the rows in the window; the others are
        counted in ``TableStats.out_of_window``. Users are read and validated
        whole, then only the accounts the window touches are kept
        (:meth:`graphkit.io.window.TimeWindow.accounts`); the others count as
        out of the window.

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

    Only one day of gifts:

    >>> from graphkit.io.window import time_window
    >>> day = read_tables("fixtures/demo", window=time_window("2024-05-10", "2024-05-11")).stats["gifts"]
    >>> day.accepted + day.rejected + day.out_of_window == day.rows_read == 60000
    True
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
    rules = RowRules(max_coins=max_coins, dedupe_exact_rows=dedupe_exact_rows)
    parts: dict[str, ValidatedPart] = {}
    for name, path in paths.items():  # in TABLE_NAMES order: flags last, checked against the others
        more = _flag_checks(parts) if name == "flags" else ()
        parts[name] = _read_part(path, name, mapping.get(name), rules, more_checks=more, window=window)
    check_bad_share(parts, max_bad_share)
    if not any(parts[name].stats.rows_read for name in ("gifts", "devices") if name in parts):
        found = ", ".join(str(paths[name].name) for name in ("gifts", "devices") if name in paths)
        raise InputError(f"{data_dir}: {found} hold no rows, only a header; export the gifts or devices again")
    if window is not None and window.bounded:
        _check_window_not_empty(parts, paths, mapping, rules, window)
        if "users" in parts:  # validated whole (rejected rows kept), flags checked against them: now narrowed
            parts["users"] = _users_of_window(parts, window)
    if count_distinct:
        parts = {name: _with_distinct_ids(part) for name, part in parts.items()}
    return _assemble(parts, data_dir)


def _check_window_not_empty(parts: dict[str, ValidatedPart], paths: dict[str, Path],
                             mapping: dict[str, TableMapping], rules: RowRules, window: TimeWindow) -> None:
    """Raise :class:`InputError` when the window holds no gift and no dated device sighting.

    The message gives the span of the whole data, which only a second read
    without the window knows (on this failure only).
    """
    gifts = parts["gifts"].accepted.height if "gifts" in parts else 0
    sightings = parts["devices"].accepted.get_column("seen_at").drop_nulls().len() if "devices" in parts else 0
    if gifts or sightings:
        return
    times = [
        _read_part(paths[name], name, mapping.get(name), rules, window=None).accepted.get_column(column)
        for name, column in (("gifts", "sent_at"), ("devices", "seen_at")) if name in paths
    ]
    raise InputError(empty_window_message(pl.concat(times), window.since, window.until))


def _users_of_window(parts: dict[str, ValidatedPart], window: TimeWindow) -> ValidatedPart:
    """The users part with only the accounts the window touches (:meth:`TimeWindow.accounts`); the others are
    counted in ``stats.out_of_window``, so that ``accepted + rejected + out_of_window == rows_read`` still holds."""
    def accepted(name: str) -> pl.DataFrame:
        return parts[name].accepted if name in parts else empty_table(name)

    users = parts["users"]
    touched = window.accounts(gifts=accepted("gifts"), devices=accepted("devices"), streams=accepted("streams"),
                              users=users.accepted, flags=accepted("flags"))
    kept = users.accepted.filter(pl.col("user_id").is_in(touched.implode()))
    left_out = users.accepted.height - kept.height
    stats = replace(users.stats, accepted=kept.height, out_of_window=users.stats.out_of_window + left_out,
                    time_min=time_bound(kept, TABLES["users"], "min"), time_max=time_bound(kept, TABLES["users"], "max"))
    return replace(users, accepted=kept, stats=stats)


def _with_distinct_ids(part: ValidatedPart) -> ValidatedPart:
    """``part`` with ``stats.distinct_ids`` filled (id columns that hold any value; all counted in one parallel pass)."""
    frame = part.accepted
    columns = [
        c.name for c in TABLES[part.stats.name].columns
        if c.kind == "id" and c.name in frame.columns and frame[c.name].null_count() < frame.height
    ]
    counts = frame.select(pl.col(c).drop_nulls().n_unique() for c in columns).row(0) if columns else ()
    return replace(part, stats=replace(part.stats, distinct_ids=dict(zip(columns, counts))))


def read_table(
    path: str | Path,
    name: str,
    mapping: TableMapping | None = None,
    *,
    max_bad_share: float = 0.05,
    max_coins: float = Config.max_coins,
    dedupe_exact_rows: bool = Config.dedupe_exact_rows,
) -> ValidatedPart:
    """Read and validate one table file (see :func:`read_tables`)."""
    part = _read_part(Path(path), name, mapping, RowRules(max_coins=max_coins, dedupe_exact_rows=dedupe_exact_rows))
    check_bad_share({name: part}, max_bad_share)
    return part


def _flag_checks(parts: dict[str, ValidatedPart]) -> tuple[pl.Expr, ...]:
    """The flags table's reasons that depend on the other tables: an account none of them has, and a
    time after the data's last gift or device sighting (scores must not know what came later)."""
    def accepted(name: str) -> pl.DataFrame:
        return parts[name].accepted if name in parts else empty_table(name)

    gifts, devices, users, streams = accepted("gifts"), accepted("devices"), accepted("users"), accepted("streams")
    known = pl.concat([
        gifts.get_column("sender_id"), gifts.get_column("receiver_id"), devices.get_column("user_id"),
        users.get_column("user_id"), streams.get_column("host_id"),
    ]).drop_nulls().unique()
    times = pl.concat([gifts.get_column("sent_at"), devices.get_column("seen_at")]).drop_nulls()
    checks = [pl.when(~pl.col("__p_user_id").is_in(known.implode())).then(pl.lit(UNKNOWN_FLAG_ACCOUNT))]
    if times.len():
        checks.append(pl.when(pl.col("__p_at") > pl.lit(times.max(), dtype=TIME_DTYPE)).then(pl.lit(AFTER_DATA)))
    return tuple(checks)


def _read_part(
    path: Path, name: str, mapping: TableMapping | None, rules: RowRules, *, more_checks: tuple[pl.Expr, ...] = (),
    window: TimeWindow | None = None,
) -> ValidatedPart:
    spec = TABLES[name]
    known = set(spec.names) | set(mapping.columns.values() if mapping is not None else ())
    frame, file_types = scan_table(path, known)
    renames: dict[str, str] = {}
    clashes: dict[str, str] = {}
    if mapping is not None:
        schema_names = [n for n in frame.collect_schema().names() if n != ROW]
        renames, clashes = mapped_names(mapping, name, schema_names, str(path))
        frame = frame.rename({**clashes, **renames})
        if mapping.constants:
            frame = frame.with_columns(pl.lit(value, dtype=pl.Utf8).alias(c) for c, value in mapping.constants.items())
    origin = {canonical: source for source, canonical in renames.items()}
    types = {renames.get(n, n): t for n, t in file_types.items() if n not in clashes}
    check_id_types(spec, types, origin, str(path))
    keep = None
    if mapping is not None and mapping.where is not None:
        column = mapping.where.column
        keep = mapping.where.expr(renames.get(column, clashes.get(column, column)))
    return validate_table(spec, frame, str(path), mapping, rules, source_path=path, keep=keep, more_checks=more_checks,
                          window=window)


def mapped_names(mapping: TableMapping, name: str, names: list[str], where: str) -> tuple[dict[str, str], dict[str, str]]:
    """The renames of table ``name``'s mapping over a file with columns ``names``: ``(source -> canonical,
    set-aside column -> new name)``. A canonical name already used by another, unmapped column is set aside
    as ``NAME__original``. A mapped column or the ``where`` column that the file lacks is a one-line
    :class:`ColumnNotFoundError` naming ``where`` (the file, or the Spark table) and the fix.

    Examples
    --------
    >>> mapped_names(TableMapping(columns={"coins": "amount"}), "gifts", ["amount", "coins"], "g.csv")
    ({'amount': 'coins'}, {'coins': 'coins__original'})
    """
    renames: dict[str, str] = {}
    for canonical, source in mapping.columns.items():
        if source not in names:
            raise ColumnNotFoundError(
                f"{where}: column {source!r} (mapped to {name}.{canonical} in {mapping.source}) is missing"
                f"{near_match(source, names)} ({header_size(names)}); "
                f'fix {canonical} = "{source}" under [tables.{name}.columns]'
            )
        renames[source] = canonical
    if mapping.where is not None and mapping.where.column not in names:
        raise ColumnNotFoundError(
            f"{where}: column {mapping.where.column!r} (in where of [tables.{name}] in {mapping.source}) is missing"
            f"{near_match(mapping.where.column, names)} ({header_size(names)}); fix the where line"
        )
    taken = set(mapping.columns) | set(mapping.constants)
    return renames, {c: f"{c}__original" for c in taken if c in names and c not in renames}


def _assemble(parts: dict[str, ValidatedPart], source: Path | None) -> Tables:
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
        flags=frames["flags"],
        rejected={name: p.rejected for name, p in parts.items() if p.rejected.height},
        stats={name: p.stats for name, p in parts.items()},
        present=frozenset(parts),
        source=source,
        unknown_accounts=unknown,
    )
