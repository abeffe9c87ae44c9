"""``analyze(spark, tables, config)``: the report of :func:`graphkit.pipeline.analyze`, on Spark.

Stages:

``units``
    Spark links every account to the accounts it gifted, the streams it
    gifted in (and their hosts) and the devices and IPs it used, and finds
    the connected components of that graph (:func:`connected_components`).
    Nothing the local engine computes about an account reaches outside its
    component except the platform's baselines and the ring bar, so a
    component, or several of them packed into one work unit, can be
    analysed alone.
``baseline``
    The platform's baseline (young-account age, large gift, popular host,
    household size) measured by Spark over every account, gift and
    identifier in the window, with the local engine's quantile rule; and the
    platform's last event, after which no flag is used (:func:`last_event_spark`).
``per unit``
    ``groupBy(unit).applyInArrow`` runs :func:`graphkit.pipeline.analyze` on
    each unit's rows (a flag joins the unit of its account), with the
    platform's baseline, in the executors. It
    returns the scores of every group it scored, the groups scoring at least
    ``Config.min_score`` as rings, and each account's two possible scores
    (as a ring member, and on its own evidence).
``rings``
    The driver sets the ring bar (:func:`graphkit.rings.ring_threshold`)
    over every unit's group scores, keeps and ranks the rings above it;
    the executors write each account's final score as Parquet.
"""

from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import polars as pl
import pyarrow as pa

from graphkit.config import Config
from graphkit.detect.signals import Baseline
from graphkit.engines.spark.components import COMPONENT_METHODS, DRIVER_MAX_EDGES, connected_components
from graphkit.engines.spark.read import SparkTables
from graphkit.errors import ConfigError
from graphkit.graphs.window import time_window
from graphkit.io.schema import TABLES
from graphkit.model import Beneficiary, Report, Ring
from graphkit.rings import ring_threshold

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import DataFrame, SparkSession

    from graphkit.io import Tables

__all__ = ["SparkOptions", "SparkResult", "analyze", "last_event_spark", "nearest_quantile", "platform_baseline_spark"]


@dataclass(frozen=True)
class SparkOptions:
    """The Spark engine's own settings (they go into ``rings.json`` ``params`` under ``spark``).

    Attributes
    ----------
    units : int
        Work units the accounts' components are packed into (by a hash of the
        component): each unit is one call of the local pipeline in an executor.
        More units spread the graph work; communities are found per connected
        component, so the rings stay the local engine's (``docs/spark.md``
        lists what may still differ).
    components : {"auto", "driver", "graphframes", "star"}
        How the components are found (:func:`graphkit.engines.spark.components.connected_components`).
    driver_components_max_edges : int
        With ``auto``, the components are found on the driver (scipy) when the
        distinct links are at most this many
        (:data:`graphkit.engines.spark.components.DRIVER_MAX_EDGES`).
    scores_csv_max : int
        ``scores.csv`` is written when the platform has at most this many
        accounts (it is collected on the driver); the Parquet ``scores/`` always.
    """

    units: int = 1
    components: str = "auto"
    driver_components_max_edges: int = DRIVER_MAX_EDGES
    scores_csv_max: int = 2_000_000

    def __post_init__(self) -> None:
        if not (isinstance(self.units, int) and 1 <= self.units <= 1_000_000):
            raise ConfigError(f"spark units = {self.units!r} is not allowed; it must be a whole number from 1 to 1,000,000")
        if self.components not in COMPONENT_METHODS:
            raise ConfigError(f"spark components = {self.components!r} is not one of {', '.join(COMPONENT_METHODS)}")
        if not (isinstance(self.driver_components_max_edges, int) and self.driver_components_max_edges >= 0):
            raise ConfigError(f"spark driver_components_max_edges = {self.driver_components_max_edges!r} is not "
                              "allowed; it must be a whole number >= 0")
        if not (isinstance(self.scores_csv_max, int) and self.scores_csv_max >= 0):
            raise ConfigError(f"spark scores_csv_max = {self.scores_csv_max!r} is not allowed; it must be a whole number >= 0")


