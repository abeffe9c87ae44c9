"""Reading an investigators' decisions file: ``graphkit report --labels`` and ``graphkit eval --labels``.

One row is one decision about one ring or one account:

| column | required | meaning |
|---|---|---|
| ``ring_id`` | one of ring_id / user_id | a ring of the report the investigator judged |
| ``user_id`` | one of ring_id / user_id | an account of the data |
| ``verdict`` | yes | ``confirmed``, ``benign`` or ``unsure`` (any case, spaces trimmed) |
| ``note`` | no | free text, kept in the audit trail |
| ``decided_at`` | no | when, by the timestamp rule of every table (:data:`graphkit.io.TIME_RULE`) |
| ``by`` | no | who decided |

The file is CSV (``.csv``, ``.csv.gz``), Parquet or NDJSON, read by the same
scanners and the same row validation as the data tables
(:func:`graphkit.io.validate.validate_table`), then checked for what only a
decision can get wrong. A row is rejected, with the first reason that applies:

- as any table row: ``missing verdict``, ``missing ring_id and user_id``,
  ``unparseable decided_at``, ``decided_at outside the years 1970-2099``;
- ``ring_id and user_id both given`` (a row decides one ring or one account);
- ``unknown verdict`` (not confirmed, benign or unsure);
- ``decided_at in the future`` (after ``now``);
- ``unknown user_id`` / ``unknown ring_id``: not an account of the data, not
  a ring of the report the decisions are about (when those are given);
- ``conflicting verdicts``: two rows about the same ring or account at the
  same ``decided_at`` with different verdicts (every such row);
- ``duplicate decision``: a row that repeats an earlier row's ring or account,
  ``decided_at`` and verdict.

Rows about the same ring or account at *different* times are a history, not a
conflict: the latest decision holds (:func:`graphkit.history.decisions`).
Decisions are few and written by hand, and a decision read wrongly would hide
a ring or bury an investigator's verdict, so one rejected row fails the whole
file: :class:`graphkit.errors.TooManyRejectedError`, one line naming the file,
the row, the column and the fix, carrying every rejected row with its reason
(``graphkit report`` writes them to ``OUT_DIR.rejected/labels.csv``).

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
>>> _ = path.write_text("ring_id,user_id,verdict,note,decided_at,by\\n"
...                     "R0003,,Benign,fan club of h1,2024-05-02,ana\\n,u7,confirmed,,,bo\\n")
>>> labels = read_labels(path, known_users={"u7"}, known_rings={"R0003"})
>>> labels.decisions.select("ring_id", "user_id", "verdict", "by").rows()
[('R0003', None, 'benign', 'ana'), (None, 'u7', 'confirmed', 'bo')]
>>> _ = path.write_text("user_id,verdict\\nu7,maybe\\n")
>>> read_labels(path)
Traceback (most recent call last):
...
graphkit.errors.TooManyRejectedError: ...labels.csv: 1 of 1 rows rejected; row 1, column verdict: unknown verdict; write confirmed, benign or unsure
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from graphkit.errors import ColumnNotFoundError, InputError, TooManyRejectedError
from graphkit.io.parse import TIME_DTYPE
from graphkit.io.scan import ROW, check_id_types, header_size, near_match, scan_table
from graphkit.io.schema import ColumnSpec, TableSpec
from graphkit.io.validate import REASON, RowRules, validate_table

__all__ = ["LABELS", "LABEL_COLUMNS", "Labels", "VERDICTS", "read_labels"]

VERDICTS = ("confirmed", "benign", "unsure")
"""The verdicts a decision may give."""

LABELS = TableSpec(
    "labels",
    (
        ColumnSpec("ring_id", "id"),
        ColumnSpec("user_id", "id"),
        ColumnSpec("verdict", "str", required=True),
        ColumnSpec("note", "str"),
        ColumnSpec("decided_at", "time"),
        ColumnSpec("by", "str"),
    ),
    one_of=("ring_id", "user_id"),
)
"""The decisions table, as the data tables are declared (:mod:`graphkit.io.schema`); read only by
:func:`read_labels`, never looked for in a data directory."""

LABEL_COLUMNS = LABELS.names
"""The columns of :attr:`Labels.decisions` after ``row``."""

_ROW = "__labels_row"
_SCHEMA = {"row": pl.Int64, "ring_id": pl.Utf8, "user_id": pl.Utf8, "verdict": pl.Utf8, "note": pl.Utf8,
           "decided_at": TIME_DTYPE, "by": pl.Utf8}

_COLUMN_AND_FIX = {
    "missing verdict": ("verdict", "write confirmed, benign or unsure"),
    "unknown verdict": ("verdict", "write confirmed, benign or unsure"),
    "missing ring_id and user_id": ("ring_id", "name the ring (ring_id) or the account (user_id) each row decides"),
    "ring_id and user_id both given": ("ring_id", "write one row for the ring and one for the account"),
    "decided_at in the future": ("decided_at", "fix the date (decisions cannot be dated after now)"),
    "unknown user_id": ("user_id", "name an account of the data"),
    "unknown ring_id": ("ring_id", "name a ring of {rings}"),
    "conflicting verdicts": ("verdict", "keep the verdict that holds, or date the later decision later"),
    "duplicate decision": ("decided_at", "keep one row per ring or account and decided_at"),
}
"""Reason -> (the column it is about, the fix), for the one-line error."""


@dataclass(frozen=True)
class Labels:
    """A decisions file, read and checked.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    decisions : polars.DataFrame
        One row per decision, in file order: ``row`` (1-based data row of the
        file), ``ring_id``, ``user_id`` (one of them null), ``verdict``
        (lower case, one of :data:`VERDICTS`), ``note``, ``decided_at``
        (``Datetime("us", "UTC")`` or null) and ``by``.
    rows_read : int
        Data rows of the file.
    """

    path: Path
    decisions: pl.DataFrame
    rows_read: int


def read_labels(
    path: str | Path,
    *,
    known_users: Collection[str] | pl.Series | None = None,
    known_rings: Collection[str] | None = None,
    rings_from: str = "the report the decisions are about",
    now: datetime | None = None,
) -> Labels:
    """Read and check an investigators' decisions file (see the module's documentation for the rules).

    Parameters
    ----------
    path : path
        ``labels.csv`` (or ``.csv.gz``, ``.parquet``, ``.ndjson``).
    known_users : collection of str or polars.Series, optional
        The accounts a ``user_id`` may name (repeats allowed); any when None.
    known_rings : collection of str, optional
        The rings a ``ring_id`` may name; any when None.
    rings_from : str
        Where those rings come from, for the message (``"--previous out/day1"``).
    now : datetime, optional
        A ``decided_at`` after this is rejected; no check when None.

    Returns
    -------
    Labels

    Raises
    ------
    InputError
        The file is missing, unreadable or lacks the ``verdict`` column or
        both id columns.
    TooManyRejectedError
        Any row is rejected; ``rejected["labels"]`` holds every rejected row
        as read (text), with ``row`` and ``reason``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: labels file not found; pass a CSV with the columns ring_id or user_id, verdict, "
                         "note, decided_at, by")
    frame, file_types = scan_table(path, set(LABELS.names))
    names = [n for n in frame.collect_schema().names() if n != ROW]
    columns = "ring_id or user_id, verdict (confirmed, benign or unsure), and optionally note, decided_at, by"
    if "verdict" not in names:
        raise ColumnNotFoundError(f"{path}: column 'verdict' is missing{near_match('verdict', names)} "
                                  f"({header_size(names)}); a labels file has the columns {columns}")
    if not any(c in names for c in LABELS.one_of):
        near = near_match("ring_id", names) or near_match("user_id", names)
        raise ColumnNotFoundError(f"{path}: needs a column 'ring_id' or 'user_id'{near} ({header_size(names)}); "
                                  f"a labels file has the columns {columns}")
    check_id_types(LABELS, file_types, {}, str(path))
    raw = frame.with_row_index(_ROW, offset=1).collect()
    part = validate_table(LABELS, raw.lazy(), str(path), None, RowRules(), source_path=path)
    accepted = part.accepted.with_columns(pl.col(_ROW).cast(pl.Int64), _blank_to_null("note"), _blank_to_null("by"))
    judged = accepted.with_columns(_reason(accepted, known_users, known_rings, now).alias(REASON))
    judged = _mark_repeats(judged)
    later = judged.filter(pl.col(REASON).is_not_null()).select(pl.col(_ROW), REASON)
    rejected = pl.concat([
        _as_text(part.rejected.drop(_ROW)),
        _as_text(raw.join(later, on=_ROW).select(pl.col(_ROW).alias("row"), *names, REASON)),
    ], how="diagonal").sort("row") if part.rejected.height or later.height else part.rejected.head(0)
    if rejected.height:
        raise TooManyRejectedError(_message(path, rejected, raw.height, rings_from), rejected={"labels": rejected})
    decisions = judged.select(
        pl.col(_ROW).alias("row"),
        *[pl.col(c) for c in LABEL_COLUMNS if c != "verdict"],
        pl.col("verdict").str.strip_chars().str.to_lowercase(),
    ).select(list(_SCHEMA)).cast(_SCHEMA)
    return Labels(path, decisions, raw.height)


