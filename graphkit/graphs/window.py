"""Time windows (``--since`` / ``--until``), applied to the tables before any graph is built.

Examples
--------
>>> import polars as pl
>>> from graphkit.io import Tables
>>> gifts = pl.DataFrame({"sender_id": ["a", "b"], "receiver_id": ["h", "h"], "coins": [1.0, 2.0],
...                       "sent_at": ["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"]})
>>> apply_window(Tables.from_frames(gifts=gifts), since="2024-01-15").gifts["sender_id"].to_list()
['b']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from graphkit.errors import ConfigError, InputError
from graphkit.io import Tables, parse_time_value

__all__ = ["TimeWindow", "apply_window", "check_window", "parse_bound", "time_window"]


def parse_bound(value: "str | int | datetime | None", name: str) -> datetime | None:
    """Parse a ``since``/``until`` value (ISO-8601, epoch seconds or a datetime) to UTC.

    Raises :class:`ConfigError` naming the setting when the value is not a time.
    """
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_time_value(value)
    except ValueError:
        raise ConfigError(
            f"{name} = {value!r} is not a time; use ISO-8601 (2024-05-01 or 2024-05-01T10:00:00Z) or epoch seconds"
        ) from None


@dataclass(frozen=True)
class TimeWindow:
    """The one rule for ``[since, until)``: which gifts, device sightings and streams are in the window.

    Gifts count when ``sent_at`` is in the window; device sightings when
    ``seen_at`` is (undated sightings are kept: no window excludes them);
    streams when they overlap it (ended at or after ``since``, or started at
    or after it when the end is unknown, and started before ``until``;
    unknown times are kept). Every stage that windows events (the graphs of
    the report, the views, ``expand``, ``path``) filters with these
    predicates, eagerly or lazily.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> window = time_window("2024-05-02", "2024-05-03")
    >>> streams = pl.DataFrame({"stream_id": ["before", "overlapping", "after"],
    ...     "started_at": [datetime(2024, 4, 1, tzinfo=timezone.utc), datetime(2024, 5, 1, 20, tzinfo=timezone.utc),
    ...                    datetime(2024, 5, 4, tzinfo=timezone.utc)],
    ...     "ended_at": [datetime(2024, 4, 1, 2, tzinfo=timezone.utc), datetime(2024, 5, 2, 1, tzinfo=timezone.utc),
    ...                  datetime(2024, 5, 4, 1, tzinfo=timezone.utc)]})
    >>> streams.filter(window.streams())["stream_id"].to_list()
    ['overlapping']
    """

    since: datetime | None = None
    until: datetime | None = None

    @property
    def bounded(self) -> bool:
        """Whether either bound is set."""
        return self.since is not None or self.until is not None

    def _within(self, column: str, keep_null: bool) -> pl.Expr:
        cond = pl.lit(True)
        if self.since is not None:
            cond = cond & (pl.col(column) >= self.since)
        if self.until is not None:
            cond = cond & (pl.col(column) < self.until)
        return cond.fill_null(keep_null)

    def gifts(self) -> pl.Expr:
        """Gifts sent in the window."""
        return self._within("sent_at", False)

    def devices(self) -> pl.Expr:
        """Device sightings in the window, and undated ones."""
        return self._within("seen_at", True)

    def streams(self) -> pl.Expr:
        """Streams that overlap the window (unknown start or end times kept)."""
        cond = pl.lit(True)
        if self.since is not None:
            cond = cond & (pl.coalesce("ended_at", "started_at") >= self.since).fill_null(True)
        if self.until is not None:
            cond = cond & (pl.col("started_at") < self.until).fill_null(True)
        return cond


    def flags(self) -> pl.Expr:
        """Flags dated before ``until``; any time before the window's start is kept (what was known then)."""
        return pl.col("at") < self.until if self.until is not None else pl.lit(True)


def time_window(since: "str | int | datetime | None" = None, until: "str | int | datetime | None" = None) -> TimeWindow:
    """Parse ``since``/``until`` into a :class:`TimeWindow`.

    Raises :class:`ConfigError` when a bound is not a time, or ``since`` is not before ``until``.

    Examples
    --------
    >>> window = time_window("2024-05-01", 1714608000)
    >>> f"{window.since:%Y-%m-%d %H:%M %Z} .. {window.until:%Y-%m-%d %H:%M %Z}"
    '2024-05-01 00:00 UTC .. 2024-05-02 00:00 UTC'
    >>> time_window("2024-05-02", "2024-05-01")
    Traceback (most recent call last):
    ...
    graphkit.errors.ConfigError: since (2024-05-02 00:00:00) must be before until (2024-05-01 00:00:00)
    """
    lo, hi = parse_bound(since, "since"), parse_bound(until, "until")
    if lo is not None and hi is not None and lo >= hi:
        raise ConfigError(f"since ({lo:%Y-%m-%d %H:%M:%S}) must be before until ({hi:%Y-%m-%d %H:%M:%S})")
    return TimeWindow(lo, hi)