@dataclass
class SparkResult:
    """What :func:`analyze` gives: the report, and the per-account scores still on Spark.

    Attributes
    ----------
    report : Report
        Rings, summary and params as the local engine's (no tables, graphs or
        per-account features on the driver); ``user_scores`` holds every
        account when there are at most ``SparkOptions.scores_csv_max``, else none.
    scores : pyspark.sql.DataFrame
        ``user_id, score, ring_id, role`` for every account.
    rejected : dict
        Table name -> rejected rows (Spark frames), from the tables.
    components : str
        How the work units were found (``driver``, ``graphframes`` or ``star``).
    """

    report: Report
    scores: "DataFrame"
    rejected: dict[str, "DataFrame"] = field(default_factory=dict)
    components: str = "star"


_OUT_SCHEMA = pa.schema([
    ("kind", pa.string()), ("unit", pa.int64()), ("user_id", pa.string()), ("score", pa.float64()),
    ("own_score", pa.float64()), ("ring_key", pa.string()), ("role", pa.string()), ("value", pa.float64()),
    ("payload", pa.string()),
    # with a flags table (else null): the unit's score without flags, the account's own, its ring's, and why it is flagged
    ("score_without_flags", pa.float64()), ("own_without_flags", pa.float64()), ("ring_without_flags", pa.float64()),
    ("flag_reason", pa.string()),
])
_OUT_DDL = ("kind string, unit long, user_id string, score double, own_score double, ring_key string, "
            "role string, value double, payload string, score_without_flags double, own_without_flags double, "
            "ring_without_flags double, flag_reason string")


def analyze(spark: "SparkSession", tables: SparkTables, config: Config = Config(),
            options: SparkOptions = SparkOptions(), *, scores_path: str | Path | None = None) -> SparkResult:
    """The local engine's report, computed on Spark (see the module's docstring).

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    tables : SparkTables
        From :func:`graphkit.engines.spark.read_spark_tables`.
    config : Config
    options : SparkOptions
    scores_path : path, optional
        Where the executors write the per-account scores (Parquet); on a
        small platform the driver then reads them back from there.

    Returns
    -------
    SparkResult
    """
    from pyspark.sql import functions as F

    frames = _windowed(tables.frames, config)
    unit_of, method = _work_units(frames, options)
    rows = _unit_rows(frames, unit_of)
    baseline = platform_baseline_spark(frames, config)
    as_of = last_event_spark(frames)
    columns = {name: [c for c in frame.columns if c != "__gk_row"] for name, frame in frames.items()}

    def run(batch: pa.Table) -> pa.Table:
        return _analyze_unit(batch, columns, config, baseline, as_of)

    out = rows.groupBy("unit").applyInArrow(run, _OUT_DDL).cache()
    scores_seen = [r["value"] for r in out.where(F.col("kind") == "group").select("value").collect()]
    threshold = ring_threshold(pl.Series(scores_seen, dtype=pl.Float64), config)
    ring_rows = out.where((F.col("kind") == "ring") & (F.col("value") >= threshold)).select("unit", "ring_key", "payload").collect()
    rings, ring_ids = _ranked_rings(ring_rows)
    id_map = spark.createDataFrame(ring_ids or [(-1, "", "")], "unit long, ring_key string, ring_id string")
    in_ring = F.col("ring_id").isNotNull()
    # with flags: an account's score without them is its ring's when that ring's score without flags passes the bar
    # (the unit computed both under its own bar, min_score), else its own (graphkit.pipeline's rule, chosen here)
    with_flags = [
        F.when(in_ring & (F.col("ring_without_flags") >= F.lit(threshold)), F.col("score_without_flags"))
        .otherwise(F.col("own_without_flags")).alias("score_without_flags"), "flag_reason",
    ] if "flags" in frames else []
    scores = (
        out.where(F.col("kind") == "score").join(F.broadcast(id_map), on=["unit", "ring_key"], how="left")
        .select("user_id", F.when(in_ring, F.col("score")).otherwise(F.col("own_score")).alias("score"),
                "ring_id", F.when(in_ring, F.col("role")).alias("role"), *with_flags)
    )
    summaries = [json.loads(r["payload"]) for r in out.where(F.col("kind") == "summary").select("payload").collect()]
    summary = _summary(summaries, frames, tables, baseline, threshold, rings, groups_scored=len(scores_seen),
                       windowed=time_window(config.since, config.until).bounded)
    user_scores = pl.DataFrame(schema={"user_id": pl.Utf8, "score": pl.Float64, "ring_id": pl.Utf8, "role": pl.Utf8,
                                       **({"score_without_flags": pl.Float64, "flag_reason": pl.Utf8} if with_flags else {})})
    if scores_path is not None:
        scores.write.mode("error").parquet(str(scores_path))
        scores = spark.read.parquet(str(scores_path))
    if summary["users"] <= options.scores_csv_max:
        if scores_path is not None and "://" not in str(scores_path):
            collected = pl.read_parquet(Path(scores_path) / "*.parquet")
        else:
            collected = pl.DataFrame([tuple(r) for r in scores.collect()], schema=user_scores.schema, orient="row")
        user_scores = collected.sort(["score", "user_id"], descending=[True, False])
    params = {**config.to_params(), "engine": "spark",
              "spark": {"units": options.units, "components": method,
                        "driver_components_max_edges": options.driver_components_max_edges,
                        "scores_csv_max": options.scores_csv_max}}
    report = Report(rings=tuple(rings), user_scores=user_scores, params=params, summary=summary)
    return SparkResult(report=report, scores=scores, rejected=tables.rejected, components=method)


