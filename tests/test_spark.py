"""The Spark engine (``graphkit report --engine spark``): the same rings as the local engine, its work units,
its errors, and a real standalone cluster on 127.0.0.1. Marked ``spark``: ``make test-fast`` skips them."""

from __future__ import annotations

import csv
import json
import shutil
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

from _ratings import RATINGS_MAPPING

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


def _demo_with_flags(folder: Path) -> Path:
    """The demo data with a flags table: chargebacks, bans and reports on four members of every planted ring
    (weights 0.8 or none, one kind spelled " Ban "), reports and negative ratings on 30 honest accounts, and four
    bad rows (an unknown account, a bad kind, a weight of 2, a flag after the data's last event; 3 of 70 are bad)."""
    shutil.copytree(DEMO, folder)
    truth = json.loads((DEMO / "truth.json").read_text())
    in_rings = {m for ring in truth["rings"] for m in ring["members"]}
    rows = [(m, ["chargeback", " Ban ", "report"][j % 3], f"2024-05-{10 + j:02d}T12:00:00Z", "" if j % 2 else "0.8")
            for ring in truth["rings"] for j, m in enumerate(sorted(ring["members"])[:4])]
    honest = [u for u in pl.read_csv(DEMO / "users.csv")["user_id"].to_list() if u not in in_rings][::250][:30]
    rows += [(u, "report" if k % 2 else "negative_rating", f"2024-05-{1 + k % 28:02d}T08:00:00Z", "")
             for k, u in enumerate(honest)]
    rows += [("nobody", "ban", "2024-05-03T00:00:00Z", ""), (honest[0], "two words", "2024-05-03T00:00:00Z", ""),
             (honest[1], "ban", "2024-05-03T00:00:00Z", "2"), (honest[2], "ban", "2030-01-01T00:00:00Z", "")]
    pl.DataFrame(rows, schema=["user_id", "kind", "at", "weight"], orient="row").write_csv(folder / "flags.csv")
    return folder


