"""Starting Spark: the one place that checks pyspark and Java are there and says how to install them."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import warnings
from typing import TYPE_CHECKING, Iterable

from graphkit.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import SparkSession

__all__ = ["SparkMissingError", "parse_spark_conf", "require_spark", "spark_session"]

INSTALL_PYSPARK = "pip install 'graphkit[spark]'"
INSTALL_JAVA = "apt-get install openjdk-17-jre-headless (or set JAVA_HOME to a Java 17+ runtime)"


class SparkMissingError(ConfigError):
    """pyspark or Java is missing: the message says how to install it (exit code 2, one line)."""


def require_spark() -> None:
    """Raise :class:`SparkMissingError` unless pyspark and a Java runtime can be found.

    Examples
    --------
    >>> require_spark()  # doctest: +SKIP
    """
    if importlib.util.find_spec("pyspark") is None:
        raise SparkMissingError(f"--engine spark needs pyspark, which is not installed; run: {INSTALL_PYSPARK}")
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on PATH"
        raise SparkMissingError(f"--engine spark needs Java 17 or later ({where}); run: {INSTALL_JAVA}")


def parse_spark_conf(pairs: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` (``--spark-conf``, repeatable) -> ``{k: v}``.

    Examples
    --------
    >>> parse_spark_conf(["spark.executor.memory=2g", "spark.sql.shuffle.partitions=8"])
    {'spark.executor.memory': '2g', 'spark.sql.shuffle.partitions': '8'}
    >>> parse_spark_conf(["spark.executor.memory"])
    Traceback (most recent call last):
    ...
    graphkit.errors.ConfigError: --spark-conf 'spark.executor.memory' is not key=value; write it as spark.executor.memory=VALUE
    """
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--spark-conf {pair!r} is not key=value; write it as {key.strip() or 'spark.key'}=VALUE")
        conf[key.strip()] = value.strip()
    return conf


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> "SparkSession":
    """A SparkSession for graphkit: ``master`` (default: ``local[*]``, or the one ``spark-submit`` set) and ``conf``.

    Executors run this interpreter's Python (``PYSPARK_PYTHON``) unless it is
    set already, so that they find graphkit and its dependencies; Arrow
    transfers are switched on, and the driver gets a 2 GB heap unless ``conf``
    sets ``spark.driver.memory``.

    Raises
    ------
    SparkMissingError
        Without pyspark or Java.
    """
    require_spark()
    # pyspark 4.3 warns that it does not fully support pandas 3; graphkit hands Spark Arrow, not pandas
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("graphkit")
    if master:  # else spark-submit's master, or pyspark's own default, local[*]
        builder = builder.master(master)
    # a 2 GB driver heap unless conf says otherwise (Spark's own 1 GB ran out on the demo data with a flags table:
    # docs/spark.md); it applies when this call starts the JVM (not under spark-submit, which started it already)
    settings = {"spark.ui.enabled": "false", "spark.log.level": "ERROR", "spark.ui.showConsoleProgress": "false", "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.sql.session.timeZone": "UTC", "spark.driver.memory": "2g", **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
