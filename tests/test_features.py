"""graphkit features: one row per account, neighbour aggregates checked against networkx, every column documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import networkx as nx
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from graphkit import Config, Tables, analyze
from graphkit.features import FEATURES, NEIGHBOUR_FEATURES, account_features
from graphkit_cli.main import cli

T0 = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def platform():
    gifts = [("007", "h1", 50), ("b", "h1", 20), ("c", "h2", 5), ("h1", "h2", 1), ("d", "007", 3)]
    devices = [("007", "dv1"), ("b", "dv1"), ("c", "dv2"), ("d", "dv2"), ("b", "dv3"), ("h2", "dv3")]
    tables = Tables.from_frames(
        gifts=pl.DataFrame({"sender_id": [g[0] for g in gifts], "receiver_id": [g[1] for g in gifts],
                            "coins": [float(g[2]) for g in gifts],
                            "sent_at": [T0 + timedelta(minutes=i) for i in range(len(gifts))]}),
        devices=pl.DataFrame({"user_id": [d[0] for d in devices], "device_id": [d[1] for d in devices]}),
    )
    report = analyze(tables, Config(), workers=1)
    return gifts, devices, report, account_features(report)


def test_one_row_per_account_with_every_documented_column(platform):
    _, _, report, frame = platform
    assert frame.columns == list(FEATURES)
    assert frame["user_id"].to_list() == sorted(report.user_scores["user_id"].to_list())
    assert "007" in frame["user_id"].to_list()  # a leading zero survives


def test_neighbour_aggregates_match_networkx(platform):
    gifts, devices, _, frame = platform
    by_id = {row["user_id"]: row for row in frame.iter_rows(named=True)}
    gift_graph = nx.Graph((a, b) for a, b, _ in gifts if a != b)
    shared = nx.Graph()
    for device in {d for _, d in devices}:
        users = [u for u, d in devices if d == device]
        shared.add_edges_from((u, v) for i, u in enumerate(users) for v in users[i + 1:])
    for relation, graph in (("gift", gift_graph), ("shared", shared)):
        for user, row in by_id.items():
            neighbours = list(graph.neighbors(user)) if user in graph else []
            assert row[f"{relation}_neighbours"] == len(neighbours), (relation, user)
            for name in NEIGHBOUR_FEATURES:
                values = [float(by_id[n][name]) for n in neighbours if by_id[n][name] is not None]
                mean, top = row[f"{relation}_mean_{name}"], row[f"{relation}_max_{name}"]
                if not values:
                    assert mean is None and top is None, (relation, user, name)
                else:
                    assert mean == pytest.approx(sum(values) / len(values)) and top == pytest.approx(max(values))


def test_the_readme_documents_every_column():
    readme = (__import__("pathlib").Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### graphkit features\n", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    missing = [c for c in FEATURES if c not in documented and not re.match(r"(gift|shared)_(mean|max)_", c)]
    assert not missing, f"README's graphkit features section does not name {missing}"
    assert all(f"`{name}`" in section for name in NEIGHBOUR_FEATURES)


def test_features_command_writes_parquet(tmp_path, fixtures_dir):
    out = tmp_path / "features.parquet"
    result = CliRunner().invoke(cli, ["features", str(fixtures_dir / "demo"), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame.columns == list(FEATURES) and frame.height == 8000
    assert frame.schema["user_id"] == pl.Utf8



@pytest.mark.slow
def test_features_are_the_same_in_another_process_with_another_hash_seed_and_thread_count(tmp_path, fixtures_dir):
    """A data scientist gets the same features from the same data: every float to the last bit.

    igraph's random numbers (the HITS eigen-solver's start vector), set
    iteration order and polars' threads are what change between two runs;
    none may change a value (hub, authority and the neighbour means did).
    """
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    result = CliRunner().invoke(cli, ["features", str(fixtures_dir / "demo"), "--out", str(a), "--workers", "1"])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "PYTHONHASHSEED": "12345", "POLARS_MAX_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", "from graphkit_cli.main import cli; cli()", "features",
                           str(fixtures_dir / "demo"), "--out", str(b), "--workers", "1"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first, second = pl.read_parquet(a), pl.read_parquet(b)
    differing = [c for c in first.columns if not first[c].equals(second[c], null_equal=True)]
    assert not differing, f"columns that differ between two runs: {differing}"
    assert_frame_equal(first, second, check_exact=True)
    assert a.read_bytes() == b.read_bytes()


def test_features_of_a_folder_without_tables_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["features", str(tmp_path), "--out", str(tmp_path / "f.parquet")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