def _assert_the_local_engines_report_on_the_demo_with_flags(tmp_path: Path) -> None:
    """``tmp_path/spark`` (four work units) holds the report that the local engine wrote to ``tmp_path/local``.

    Each unit holds some of the connected components, and communities are found per component, so they are the
    local engine's (with Leiden per unit, a ring came out cut differently: docs/spark.md). With a flags table: Spark
    checks it against the other tables, each unit gets its accounts' flags (cut off at the platform's last event),
    and the flag rates, flag_reason and score_without_flags are the local engine's.
    """
    local = json.loads((tmp_path / "local" / "rings.json").read_text())
    remote = json.loads((tmp_path / "spark" / "rings.json").read_text())
    assert remote["params"]["engine"] == "spark" and remote["params"]["spark"]["components"] == "driver"
    assert len(remote["rings"]) == len(local["rings"])
    for ring in local["rings"]:
        best = max(_jaccard(set(ring["members"]), set(other["members"])) for other in remote["rings"])
        assert best >= 0.95, (ring["ring_id"], best)
    # and here the same rings: members, scores, reasons, signals, equipment (shared devices and IPs)
    assert remote["rings"] == local["rings"]
    for key in ("users", "gifts", "devices", "ips", "streams", "coins", "baseline", "as_of", "rejected_rows",
                "ring_threshold", "rings", "accounts_in_rings", "flags"):
        assert remote["summary"][key] == local["summary"][key], key
    assert local["summary"]["flags"] == {"flags_read": 66, "flags_used": 66, "accounts_flagged": 66}
    for name in ("rings.csv", "members.csv", "scores.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    header = (tmp_path / "spark" / "scores.csv").read_text().splitlines()[0]
    assert header == "user_id,score,ring_id,role,score_without_flags,flag_reason"
    # the same rejected flags, rows and reasons (an empty CSV field is null in Spark's rejected rows: docs/spark.md)
    rejected = pl.read_parquet(tmp_path / "spark" / "rejected" / "flags.parquet" / "*.parquet").sort("row")
    expected = pl.read_csv(tmp_path / "local" / "rejected" / "flags.csv", infer_schema=False)
    columns = ["row", "user_id", "kind", "at", "reason"]
    assert rejected.select(pl.col(columns).cast(pl.Utf8)).equals(expected.select(columns))
    assert [r.split(" (")[0] for r in rejected["reason"]] == [
        "unknown user_id", "bad kind", "weight outside 0-1", "at after the data's last event"]
    # every account outside the rings of both scores alike; the Parquet scores are the CSV's
    a, b = _scores(tmp_path / "local" / "scores.csv"), _scores(tmp_path / "spark" / "scores.csv")
    assert a.keys() == b.keys()
    outside = [u for u in a if not a[u][1] and not b[u][1]]
    assert len(outside) > len(a) / 2
    assert max(abs(a[u][0] - b[u][0]) for u in outside) <= 1e-6
    parquet = pl.read_parquet(tmp_path / "spark" / "scores" / "*.parquet")
    assert parquet.height == len(b) and set(parquet["user_id"]) == b.keys()
    written = pl.read_csv(tmp_path / "spark" / "scores.csv", schema_overrides={"flag_reason": pl.Utf8})
    assert parquet.sort("user_id").select("user_id", "flag_reason").equals(written.sort("user_id").select("user_id", "flag_reason"))
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
    # the links as the default finds them (on the driver); the star rounds give the same components
    # (test_components_match_networkx) and are what auto picks above the driver's limit (the test after it)
    unit_of, method = _work_units(frames, SparkOptions(units=8))
    assert method == "driver"
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
    # the files through the local engine (Spark reads the same files as the local engine: the window test below),
    # the catalog tables through Spark
    _report(data, "--out", tmp_path / "files", "--no-html")
    _report("--tables", "gk.live_", "--columns", mapping, "--out", tmp_path / "tables", "--engine", "spark")
    a, b = (json.loads((tmp_path / side / "rings.json").read_text()) for side in ("files", "tables"))
    assert b["rings"] == a["rings"] and a["summary"]["rejected_rows"] == 1 and a["rings"]
    for key in ("users", "gifts", "devices", "ips", "streams", "coins", "baseline", "as_of", "rejected_rows",
                "ring_threshold", "rings", "accounts_in_rings"):
        assert b["summary"][key] == a["summary"][key], key
    for name in ("rings.csv", "members.csv", "scores.csv"):
        assert (tmp_path / "tables" / name).read_bytes() == (tmp_path / "files" / name).read_bytes(), name
    local = pl.read_csv(tmp_path / "files" / "rejected" / "gifts.csv", infer_schema=False)
    remote = pl.read_parquet(tmp_path / "tables" / "rejected" / "gifts.parquet" / "*.parquet")
    assert [r.split(" (")[0] for r in remote["reason"]] == [r.split(" (")[0] for r in local["reason"]] == ["negative coins"]
    assert remote["gift_id"].to_list() == local["gift_id"].to_list() == ["g-bad"]
    source = json.loads((tmp_path / "tables" / "graph" / "source.json").read_text())
    assert source["tables"] == "gk.live_" and source["data_dir"] is None
    # a prefix naming no table: one line, exit 2, the tables it looked for named
    missing = CliRunner().invoke(cli, ["report", "--tables", "gk.nothing_", "--out", str(tmp_path / "x"), "-q",
                                       "--engine", "spark"])
    assert missing.exit_code == 2 and len(missing.output.strip().splitlines()) == 1, missing.output
    assert "gk.nothing_gifts nor gk.nothing_devices" in missing.output


def test_a_window_with_flags_gives_the_local_engines_report_counts_and_rejected_rows(spark, tmp_path):
    # --since/--until on Spark, as locally: only the rows in the window are validated (a bad gift and a flag dated
    # after it are out of the window, not rejected), flags are checked against the window's accounts and last
    # event, and the summary counts the rows and accounts left out
    data = tmp_path / "data"
    _run_cli(["synth", str(data), "--users", "1000", "--gifts", "9000", "--seed", "3", "--flags"])
    with open(data / "gifts.csv", "a", encoding="utf-8") as fh:  # one bad gift outside the window, one inside
        fh.write("u000001,u000002,-5.0,2024-05-02T00:00:00Z,,\nu000001,u000002,-5.0,2024-05-10T00:00:00Z,,\n")
    with open(data / "flags.csv", "a", encoding="utf-8") as fh:
        fh.write("u000003,chargeback,2030-01-01T00:00:00Z\nu000004,two words,2024-05-12T00:00:00Z\n")
        fh.write("".join(f"u{i:06d},report,2024-05-15T00:00:00Z\n" for i in range(10, 40)))  # 1 bad flag of 40 < 5%
    window = ["--since", "2024-05-05", "--until", "2024-05-26"]
    _report(data, "--out", tmp_path / "local", "--no-html", *window)
    _report(data, "--out", tmp_path / "spark", "--engine", "spark", "--spark-units", "2", *window)
    for name in ("rings.csv", "members.csv", "scores.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    a, b = (json.loads((tmp_path / side / "rings.json").read_text())["summary"] for side in ("local", "spark"))
    for key in ("users", "gifts", "rejected_rows", "out_of_window_rows", "accounts_out_of_window", "flags", "rings"):
        assert b[key] == a[key], key
    assert a["rings"] and a["out_of_window_rows"] > 0 and a["accounts_out_of_window"] > 0
    for table, reasons in (("gifts", ["negative coins"]), ("flags", ["bad kind"])):
        local = pl.read_csv(tmp_path / "local" / "rejected" / f"{table}.csv", infer_schema=False)
        remote = pl.read_parquet(tmp_path / "spark" / "rejected" / f"{table}.parquet" / "*.parquet")
        assert [r.split(" (")[0] for r in remote["reason"]] == [r.split(" (")[0] for r in local["reason"]] == reasons
        assert remote["row"].to_list() == [int(r) for r in local["row"]]


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


def test_a_flags_table_that_breaks_the_contract_is_the_local_engines_one_line_error(spark, tmp_path):
    data = _small_data(tmp_path / "data")

    def both(name: str) -> tuple[str, str]:
        local = CliRunner().invoke(cli, ["report", str(data), "--out", str(tmp_path / f"{name}-local"), "-q"])
        remote = CliRunner().invoke(cli, ["report", str(data), "--out", str(tmp_path / f"{name}-spark"), "-q",
                                          "--engine", "spark"])
        for result in (local, remote):
            assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
            assert "Traceback" not in result.output
        assert not (tmp_path / f"{name}-spark").exists()
        return local.output, remote.output

    (data / "flags.csv").write_text("user_id,at\nu1,2024-05-01T00:00:00Z\n")
    local, remote = both("column")
    assert remote == local and "flags.csv: required column 'kind' is missing" in remote
    # flags of accounts no other table has: too many bad rows; the local engine also says where it wrote them
    (data / "flags.csv").write_text("user_id,kind,at\nu1,ban,2024-05-01T00:00:00Z\n"
                                    + "".join(f"x{i},ban,2024-05-01T00:00:00Z\n" for i in range(3)))
    local, remote = both("unknown")
    assert local.startswith(remote.rstrip("\n")), (local, remote)
    assert "flags.csv: 3 of 4 rows rejected" in remote and "'unknown user_id (in no gift, device, stream or user row)'" in remote


def test_a_work_unit_uses_the_flags_known_by_the_platforms_last_event_not_its_own():
    # Spark checks the flags against the whole platform; a unit whose own last gift is earlier than a flag of one of
    # its accounts still uses that flag when the platform's last event is later (no Spark session needed: one unit)
    from datetime import datetime, timezone

    from graphkit.config import Config
    from graphkit.detect.signals import Baseline
    from graphkit.engines.spark.engine import _analyze_unit

    day = lambda d: datetime(2024, 5, d, tzinfo=timezone.utc)  # noqa: E731
    gifts = [(f"a{i}", "h", 10.0, day(1 + i % 2)) for i in range(6)]
    rows = pl.concat([
        pl.DataFrame({"table": "gifts", "row": range(1, 7), "gifts__sender_id": [g[0] for g in gifts],
                      "gifts__receiver_id": [g[1] for g in gifts], "gifts__coins": [g[2] for g in gifts],
                      "gifts__sent_at": [g[3] for g in gifts]}),
        pl.DataFrame({"table": "flags", "row": [1], "flags__user_id": ["a1"], "flags__kind": ["ban"],
                      "flags__at": [day(3)], "flags__weight": [None]}, schema_overrides={"flags__weight": pl.Float64}),
    ], how="diagonal").with_columns(pl.lit(0, pl.Int64).alias("unit"))
    columns = {"gifts": ["sender_id", "receiver_id", "coins", "sent_at"], "flags": ["user_id", "kind", "at", "weight"]}
    baseline = Baseline(young_days=7.0, large_gift=100.0, popular_senders=2.0, household=2.0)

    def run(as_of: datetime | None) -> tuple[dict, dict]:
        out = pl.from_arrow(_analyze_unit(rows.to_arrow(), columns, Config(seed=0), baseline, as_of))
        summary = json.loads(out.filter(pl.col("kind") == "summary")["payload"][0])
        reasons = dict(out.filter(pl.col("kind") == "score").select("user_id", "flag_reason").iter_rows())
        return summary["flags"], reasons

    flags, reasons = run(day(5))
    assert flags == {"flags_read": 1, "flags_used": 1, "accounts_flagged": 1}
    assert reasons["a1"].startswith("flag rate") and reasons["a0"] is None
    flags, reasons = run(None)  # the unit's own last gift (day 2): the flag of day 3 is not known yet
    assert flags == {"flags_read": 1, "flags_used": 0, "accounts_flagged": 0} and reasons["a1"] is None
    rows = rows.filter(pl.col("table") != "flags")  # a unit without flags of its own, on a platform with some
    flags, reasons = run(day(5))
    assert flags == {"flags_read": 0, "flags_used": 0, "accounts_flagged": 0} and set(reasons.values()) == {None}


@pytest.mark.parametrize("method", ["star", "driver"])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 40), edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=45),
       offset=st.sampled_from([0, -(2**62)]))