def _blank_to_null(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text).alias(column)


def _reason(
    accepted: pl.DataFrame,
    known_users: Collection[str] | pl.Series | None,
    known_rings: Collection[str] | None,
    now: datetime | None,
) -> pl.Expr:
    """The first decision rule each accepted row breaks (null when none)."""
    verdict = pl.col("verdict").str.strip_chars().str.to_lowercase()
    checks = [
        pl.when(pl.col("ring_id").is_not_null() & pl.col("user_id").is_not_null())
        .then(pl.lit("ring_id and user_id both given")),
        pl.when(~verdict.is_in(VERDICTS)).then(pl.lit("unknown verdict")),
    ]
    if now is not None:
        checks.append(pl.when(pl.col("decided_at") > pl.lit(now).cast(TIME_DTYPE))
                      .then(pl.lit("decided_at in the future")))
    if known_users is not None:
        known = _known_among(accepted["user_id"], known_users).implode()
        checks.append(pl.when(pl.col("user_id").is_not_null() & ~pl.col("user_id").is_in(known))
                      .then(pl.lit("unknown user_id")))
    if known_rings is not None:
        known = _known_among(accepted["ring_id"], known_rings).implode()
        checks.append(pl.when(pl.col("ring_id").is_not_null() & ~pl.col("ring_id").is_in(known))
                      .then(pl.lit("unknown ring_id")))
    return pl.coalesce(checks)


