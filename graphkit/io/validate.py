"""Validating one scanned table against the data contract: accepted rows, rejected rows with reasons, counts.

One pass parses every column, keeps the raw values beside the parsed ones and names the first reason a
row breaks the contract; accepted + rejected = rows read, always.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from graphkit.config import Config
from graphkit.errors import ColumnNotFoundError, InputError, SchemaError, TooManyRejectedError
from graphkit.io.mapping import MAPPING_FILE, TableMapping
from graphkit.io.parse import TIME_DTYPE, TIME_RULE, parse_coins, parse_flag_kind, parse_id, parse_label, parse_time_checked
from graphkit.io.schema import TABLES, TableSpec
from graphkit.io.scan import READ_ERRORS, ROW, header_size, is_csv, locate_bad_utf8, near_match, unreadable
from graphkit.io.window import TimeWindow

__all__ = ["AFTER_DATA", "UNKNOWN_FLAG_ACCOUNT", "DTYPES", "DUPLICATE_ROW", "REASON", "ROW", "RowRules", "TableStats", "ValidatedPart", "check_bad_share", "rows_in_scope", "time_bound", "validate_table"]

DTYPES = {"id": pl.Utf8, "str": pl.Utf8, "label": pl.Utf8, "time": TIME_DTYPE, "number": pl.Float64,
          "flag_kind": pl.Utf8, "share": pl.Float64}


REASON = "reason"


DUPLICATE_ROW = "exact duplicate row"
"""The reason of a row dropped by ``dedupe_exact_rows`` (it does not count towards ``max_bad_share``)."""


AFTER_DATA = "at after the data's last event"
"""The reason of a flag dated after the last gift or device sighting of the data: scores must not
know the future, and a flags export is often newer than the events (not counted towards ``max_bad_share``)."""

UNKNOWN_FLAG_ACCOUNT = "unknown user_id (in no gift, device, stream or user row)"
"""The reason of a flag whose account no other table holds (both engines check it against the others)."""

_NOT_BAD = (DUPLICATE_ROW, AFTER_DATA)


@dataclass(frozen=True)
class RowRules:
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
    out_of_window: int = 0
    """Rows whose time lies outside the ``--since/--until`` window: skipped
    before validation (Parquet row groups wholly outside it are not even
    read), so ``accepted + rejected + out_of_window == rows_read``."""

    @property
    def in_scope(self) -> int:
        """The rows validation judged: those in the window (every row without one)."""
        return self.rows_read - self.out_of_window

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
            **({"out_of_window": self.out_of_window} if self.out_of_window else {}),
        }


@dataclass(frozen=True)
class ValidatedPart:
    accepted: pl.DataFrame
    rejected: pl.DataFrame
    stats: TableStats
    where: str


def validate_table(
    spec: TableSpec,
    frame: pl.LazyFrame,
    where: str,
    mapping: TableMapping | None,
    rules: RowRules,
    source_path: Path | None = None,
    window: TimeWindow | None = None,
    *,
    keep: pl.Expr | None = None,
    more_checks: tuple[pl.Expr, ...] = (),
) -> ValidatedPart:
    """Validate one scanned table: accepted rows, rejected rows with reasons, and the counts.

    With a bounded ``window``, only the rows in it (:meth:`TimeWindow.table`)
    are validated: a filter on the stored time column goes into the scan
    (:meth:`TimeWindow.pushdown`), and the exact rule is applied to the parsed
    times. A row whose time cannot be read is in scope (it is rejected with
    its reason); the others outside are counted in ``stats.out_of_window``.

    ``keep`` leaves rows out before anything is read of them (a mapping's ``where``: such rows are
    neither accepted nor rejected; ``row`` still counts the file's rows). ``more_checks`` are reasons
    judged after the table's own, on the parsed values (``__p_<column>``): a flag's unknown account.
    """
    schema = frame.collect_schema()
    names = [name for name in schema.names() if name != ROW]
    hint = (
        f"rename it in the file or map it in {mapping.source if mapping else MAPPING_FILE} "
        f"under [tables.{spec.name}.columns]"
    )
    for column in spec.required:
        if column not in names:
            raise ColumnNotFoundError(
                f"{where}: required column {column!r} is missing{near_match(column, names)} "
                f"({header_size(names)}); {hint}"
            )
    if spec.one_of and not any(c in names for c in spec.one_of):
        raise ColumnNotFoundError(
            f"{where}: needs at least one of the columns {' or '.join(map(repr, spec.one_of))} "
            f"({header_size(names)}); {hint}"
        )
    extra = [n for n in names if n not in spec.names]
    scoped = window is not None and window.table(spec.name) is not None
    raw = rows_in_scope(frame, spec.name, window if scoped else None, keep=keep)
    raw = raw.with_columns([_as_text(n, schema[n]) for n in names if not _is_time(schema[n])])
    parsed_exprs, checks, time_structs = [], [], []
    for col in spec.columns:
        p = f"__p_{col.name}"
        if col.name not in names:
            parsed_exprs.append(pl.lit(None, dtype=DTYPES[col.kind]).alias(p))
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
        elif col.kind == "flag_kind":
            parsed = parse_flag_kind(source)
        elif col.kind == "share":
            parsed = parse_coins(source)
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
        elif col.kind == "flag_kind":
            checks.append(pl.when(present & pl.col(p).is_null()).then(
                pl.lit(f"bad {col.name} (a word of letters, digits, _ or -, at most 40 characters)")))
        elif col.kind == "share":
            checks.append(pl.when(present & (pl.col(p).is_null() | pl.col(p).is_nan())).then(pl.lit(f"{col.name} not a number")))
            checks.append(pl.when((pl.col(p) < 0) | (pl.col(p) > 1)).then(pl.lit(f"{col.name} outside 0-1")))
    checks.extend(more_checks)
    if spec.one_of:
        any_present = pl.any_horizontal([pl.col(f"__p_{c}").is_not_null() for c in spec.one_of])
        checks.append(pl.when(~any_present).then(pl.lit(f"missing {' and '.join(spec.one_of)}")))
    staged = raw.with_columns(time_structs).with_columns(parsed_exprs).with_columns(
        pl.coalesce(checks or [pl.lit(None, pl.Utf8)]).alias(REASON)
    )
    if scoped:
        staged = staged.filter(~_out_of_window(spec, names, window))
    for col in spec.columns:
        if col.unique and col.name in names:
            # a duplicate is judged among the otherwise valid rows: the first valid row wins
            valid_id = pl.when(pl.col(REASON).is_null()).then(pl.col(f"__p_{col.name}"))
            staged = staged.with_columns(
                pl.when(valid_id.is_not_null() & ~valid_id.is_first_distinct())
                .then(pl.lit(f"duplicate {col.name}"))
                .otherwise(pl.col(REASON))
                .alias(REASON)
            )
    try:
        collected = staged.collect()
    except READ_ERRORS as exc:
        if "utf-8" in str(exc).lower() and source_path is not None:
            raise SchemaError(f"{where}: {locate_bad_utf8(source_path)}; re-export the file as UTF-8") from None
        fix = (
            "check that every line has the header's fields and that quotes are closed"
            if source_path is not None and is_csv(source_path)
            else "check that it is a complete, valid file"
        )
        raise InputError(unreadable(where, exc, fix)) from None

    # the rows a mapping's ``where`` leaves out are not read at all: neither in nor out of the window
    kept = frame.filter(keep) if keep is not None else frame
    rows_read = kept.select(pl.len()).collect().item() if scoped else collected.height
    collected, duplicates = mark_exact_duplicates(spec, collected, names, rules.dedupe_exact_rows)
    ok = pl.col(REASON).is_null()
    accepted = collected.filter(ok).select(
        [pl.col(f"__p_{c.name}").alias(c.name) for c in spec.columns] + [pl.col(e) for e in extra]
    )
    rejected = collected.filter(~ok).select(
        [pl.col(ROW).alias("row"), *[pl.col(n) for n in names], pl.col(REASON)]
    )
    counts = rejected.group_by(REASON).len().sort(REASON)
    stats = TableStats(
        name=spec.name,
        path=source_path,
        rows_read=rows_read,
        accepted=accepted.height,
        rejected_by_reason=dict(zip(counts[REASON].to_list(), counts["len"].to_list())),
        time_min=time_bound(accepted, spec, "min"),
        time_max=time_bound(accepted, spec, "max"),
        exact_duplicates=duplicates,
        out_of_window=rows_read - collected.height,
    )
    return ValidatedPart(accepted, rejected, stats, where)


def rows_in_scope(frame: pl.LazyFrame, name: str, window: TimeWindow | None, *, keep: pl.Expr | None = None) -> pl.LazyFrame:
    """The rows of table ``name`` that validation reads, numbered (``ROW``), before any value is parsed.

    A frame from :func:`graphkit.io.scan.scan_table` numbers its rows itself;
    any other frame is numbered here. ``keep`` (a mapping's ``where``) and the
    window's :meth:`TimeWindow.pushdown` filter it, so that a Parquet scan
    skips the row groups outside the window.

    Examples
    --------
    >>> from graphkit.io.window import time_window
    >>> frame = pl.LazyFrame({"sent_at": [datetime(2024, 5, 1), datetime(2024, 5, 3)]},
    ...                      schema={"sent_at": pl.Datetime("us", "UTC")})
    >>> rows_in_scope(frame, "gifts", time_window("2024-05-02", "2024-05-04")).collect()[ROW].to_list()
    [2]
    """
    schema = frame.collect_schema()
    rows = frame if ROW in schema else frame.with_row_index(ROW, offset=1)
    if keep is not None:
        rows = rows.filter(keep)
    pushed = window.pushdown(name, dict(schema)) if window is not None else None
    return rows if pushed is None else rows.filter(pushed)


def _out_of_window(spec: TableSpec, names: list[str], window: TimeWindow) -> pl.Expr:
    """Rows whose times were read and lie outside ``window`` (a time that cannot be read keeps its row in scope)."""
    times_read = [
        pl.col(f"__t_{c.name}").struct.field("problem").is_null()
        & (pl.col(c.name).is_not_null() & (pl.col(c.name).cast(pl.Utf8).str.len_bytes() > 0) if c.required
           else pl.lit(True))
        for c in spec.columns if c.kind == "time" and c.name in names
    ]
    inside = window.table(spec.name, lambda column: pl.col(f"__p_{column}"))
    return pl.all_horizontal(times_read or [pl.lit(True)]) & ~inside


def mark_exact_duplicates(
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
    candidate = pl.col(REASON).is_null() & pl.col(f"__p_{event_id}").is_null()
    pool = collected.select(ROW, *names).filter(collected.select(candidate).to_series())
    if pool.height < 2:
        return collected, 0
    repeats = pool.filter(~pl.struct(names).is_first_distinct())[ROW]
    if drop and repeats.len():
        collected = collected.with_columns(
            pl.when(pl.col(ROW).is_in(repeats.implode())).then(pl.lit(DUPLICATE_ROW)).otherwise(pl.col(REASON)).alias(REASON)
        )
    return collected, repeats.len()


def check_bad_share(parts: dict[str, ValidatedPart], max_bad_share: float) -> None:
    """Raise :class:`TooManyRejectedError` (carrying every table's rejected rows)
    when a table's rejected share is above ``max_bad_share``."""
    def bad(stats: TableStats) -> int:  # repeats dropped on request and flags newer than the data are not bad rows
        return stats.rejected - sum(stats.rejected_by_reason.get(r, 0) for r in _NOT_BAD)

    over = [
        part for part in parts.values()
        if part.stats.in_scope and bad(part.stats) / part.stats.in_scope > max_bad_share
    ]
    if not over:
        return
    first = over[0]
    read, bad_rows = first.stats.in_scope, bad(first.stats)
    reasons = {r: n for r, n in first.stats.rejected_by_reason.items() if r not in _NOT_BAD}
    top_reason, top_count = max(reasons.items(), key=lambda kv: kv[1])
    also = f"; also over in {', '.join(p.where for p in over[1:])}" if len(over) > 1 else ""
    name = next(name for name, part in parts.items() if part is first)
    times = [c.name for c in TABLES[name].columns if c.kind == "time"] if name in TABLES else []
    about_time = any(top_reason.startswith((f"unparseable {t}", f"{t} ")) for t in times)
    rule = f"; {TIME_RULE}" if about_time else ""  # a time export in another format: say how times are read
    raise TooManyRejectedError(
        f"{first.where}: {bad_rows:,} of {read:,} rows rejected ({bad_rows / read:.1%}, more than max_bad_share "
        f"{max_bad_share:.0%}; most often {top_reason!r}: {top_count:,}){also}; "
        f"fix the export or raise max_bad_share{rule}",
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


def time_bound(frame: pl.DataFrame, spec: TableSpec, how: str) -> datetime | None:
    times = [c.name for c in spec.columns if c.kind == "time"]
    if not times or frame.height == 0:
        return None
    first = times[0]
    value = getattr(frame[first], how)()
    return value


def _is_time(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Datetime)
