"""``--engine spark`` without pyspark or Java, and its options: one line, exit code 2, before any work (no Spark runs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

import graphkit
from graphkit.engines.spark.engine import SparkOptions
from graphkit.engines.spark.session import parse_spark_conf
from graphkit.errors import ConfigError
from graphkit_cli.main import cli

DEMO = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"


def _report(tmp_path: Path, *extra: str):
    return CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(tmp_path / "out"), "-q", *extra])


def test_without_java_spark_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    result = _report(tmp_path, "--engine", "spark")
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0
    assert "needs Java 17 or later" in result.output and "openjdk-17-jre-headless" in result.output
    assert not (tmp_path / "out").exists()


def test_without_pyspark_spark_says_how_to_install_it(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    result = _report(tmp_path, "--engine", "spark")
    assert result.exit_code == 2, result.output
    assert "pip install 'graphkit[spark]'" in result.output and result.output.strip().count("\n") == 0


def test_spark_options_need_the_spark_engine(tmp_path):
    result = _report(tmp_path, "--spark-master", "local[2]")
    assert result.exit_code == 2 and "need --engine spark" in result.output


def test_spark_conf_must_be_key_value():
    assert parse_spark_conf(["a.b=1", " c = x=y "]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(ConfigError, match="not key=value"):
        parse_spark_conf(["=1"])


@pytest.mark.parametrize("field, value", [("units", 0), ("components", "bfs"), ("scores_csv_max", -1)])
def test_spark_options_are_range_checked(field, value):
    with pytest.raises(ConfigError, match=field):
        SparkOptions(**{field: value})