def apply_window(
    tables: Tables, since: "str | int | datetime | None" = None, until: "str | int | datetime | None" = None
) -> Tables:
    """Keep the events at or after ``since`` and before ``until``.

    Parameters
    ----------
    tables : Tables
    since, until : str, int or datetime, optional
        Bounds (ISO-8601 or epoch seconds; no offset means UTC). ``None``: unbounded.

    Returns
    -------
    Tables
        Gifts are filtered on ``sent_at``; device observations on ``seen_at``
        (observations without a ``seen_at`` are kept: they are not dated, so no
        window excludes them); streams on ``started_at`` when it is known
        (a stream overlapping the window is kept); flags on ``at`` before
        ``until`` only (a ban before the window is still known). Users are kept whole.

    Raises
    ------
    ConfigError
        When a bound is not a time, or ``since`` is not before ``until``.
    InputError
        When no gift and no dated device sighting falls in the window: an
        empty answer would look like "no ring" (the message gives the span of
        the data).
    """
    window = time_window(since, until)
    if not window.bounded:
        return tables
    gifts = tables.gifts.filter(window.gifts())
    devices = tables.devices.filter(window.devices())
    _check_not_empty(tables, gifts, devices, window.since, window.until)
    return dataclasses.replace(tables, gifts=gifts, devices=devices, streams=tables.streams.filter(window.streams()),
                               flags=tables.flags.filter(window.flags()))


def check_window(tables: Tables, since: "str | int | datetime | None" = None,
                 until: "str | int | datetime | None" = None) -> None:
    """Raise :class:`InputError` when no gift and no dated device sighting falls in ``[since, until)``.

    :func:`apply_window` checks this itself; ``expand`` and ``path``, which
    window the events on their own (:mod:`graphkit.detect.evidence`), call it.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.io import Tables
    >>> gifts = pl.DataFrame({"sender_id": ["a"], "receiver_id": ["h"], "coins": [1.0],
    ...                       "sent_at": ["2024-01-01T00:00:00Z"]})
    >>> check_window(Tables.from_frames(gifts=gifts), since="2023-12-31")
    >>> check_window(Tables.from_frames(gifts=gifts), since="2024-02-01")
    Traceback (most recent call last):
    ...
    graphkit.errors.InputError: no gifts or devices at or after 2024-02-01 00:00:00 UTC (the data spans \
2024-01-01 00:00:00 .. 2024-01-01 00:00:00 UTC); choose --since/--until inside that span
    """
    window = time_window(since, until)
    if not window.bounded:
        return
    _check_not_empty(tables, tables.gifts.filter(window.gifts()), tables.devices.filter(window.devices()),
                     window.since, window.until)


def _check_not_empty(tables: Tables, gifts: pl.DataFrame, devices: pl.DataFrame, lo: datetime | None,
                     hi: datetime | None) -> None:
    if gifts.height == 0 and devices.filter(pl.col("seen_at").is_not_null()).height == 0:
        raise InputError(_empty_window(tables, lo, hi))


def _empty_window(tables: Tables, lo: datetime | None, hi: datetime | None) -> str:
    """``no gifts or devices between A and B UTC (the data spans C .. D UTC); ...``."""
    def fmt(t: datetime) -> str:
        return f"{t:%Y-%m-%d %H:%M:%S}"

    if lo is not None and hi is not None:
        window = f"between {fmt(lo)} and {fmt(hi)} UTC"
    elif lo is not None:
        window = f"at or after {fmt(lo)} UTC"
    else:
        window = f"before {fmt(hi)} UTC"
    times = pl.concat([tables.gifts.get_column("sent_at"), tables.devices.get_column("seen_at")]).drop_nulls()
    if not times.len():
        return f"no gifts or devices {window} (the data holds no dated gifts or devices); leave out --since/--until"
    span = f"the data spans {fmt(times.min())} .. {fmt(times.max())} UTC"
    return f"no gifts or devices {window} ({span}); choose --since/--until inside that span"