def test_components_match_networkx(spark, method, n, edges, offset):
    # ids as xxhash64 keys are: any long, negative ones too
    from graphkit.engines.spark.components import connected_components

    edges = [(a % n + offset, b % n + offset) for a, b in edges]
    graph = nx.Graph()
    graph.add_nodes_from(range(offset, offset + n))
    graph.add_edges_from(edges)
    vertices = spark.createDataFrame([(i,) for i in range(offset, offset + n)], "id long")
    frame = spark.createDataFrame(edges, "src long, dst long")
    found, used = connected_components(vertices, frame, method=method)
    groups: dict[int, set[int]] = {}
    for row in found.collect():
        groups.setdefault(row["component"], set()).add(row["id"])
    assert used == method
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, nx.connected_components(graph)))
    assert all(c == min(members) for c, members in groups.items())


def test_auto_finds_components_on_the_driver_up_to_its_limit_and_with_star_rounds_above_it(spark):
    from graphkit.engines.spark.components import connected_components

    vertices = spark.createDataFrame([(i,) for i in range(6)], "id long")
    edges = spark.createDataFrame([(0, 1), (1, 0), (2, 3), (3, 4), (5, 5)], "src long, dst long")  # 3 distinct links
    results = {}
    for limit in (3, 2):
        found, used = connected_components(vertices, edges, driver_max_edges=limit)
        results[used] = sorted((r["id"], r["component"]) for r in found.collect())
    assert results == {"driver": [(0, 0), (1, 0), (2, 2), (3, 2), (4, 2), (5, 5)],
                       "star": [(0, 0), (1, 0), (2, 2), (3, 2), (4, 2), (5, 5)]}


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
    with spark_cluster.standalone_cluster(tmp_path / "cluster", workers=2, cores=1, memory="2g") as cluster:
        yield cluster.url, cluster.env