# --------------------------------------------------------------------------- stages

def _windowed(frames: dict[str, "DataFrame"], config: Config) -> dict[str, "DataFrame"]:
    """Gifts and dated device sightings in ``[since, until)``, flags dated before ``until``.

    :func:`graphkit.engines.spark.read_spark_tables` given the same ``config`` has already kept only the
    window's rows; this keeps :func:`analyze` right for tables read with another (or no) window, as the local
    engine's :func:`graphkit.graphs.window.apply_window` does for its tables."""
    from pyspark.sql import functions as F

    window = time_window(config.since, config.until)
    if not window.bounded:
        return dict(frames)

    def within(column: str, keep_null: bool) -> Any:
        cond = F.lit(True)
        if window.since is not None:
            cond = cond & (F.col(column) >= F.lit(window.since))
        if window.until is not None:
            cond = cond & (F.col(column) < F.lit(window.until))
        return (cond | F.col(column).isNull()) if keep_null else cond

    out = dict(frames)
    if "gifts" in out:
        out["gifts"] = out["gifts"].where(within("sent_at", False))
    if "devices" in out and "seen_at" in out["devices"].columns:
        out["devices"] = out["devices"].where(within("seen_at", True))
    if "flags" in out and window.until is not None:  # what was known before until (TimeWindow.flags)
        out["flags"] = out["flags"].where(F.col("at") < F.lit(window.until))
    return out


def _key(prefix: str, column: str) -> Any:
    from pyspark.sql import functions as F

    return F.xxhash64(F.lit(prefix), F.col(column))


