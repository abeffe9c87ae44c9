"""Reading and validating the input tables on Spark, with graphkit's own row rules.

Spark reads each table (a file, or a folder of Parquet files; local, ``hdfs://``
or ``s3a://``; or a Spark/Hive table of the session's catalog, ``--tables
db.prefix``: :func:`catalog_table_name`), renames columns through the same mapping file as the local
engine, and checks the columns with the local engine's check (the same
one-line errors). Each Arrow batch then goes through
:func:`graphkit.io.validate.validate_table`, the local engine's row rules and
reasons; a unique id repeated across batches is rejected by Spark, the first
valid row winning as in the local engine. Rejected rows keep their row number
(1-based, in the order Spark reads the table) and their reason. With a window
(``since``/``until``), as locally, only the rows in it are validated: the others
are counted as out of the window, neither accepted nor rejected, and the flags
are checked against the window's accounts and last event.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import polars as pl
import pyarrow as pa

from graphkit.config import Config
from graphkit.errors import ConfigError, InputError
from graphkit.io.mapping import MAPPING_FILE, TableMapping, load_mapping
from graphkit.io.schema import TABLE_NAMES, TABLES, TableSpec
from graphkit.io.scan import find_table_file
from graphkit.io.tables import mapped_names
from graphkit.io.validate import AFTER_DATA, DTYPES, REASON, UNKNOWN_FLAG_ACCOUNT, RowRules, TableStats, ValidatedPart, check_bad_share, validate_table
from graphkit.io.window import TimeWindow, time_window

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkTables", "catalog_table_name", "parse_tables_option", "read_spark_tables"]

_ROW = "__gk_row"
_WHERE = "__gk_where"
"""The column a mapping's ``where`` compares, as text (it leaves rows out before validation, as locally)."""
_OUT = "__gk_out_of_window"
"""True for a row outside the window (:meth:`graphkit.io.window.TimeWindow.table`): counted, not validated."""
_TABLES_OPTION = re.compile(r"^(?P<db>[A-Za-z_][A-Za-z0-9_]*)\.(?P<prefix>[A-Za-z0-9_]*)$")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def parse_tables_option(text: str) -> tuple[str, str]:
    """``--tables db.prefix`` -> ``(db, prefix)``; the prefix may be empty (``db.``).

    Examples
    --------
    >>> parse_tables_option("fraud.live_")
    ('fraud', 'live_')
    >>> parse_tables_option("fraud.")
    ('fraud', '')
    >>> parse_tables_option("live_gifts")
    Traceback (most recent call last):
    ...
    graphkit.errors.ConfigError: --tables 'live_gifts' is not DATABASE.PREFIX; write it as db.prefix (tables db.prefixgifts, db.prefixusers, ...) or db. for tables named db.gifts, db.users, ...
    """
    found = _TABLES_OPTION.match(text)
    if found is None:
        raise ConfigError(f"--tables {text!r} is not DATABASE.PREFIX; write it as db.prefix (tables db.prefixgifts, "
                          "db.prefixusers, ...) or db. for tables named db.gifts, db.users, ...")
    return found["db"], found["prefix"]


def catalog_table_name(tables: str, name: str, mapping: TableMapping | None = None) -> str:
    """The catalog table that holds the contract's table ``name`` under ``--tables db.prefix``.

    ``db.<prefix><name>`` (``fraud.live_`` -> ``fraud.live_gifts``), unless the
    mapping file names the table with ``file``: a ``db.table`` name as it is,
    a bare ``table`` name in the same database.

    Examples
    --------
    >>> catalog_table_name("fraud.live_", "gifts")
    'fraud.live_gifts'
    >>> from graphkit.io.mapping import TableMapping
    >>> catalog_table_name("fraud.live_", "gifts", TableMapping(file="transactions"))
    'fraud.transactions'
    >>> catalog_table_name("fraud.live_", "gifts", TableMapping(file="dw.gift_events"))
    'dw.gift_events'
    """
    db, prefix = parse_tables_option(tables)
    if mapping is None or not mapping.file:
        return f"{db}.{prefix}{name}"
    if not _TABLE_NAME.match(mapping.file):
        raise ConfigError(f"[tables.{name}] file = {mapping.file!r}: with --tables it names a catalog table "
                          "(table or db.table, letters, digits and _)")
    return mapping.file if "." in mapping.file else f"{db}.{mapping.file}"


