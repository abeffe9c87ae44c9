"""Vectorised parsers for the contract's value types (polars expressions).

Ids are strings, always. Timestamps follow one rule, :data:`TIME_RULE`, and
become ``Datetime("us", "UTC")``:

- **ISO-8601**: ``2024-05-01T10:00:00Z``, ``T`` or a space between date and
  time, optional fractional seconds, and an offset ``Z``, ``+hh:mm``,
  ``+hhmm``, ``+hh``, the suffix `` UTC`` (BigQuery's CSV export) or none,
  which means UTC; a date alone is midnight UTC.
- **Epoch numbers**, integer or fractional (``1714557600``,
  ``1289241911.72836``, ``1.7145576e+12``), in a unit told by their size:
  below 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds,
  else nanoseconds (:data:`EPOCH_THRESHOLDS`). 10^11 seconds is the year
  5138 and 10^11 milliseconds is March 1973, so no plausible time falls in
  two bands. The unit is decided **once per column**, by the median number
  of the column: a column's values come from one export, and a value whose
  size belongs to another unit (``1714557600000`` among seconds) is a data
  error worth telling, so it is rejected
  (``sent_at looks like epoch milliseconds in a column of epoch seconds``)
  rather than read in a unit of its own. One value given on the command line
  (``--since``) is its own column. A mapping may fix the unit of a column, or
  read its numbers as steps of N seconds from an origin
  (:class:`TimeUnit`; AMLSim's ``time`` is a day-like step).
- **Plausible years only**: times before 1970-01-01 (:data:`EARLIEST`) or
  from 2100-01-01 (:data:`HORIZON`) are rejected, whatever their form:
  ``0001-01-01`` and ``9999-12-31`` are placeholders, not gift times, and an
  epoch number read in the wrong unit lands there. The reason says how the
  number was read (``sent_at outside the years 1970-2099 when read as epoch
  seconds``).

Examples
--------
>>> import polars as pl
>>> df = pl.DataFrame({"t": ["2024-05-01T10:00:00Z", "2024-05-01 12:00:00+02:00", "2024-05-01 10:00:00 UTC"]})
>>> df.select(parse_time(pl.col("t")).dt.hour()).to_series().to_list()
[10, 10, 10]
>>> millis = pl.Series("t", ["1714557600000", "1714557600500"])
>>> [t.isoformat() for t in parse_time(millis)]
['2024-05-01T10:00:00+00:00', '2024-05-01T10:00:00.500000+00:00']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

__all__ = [
    "EARLIEST",
    "EPOCH_THRESHOLDS",
    "EPOCH_UNITS",
    "HORIZON",
    "TIME_DTYPE",
    "TIME_RULE",
    "TimeUnit",
    "FLAG_KIND_PATTERN",
    "parse_coins",
    "parse_flag_kind",
    "parse_id",
    "parse_label",
    "parse_time",
    "parse_time_checked",
    "parse_time_value",
]

UTC = timezone.utc
TIME_DTYPE = pl.Datetime("us", "UTC")

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest plausible time (inclusive)."""
HORIZON = datetime(2100, 1, 1, tzinfo=UTC)
"""The first implausible time in the future: times from here on are rejected."""
EPOCH_UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")
"""Epoch units, smallest numbers first."""
EPOCH_THRESHOLDS = (10**11, 10**14, 10**17)
"""An epoch number whose integer part is below ``EPOCH_THRESHOLDS[i]`` (in absolute value) is in
``EPOCH_UNITS[i]``; from 10^17 on it is in nanoseconds."""

_YEARS = f"the years {EARLIEST.year}-{HORIZON.year - 1}"
TIME_RULE = (
    "timestamps are ISO-8601 (with Z, an offset, ' UTC' or nothing for UTC) or epoch numbers whose size "
    "gives the unit: seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, else "
    f"nanoseconds (one unit per column, from its median), in {_YEARS}"
)
"""The timestamp rule in one sentence, for messages."""

_US_PER_UNIT = {"seconds": (1_000_000, 1), "milliseconds": (1_000, 1), "microseconds": (1, 1), "nanoseconds": (1, 1_000)}
"""Microseconds per value of each epoch unit, as a fraction (numerator, denominator)."""
_US = 1_000_000
_EARLIEST_US = 0
_HORIZON_US = int((HORIZON - EARLIEST).total_seconds()) * _US