def _known_among(wanted: pl.Series, ids: Collection[str] | pl.Series) -> pl.Series:
    """The ids of ``wanted`` (a labels column, a few ids) found in ``ids`` (maybe every id of a big platform):
    the big side is scanned once against the few wanted ids, never hashed whole (``is_in`` on a literal
    list of 2*10^7 ids took a minute)."""
    wanted = wanted.drop_nulls().unique()
    if isinstance(ids, pl.Series):
        found = ids.cast(pl.Utf8).filter(ids.cast(pl.Utf8).is_in(wanted.implode()))
    else:
        found = wanted.filter(wanted.is_in(pl.Series(sorted(set(ids)), dtype=pl.Utf8).implode()))
    return found.unique().rename("found")


def _mark_repeats(judged: pl.DataFrame) -> pl.DataFrame:
    """Among the rows no other rule rejected: every row of a (target, decided_at) with two verdicts is
    ``conflicting verdicts``; a later row repeating a (target, decided_at, verdict) is ``duplicate decision``."""
    ok = pl.col(REASON).is_null()
    verdict = pl.col("verdict").str.strip_chars().str.to_lowercase()
    key = [pl.col("ring_id"), pl.col("user_id"), pl.col("decided_at")]
    valid = judged.filter(ok)
    marked = valid.with_columns(
        pl.when(verdict.n_unique().over(key) > 1).then(pl.lit("conflicting verdicts"))
        .when(~pl.struct(*key, verdict.alias("v")).is_first_distinct()).then(pl.lit("duplicate decision"))
        .alias(REASON)
    )
    return pl.concat([marked, judged.filter(~ok)]).sort(_ROW)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Rejected rows with every value as text (``row`` stays a number), so that parts of them concatenate."""
    return frame.select(pl.col("row").cast(pl.Int64),
                        *[pl.col(c).cast(pl.Utf8) for c in frame.columns if c not in ("row",)])


def _message(path: Path, rejected: pl.DataFrame, rows: int, rings_from: str) -> str:
    first = rejected.row(0, named=True)
    reason = first[REASON]
    column, fix = _COLUMN_AND_FIX.get(reason, (None, None))
    if column is None:  # a reason of the shared row validation: it names its column (unparseable decided_at)
        column = next((c for c in LABEL_COLUMNS if c in reason), "decided_at")
        fix = "write decided_at as ISO-8601 (2024-05-02T10:00:00Z) or epoch seconds"
    counts = rejected.group_by(REASON).len().sort(["len", REASON], descending=[True, False])
    others = [f"{n:,} {r}" for r, n in counts.iter_rows() if r != reason]
    also = f" (also {', '.join(others)})" if others else ""
    return (f"{path}: {rejected.height:,} of {rows:,} rows rejected; row {first['row']}, column {column}: {reason}; "
            f"{fix.format(rings=rings_from)}{also}")
