"""``graphkit.spark``: the library entry point of the Spark engine, :mod:`graphkit.engines.spark` by a short name.

``analyze(spark, tables, config)`` gives the report of
:func:`graphkit.pipeline.analyze` computed on Apache Spark; ``tables`` come
from :func:`read_spark_tables`, given a folder of tables (local, ``hdfs://``,
``s3a://``) or ``tables="db.prefix"`` for Spark/Hive tables of the session's
catalog (``db.prefixgifts``, ``db.prefixusers``, ...: :func:`catalog_table_name`).
Needs ``pip install 'graphkit[spark]'`` and Java 17 (docs/spark.md).

Examples
--------
Not run by the doctests (they would start a JVM); tests/test_spark.py runs the same calls:

>>> from graphkit import Config
>>> from graphkit.spark import analyze, read_spark_tables, spark_session
>>> spark = spark_session("local[2]")                                       # doctest: +SKIP
>>> tables = read_spark_tables(spark, tables="fraud.live_")                 # doctest: +SKIP
>>> result = analyze(spark, tables, Config(seed=0))                         # doctest: +SKIP
>>> result.scores.write.parquet("hdfs:///fraud/graphkit/scores")            # doctest: +SKIP
>>> [ring.ring_id for ring in result.report.rings][:2]                      # doctest: +SKIP
['R0001', 'R0002']
"""

from __future__ import annotations

from graphkit.engines.spark import __all__ as _exported
from graphkit.util.lazy import lazy_exports

__all__ = list(_exported)

__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "graphkit.engines.spark"))
