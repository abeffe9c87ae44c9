"""The one time-window rule (``--since`` / ``--until``): which gifts, device sightings and streams are in scope.

It sits with the readers so that a window can be pushed into the scan of a table
(:func:`graphkit.io.read_tables` with ``window=``); :mod:`graphkit.graphs.window`
applies the same rule to tables already read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

import polars as pl

from graphkit.errors import ConfigError
from graphkit.io.parse import parse_time_value

__all__ = ["TimeWindow", "empty_window_message", "parse_bound", "time_window"]


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
    """The one rule for ``[since, until)``: which gifts, device sightings, streams and flags are in the window.

    Gifts count when ``sent_at`` is in the window; device sightings when
    ``seen_at`` is (undated sightings are kept: no window excludes them);
    streams when they overlap it (ended at or after ``since``, or started at
    or after it when the end is unknown, and started before ``until``;
    unknown times are kept); flags when they are dated before ``until``
    (older ones are what was known in the window). Every stage that windows events (the graphs of
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

    def _within(self, column: str, keep_null: bool, col: Callable[[str], pl.Expr] = pl.col) -> pl.Expr:
        bounds = ([col(column) >= self.since] if self.since is not None else []) + (
            [col(column) < self.until] if self.until is not None else [])
        if not bounds:
            # a bare literal: polars 2.1's eager filter fails on some frames with ``lit(True).fill_null(...)``
            # ("filter predicate length of 2"), seen on 17,000 gifts after one rejected row
            return pl.lit(True)
        return pl.all_horizontal(bounds).fill_null(keep_null)

    def gifts(self, col: Callable[[str], pl.Expr] = pl.col) -> pl.Expr:
        """Gifts sent in the window (``col`` names a column: the readers pass their parsed columns)."""
        return self._within("sent_at", False, col)

    def devices(self, col: Callable[[str], pl.Expr] = pl.col) -> pl.Expr:
        """Device sightings in the window, and undated ones."""
        return self._within("seen_at", True, col)

    def streams(self, col: Callable[[str], pl.Expr] = pl.col) -> pl.Expr:
        """Streams that overlap the window (unknown start or end times kept)."""
        cond = pl.lit(True)
        if self.since is not None:
            cond = cond & (pl.coalesce(col("ended_at"), col("started_at")) >= self.since).fill_null(True)
        if self.until is not None:
            cond = cond & (col("started_at") < self.until).fill_null(True)
        return cond

    def flags(self, col: Callable[[str], pl.Expr] = pl.col) -> pl.Expr:
        """Flags dated before ``until``; any time before the window's start is kept (what was known then)."""
        return col("at") < self.until if self.until is not None else pl.lit(True)

    def accounts(self, *, gifts: pl.DataFrame, devices: pl.DataFrame, streams: pl.DataFrame, users: pl.DataFrame,
                 flags: pl.DataFrame) -> pl.Series:
        """The accounts a window's analysis holds: those an event of the window touches.

        An account with no event in the window has no evidence in it, so a
        window's report leaves it out (of the id index, the graphs and
        ``scores.csv``). An account is touched when, in the window, it sends
        or receives a gift, is seen on a device or IP (undated sightings are
        in every window), hosts a stream that overlaps the window, is created
        (``created_at``), or is flagged (a flag's ``at``).

        Parameters
        ----------
        gifts, devices, streams : polars.DataFrame
            The window's rows of those tables (filtered with :meth:`gifts`,
            :meth:`devices`, :meth:`streams`).
        users, flags : polars.DataFrame
            The tables as read: their rows are judged here, by ``created_at``
            and ``at`` in ``[since, until)``.

        Returns
        -------
        polars.Series
            ``user_id``, each once, unordered. Every account when no bound is set.

        Examples
        --------
        >>> window = time_window("2024-05-02", "2024-05-03")
        >>> day = lambda d: datetime(2024, 5, d, tzinfo=timezone.utc)
        >>> gifts = pl.DataFrame({"sender_id": ["a"], "receiver_id": ["h"]})
        >>> devices = pl.DataFrame({"user_id": ["d"]})
        >>> streams = pl.DataFrame({"host_id": ["h2"]})
        >>> users = pl.DataFrame({"user_id": ["a", "h", "old", "new", "late"],
        ...                       "created_at": [day(1), day(1), day(1), day(2), day(3)]})
        >>> flags = pl.DataFrame({"user_id": ["banned", "old"], "at": [day(2), day(1)]})
        >>> sorted(window.accounts(gifts=gifts, devices=devices, streams=streams, users=users, flags=flags))
        ['a', 'banned', 'd', 'h', 'h2', 'new']
        """
        touched = [
            gifts.get_column("sender_id"), gifts.get_column("receiver_id"), devices.get_column("user_id"),
            streams.get_column("host_id"),
        ]
        if self.bounded:
            touched.append(users.filter(self._within("created_at", False)).get_column("user_id"))
            touched.append(flags.filter(self._within("at", False)).get_column("user_id"))
        else:
            touched.append(users.get_column("user_id"))
        return pl.concat([ids.cast(pl.Utf8).rename("user_id") for ids in touched]).drop_nulls().unique()

    def table(self, name: str, col: Callable[[str], pl.Expr] = pl.col) -> pl.Expr | None:
        """The predicate of table ``name`` (``None`` for users, which no window cuts).

        Examples
        --------
        >>> window = time_window("2024-05-02")
        >>> frame = pl.DataFrame({"sent_at": [window.since, None]})
        >>> frame.select(window.table("gifts")).to_series().to_list()
        [True, False]
        >>> window.table("users") is None
        True
        """
        rule = {"gifts": self.gifts, "devices": self.devices, "streams": self.streams, "flags": self.flags}.get(name)
        return rule(col) if rule is not None and self.bounded else None

    def pushdown(self, name: str, types: dict[str, pl.DataType]) -> pl.Expr | None:
        """A filter on a table's columns *as stored* that keeps every row of the window (and more), or ``None``.

        Given to a scan before any value is parsed, so that Parquet row groups
        whose statistics lie outside the window are never read. Only a time
        column stored as a datetime gets one (a naive one holds UTC, as the
        parser reads it); rows without a time are kept, for validation to judge.
        Streams are few and overlap by two columns: they get none.

        Examples
        --------
        >>> window = time_window("2024-05-02", "2024-05-03")
        >>> frame = pl.DataFrame({"sent_at": [window.since, window.until, None]})
        >>> frame.filter(window.pushdown("gifts", dict(frame.schema))).height
        2
        """
        column = {"gifts": "sent_at", "devices": "seen_at"}.get(name)
        dtype = types.get(column) if column is not None else None
        if not self.bounded or not isinstance(dtype, pl.Datetime):
            return None
        zone = dtype.time_zone

        def stored(bound: datetime) -> datetime:  # the bound in the column's own zone, or naive UTC
            return bound.astimezone(ZoneInfo(zone)) if zone else bound.astimezone(timezone.utc).replace(tzinfo=None)

        cond = pl.lit(True)
        if self.since is not None:
            cond = cond & (pl.col(column) >= stored(self.since))
        if self.until is not None:
            cond = cond & (pl.col(column) < stored(self.until))
        return cond | pl.col(column).is_null()


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


def empty_window_message(times: pl.Series, lo: datetime | None, hi: datetime | None) -> str:
    """``no gifts or devices between A and B UTC (the data spans C .. D UTC); ...``.

    ``times`` are the dated events of the whole data (gift and sighting times), outside the window too.
    """
    def fmt(t: datetime) -> str:
        return f"{t:%Y-%m-%d %H:%M:%S}"

    if lo is not None and hi is not None:
        window = f"between {fmt(lo)} and {fmt(hi)} UTC"
    elif lo is not None:
        window = f"at or after {fmt(lo)} UTC"
    else:
        window = f"before {fmt(hi)} UTC"
    times = times.drop_nulls()
    if not times.len():
        return f"no gifts or devices {window} (the data holds no dated gifts or devices); leave out --since/--until"
    span = f"the data spans {fmt(times.min())} .. {fmt(times.max())} UTC"
    return f"no gifts or devices {window} ({span}); choose --since/--until inside that span"