@dataclass
class SparkTables:
    """The validated tables as Spark DataFrames (canonical columns, parsed types), and what was rejected.

    Attributes
    ----------
    frames : dict
        Table name -> accepted rows (only the tables present).
    rejected : dict
        Table name -> rejected rows: ``row``, the table's columns as read (text), ``reason``.
    stats : dict
        Table name -> :class:`graphkit.io.validate.TableStats` (counts only).
    where : dict
        Table name -> where it was read (for messages).
    """

    frames: dict[str, "DataFrame"]
    rejected: dict[str, "DataFrame"] = field(default_factory=dict)
    stats: dict[str, TableStats] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        return sum(s.rejected for s in self.stats.values())


def read_spark_tables(
    spark: "SparkSession", data_dir: str | Path | None = None, config: Config = Config(), *,
    tables: str | None = None, columns: str | Path | None = None, max_bad_share: float = 0.05,
) -> SparkTables:
    """Read and validate the tables of ``data_dir``, or the catalog's tables ``tables``, on Spark.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    data_dir : path or URL, optional
        A folder of tables (each a file or a folder of Parquet files).
    config : Config
    tables : str, optional
        Instead of ``data_dir``: ``db.prefix``, Spark/Hive tables of the
        session's catalog read with ``spark.table`` (:func:`catalog_table_name`).
    columns : path, optional
        The mapping file (default: ``data_dir/graphkit.toml`` when there is one).
    max_bad_share : float

    Raises
    ------
    ColumnNotFoundError, InputError, TooManyRejectedError
        As :func:`graphkit.read_tables` does, with the same messages (naming the
        file, or the catalog table).
    """
    if (data_dir is None) == (tables is None):
        raise ConfigError("give either a data folder or --tables db.prefix, not both or neither")
    if tables is not None:
        parse_tables_option(tables)
        where_from, local = tables, False
        mapping_path = columns
    else:
        data_dir = where_from = str(data_dir)
        local = "://" not in data_dir or data_dir.startswith("file://")
        if local and not Path(data_dir.removeprefix("file://")).is_dir():
            raise InputError(f"{data_dir}: no such data directory; give the folder that holds gifts and devices tables")
        mapping_path = columns if columns is not None else (
            Path(data_dir) / MAPPING_FILE if local and (Path(data_dir) / MAPPING_FILE).is_file() else None)
    mappings = load_mapping(mapping_path)
    rules = RowRules(max_coins=config.max_coins, dedupe_exact_rows=False)  # exact repeats: counted per work unit
    window = time_window(config.since, config.until)
    found = SparkTables(frames={})
    for name in TABLE_NAMES:
        if tables is not None:
            located = _locate_in_catalog(spark, tables, name, mappings.get(name))
        else:
            located = _locate(spark, str(data_dir), name, mappings.get(name), local)
        if located is None:
            continue
        where, raw = located
        # flags last (TABLE_NAMES order): checked against the accounts and times of the tables read before them
        against = found.frames if name == "flags" else None
        accepted, rejected, stats = _validate(raw, TABLES[name], where, mappings.get(name), rules, against=against,
                                              window=window)
        found.frames[name], found.rejected[name], found.stats[name], found.where[name] = accepted, rejected, stats, where
    if "gifts" not in found.frames and "devices" not in found.frames:
        if tables is not None:
            raise InputError(f"--tables {tables}: neither {catalog_table_name(tables, 'gifts', mappings.get('gifts'))} "
                             f"nor {catalog_table_name(tables, 'devices', mappings.get('devices'))} is a table of the "
                             "Spark catalog; create one, or name it with file = \"db.table\" in the --columns mapping")
        raise InputError(f"{data_dir}: neither a gifts nor a devices table found (gifts.parquet, gifts.csv or a "
                         "gifts/ folder of Parquet files); add one, or name it in the mapping file")
    check_bad_share({name: ValidatedPart(pl.DataFrame(), pl.DataFrame(), stats, found.where[name])
                     for name, stats in found.stats.items()}, max_bad_share)
    return found


