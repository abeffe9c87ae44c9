"""The input tables of the data contract (CONTRACT.md), as data.

One :class:`TableSpec` per table names its columns, their kind and which are
required; readers and validation are driven by these specs only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ColumnSpec", "TableSpec", "TABLES", "TABLE_NAMES"]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # "id", "str", "time", "number", "label", "flag_kind", "share"
    required: bool = False
    unique: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    one_of: tuple[str, ...] = ()
    """At least one of these columns must be present, and non-empty in each row."""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


TABLES: dict[str, TableSpec] = {
    "users": TableSpec(
        "users",
        (
            ColumnSpec("user_id", "id", required=True, unique=True),
            ColumnSpec("created_at", "time"),
            ColumnSpec("country", "str"),
            ColumnSpec("label", "label"),
        ),
    ),
    "streams": TableSpec(
        "streams",
        (
            ColumnSpec("stream_id", "id", required=True, unique=True),
            ColumnSpec("host_id", "id", required=True),
            ColumnSpec("started_at", "time"),
            ColumnSpec("ended_at", "time"),
        ),
    ),
    "devices": TableSpec(
        "devices",
        (
            ColumnSpec("user_id", "id", required=True),
            ColumnSpec("device_id", "id"),
            ColumnSpec("ip", "id"),
            ColumnSpec("seen_at", "time"),
        ),
        one_of=("device_id", "ip"),
    ),
    "gifts": TableSpec(
        "gifts",
        (
            ColumnSpec("sender_id", "id", required=True),
            ColumnSpec("receiver_id", "id", required=True),
            ColumnSpec("coins", "number", required=True),
            ColumnSpec("sent_at", "time", required=True),
            ColumnSpec("stream_id", "id"),
            ColumnSpec("gift_id", "id", unique=True),
        ),
    ),
    "flags": TableSpec(
        "flags",
        (
            ColumnSpec("user_id", "id", required=True),
            ColumnSpec("kind", "flag_kind", required=True),
            ColumnSpec("at", "time", required=True),
            ColumnSpec("weight", "share"),
        ),
    ),
}
TABLE_NAMES: tuple[str, ...] = ("users", "streams", "devices", "gifts", "flags")
"""Every input table; ``flags`` (what the platform already knows: chargebacks, bans, reports) is read
last, because its rows are checked against the accounts and the times of the others."""
