"""Vectorised parsers for the contract's value types (polars expressions).

Ids are strings, always; timestamps are ISO-8601 (``Z``, ``+hh:mm``, ``+hhmm``
or no offset, which means UTC) or integer epoch seconds, normalised to
``Datetime("us", "UTC")``.

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"t": ["2024-05-01T10:00:00Z", "2024-05-01 12:00:00+02:00", "1714557600"]})
>>> df.select(parse_time(pl.col("t")).dt.hour()).to_series().to_list()
[10, 10, 10]
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

__all__ = ["TIME_DTYPE", "parse_time", "parse_id", "parse_coins", "parse_label", "parse_time_value"]

TIME_DTYPE = pl.Datetime("us", "UTC")

_OFFSET = r"[+-]\d{2}:?\d{2}$"
_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M%z",
)
_EPOCH_MAX = 253_402_300_799
"""9999-12-31T23:59:59Z in epoch seconds: larger numbers are not seconds (milliseconds?)."""


def parse_time(expr: "pl.Expr | pl.Series") -> "pl.Expr | pl.Series":
    """Parse a column of timestamps (strings or integers) to UTC datetimes.

    Values that cannot be parsed become null; validation turns them into
    rejected rows. Numbers are integer epoch seconds (``1714557600``, also
    written ``1714557600.0``); numbers past the year 9999, such as epoch
    milliseconds, are not taken for seconds and become null. Strings are
    ISO-8601 with ``T`` or a space, optional fractional seconds and an optional
    offset (``Z``, ``+hh:mm``, ``+hhmm``, ``+hh``; none means UTC).
    """
    if isinstance(expr, pl.Series):
        return _parse_times(expr)
    return expr.map_batches(_parse_times, return_dtype=TIME_DTYPE, is_elementwise=True)


def _parse_times(values: pl.Series) -> pl.Series:
    """:func:`parse_time` on one column, in stages.

    The usual export forms are tried first, each on the values the previous
    stages left (string functions skip nulls), so a column of one common form
    costs one pass; the general rule at the end decides everything else.
    Each stage is materialised once (``with_columns``), so no stage is
    recomputed for the stages after it.
    """
    def left(previous: str, source: str = "rest") -> pl.Expr:
        return pl.when(pl.col(previous).is_null()).then(pl.col(source))

    utc = {"time_zone": "UTC", "time_unit": "us", "strict": False}
    frame = (
        pl.DataFrame({"text": values.cast(pl.Utf8).str.strip_chars()})
        .with_columns(zulu=pl.col("text").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", **utc))
        .with_columns(rest=left("zulu", "text"))
        .with_columns(offset=pl.col("rest").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", **utc))
        .with_columns(rest=left("offset"))
        .with_columns(
            seconds=pl.col("rest").str.extract(r"^(-?\d+)(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
        )
        .with_columns(
            epoch=pl.when(pl.col("seconds").abs() <= _EPOCH_MAX)
            .then(pl.col("seconds") * 1_000_000)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC"),
            norm=left("seconds")
            .str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt ]", "$1 ")
            .str.replace(r"[Zz]$", "+00:00")
            .str.replace(r"(:\d{2}(?:\.\d+)?[+-]\d{2})$", "${1}:00")
            .str.replace(r"^(\d{4}-\d{2}-\d{2})$", "$1 00:00:00"),
        )
        .with_columns(
            norm=pl.when(pl.col("norm").str.contains(_OFFSET))
            .then(pl.col("norm"))
            .otherwise(pl.col("norm") + "+00:00")
        )
    )
    general = [pl.col("norm").str.to_datetime(fmt, **utc) for fmt in _FORMATS]
    return frame.select(pl.coalesce(["zulu", "offset", "epoch", *general]).alias(values.name)).to_series()


def parse_time_value(value: "str | int | None") -> "datetime | None":
    """Parse one user-given time (``--since``) the way table values are parsed.

    Returns a python ``datetime`` in UTC, or ``None`` for ``None``; raises
    ``ValueError`` when the value is not a timestamp.
    """
    if value is None:
        return None
    parsed = pl.select(parse_time(pl.lit(str(value)))).item()
    if parsed is None:
        raise ValueError(f"{value!r} is not a timestamp (use ISO-8601 or epoch seconds)")
    return parsed


def parse_id(expr: pl.Expr) -> pl.Expr:
    """Ids as strings, unchanged; empty strings become null (a missing id)."""
    text = expr.cast(pl.Utf8)
    return pl.when(text.str.len_bytes() > 0).then(text)


def parse_coins(expr: pl.Expr) -> pl.Expr:
    """Coins as Float64; values that are not numbers become null."""
    return expr.cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False)


_BAD = ("1", "true", "bad", "fraud", "yes")
_GOOD = ("0", "false", "good", "no")


def parse_label(expr: pl.Expr) -> pl.Expr:
    """Ground-truth labels: 1/true/bad -> ``"bad"``, 0/false/good -> ``"good"``, else null."""
    text = expr.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_BAD)).then(pl.lit("bad")).when(text.is_in(_GOOD)).then(pl.lit("good"))