def _locate(spark: "SparkSession", data_dir: str, name: str, mapping: TableMapping | None,
            local: bool) -> tuple[str, "DataFrame"] | None:
    """``(where, raw frame)`` of table ``name``, or None when absent."""
    if local:
        base = Path(data_dir.removeprefix("file://"))
        folder = base / (mapping.file if mapping is not None and mapping.file else name)
        if folder.is_dir():
            return str(folder), spark.read.parquet(str(folder))
        path = find_table_file(base, name, mapping)
        return None if path is None else (str(path), _read_file(spark, str(path)))
    for candidate in ([mapping.file] if mapping is not None and mapping.file else [f"{name}.parquet", name]):
        path = f"{data_dir.rstrip('/')}/{candidate}"
        try:
            return path, _read_file(spark, path)
        except Exception as exc:  # pyspark's AnalysisException: PATH_NOT_FOUND
            if "PATH_NOT_FOUND" not in str(exc) and "does not exist" not in str(exc):
                raise InputError(f"{path}: cannot be read by Spark ({str(exc).splitlines()[0]})") from None
    return None


def _locate_in_catalog(spark: "SparkSession", tables: str, name: str,
                       mapping: TableMapping | None) -> tuple[str, "DataFrame"] | None:
    """``(table name, frame)`` of table ``name`` in the session's catalog, or None when there is no such table."""
    full = catalog_table_name(tables, name, mapping)
    if not spark.catalog.tableExists(full):
        return None
    return full, spark.table(full)


def _read_file(spark: "SparkSession", path: str) -> "DataFrame":
    lower = path.lower()
    if lower.endswith((".csv", ".csv.gz")):
        return spark.read.csv(path, header=True, inferSchema=False, multiLine=True, escape='"')
    if lower.endswith(".ndjson"):
        return spark.read.json(path)
    return spark.read.parquet(path)


def _validate(raw: "DataFrame", spec: TableSpec, where: str, mapping: TableMapping | None,
              rules: RowRules, *, against: dict[str, "DataFrame"] | None = None,
              window: TimeWindow | None = None) -> tuple["DataFrame", "DataFrame", TableStats]:
    """Accepted rows, rejected rows and counts of one table; with ``against`` (the accepted frames of the
    other tables), the flags table's checks against them too (:func:`_reject_flags_against`). With a bounded
    ``window``, the rows outside it are counted in ``stats.out_of_window`` and not validated."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    kept_by = None
    if mapping is not None:  # the local engine's renames, constants and where (graphkit.io.tables._read_part)
        renames, clashes = mapped_names(mapping, spec.name, list(raw.columns), where)
        raw = raw.select(*[F.col(f"`{n}`").alias(renames.get(n, clashes.get(n, n))) for n in raw.columns])
        for column, value in mapping.constants.items():
            raw = raw.withColumn(column, F.lit(value).cast("string"))
        if mapping.where is not None:
            column = mapping.where.column
            kept_by = F.col(f"`{renames.get(column, clashes.get(column, column))}`").cast("string").alias(_WHERE)
    _check_columns(spec, raw.columns, where, mapping, rules)
    present = [c.name for c in spec.columns if c.name in raw.columns]
    texts = [F.col(c) if isinstance(raw.schema[c].dataType, TimestampType) else F.col(c).cast("string").alias(c)
             for c in present]
    numbered = _numbered(raw.select(*texts, *([kept_by] if kept_by is not None else [])))
    out_schema = _batch_schema(spec, present, numbered)
    keep = mapping.where.expr(_WHERE) if mapping is not None and mapping.where is not None else None
    keep_raw = against is not None  # rows the later checks reject keep their values as read

    def check(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield _validate_batch(batch, spec, where, mapping, rules, present, out_schema, keep_raw=keep_raw, keep=keep,
                                  window=window)

    every_row = numbered.mapInArrow(check, _spark_schema(out_schema)).cache()
    scoped = window is not None and window.table(spec.name) is not None
    out_of_window = every_row.where(F.col(_OUT)).count() if scoped else 0
    checked = every_row.where(~F.col(_OUT)).drop(_OUT)
    checked = _reject_repeated_ids(checked, spec, present)
    if against is not None:
        checked = _reject_flags_against(checked, against, present).cache()
    accepted = checked.where(F.col(REASON).isNull()).select(_ROW, *present)
    rejected = checked.where(F.col(REASON).isNotNull()).select(
        F.col(_ROW).alias("row"), *[F.col(f"__raw_{c}").alias(c) for c in present], REASON).orderBy("row")
    counts = {r[REASON]: int(r["count"]) for r in checked.where(F.col(REASON).isNotNull()).groupBy(REASON).count().collect()}
    rows = checked.count()
    stats = TableStats(name=spec.name, path=None, rows_read=rows + out_of_window, accepted=rows - sum(counts.values()),
                       rejected_by_reason=dict(sorted(counts.items())), out_of_window=out_of_window)
    return accepted, rejected, stats


def _check_columns(spec: TableSpec, names: list[str], where: str, mapping: TableMapping | None, rules: RowRules) -> None:
    """The local engine's column checks (same messages), on an empty frame with these column names."""
    empty = pl.LazyFrame({n: [] for n in dict.fromkeys(names)}, schema={n: pl.Utf8 for n in dict.fromkeys(names)})
    validate_table(spec, empty, where, mapping, rules)