def _work_units(frames: dict[str, "DataFrame"], options: SparkOptions) -> tuple["DataFrame", str]:
    """``key`` (long: an account, stream, device or IP), ``unit``: the work unit of every vertex."""
    from pyspark.sql import functions as F

    edges, vertices = [], []

    def link(frame: "DataFrame", a: tuple[str, str], b: tuple[str, str]) -> None:
        both = frame.where(F.col(a[1]).isNotNull() & F.col(b[1]).isNotNull())
        edges.append(both.select(_key(*a).alias("src"), _key(*b).alias("dst")))

    def vertex(frame: "DataFrame", prefix: str, column: str) -> None:
        vertices.append(frame.where(F.col(column).isNotNull()).select(_key(prefix, column).alias("id")))

    if "users" in frames:
        vertex(frames["users"], "u", "user_id")
    if "gifts" in frames:
        gifts = frames["gifts"]
        vertex(gifts, "u", "sender_id")
        vertex(gifts, "u", "receiver_id")
        link(gifts, ("u", "sender_id"), ("u", "receiver_id"))
        if "stream_id" in gifts.columns:
            link(gifts, ("u", "sender_id"), ("s", "stream_id"))
    if "streams" in frames:
        vertex(frames["streams"], "s", "stream_id")
        vertex(frames["streams"], "u", "host_id")
        link(frames["streams"], ("s", "stream_id"), ("u", "host_id"))
    if "devices" in frames:
        devices = frames["devices"]
        vertex(devices, "u", "user_id")
        for prefix, column in (("d", "device_id"), ("i", "ip")):
            if column in devices.columns:
                link(devices, ("u", "user_id"), (prefix, column))
    all_vertices = _union(vertices).distinct()
    all_edges = _union(edges) if edges else all_vertices.select(F.col("id").alias("src"), F.col("id").alias("dst")).limit(0)
    found, method = connected_components(all_vertices, all_edges, method=options.components,
                                         driver_max_edges=options.driver_components_max_edges)
    units = found.select(F.col("id").alias("key"), F.pmod(F.xxhash64("component"), F.lit(options.units)).alias("unit"))
    return units.cache(), method


def _union(frames: list["DataFrame"]) -> "DataFrame":
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


_ANCHOR = {"users": ("u", "user_id"), "gifts": ("u", "sender_id"), "streams": ("s", "stream_id"), "devices": ("u", "user_id"),
           "flags": ("u", "user_id")}
"""The vertex whose work unit a table's row belongs to."""


def _unit_rows(frames: dict[str, "DataFrame"], unit_of: "DataFrame") -> "DataFrame":
    """Every table's rows in one frame: ``unit``, ``table``, ``row`` (its row number in the table), and
    ``<table>__<column>`` for each column."""
    from pyspark.sql import functions as F

    everything = [f"{name}__{c.name}" for name, spec in TABLES.items() if name in frames
                  for c in spec.columns if c.name in frames[name].columns]
    kinds = {f"{name}__{c.name}": c.kind for name, spec in TABLES.items() for c in spec.columns}
    dtype = {"time": "timestamp", "number": "double", "share": "double"}
    parts = []
    for name, frame in frames.items():
        prefix, column = _ANCHOR[name]
        keyed = frame.withColumn("key", _key(prefix, column)).join(unit_of, on="key", how="inner")
        own = {f"{name}__{c}": F.col(c) for c in frame.columns if c not in ("__gk_row",)}
        parts.append(keyed.select(
            "unit", F.lit(name).alias("table"), F.col("__gk_row").alias("row"),
            *[own.get(c, F.lit(None)).cast(dtype.get(kinds[c], "string")).alias(c) for c in everything],
        ))
    return _union(parts)


