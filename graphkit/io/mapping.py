"""The column mapping file: warehouse names -> the contract's canonical names.

Format (CONTRACT.md)::

    [tables.gifts]
    file = "transactions.csv"
    [tables.gifts.columns]
    sender_id = "sourceNodeId"      # canonical name = name in the file
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from graphkit.errors import ConfigError
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
        unknown_keys = sorted(set(entry) - {"file", "columns"})
        if unknown_keys:
            raise ConfigError(
                f"{path}: [tables.{name}] has unknown key(s) {', '.join(unknown_keys)}; use file and columns"
            )
        result[name] = TableMapping(file=file, columns=dict(columns), source=str(path))
    return result
