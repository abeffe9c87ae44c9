"""The column mapping file: warehouse names -> the contract's canonical names.

Format (CONTRACT.md)::

    [tables.gifts]
    file = "transactions.csv"
    [tables.gifts.columns]
    sender_id = "sourceNodeId"      # canonical name = name in the file
    [tables.gifts.units]            # optional: how a time column's numbers are read
    sent_at = { step_seconds = 86400 }   # or "seconds", "milliseconds", "microseconds", "nanoseconds"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from graphkit.errors import ConfigError
from graphkit.io.parse import EPOCH_UNITS, TimeUnit, parse_time_value
from graphkit.io.schema import TABLES

__all__ = ["TableMapping", "load_mapping", "MAPPING_FILE"]

MAPPING_FILE = "graphkit.toml"


@dataclass(frozen=True)
class TableMapping:
    """Where one table lives and how its columns are named in the file."""

    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    """canonical name -> name in the file"""
    source: str = MAPPING_FILE
    """the mapping file this came from, for error messages"""
    units: dict[str, TimeUnit] = field(default_factory=dict)
    """canonical time column -> how its numbers are read (instead of guessing the epoch unit)"""


def load_mapping(path: str | Path | None) -> dict[str, TableMapping]:
    """Read the ``[tables.*]`` part of a mapping file.

    Parameters
    ----------
    path : path or None
        The TOML file; ``None`` or a path that does not exist gives no mapping.

    Returns
    -------
    dict
        Table name -> :class:`TableMapping`, for the tables the file names.

    Raises
    ------
    ConfigError
        When the file is not TOML, names an unknown table or column, or maps
        two canonical columns to the same file column.

    Examples
    --------
    >>> load_mapping(None)
    {}
    """
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    tables = doc.get("tables", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: [tables] must be a table, e.g. [tables.gifts]")
    result: dict[str, TableMapping] = {}
    for name, entry in tables.items():
        if name not in TABLES:
            raise ConfigError(
                f"{path}: unknown table [tables.{name}]; known tables: {', '.join(TABLES)}"
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: [tables.{name}] must be a table")
        file = entry.get("file")
        if file is not None and not isinstance(file, str):
            raise ConfigError(f"{path}: [tables.{name}] file must be a string")
        columns = entry.get("columns", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise ConfigError(
                f"{path}: [tables.{name}.columns] must map canonical names to column names, "
                'e.g. sender_id = "sourceNodeId"'
            )
        unknown = sorted(set(columns) - set(TABLES[name].names))
        if unknown:
            raise ConfigError(
                f"{path}: [tables.{name}.columns] has unknown canonical name(s) {', '.join(unknown)}; "
                f"known: {', '.join(TABLES[name].names)}"
            )
        sources = list(columns.values())
        dupes = sorted({s for s in sources if sources.count(s) > 1})
        if dupes:
            raise ConfigError(
                f"{path}: [tables.{name}.columns] maps several names to column {dupes[0]!r}"
            )
        unknown_keys = sorted(set(entry) - {"file", "columns", "units"})
        if unknown_keys:
            raise ConfigError(
                f"{path}: [tables.{name}] has unknown key(s) {', '.join(unknown_keys)}; use file, columns and units"
            )
        units = _units(path, name, entry.get("units", {}))
        result[name] = TableMapping(file=file, columns=dict(columns), source=str(path), units=units)
    return result


def _units(path: Path, table: str, entry: object) -> dict[str, TimeUnit]:
    """``[tables.NAME.units]``: time column -> an epoch unit name or ``{ step_seconds = N, origin = "..." }``."""
    where = f"{path}: [tables.{table}.units]"
    times = [c.name for c in TABLES[table].columns if c.kind == "time"]
    shape = (
        f'e.g. {times[0] if times else "sent_at"} = "milliseconds" or '
        f"{times[0] if times else 'sent_at'} = {{ step_seconds = 86400 }}"
    )
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table, {shape}")
    units = {}
    for column, spec in entry.items():
        if column not in times:
            known = ", ".join(times) or "none in this table"
            raise ConfigError(f"{where}: {column} is not a time column of {table} (time columns: {known})")
        try:
            if isinstance(spec, str):
                units[column] = TimeUnit(epoch=spec)
            elif isinstance(spec, dict) and set(spec) <= {"step_seconds", "origin"} and "step_seconds" in spec:
                origin = spec.get("origin")
                if origin is not None and not isinstance(origin, str):
                    raise ValueError('origin must be a time in quotes, e.g. origin = "2024-01-01"')
                parsed = parse_time_value(origin) if origin is not None else None
                units[column] = TimeUnit(step_seconds=spec["step_seconds"], **({"origin": parsed} if parsed else {}))
            else:
                raise ValueError(f"use one of {', '.join(EPOCH_UNITS)} or {{ step_seconds = N, origin = \"...\" }}")
        except ValueError as exc:
            raise ConfigError(f"{where}: {column}: {exc}; {shape}") from None
    return units
