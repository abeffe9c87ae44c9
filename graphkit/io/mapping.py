"""The column mapping file: warehouse names -> the contract's canonical names.

Format (CONTRACT.md)::

    [tables.gifts]
    file = "transactions.csv"
    [tables.gifts.columns]
    sender_id = "sourceNodeId"      # canonical name = name in the file
    [tables.gifts.units]            # optional: how a time column's numbers are read
    sent_at = { step_seconds = 86400 }   # or "seconds", "milliseconds", "microseconds", "nanoseconds"

    [tables.flags]                  # negative feedback arriving as events becomes flags:
    file = "ratings.csv"            # the same file may feed several tables
    where = "rating < 0"            # optional: only the rows where this holds are read
    [tables.flags.columns]
    user_id = "ratee"
    at = "time"
    [tables.flags.constants]        # optional: a value for a canonical column the file does not have
    kind = "negative_rating"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from graphkit.errors import ConfigError
from graphkit.io.parse import EPOCH_UNITS, TimeUnit, parse_time_value
from graphkit.io.schema import TABLES

__all__ = ["TableMapping", "RowFilter", "load_mapping", "MAPPING_FILE"]

MAPPING_FILE = "graphkit.toml"


_OPS = ("<=", ">=", "==", "!=", "<", ">")
_WHERE = re.compile(
    r'^\s*(?:"(?P<quoted>[^"]+)"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*))\s*(?P<op><=|>=|==|!=|<|>)\s*'
    r'(?:(?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|"(?P<text>[^"]*)"|\'(?P<text2>[^\']*)\')\s*$'
)


@dataclass(frozen=True)
class RowFilter:
    """One comparison that keeps a table's rows: ``where = "rating < 0"`` in a mapping.

    The column is a column of the file (quoted with ``"`` when its name has spaces); a
    number compares the column's values read as numbers (a row whose value is not a
    number is left out), a quoted text compares the values as text with ``==`` or ``!=``.
    Rows left out are not read at all: they are neither accepted nor rejected rows.

    Examples
    --------
    >>> f = RowFilter.parse("rating < 0")
    >>> f
    RowFilter(column='rating', op='<', value=0.0)
    >>> import polars as pl
    >>> pl.DataFrame({"rating": ["-3", "5", "x"]}).filter(f.expr()).height
    1
    >>> RowFilter.parse('event == "report"').value
    'report'
    """

    column: str
    op: str
    value: float | str

    @classmethod
    def parse(cls, text: str) -> "RowFilter":
        """Read ``COLUMN OP VALUE``; raises ``ValueError`` saying the expected shape."""
        found = _WHERE.match(text) if isinstance(text, str) else None
        if found is None:
            raise ValueError(
                f"{text!r} is not one comparison; write COLUMN OP VALUE with OP one of {' '.join(_OPS)}, "
                'e.g. where = "rating < 0" or where = \'event == "report"\''
            )
        column = found["quoted"] or found["name"]
        if found["number"] is not None:
            return cls(column, found["op"], float(found["number"]))
        if found["op"] not in ("==", "!="):
            raise ValueError(f"{text!r}: a text value can only be compared with == or !=")
        return cls(column, found["op"], found["text"] if found["text"] is not None else found["text2"])

    def expr(self, column: str | None = None) -> pl.Expr:
        """The polars filter; ``column`` names the column as the frame calls it (after a rename)."""
        source = pl.col(column or self.column)
        if isinstance(self.value, str):
            text = source.cast(pl.Utf8)
            kept = text == self.value if self.op == "==" else text != self.value
        else:
            number = source.cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False)
            kept = {
                "<": number < self.value, "<=": number <= self.value, ">": number > self.value,
                ">=": number >= self.value, "==": number == self.value, "!=": number != self.value,
            }[self.op]
        return kept.fill_null(False)


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
    where: RowFilter | None = None
    """only the rows where this holds are read (negative ratings as flags, positive ones as gifts)"""
    constants: dict[str, str] = field(default_factory=dict)
    """canonical column -> one value for every row, for a column the file does not have (a flag's kind)"""


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
        unknown_keys = sorted(set(entry) - {"file", "columns", "units", "where", "constants"})
        if unknown_keys:
            raise ConfigError(
                f"{path}: [tables.{name}] has unknown key(s) {', '.join(unknown_keys)}; "
                "use file, columns, units, where and constants"
            )
        units = _units(path, name, entry.get("units", {}))
        where = None
        if "where" in entry:
            try:
                where = RowFilter.parse(entry["where"])
            except ValueError as exc:
                raise ConfigError(f"{path}: [tables.{name}] where = {exc}") from None
        constants = _constants(path, name, entry.get("constants", {}), columns)
        result[name] = TableMapping(file=file, columns=dict(columns), source=str(path), units=units, where=where,
                                    constants=constants)
    return result


def _constants(path: Path, table: str, entry: object, columns: dict[str, str]) -> dict[str, str]:
    """``[tables.NAME.constants]``: canonical column -> one text value (not a mapped column too)."""
    where = f"{path}: [tables.{table}.constants]"
    if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
        raise ConfigError(f'{where} must map canonical names to text, e.g. kind = "negative_rating"')
    unknown = sorted(set(entry) - set(TABLES[table].names))
    if unknown:
        raise ConfigError(f"{where} has unknown canonical name(s) {', '.join(unknown)}; known: {', '.join(TABLES[table].names)}")
    both = sorted(set(entry) & set(columns))
    if both:
        raise ConfigError(f"{where}: {both[0]} is also mapped under [tables.{table}.columns]; keep one of the two")
    return dict(entry)


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
