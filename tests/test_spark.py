"""The Spark engine (``graphkit report --engine spark``): the same rings as the local engine, its work units,
its errors, and a real standalone cluster on 127.0.0.1. Marked ``spark``: ``make test-fast`` skips them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphkit
from benchmarks import spark_cluster
from graphkit.evaluate import evaluate_output
from graphkit_cli.main import cli

pyspark = pytest.importorskip("pyspark", reason="the spark extra: pip install 'graphkit[spark]'")

pytestmark = pytest.mark.spark

DEMO = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"
# one JVM serves every test of the module (their CLI runs reuse the session): 1g ran out of heap once, in the
# Spark context cleaner, after the catalog-table test joined, and stopped the context for the tests after it
_CONF = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2", "spark.driver.memory": "2g"}


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from graphkit.engines.spark import spark_session

    # catalog tables (--tables) go to a temporary warehouse, not ./spark-warehouse
    warehouse = tmp_path_factory.mktemp("warehouse")
    session = spark_session("local[2]", {**_CONF, "spark.sql.warehouse.dir": str(warehouse)})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _report(*args: object) -> None:
    result = CliRunner().invoke(cli, ["report", *map(str, args), "-q"])
    assert result.exit_code == 0, result.output


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


def _scores(path: Path) -> dict[str, tuple[float, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["user_id"]: (float(row["score"]), row["ring_id"]) for row in csv.DictReader(fh)}


def test_spark_finds_the_local_engines_rings_on_the_demo_data(spark, tmp_path):
    # four work units: each unit holds some of the connected components, and communities are found per component,
    # so they are the local engine's (with Leiden per unit, a ring came out cut differently: docs/spark.md)
    _report(DEMO, "--out", tmp_path / "local", "--no-html")
    _report(DEMO, "--out", tmp_path / "spark", "--engine", "spark", "--spark-master", "local[2]", "--spark-units", "4")
    local = json.loads((tmp_path / "local" / "rings.json").read_text())
    remote = json.loads((tmp_path / "spark" / "rings.json").read_text())
    assert remote["params"]["engine"] == "spark" and remote["params"]["spark"]["components"] == "star"
    assert len(remote["rings"]) == len(local["rings"])
    for ring in local["rings"]:
        best = max(_jaccard(set(ring["members"]), set(other["members"])) for other in remote["rings"])
        assert best >= 0.95, (ring["ring_id"], best)
    for key in ("users", "gifts", "devices", "ips", "streams", "coins", "baseline", "as_of", "rejected_rows"):
        assert remote["summary"][key] == local["summary"][key], key
    # every account outside the rings of both scores alike; the Parquet scores are the CSV's
    a, b = _scores(tmp_path / "local" / "scores.csv"), _scores(tmp_path / "spark" / "scores.csv")
    assert a.keys() == b.keys()
    outside = [u for u in a if not a[u][1] and not b[u][1]]
    assert len(outside) > len(a) / 2
    assert max(abs(a[u][0] - b[u][0]) for u in outside) <= 1e-6
    parquet = pl.read_parquet(tmp_path / "spark" / "scores" / "*.parquet")
    assert parquet.height == len(b) and set(parquet["user_id"]) == b.keys()
    truth = DEMO / "truth.json"
    la, lb = evaluate_output(tmp_path / "local", truth), evaluate_output(tmp_path / "spark", truth)
    assert (lb.ring_recall, lb.ring_precision) == (la.ring_recall, la.ring_precision)
    assert not (tmp_path / "spark" / "index.html").exists()  # views need the tables on the driver


def test_work_units_keep_every_link_a_detector_can_follow_in_one_unit(spark):
    # accounts joined only by a gift, a stream they gifted in and its host, a shared device or a shared IP are in one
    # unit whatever the number of units (no ring can span two); unrelated pairs spread over several units
    from graphkit.engines.spark.engine import SparkOptions, _key, _work_units

    gifts = [("a1", "a2", "s9"), ("a4", "h", "sA")] + [(f"b{i}", f"c{i}", None) for i in range(30)]
    frames = {
        "gifts": spark.createDataFrame(gifts, "sender_id string, receiver_id string, stream_id string"),
        "streams": spark.createDataFrame([("sA", "a3"), ("s9", "a6")], "stream_id string, host_id string"),
        "devices": spark.createDataFrame([("a5", "dA", None), ("a1", "dA", None), ("a6", None, "10.0.0.1"),
                                          ("a3", None, "10.0.0.1"), ("a2", "dB", None)],
                                         "user_id string, device_id string, ip string"),
    }
    unit_of, _ = _work_units(frames, SparkOptions(units=8))
    accounts = [f"a{i}" for i in range(1, 7)] + ["h"] + [f"{x}{i}" for i in range(30) for x in "bc"]
    keyed = spark.createDataFrame([(a,) for a in accounts], "user_id string").select("user_id", _key("u", "user_id").alias("key"))
    unit = {r["user_id"]: r["unit"] for r in keyed.join(unit_of, on="key").collect()}
    assert len({unit[f"a{i}"] for i in range(1, 7)} | {unit["h"]}) == 1
    assert all(unit[f"b{i}"] == unit[f"c{i}"] for i in range(30))
    assert len(set(unit.values())) > 2


def _small_data(folder: Path) -> Path:
    """Two senders and a host, with one gift of negative coins and one repeated gift id."""
    folder.mkdir()
    rows = ["gift_id,sender_id,receiver_id,coins,sent_at,stream_id"]
    rows += [f"g{i},u{i % 3},h1,{10 + i},2024-05-01T00:00:{i:02d}Z,s1" for i in range(40)]  # 2 bad rows in 42: < 5%
    rows += ["g40,u1,h1,-5,2024-05-01T00:09:00Z,s1", "g2,u2,h1,7,2024-05-01T00:09:30Z,s1"]
    (folder / "gifts.csv").write_text("\n".join(rows) + "\n")
    (folder / "devices.csv").write_text("user_id,device_id\nu0,d1\nu1,d1\nu2,d2\n")
    return folder


def test_rejected_rows_are_kept_as_parquet_with_the_local_reasons(spark, tmp_path):
    data = _small_data(tmp_path / "data")
    _report(data, "--out", tmp_path / "local", "--no-html")
    _report(data, "--out", tmp_path / "spark", "--engine", "spark")
    rejected = pl.read_parquet(tmp_path / "spark" / "rejected" / "gifts.parquet" / "*.parquet").sort("row")
    local = pl.read_csv(tmp_path / "local" / "rejected" / "gifts.csv", infer_schema=False)
    assert rejected["reason"].to_list() == local["reason"].to_list() == ["negative coins", "duplicate gift_id"]
    assert rejected["row"].to_list() == [int(r) for r in local["row"].to_list()]
    assert rejected["coins"].to_list() == local["coins"].to_list()
    a, b = (json.loads((tmp_path / side / "rings.json").read_text())["summary"] for side in ("local", "spark"))
    assert (b["rejected_rows"], b["gifts"], b["users"]) == (a["rejected_rows"], a["gifts"], a["users"]) == (2, 40, 4)


def test_catalog_tables_give_the_report_of_the_same_tables_as_parquet_files(spark, tmp_path):
    # a small synthetic platform with one bad gift, as a Parquet folder and as catalog tables named gk.live_<table>,
    # whose gifts call coins "amount" (renamed by the --columns mapping, as a warehouse table would be)
    _, files = _run_cli(["synth", str(tmp_path / "synth"), "--users", "1000", "--gifts", "9000", "--seed", "3",
                         "--format", "parquet"])
    data = tmp_path / "data"
    data.mkdir()
    spark.sql("CREATE DATABASE IF NOT EXISTS gk")
    for name in ("users", "streams", "devices", "gifts"):
        frame = pl.read_parquet(tmp_path / "synth" / f"{name}.parquet")
        if name == "gifts":
            bad = frame.head(1).with_columns(pl.lit(-5.0).alias("coins"), pl.lit("g-bad").alias("gift_id"))
            frame = pl.concat([frame, bad])
        frame.write_parquet(data / f"{name}.parquet")
        table = spark.read.parquet(str(data / f"{name}.parquet"))
        if name == "gifts":
            table = table.withColumnRenamed("coins", "amount")
        table.write.saveAsTable(f"gk.live_{name}")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tables.gifts.columns]\ncoins = "amount"\n')
    _report(data, "--out", tmp_path / "files", "--engine", "spark", "--no-html")
    _report("--tables", "gk.live_", "--columns", mapping, "--out", tmp_path / "tables", "--engine", "spark")
    a, b = (json.loads((tmp_path / side / "rings.json").read_text()) for side in ("files", "tables"))
    assert b["rings"] == a["rings"] and b["summary"] == a["summary"] and b["params"] == a["params"]
    assert a["summary"]["rejected_rows"] == 1 and a["rings"]
    assert (tmp_path / "tables" / "scores.csv").read_bytes() == (tmp_path / "files" / "scores.csv").read_bytes()
    rejected = [pl.read_parquet(tmp_path / side / "rejected" / "gifts.parquet" / "*.parquet") for side in ("files", "tables")]
    assert rejected[1].equals(rejected[0])
    assert rejected[0]["reason"].to_list() == ["negative coins"]
    source = json.loads((tmp_path / "tables" / "graph" / "source.json").read_text())
    assert source["tables"] == "gk.live_" and source["data_dir"] is None
    # a prefix naming no table: one line, exit 2, the tables it looked for named
    missing = CliRunner().invoke(cli, ["report", "--tables", "gk.nothing_", "--out", str(tmp_path / "x"), "-q",
                                       "--engine", "spark"])
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1, missing.output
    assert "gk.nothing_gifts nor gk.nothing_devices" in missing.output


def _run_cli(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.exit_code, result.output


def test_a_missing_column_is_the_local_engines_one_line_error(spark, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "gifts.csv").write_text("sender_id,receiver_id,sent_at\na,h,2024-01-01T00:00:00Z\n")
    local = CliRunner().invoke(cli, ["report", str(data), "--out", str(tmp_path / "a"), "-q"])
    remote = CliRunner().invoke(cli, ["report", str(data), "--out", str(tmp_path / "b"), "-q", "--engine", "spark"])
    assert local.exit_code == remote.exit_code == 2, remote.output
    assert remote.output == local.output and "required column 'coins' is missing" in remote.output
    assert len(remote.output.strip().splitlines()) == 1


def test_a_flags_table_is_refused_in_one_line(spark, tmp_path):
    data = _small_data(tmp_path / "data")
    (data / "flags.csv").write_text("user_id,kind,at\nu1,chargeback,2024-05-02T00:00:00Z\n")
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(tmp_path / "out"), "-q", "--engine", "spark"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "flags.csv: a flags table is not read by --engine spark yet" in result.output
    assert not (tmp_path / "out").exists()


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 40), edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=45))
def test_star_components_match_networkx(spark, n, edges):
    from graphkit.engines.spark.components import connected_components

    edges = [(a % n, b % n) for a, b in edges]
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    vertices = spark.createDataFrame([(i,) for i in range(n)], "id long")
    frame = spark.createDataFrame(edges, "src long, dst long")
    found, method = connected_components(vertices, frame, method="star")
    groups: dict[int, set[int]] = {}
    for row in found.collect():
        groups.setdefault(row["component"], set()).add(row["id"])
    assert method == "star"
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, nx.connected_components(graph)))
    assert all(c == min(members) for c, members in groups.items())


def test_graphframes_is_used_only_when_its_jar_is_there(spark):
    from graphkit.engines.spark.components import connected_components, graphframes_available
    from graphkit.errors import ConfigError

    assert not graphframes_available(spark)  # no jar on these machines
    vertices = spark.createDataFrame([(1,)], "id long")
    with pytest.raises(ConfigError, match="needs the graphframes package and its jar"):
        connected_components(vertices, spark.createDataFrame([(1, 1)], "src long, dst long"), method="graphframes")


@pytest.fixture
def standalone_cluster(tmp_path):
    """A Spark master and two workers (1 core, 2 GB each) on 127.0.0.1, from the pyspark package; always stopped."""
    with spark_cluster.standalone_cluster(tmp_path, workers=2, cores=1, memory="2g") as cluster:
        yield cluster.url, cluster.env


def test_report_on_a_standalone_cluster_of_two_workers(standalone_cluster, tmp_path):
    url, env = standalone_cluster
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "graphkit_cli", "report", str(DEMO), "--out", str(out), "--engine", "spark",
         "--spark-master", url, "--spark-conf", "spark.executor.memory=768m", "--spark-conf", "spark.executor.cores=1",
         "--spark-conf", "spark.sql.shuffle.partitions=4", "--spark-conf", "spark.driver.host=127.0.0.1",
         "--spark-units", "4", "-q", "--json"],
        env=env, capture_output=True, text=True, timeout=3000,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((out / "rings.json").read_text())
    assert doc["params"]["engine"] == "spark" and doc["summary"]["users"] == 8000
    truth = evaluate_output(out, DEMO / "truth.json")
    assert truth.ring_recall == 1.0, truth.ring_recall
    for work in ("work0", "work1"):  # each worker ran an executor of the report
        assert list((tmp_path / work).rglob("stderr")), work
