"""Reading the data contract's input tables: readers, column mapping, validation."""

from graphkit.io.mapping import MAPPING_FILE, TableMapping, load_mapping
from graphkit.io.parse import TIME_RULE, TimeUnit, parse_time, parse_time_checked, parse_time_value
from graphkit.io.schema import TABLE_NAMES, TABLES
from graphkit.io.tables import Tables, TableStats, empty_table, read_table, read_tables

__all__ = [
    "MAPPING_FILE",
    "TABLES",
    "TABLE_NAMES",
    "TIME_RULE",
    "TableMapping",
    "TableStats",
    "TimeUnit",
    "Tables",
    "empty_table",
    "load_mapping",
    "parse_time",
    "parse_time_checked",
    "parse_time_value",
    "read_table",
    "read_tables",
]
