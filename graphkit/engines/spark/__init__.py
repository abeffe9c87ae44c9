"""The Spark engine: graphkit's report for platforms that outgrow one machine.

Spark reads and validates the tables, finds the work units (connected
components of the accounts' gifts, streams, devices and IPs) and the
platform's baseline; each work unit then runs graphkit's own local pipeline
(:func:`graphkit.pipeline.analyze`) in an executor through
``groupBy(unit).applyInArrow``. Only rings, group scores and summaries reach
the driver; per-account scores are written by the executors as Parquet.

Needs ``pip install 'graphkit[spark]'`` (pyspark 4) and Java 17.

``graphkit.spark`` is the same package by the short name the issue gives it.
``read_spark_tables(spark, tables="db.prefix")`` reads Spark/Hive tables of the
catalog instead of a folder (``--tables``).

Examples
--------
>>> from graphkit import Config
>>> from graphkit.engines.spark import analyze, read_spark_tables, spark_session
>>> spark = spark_session("local[2]")                              # doctest: +SKIP
>>> result = analyze(spark, read_spark_tables(spark, "fixtures/demo"), Config(seed=0))  # doctest: +SKIP
>>> result.report.rings[0].kind                                    # doctest: +SKIP
'cashout_mules'
"""

from __future__ import annotations

from graphkit.engines.spark.session import SparkMissingError, parse_spark_conf, require_spark, spark_session
from graphkit.util.lazy import lazy_exports

__all__ = ["SparkMissingError", "SparkOptions", "SparkResult", "analyze", "catalog_table_name", "parse_spark_conf",
           "read_spark_tables", "require_spark", "spark_session", "stage_outputs", "staging_folder"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "SparkOptions": "graphkit.engines.spark.engine",
    "SparkResult": "graphkit.engines.spark.engine",
    "analyze": "graphkit.engines.spark.engine",
    "catalog_table_name": "graphkit.engines.spark.read",
    "read_spark_tables": "graphkit.engines.spark.read",
    "stage_outputs": "graphkit.engines.spark.write",
    "staging_folder": "graphkit.engines.spark.write",
})