_OFFSET = r"[+-]\d{2}:?\d{2}$"
_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M%z",
)
_PLAIN_NUMBER = r"^([+-]?)([0-9]+)(?:\.([0-9]*))?$"
_SCIENTIFIC = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$"
"""ASCII digits only: ``\\d`` would take other scripts' digits for a number."""


@dataclass(frozen=True)
class TimeUnit:
    """How the numbers of one time column are read, when a mapping says so.

    Either a fixed epoch unit (no guess from the numbers' size) or a step of
    ``step_seconds`` counted from ``origin``: number ``n`` is
    ``origin + n * step_seconds``. Set in a mapping file::

        [tables.gifts.units]
        sent_at = "milliseconds"                       # or seconds, microseconds, nanoseconds
        # sent_at = { step_seconds = 86400 }           # AMLSim: a step is a day, from 1970-01-01
        # sent_at = { step_seconds = 3600, origin = "2024-01-01" }

    Examples
    --------
    >>> TimeUnit(epoch="milliseconds").describe()
    'epoch milliseconds'
    >>> TimeUnit(step_seconds=86400).describe()
    'steps of 86400 s from 1970-01-01'
    """

    epoch: str | None = None
    step_seconds: float | None = None
    origin: datetime = EARLIEST

    def __post_init__(self) -> None:
        if (self.epoch is None) == (self.step_seconds is None):
            raise ValueError("give either an epoch unit or step_seconds")
        if self.epoch is not None and self.epoch not in EPOCH_UNITS:
            raise ValueError(f"unknown epoch unit {self.epoch!r}; use one of {', '.join(EPOCH_UNITS)}")
        if self.step_seconds is not None and (
            isinstance(self.step_seconds, bool)
            or not isinstance(self.step_seconds, (int, float))
            or not math.isfinite(self.step_seconds)
            or not 1e-6 <= self.step_seconds <= 1e9
        ):
            raise ValueError(f"step_seconds = {self.step_seconds!r} must be a number from 0.000001 to 1e9")
        if self.origin.tzinfo is None or not EARLIEST <= self.origin < HORIZON:
            raise ValueError(f"origin must be a UTC time in {_YEARS}")

    @property
    def scale(self) -> tuple[int, int]:
        """Microseconds per value as a fraction ``(numerator, denominator)``."""
        if self.epoch is not None:
            return _US_PER_UNIT[self.epoch]
        return round(self.step_seconds * _US), 1

    def describe(self) -> str:
        if self.epoch is not None:
            return f"epoch {self.epoch}"
        step = f"{self.step_seconds:g}"
        midnight = self.origin.replace(hour=0, minute=0, second=0, microsecond=0)
        origin = self.origin.strftime("%Y-%m-%d" if self.origin == midnight else "%Y-%m-%d %H:%M:%S")
        return f"steps of {step} s from {origin}"


def parse_time(expr: "pl.Expr | pl.Series", *, unit: TimeUnit | None = None) -> "pl.Expr | pl.Series":
    """Parse a column of timestamps (text, numbers or datetimes) to UTC datetimes, by :data:`TIME_RULE`.

    Values that are not timestamps by the rule (unparseable, an implausible
    year, an epoch number of another unit than its column) become null;
    :func:`parse_time_checked` also says why.

    Parameters
    ----------
    expr : polars.Expr or polars.Series
        One column: the unit of its epoch numbers is decided over the whole column.
    unit : TimeUnit, optional
        Read numbers in this unit instead of guessing it from their size.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.Series("t", ["1289241911.72836", "1289241912", "0001-01-01"])
    >>> [t and t.isoformat() for t in parse_time(s)]
    ['2010-11-08T18:45:11.728360+00:00', '2010-11-08T18:45:12+00:00', None]
    """
    checked = parse_time_checked(expr, unit=unit)
    if isinstance(expr, pl.Series):
        return checked.struct.field("time").alias(expr.name)
    return checked.struct.field("time").name.keep()