def _numbered(frame: "DataFrame") -> "DataFrame":
    """``frame`` with ``__gk_row``: 1, 2, ... in the order Spark reads it (partition by partition)."""
    from pyspark.sql import functions as F

    tagged = frame.withColumn("__pid", F.spark_partition_id()).withColumn("__mid", F.monotonically_increasing_id())
    tagged = tagged.cache()
    sizes = dict(tagged.groupBy("__pid").count().collect())
    offsets, total = {}, 0
    for pid in sorted(sizes):
        offsets[pid] = total
        total += sizes[pid]
    offset = F.create_map(*[x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))]) if offsets else None
    local_index = F.col("__mid") - F.shiftleft(F.col("__pid").cast("long"), 33)
    row = (offset[F.col("__pid")] + local_index + 1) if offset is not None else F.lit(1).cast("long")
    return tagged.withColumn(_ROW, row.cast("long")).drop("__pid", "__mid")


def _batch_schema(spec: TableSpec, present: list[str], frame: "DataFrame") -> pa.Schema:
    fields = [pa.field(_ROW, pa.int64()), pa.field(REASON, pa.string()), pa.field(_OUT, pa.bool_())]
    fields += [pa.field(c, pa.timestamp("us", tz="UTC") if spec.column(c).kind == "time" else
                        (pa.float64() if spec.column(c).kind == "number" else pa.string())) for c in present]
    fields += [pa.field(f"__raw_{c}", pa.string()) for c in present]
    return pa.schema(fields)


def _spark_schema(schema: pa.Schema) -> str:
    kinds = {pa.int64(): "long", pa.string(): "string", pa.float64(): "double", pa.bool_(): "boolean"}
    return ", ".join(f"`{f.name}` {kinds.get(f.type, 'timestamp')}" for f in schema)


def _validate_batch(batch: pa.RecordBatch, spec: TableSpec, where: str, mapping: TableMapping | None,
                    rules: RowRules, present: list[str], schema: pa.Schema, *, keep_raw: bool = False,
                    keep: pl.Expr | None = None, window: TimeWindow | None = None) -> pa.RecordBatch:
    """One batch through the local row rules; ``keep`` (a mapping's ``where``, on ``__gk_where``) leaves rows out,
    neither accepted nor rejected, as locally; the rows outside ``window`` come out marked ``__gk_out_of_window``."""
    frame = pl.from_arrow(pa.Table.from_batches([batch]))
    assert isinstance(frame, pl.DataFrame)
    # the table's row number rides through validation as an extra column (text), so each row validated keeps it
    part = validate_table(spec, frame.lazy(), where, mapping, rules, keep=keep, window=window)
    accepted_rows = part.accepted.get_column(_ROW).cast(pl.Int64)
    rejected_rows = part.rejected.get_column(_ROW).cast(pl.Int64)
    accepted = part.accepted.select(
        pl.lit(None, pl.Utf8).alias(REASON),
        *[pl.col(c).cast(DTYPES[spec.column(c).kind]) for c in present],
    ).with_columns(
        frame.filter(pl.col(_ROW).is_in(accepted_rows.implode())).select(pl.col(c).cast(pl.Utf8).alias(f"__raw_{c}")
                                                                          for c in present) if keep_raw
        else [pl.lit(None, pl.Utf8).alias(f"__raw_{c}") for c in present]
    )
    rejected = part.rejected.select(
        pl.col(REASON),
        *[pl.lit(None, DTYPES[spec.column(c).kind]).alias(c) for c in present],
        *[pl.col(c).cast(pl.Utf8).alias(f"__raw_{c}") for c in present],
    )
    # the rows that the mapping keeps and validation did not see: outside the window
    kept = frame.filter(keep.fill_null(False)) if keep is not None else frame
    outside = kept.filter(~pl.col(_ROW).is_in(pl.concat([accepted_rows, rejected_rows]).implode())).select(
        pl.col(_ROW).cast(pl.Int64), pl.lit(None, pl.Utf8).alias(REASON),
        *[pl.lit(None, DTYPES[spec.column(c).kind]).alias(c) for c in present],
        *[pl.lit(None, pl.Utf8).alias(f"__raw_{c}") for c in present],
    )
    out = pl.concat([accepted.with_columns(accepted_rows.alias(_ROW)), rejected.with_columns(rejected_rows.alias(_ROW)),
                     outside.with_columns(pl.lit(True).alias(_OUT))], how="diagonal")
    out = out.with_columns(pl.col(_OUT).fill_null(False)).select(_ROW, REASON, _OUT, *present,
                                                                 *[f"__raw_{c}" for c in present])
    if not out.height:
        return pa.RecordBatch.from_pylist([], schema=schema)
    # one batch of every row: the accepted and the rejected rows may come out as two chunks
    return out.to_arrow().cast(schema).combine_chunks().to_batches()[0]


