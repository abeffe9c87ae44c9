"""Time windows (``--since`` / ``--until``), applied to the tables before any graph is built.

The rule itself (:class:`TimeWindow`, :func:`time_window`) lives in :mod:`graphkit.io.window`, so that
the readers can push it into the scan; it is the same object here.

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
from datetime import datetime

import polars as pl

from graphkit.errors import InputError
from graphkit.io import Tables
from graphkit.io.window import TimeWindow, empty_window_message, parse_bound, time_window

__all__ = ["TimeWindow", "apply_window", "check_window", "parse_bound", "time_window"]


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
        ``until`` only (a ban before the window is still known). Users are kept
        when the window touches them (:meth:`TimeWindow.accounts`: an event, their
        creation or a flag in the window); an account without one has no
        evidence in the window.

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
    streams = tables.streams.filter(window.streams())
    touched = window.accounts(gifts=gifts, devices=devices, streams=streams, users=tables.users, flags=tables.flags)
    return dataclasses.replace(tables, gifts=gifts, devices=devices, streams=streams,
                               flags=tables.flags.filter(window.flags()),
                               users=tables.users.filter(pl.col("user_id").is_in(touched.implode())))


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
        times = pl.concat([tables.gifts.get_column("sent_at"), tables.devices.get_column("seen_at")])
        raise InputError(empty_window_message(times, lo, hi))