def parse_time_checked(
    expr: "pl.Expr | pl.Series", *, unit: TimeUnit | None = None, name: str = "time"
) -> "pl.Expr | pl.Series":
    """:func:`parse_time`, as a struct of ``time`` and ``problem`` (why a value is not a time, else null).

    ``problem`` is a reason for a rejected row, naming the column ``name``:
    ``unparseable sent_at``, ``sent_at outside the years 1970-2099`` (``...
    when read as epoch seconds`` for numbers), or ``sent_at looks like epoch
    milliseconds in a column of epoch seconds``. Null values have no problem.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.Series("t", ["1714557600", "1714557601", "1714557600000", "9999-12-31", "soon"])
    >>> parse_time_checked(s, name="sent_at").struct.field("problem").to_list()
    [None, None, 'sent_at looks like epoch milliseconds in a column of epoch seconds', \
'sent_at outside the years 1970-2099', 'unparseable sent_at']
    """
    if isinstance(expr, pl.Series):
        return _parse_times(expr, unit, name).to_struct(expr.name)
    return expr.map_batches(
        lambda values: _parse_times(values, unit, name).to_struct(values.name),
        return_dtype=pl.Struct({"time": TIME_DTYPE, "problem": pl.Utf8}),
        is_elementwise=False,  # the epoch unit is decided over the whole column
    )


def _parse_times(values: pl.Series, unit: TimeUnit | None, name: str) -> pl.DataFrame:
    """:func:`parse_time_checked` on one column, in stages: a frame of ``time`` and ``problem``.

    The usual export forms (epoch integers, ``...Z``, ``...+hh:mm``) are tried
    first, each on the values the previous stages left, in the order the
    column's first value suggests; a stage runs only when values are left, so
    a column of one common form costs one pass. Fractional and scientific
    numbers and the general ISO rule decide everything else.
    """
    if isinstance(values.dtype, pl.Datetime):
        zoned = values.dt.convert_time_zone("UTC") if values.dtype.time_zone else values.dt.replace_time_zone("UTC")
        frame = pl.DataFrame({"time": zoned.cast(TIME_DTYPE)}).with_columns(
            # _judge reads ``text`` only for being null: a marker, not the 1M formatted strings of a cast
            text=pl.when(pl.col("time").is_not_null()).then(pl.lit("")), number=pl.lit(False),
            mismatch=pl.lit(None, pl.Utf8),
        )
        return _judge(frame, name, "")

    utc = {"time_zone": "UTC", "time_unit": "us", "strict": False}
    null_time = pl.lit(None, TIME_DTYPE)
    text = values.cast(pl.Utf8).str.strip_chars()
    frame = pl.DataFrame({"text": text, "rest": text}).with_columns(
        integer=pl.lit(None, pl.Int64), zulu=null_time, offset=null_time, number=pl.lit(False),
        negative=pl.lit(False), whole=pl.lit(None, pl.Int64), frac_ns=pl.lit(0, pl.Int64), epoch=null_time,
        mismatch=pl.lit(None, pl.Utf8), general=null_time,
    )
    stages = {
        "integer": pl.col("rest").cast(pl.Int64, strict=False),
        "zulu": pl.col("rest").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", **utc),
        "offset": pl.col("rest").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", **utc),
    }
    first = text.drop_nulls().head(1).cast(pl.Int64, strict=False)
    order = ["integer", "zulu", "offset"] if first.len() and first[0] is not None else ["zulu", "offset", "integer"]
    for stage in order:
        if frame["rest"].null_count() == frame.height:
            break
        frame = frame.with_columns(stages[stage].alias(stage)).with_columns(
            rest=pl.when(pl.col(stage).is_null()).then(pl.col("rest"))
        )
    fits = pl.col("integer") > -(2**63)  # the one Int64 whose magnitude is not an Int64: too large anyway
    frame = frame.with_columns(
        number=pl.col("integer").is_not_null(),
        negative=pl.col("integer") < 0,
        whole=pl.when(fits).then(pl.col("integer").abs()),
    )
    if frame["rest"].null_count() < frame.height:  # fractional or scientific numbers, other ISO forms
        frame = frame.with_columns(_number_parts(pl.col("rest"))).with_columns(
            norm=pl.when(~pl.col("more")).then(pl.col("rest"))
            .str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt ]", "$1 ")
            .str.replace(r"\s*(?:[Zz]|UTC)$", "+00:00")
            .str.replace(r"\s+([+-]\d{2}(?::?\d{2})?)$", "$1")
            .str.replace(r"(:\d{2}(?:\.\d+)?[+-]\d{2})$", "${1}:00")
            .str.replace(r"^(\d{4}-\d{2}-\d{2})$", "$1 00:00:00")
        ).with_columns(
            norm=pl.when(pl.col("norm").str.contains(_OFFSET)).then(pl.col("norm")).otherwise(pl.col("norm") + "+00:00")
        ).with_columns(
            number=pl.col("number") | pl.col("more"),
            negative=pl.when(pl.col("more")).then(pl.col("more_negative")).otherwise(pl.col("negative")),
            whole=pl.when(pl.col("more")).then(pl.col("more_whole")).otherwise(pl.col("whole")),
            frac_ns=pl.when(pl.col("more")).then(pl.col("more_frac_ns")).otherwise(pl.col("frac_ns")),
            general=pl.coalesce([pl.col("norm").str.to_datetime(fmt, **utc) for fmt in _FORMATS]),
        )
    read_as = ""
    if frame["number"].any():
        frame, read_as = _epoch_times(frame, unit, name)
    frame = frame.with_columns(time=pl.coalesce(["zulu", "offset", "epoch", "general"]))
    return _judge(frame, name, read_as)