def _analyze_unit(batch: pa.Table, columns: dict[str, list[str]], config: Config, baseline: Baseline,
                  as_of: datetime | None = None) -> pa.Table:
    """One work unit: the local pipeline on its rows (runs in an executor).

    The flags were checked by Spark against the whole platform's accounts and last event, so they join the unit's
    tables without the local engine's checks against the unit's own (:func:`_with_checked_flags`), and their
    cut-off is the platform's last event ``as_of``."""
    from graphkit.io import Tables
    from graphkit.pipeline import analyze as analyze_locally
    from graphkit.score import account_score

    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    unit = int(frame["unit"][0])
    parts = {}
    for name, cols in columns.items():
        # in the table's own row order, whatever order the shuffle brought them in: the same unit gives the same answer
        rows = frame.filter(pl.col("table") == name).sort("row")
        parts[name] = rows.select([pl.col(f"{name}__{c}").alias(c) for c in cols])
    flags = parts.pop("flags", None)
    tables = Tables.from_frames(**parts, max_coins=config.max_coins, dedupe_exact_rows=config.dedupe_exact_rows)
    if flags is not None:
        tables = _with_checked_flags(tables, flags, config)
    seen: list[pl.Series] = []

    def every_group(scores: pl.Series) -> float:
        seen.append(scores)
        return config.min_score  # the bar is set across units; every group that may pass it comes back

    report = analyze_locally(tables, config, baseline=baseline, threshold=every_group, workers=1, as_of=as_of,
                             ring_parts=True)
    features = report.user_features
    assert features is not None
    # an account's score on its own evidence (the pipeline's rule for accounts outside rings), with and without flags
    own = features.select("user_id", *[
        account_score(pl.col(f"evidence{part}"), pl.col(f"exposure{part}"), config).alias(f"own{part}")
        for part in ("", "_without_flags") if f"evidence{part}" in features.columns])
    flagged = flags is not None
    users = report.user_scores.join(own, on="user_id", how="left").select(
        pl.lit("score").alias("kind"), "user_id", "score", pl.col("own").fill_null(0.0).alias("own_score"),
        pl.col("ring_id").alias("ring_key"), "role",
        *([pl.col("score_without_flags"), pl.col("own_without_flags").fill_null(0.0),
           pl.col("ring_score_without_flags").alias("ring_without_flags"), pl.col("flag_reason")] if flagged else []),
    )
    groups = pl.DataFrame({"value": seen[0] if seen else pl.Series([], dtype=pl.Float64)}).select(
        pl.lit("group").alias("kind"), pl.col("value").cast(pl.Float64))
    rings = pl.DataFrame(
        {"kind": "ring", "ring_key": [r.ring_id for r in report.rings], "value": [r.score for r in report.rings],
         "payload": [json.dumps(_ring_to_json(r)) for r in report.rings]},
        schema={"kind": pl.Utf8, "ring_key": pl.Utf8, "value": pl.Float64, "payload": pl.Utf8},
    )
    summary = pl.DataFrame({"kind": ["summary"], "payload": [json.dumps(report.summary, default=str)]})
    out = pl.concat([users, groups, rings, summary], how="diagonal_relaxed").with_columns(pl.lit(unit, pl.Int64).alias("unit"))
    out = out.select([pl.col(f.name) if f.name in out.columns else pl.lit(None).alias(f.name) for f in _OUT_SCHEMA])
    return out.to_arrow().cast(_OUT_SCHEMA)


def _with_checked_flags(tables: "Tables", flags: pl.DataFrame, config: Config) -> "Tables":
    """``tables`` with the unit's flags, which Spark has already checked against the other tables; their own
    row rules parse them as the local engine does (they pass: they are accepted rows)."""
    from graphkit.io.validate import RowRules, validate_table

    rules = RowRules(max_coins=config.max_coins, dedupe_exact_rows=config.dedupe_exact_rows)
    part = validate_table(TABLES["flags"], flags.lazy(), "<flags frame>", None, rules)
    return replace(tables, flags=part.accepted, present=tables.present | {"flags"},
                   stats={**tables.stats, "flags": part.stats})


# what a unit's analysis knows of a ring: every field but its id and rank (set across units on the driver) and the
# history fields (set by ``report --previous``/``--labels`` after the engine); taken from the dataclass, so a field
# added to Ring crosses from the executors without a change here
_UNIT_RING_FIELDS = tuple(f.name for f in fields(Ring) if f.name not in
                          ("ring_id", "rank", "status", "previous_ids", "first_seen", "decisions", "new_members"))


