"""Dense integer ids for users, devices, IPs and streams.

Every id string is mapped once to a dense integer (``uid``, ``did``, ``iid``,
``sid``: ``UInt32``, ``0..n-1`` in sorted id order) and mapped back only at the
edges of the system (reports, views, exports). Encoding is a hash join,
decoding a ``gather``: both vectorised, both keep the frame's row order.

Examples
--------
>>> import polars as pl
>>> from graphkit.io import Tables
>>> from graphkit.graphs.ids import build_index
>>> gifts = pl.DataFrame({"sender_id": ["b", "a"], "receiver_id": ["h", "h"], "coins": [1.0, 2.0],
...                       "sent_at": ["2024-01-01T00:00:00Z"] * 2})
>>> index = build_index(Tables.from_frames(gifts=gifts))
>>> index.users
shape: (3, 2)
┌─────────┬─────┐
│ user_id ┆ uid │
│ ---     ┆ --- │
│ str     ┆ u32 │
╞═════════╪═════╡
│ a       ┆ 0   │
│ b       ┆ 1   │
│ h       ┆ 2   │
└─────────┴─────┘
>>> enc = index.encode(gifts, "sender_id", as_="src")
>>> enc["src"].to_list()
[1, 0]
>>> index.decode(enc, "src", as_="sender")["sender"].to_list()
['b', 'a']
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from graphkit.errors import InputError
from graphkit.io import Tables

__all__ = ["IdIndex", "build_index", "KINDS"]

KINDS: dict[str, tuple[str, str, str]] = {
    "user": ("users", "user_id", "uid"),
    "device": ("devices", "device_id", "did"),
    "ip": ("ips", "ip", "iid"),
    "stream": ("streams", "stream_id", "sid"),
}
"""kind -> (IdIndex attribute, id column, integer column)."""

_INT = pl.UInt32


@dataclass(frozen=True)
class IdIndex:
    """The id <-> integer mapping of one data set.

    Attributes
    ----------
    users : polars.DataFrame
        ``user_id`` (Utf8), ``uid`` (UInt32, ``0..n-1``, sorted by ``user_id``):
        every account in users, gifts (both sides), devices and streams.host_id.
    devices : polars.DataFrame
        ``device_id``, ``did``.
    ips : polars.DataFrame
        ``ip``, ``iid``.
    streams : polars.DataFrame
        ``stream_id``, ``sid``, ``host`` (uid of the host; from the streams
        table, else the account that received most gifts in that stream;
        null when neither is known).
    """

    users: pl.DataFrame
    devices: pl.DataFrame
    ips: pl.DataFrame
    streams: pl.DataFrame

    @property
    def n_users(self) -> int:
        """Number of accounts (vertices of the user graphs)."""
        return self.users.height

    def table(self, kind: str) -> pl.DataFrame:
        """The mapping frame of ``kind`` (``user``, ``device``, ``ip`` or ``stream``)."""
        return getattr(self, _kind(kind)[0])

    def encode(self, frame: pl.DataFrame, column: str, kind: str = "user", as_: str | None = None) -> pl.DataFrame:
        """Replace the id strings of ``column`` by their integers.

        Parameters
        ----------
        frame : polars.DataFrame
            Any frame with a string id column.
        column : str
            The column to encode.
        kind : {"user", "device", "ip", "stream"}
        as_ : str, optional
            Name of the integer column (default: ``column``, replaced in place).
            When it differs from ``column``, the id column is kept too.

        Returns
        -------
        polars.DataFrame
            Same rows, same order; ids unknown to the index become null.
        """
        _, id_col, int_col = _kind(kind)
        as_ = as_ or column
        mapping = self.table(kind).select(pl.col(id_col).alias("__key"), pl.col(int_col).alias("__val"))
        out = frame.join(
            mapping, left_on=pl.col(column).cast(pl.Utf8), right_on="__key", how="left", maintain_order="left"
        )
        out = out.drop("__key", strict=False)
        if as_ == column:
            return out.with_columns(pl.col("__val").alias(column)).drop("__val")
        return out.rename({"__val": as_})

    def decode(self, frame: pl.DataFrame, column: str, kind: str = "user", as_: str | None = None) -> pl.DataFrame:
        """Replace the integers of ``column`` by their id strings.

        Parameters
        ----------
        frame : polars.DataFrame
        column : str
            An integer column made by :meth:`encode` (or a ``uid`` column of a result).
        kind : {"user", "device", "ip", "stream"}
        as_ : str, optional
            Name of the id column (default: ``column``, replaced in place).

        Returns
        -------
        polars.DataFrame
            Same rows, same order; null integers stay null.

        Raises
        ------
        InputError
            When an integer is outside the index.
        """
        _, id_col, _ = _kind(kind)
        ids = self.table(kind)[id_col]
        values = frame[column]
        top = values.max()
        if top is not None and (int(top) >= ids.len() or int(values.min()) < 0):  # type: ignore[arg-type]
            raise InputError(f"column {column!r} holds {kind} numbers outside 0..{ids.len() - 1}; decode with the index that encoded it")
        return frame.with_columns(pl.lit(ids).gather(pl.col(column).cast(_INT)).alias(as_ or column))

    def decode_series(self, values: "pl.Series | list[int]", kind: str = "user") -> pl.Series:
        """The id strings of integer ``values`` (a Series or a list), in order."""
        _, id_col, _ = _kind(kind)
        return self.table(kind)[id_col].gather(pl.Series(values, dtype=_INT))

    def lookup(self, ids: "list[str] | pl.Series", kind: str = "user") -> pl.Series:
        """The integers of the id strings ``ids`` (null for unknown ids), in order."""
        _, id_col, int_col = _kind(kind)
        frame = pl.DataFrame({"__id": pl.Series(ids, dtype=pl.Utf8)})
        return self.encode(frame, "__id", kind, as_=int_col)[int_col]


def build_index(tables: Tables) -> IdIndex:
    """Map every id of ``tables`` to a dense integer.

    Parameters
    ----------
    tables : Tables
        Validated input tables (apply any time window first: see
        :func:`graphkit.graphs.window.apply_window`).

    Returns
    -------
    IdIndex
    """
    users = _dense(
        [
            tables.users["user_id"],
            tables.gifts["sender_id"],
            tables.gifts["receiver_id"],
            tables.devices["user_id"],
            tables.streams["host_id"],
        ],
        "user_id",
        "uid",
    )
    devices = _dense([tables.devices["device_id"]], "device_id", "did")
    ips = _dense([tables.devices["ip"]], "ip", "iid")
    streams = _dense([tables.streams["stream_id"], tables.gifts["stream_id"]], "stream_id", "sid")
    # host: from the streams table, else the top receiver of the stream's gifts
    declared = tables.streams.select("stream_id", pl.col("host_id").alias("__host"))
    inferred = (
        tables.gifts.filter(pl.col("stream_id").is_not_null())
        .group_by("stream_id", "receiver_id")
        .agg(pl.len().alias("__n"))
        .sort(["stream_id", "__n", "receiver_id"], descending=[False, True, False])
        .unique("stream_id", keep="first", maintain_order=True)
        .select("stream_id", pl.col("receiver_id").alias("__top"))
    )
    hosts = (
        streams.join(declared, on="stream_id", how="left", maintain_order="left")
        .join(inferred, on="stream_id", how="left", maintain_order="left")
        .select("stream_id", "sid", pl.coalesce("__host", "__top").alias("host"))
    )
    index = IdIndex(users=users, devices=devices, ips=ips, streams=hosts)
    return IdIndex(users=users, devices=devices, ips=ips, streams=index.encode(hosts, "host"))


def _dense(columns: list[pl.Series], id_col: str, int_col: str) -> pl.DataFrame:
    # one lazy query over all the columns: polars deduplicates them in parallel (2x faster than eager concat + unique)
    return (
        pl.concat([pl.LazyFrame({id_col: c.cast(pl.Utf8)}) for c in columns])
        .drop_nulls()
        .unique()
        .sort(id_col)
        .with_row_index(int_col)
        .select(id_col, pl.col(int_col).cast(_INT))
        .collect()
    )


def _kind(kind: str) -> tuple[str, str, str]:
    try:
        return KINDS[kind]
    except KeyError:
        raise InputError(f"unknown id kind {kind!r}; use one of {', '.join(KINDS)}") from None