def _number_parts(text: pl.Expr) -> list[pl.Expr]:
    """An epoch number's parts: ``more`` (is it one), ``more_negative``, ``more_whole`` (Int64, null
    when too large) and ``more_frac_ns`` (its fraction in billionths), from plain or scientific
    notation (integers that fit Int64 are read before, by a cast)."""
    plain = text.str.extract_groups(_PLAIN_NUMBER)
    scientific = text.str.contains(_SCIENTIFIC)
    value = pl.when(scientific).then(text.cast(pl.Float64, strict=False))
    size = value.abs()
    frac_digits = (plain.struct.field("3").fill_null("") + "000000000").str.slice(0, 9)
    return [
        (plain.struct.field("2").is_not_null() | scientific).fill_null(False).alias("more"),
        pl.when(scientific).then(value < 0).otherwise(plain.struct.field("1") == "-").fill_null(False).alias("more_negative"),
        pl.when(scientific)
        .then(pl.when(size < 9e18).then(size.floor()).cast(pl.Int64))
        .otherwise(plain.struct.field("2").cast(pl.Int64, strict=False))
        .alias("more_whole"),
        pl.when(scientific)
        .then(((size - size.floor()) * 1e9).floor().cast(pl.Int64, strict=False))
        .otherwise(frac_digits.cast(pl.Int64, strict=False))
        .fill_null(0)
        .alias("more_frac_ns"),
    ]


def _band(whole: pl.Expr) -> pl.Expr:
    """The index in :data:`EPOCH_UNITS` of a number's size (too large for Int64: nanoseconds)."""
    band = pl.when(whole.is_null()).then(pl.lit(len(EPOCH_THRESHOLDS), pl.Int8))
    for i, threshold in enumerate(EPOCH_THRESHOLDS):
        band = band.when(whole < threshold).then(pl.lit(i, pl.Int8))
    return band.otherwise(pl.lit(len(EPOCH_THRESHOLDS), pl.Int8))