def _ring_to_json(ring: Ring) -> dict[str, Any]:
    """A unit's ring as JSON for the driver, floats unrounded (:func:`_ring_from_json` reads it back)."""
    doc = {name: getattr(ring, name) for name in _UNIT_RING_FIELDS}
    doc["beneficiaries"] = [astuple(b) for b in ring.beneficiaries]
    return doc


def _ring_from_json(doc: dict[str, Any], ring_id: str, rank: int) -> Ring:
    """The :class:`Ring` that :func:`_ring_to_json` wrote, with its id and rank on the whole platform.

    Examples
    --------
    >>> ring = Ring("R0007", 7, 0.61234567, ("a", "b"), 12.5, beneficiaries=(Beneficiary("b", 10.0, 0.8, 0.5),),
    ...             signals={"density": 0.5}, shared_devices=("d1",), shared_ips=("1.1.1.1",))
    >>> _ring_from_json(json.loads(json.dumps(_ring_to_json(ring))), "R0007", 7) == ring
    True
    """
    values = {name: tuple(doc[name]) if isinstance(doc[name], list) else doc[name] for name in _UNIT_RING_FIELDS}
    values["beneficiaries"] = tuple(Beneficiary(*b) for b in doc["beneficiaries"])
    return Ring(ring_id=ring_id, rank=rank, **values)


def _ranked_rings(rows: list[Any]) -> tuple[list[Ring], list[tuple[int, str, str]]]:
    """Rings above the bar, ranked as the local engine ranks them (score, then size, highest first; ties by
    their first member), with ``(unit, ring_key, ring_id)`` for each."""
    loaded = [(r["unit"], r["ring_key"], json.loads(r["payload"])) for r in rows]
    loaded.sort(key=lambda x: (-x[2]["score"], -len(x[2]["members"]), x[2]["members"][0]))
    rings, ids = [], []
    for rank, (unit, key, doc) in enumerate(loaded, start=1):
        ring_id = f"R{rank:04d}"
        rings.append(_ring_from_json(doc, ring_id, rank))
        ids.append((int(unit), key, ring_id))
    return rings, ids


def _summary(units: list[dict[str, Any]], frames: dict[str, "DataFrame"], tables: SparkTables, baseline: Baseline,
             threshold: float, rings: list[Ring], *, groups_scored: int, windowed: bool) -> dict[str, Any]:
    from pyspark.sql import functions as F

    def total(key: str) -> int:
        return int(sum(u.get(key, 0) for u in units))

    coins = 0.0
    if "gifts" in frames:
        coins = float(frames["gifts"].agg(F.sum("coins")).first()[0] or 0.0)
    placeholders = sorted((p for u in units for p in u.get("placeholder_devices", [])),
                          key=lambda p: (-p["accounts"], p["device_id"]))
    as_of = max((u["as_of"] for u in units if u.get("as_of")), default=None)
    return {
        "users": total("users"), "gifts": total("gifts"), "devices": total("devices"), "ips": total("ips"),
        "streams": total("streams"), "coins": round(coins, 2), "communities": total("communities"),
        "candidates": total("candidates"), "groups_scored": groups_scored, "ring_threshold": round(threshold, 4),
        "rings": len(rings), "accounts_in_rings": int(sum(r.size for r in rings)), "placeholder_devices": placeholders,
        "rejected_rows": tables.rejected_rows, "exact_duplicate_rows": total("exact_duplicate_rows"),
        "unknown_accounts": total("unknown_accounts"),
        # with a window, the local engine's counts: the rows Spark's validation left out as outside it, and the
        # accounts each unit's analysis left out as untouched by it, whose rows of a users table are out of it too
        **({"out_of_window_rows": sum(stats.out_of_window for stats in tables.stats.values())
                                  + (total("accounts_out_of_window") if "users" in tables.stats else 0),
            "accounts_out_of_window": total("accounts_out_of_window")} if windowed else {}),
        "baseline": {k: round(v, 4) for k, v in baseline.to_dict().items()}, "as_of": as_of,
        **({"flags": {key: int(sum(u["flags"][key] for u in units if "flags" in u))
                      for key in ("flags_read", "flags_used", "accounts_flagged")}}
           if "flags" in frames else {}),
    }