def test_a_standalone_cluster_of_two_workers_gives_the_local_engines_report_on_the_demo_with_flags(
        standalone_cluster, tmp_path):
    # the whole report, driver and executors in processes of their own as on a real cluster; the same bytes as the
    # local engine's (one Spark report here stands for local[2] too: the engine's code is the same, and the window
    # and catalog tests below compare local[2] with the local engine)
    url, env = standalone_cluster
    data = _demo_with_flags(tmp_path / "data")
    _report(data, "--out", tmp_path / "local", "--no-html")
    done = subprocess.run(
        [sys.executable, "-m", "graphkit_cli", "report", str(data), "--out", str(tmp_path / "spark"), "--engine",
         "spark", "--spark-master", url, "--spark-conf", "spark.executor.memory=768m", "--spark-conf",
         "spark.executor.cores=1", "--spark-conf", "spark.sql.shuffle.partitions=4", "--spark-conf",
         "spark.driver.host=127.0.0.1", "--spark-units", "4", "-q", "--json"],
        env=env, capture_output=True, text=True, timeout=3000,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_the_local_engines_report_on_the_demo_with_flags(tmp_path)
    doc = json.loads((tmp_path / "spark" / "rings.json").read_text())
    assert doc["summary"]["users"] == 8000
    assert evaluate_output(tmp_path / "spark", DEMO / "truth.json").ring_recall == 1.0
    for work in ("work0", "work1"):  # each worker ran an executor of the report
        assert list((tmp_path / "cluster" / work).rglob("stderr")), work


def test_a_mappings_where_and_constants_read_ratings_as_gifts_and_flags_as_the_local_engine_does(spark, tmp_path):
    # README's signed-trust mapping: positive ratings are gifts, negative ones flags of kind negative_rating (a
    # constant); the rows a where leaves out are neither accepted nor rejected, and row numbers stay the file's
    from graphkit.engines.spark import read_spark_tables
    from graphkit.io import read_tables

    pl.DataFrame({
        "rater": ["a", "b", "c", "a", "b"], "ratee": ["b", "c", "a", "c", "a"], "rating": ["5", "-10", "2", "-3", "-1"],
        "time": ["1289241911.72836", "1289241912", "1289241915", "1289241914", "not a time"],
    }).write_csv(tmp_path / "ratings.csv")
    (tmp_path / "graphkit.toml").write_text(RATINGS_MAPPING, encoding="utf-8")
    local = read_tables(tmp_path, max_bad_share=1.0)
    remote = read_spark_tables(spark, tmp_path, max_bad_share=1.0)
    for name, columns in (("gifts", ["sender_id", "receiver_id", "coins", "sent_at"]), ("flags", ["user_id", "kind", "at"])):
        got = pl.DataFrame([tuple(r) for r in remote.frames[name].orderBy("__gk_row").select(*columns).collect()],
                           schema=columns, orient="row")
        assert got.with_columns(pl.col(c).dt.replace_time_zone("UTC") for c in ("sent_at", "at") if c in columns).equals(
            local.table(name).select(columns)), name
        assert remote.stats[name].rows_read == local.stats[name].rows_read
    assert local.flags.select("user_id", "kind").rows() == [("c", "negative_rating"), ("c", "negative_rating")]
    rejected = pl.read_csv(local.rejected["flags"].write_csv().encode(), infer_schema=False)
    spark_rejected = [(r["row"], r["reason"]) for r in remote.rejected["flags"].collect()]
    assert spark_rejected == [(int(r), reason) for r, reason in rejected.select("row", "reason").iter_rows()]
    assert spark_rejected == [(5, "unparseable at")]
    # a mapped column the file lacks: the local engine's one line on both
    from graphkit.errors import ColumnNotFoundError

    (tmp_path / "graphkit.toml").write_text('[tables.gifts]\nfile = "ratings.csv"\n[tables.gifts.columns]\n'
                                            'sender_id = "rator"\n', encoding="utf-8")
    with pytest.raises(ColumnNotFoundError) as local_error:
        read_tables(tmp_path)
    with pytest.raises(ColumnNotFoundError) as remote_error:
        read_spark_tables(spark, tmp_path)
    assert str(remote_error.value) == str(local_error.value)
    assert "column 'rator' (mapped to gifts.sender_id in " in str(remote_error.value)