def _reject_flags_against(checked: "DataFrame", frames: dict[str, "DataFrame"], present: list[str]) -> "DataFrame":
    """The flags table's reasons that depend on the other tables, as the local engine gives them
    (:func:`graphkit.io.tables._flag_checks`), judged by Spark with joins: an account in no gift, device,
    stream or user row, then a time after the data's last gift or device sighting. Only rows that passed
    their own checks are judged (the local engine's first reason wins)."""
    from pyspark.sql import functions as F

    def union(parts: list["DataFrame"]) -> "DataFrame | None":
        return None if not parts else parts[0] if len(parts) == 1 else union([parts[0].unionByName(parts[1]), *parts[2:]])

    known = union([frames[table].select(F.col(column).alias("__known_id")) for table, column in (
        ("gifts", "sender_id"), ("gifts", "receiver_id"), ("devices", "user_id"), ("users", "user_id"),
        ("streams", "host_id")) if table in frames])
    times = union([frames[table].select(F.col(column).alias("__t")) for table, column in (
        ("gifts", "sent_at"), ("devices", "seen_at")) if table in frames and column in frames[table].columns])
    flagged = checked
    if known is not None:
        known = known.where(F.col("__known_id").isNotNull()).distinct().withColumn("__known", F.lit(True))
        flagged = flagged.join(known, on=F.col("user_id") == F.col("__known_id"), how="left")
    else:
        flagged = flagged.withColumn("__known", F.lit(None).cast("boolean"))
    reason = F.when(F.col(REASON).isNotNull(), F.col(REASON)).when(F.col("__known").isNull(), F.lit(UNKNOWN_FLAG_ACCOUNT))
    if times is not None:  # one row: the last dated event (null when there is none, as the local check then has none)
        flagged = flagged.crossJoin(F.broadcast(times.agg(F.max("__t").alias("__last"))))
        reason = reason.when(F.col("__last").isNotNull() & (F.col("at") > F.col("__last")), F.lit(AFTER_DATA))
    return flagged.select(_ROW, reason.alias(REASON), *present, *[f"__raw_{c}" for c in present])


def _reject_repeated_ids(checked: "DataFrame", spec: TableSpec, present: list[str]) -> "DataFrame":
    """A unique id of a valid row seen in an earlier valid row (of another batch) is ``duplicate <id>``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    for col in spec.columns:
        if not (col.unique and col.name in present):
            continue
        valid = checked.withColumn("__valid", F.col(REASON).isNull() & F.col(col.name).isNotNull())
        ranked = valid.withColumn("__rank", F.row_number().over(Window.partitionBy(col.name, "__valid").orderBy(_ROW)))
        repeated = F.col("__valid") & (F.col("__rank") > 1)
        checked = ranked.select(
            _ROW, F.when(repeated, F.lit(f"duplicate {col.name}")).otherwise(F.col(REASON)).alias(REASON), *present,
            *[F.when(repeated, F.col(c).cast("string")).otherwise(F.col(f"__raw_{c}")).alias(f"__raw_{c}") for c in present],
        )
    return checked