def _epoch_times(frame: pl.DataFrame, unit: TimeUnit | None, name: str) -> tuple[pl.DataFrame, str]:
    """Fill ``epoch`` (the numbers as times) and ``mismatch`` (a number of another unit than
    its column's); return the frame and how the numbers were read, for reasons."""
    frame = frame.with_columns(band=_band(pl.col("whole")))
    mismatch = pl.lit(None, pl.Utf8)
    if unit is None:
        bands = frame.filter(pl.col("number"))["band"].sort()
        column_band = int(bands[(bands.len() - 1) // 2])  # the lower median: one unit per column
        unit = TimeUnit(epoch=EPOCH_UNITS[column_band])
        for i, other in enumerate(EPOCH_UNITS):
            if i != column_band:
                mismatch = pl.when(pl.col("number") & (pl.col("band") == i)).then(
                    pl.lit(f"{name} looks like epoch {other} in a column of epoch {unit.epoch}")
                ).otherwise(mismatch)
    num, den = unit.scale
    origin_us = int((unit.origin - EARLIEST).total_seconds()) * _US
    reach = (max(abs(_HORIZON_US - origin_us), abs(origin_us - _EARLIEST_US)) * den) // num + 1
    whole = pl.col("whole")
    magnitude = whole * num // den + (pl.col("frac_ns").cast(pl.Float64) * (num / (den * 1e9))).floor().cast(pl.Int64)
    offset_us = pl.when(pl.col("negative")).then(-magnitude).otherwise(magnitude)
    epoch = (
        pl.when(pl.col("number") & whole.is_not_null() & (whole <= reach))
        .then(offset_us + origin_us)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    return frame.with_columns(epoch=epoch, mismatch=mismatch), f" when read as {unit.describe()}"


def _judge(frame: pl.DataFrame, name: str, read_as: str) -> pl.DataFrame:
    """``time`` and ``problem``: a number of the wrong unit, no time at all, or an implausible year."""
    time = pl.col("time")
    plausible = (time >= EARLIEST) & (time < HORIZON)
    outside = pl.when(pl.col("number")).then(pl.lit(f"{name} outside {_YEARS}{read_as}")).otherwise(
        pl.lit(f"{name} outside {_YEARS}")
    )
    problem = (
        pl.when(pl.col("text").is_null()).then(pl.lit(None, pl.Utf8))
        .when(pl.col("mismatch").is_not_null()).then(pl.col("mismatch"))
        .when(time.is_null() & pl.col("number")).then(outside)
        .when(time.is_null()).then(pl.lit(f"unparseable {name}"))
        .when(~plausible).then(outside)
    )
    return frame.select(problem.alias("problem")).select(
        pl.when(pl.col("problem").is_null()).then(frame["time"]).alias("time"), "problem"
    )


def parse_time_value(value: "str | int | None") -> "datetime | None":
    """Parse one user-given time (``--since``) by the rule for table values.

    One value is its own column: an epoch number's unit comes from its size.

    Returns
    -------
    datetime or None
        In UTC; ``None`` for ``None``.

    Raises
    ------
    ValueError
        When the value is not a timestamp by :data:`TIME_RULE`, saying why.

    Examples
    --------
    >>> parse_time_value("2024-05-01 10:00:00 UTC").isoformat()
    '2024-05-01T10:00:00+00:00'
    >>> parse_time_value(1714557600000).isoformat()
    '2024-05-01T10:00:00+00:00'
    """
    if value is None:
        return None
    checked = parse_time_checked(pl.Series("value", [str(value)]), name="it")
    time, problem = checked.struct.field("time")[0], checked.struct.field("problem")[0]
    if time is None:
        why = "it is empty" if problem is None else (
            problem.replace("unparseable it", "it is not ISO-8601 or a number").replace("it outside", "it is outside"))
        raise ValueError(f"{value!r} is not a timestamp: {why}; {TIME_RULE}")
    return time


def parse_id(expr: pl.Expr) -> pl.Expr:
    """Ids as strings, unchanged; empty strings become null (a missing id)."""
    text = expr.cast(pl.Utf8)
    return pl.when(text.str.len_bytes() > 0).then(text)


def parse_coins(expr: pl.Expr) -> pl.Expr:
    """Coins as Float64; values that are not numbers become null."""
    return expr.cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False)


FLAG_KIND_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,39}$"
"""A flag's ``kind`` once trimmed and lower-cased: a short word of ASCII letters, digits, ``_`` and ``-``
(``chargeback``, ``ban``, ``report``, ``refund``, ``manual``, or any other)."""


def parse_flag_kind(expr: pl.Expr) -> pl.Expr:
    """A flag's kind, trimmed and lower-cased; null when it is not a short word (:data:`FLAG_KIND_PATTERN`).

    Examples
    --------
    >>> s = pl.Series(["Chargeback ", "user-report", "a b", "<script>"])
    >>> pl.select(parse_flag_kind(pl.lit(s))).to_series().to_list()
    ['chargeback', 'user-report', None, None]
    """
    text = expr.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return pl.when(text.str.contains(FLAG_KIND_PATTERN)).then(text)


_BAD = ("1", "true", "bad", "fraud", "yes")
_GOOD = ("0", "false", "good", "no")


def parse_label(expr: pl.Expr) -> pl.Expr:
    """Ground-truth labels: 1/true/bad -> ``"bad"``, 0/false/good -> ``"good"``, else null."""
    text = expr.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_BAD)).then(pl.lit("bad")).when(text.is_in(_GOOD)).then(pl.lit("good"))