# --------------------------------------------------------------------------- the platform's baseline

def last_event_spark(frames: dict[str, "DataFrame"]) -> datetime | None:
    """The platform's last gift or device sighting (in the window): what a report knows up to, as the local
    engine's ``as_of``; flags dated after it are not used. None without a dated event."""
    from pyspark.sql import functions as F

    times = [frames[name].select(F.unix_micros(F.col(column)).alias("t")) for name, column in
             (("gifts", "sent_at"), ("devices", "seen_at")) if name in frames and column in frames[name].columns]
    if not times:
        return None
    last = _union(times).agg(F.max("t")).first()[0]
    return None if last is None else datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=int(last))


def nearest_quantile(frame: "DataFrame", column: str, q: float) -> float | None:
    """The ``q`` quantile of ``column`` (nulls left out) with polars' default rule, ``nearest``:
    the value at sorted position ``floor((n - 1) * q + 0.5)``; None when there is no value."""
    from pyspark.sql import functions as F

    values = frame.select(F.col(column).cast("double").alias("v")).where(F.col("v").isNotNull())
    n = values.count()
    if n == 0:
        return None
    k = int(math.floor((n - 1) * q + 0.5))
    return float(values.orderBy("v").offset(k).limit(1).first()["v"])


def platform_baseline_spark(frames: dict[str, "DataFrame"], config: Config) -> Baseline:
    """:func:`graphkit.detect.signals.platform_baseline`, measured by Spark over the whole platform."""
    from pyspark.sql import functions as F

    gifts = frames.get("gifts")
    ages_q10 = large = popular_q = None
    if gifts is not None:
        first = gifts.groupBy(F.col("sender_id").alias("user_id")).agg(F.min("sent_at").alias("first_sent_at"))
        if "users" in frames and "created_at" in frames["users"].columns:
            created = frames["users"].select("user_id", "created_at")
            ages = first.join(created, on="user_id").select(
                ((F.col("first_sent_at").cast("double") - F.col("created_at").cast("double")) / 86_400.0).alias("age"))
            ages_q10 = nearest_quantile(ages, "age", 0.10)
        large = nearest_quantile(gifts, "coins", 0.95)
        senders = gifts.groupBy("receiver_id").agg(F.countDistinct("sender_id").alias("n"))
        popular_q = nearest_quantile(senders, "n", 0.99)
    q10 = ages_q10 if ages_q10 is not None else config.new_account_days
    young = round(float(min(max(q10, 1.0), config.new_account_days)), 1)
    household = None
    devices = frames.get("devices")
    if devices is not None:
        placeholders = [p.strip().lower() for p in config.placeholder_device_ids]
        links = []
        for kind, column in (("device", "device_id"), ("ip", "ip")):
            if column in devices.columns:
                one = devices.where(F.col(column).isNotNull()).select(
                    F.lit(kind).alias("kind"), F.col(column).alias("ident"), "user_id")
                placeholder = (F.lower(F.trim(F.col("ident"))).isin(placeholders) if kind == "device" and placeholders
                               else F.lit(False))
                links.append(one.withColumn("placeholder", placeholder))
        if links:
            accounts = _union(links).groupBy("kind", "ident").agg(
                F.countDistinct("user_id").alias("accounts"), F.max("placeholder").alias("placeholder"))
            shared = accounts.where(~((F.col("accounts") > config.hub_cap) | F.col("placeholder")) & (F.col("accounts") >= 2))
            household = nearest_quantile(shared, "accounts", 0.95)
    return Baseline(
        young_days=young,
        large_gift=large if large is not None else 0.0,
        popular_senders=max(popular_q if popular_q is not None else 0.0, 2.0),
        household=max(household if household is not None else 2.0, 2.0),
    )
