"""The report's store (``OUT/graph/``, issue 15): the same answers as the path through the tables.

Every answer from the store is checked against the functions that answer from
the tables (``evidence_graph``, ``evidence_path`` on ``entity_edges``), on the
demo and on synthetic platforms of several seeds, for ids of every kind.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from graphkit import Config
from graphkit.detect.evidence import entity_edges, evidence_graph, evidence_path
from graphkit.io import Tables, read_tables
from graphkit.pipeline import analyze
from graphkit.report import write_report
from graphkit.report.store import STORE_SCHEMA_VERSION, open_report, open_store
from graphkit.synth import generate
from graphkit_cli.main import cli

DEMO = Path("fixtures/demo")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "out"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--no-html", "-q"])
    assert result.exit_code == 0, result.output
    return out


def _sample_ids(edges: pl.DataFrame, rng: random.Random, n: int) -> list[str]:
    """Node ids of every kind, hubs and popular hosts among them (the busiest targets)."""
    targets = edges.group_by("target").len().sort(["len", "target"], descending=[True, False])
    ids = targets.head(3).get_column("target").to_list()  # hubs, popular hosts, busy streams
    pool = sorted(set(edges.get_column("source").to_list()) | set(edges.get_column("target").to_list()))
    return ids + rng.sample(pool, n)


def _assert_same_evidence(got, want) -> None:
    assert got.seeds == want.seeds
    assert_frame_equal(got.nodes, want.nodes)
    assert_frame_equal(got.edges, want.edges)
    assert got.notes == want.notes
    assert_frame_equal(got.skipped, want.skipped)


def _check_store_answers(out: Path, tables, config: Config, seed: int, n: int) -> None:
    store = open_store(out)
    edges = entity_edges(tables, since=config.since, until=config.until)
    rng = random.Random(seed)
    ids = _sample_ids(edges, rng, n)
    for i, node in enumerate(ids):
        hops = (0, 1, 2, 3)[i % 4]
        through = i % 3 == 0
        want = evidence_graph(tables, [node], hops=hops, hub_cap=config.hub_cap, edges=edges,
                              max_nodes=config.view_max_nodes, through_popular_hosts=through)
        got = store.expand([node], hops=hops, max_nodes=config.view_max_nodes, through_popular_hosts=through)
        _assert_same_evidence(got, want)
    accounts = sorted(set(edges.filter(pl.col("relation") == "gifted").get_column("source").to_list()))
    pairs = [tuple(rng.sample(accounts, 2)) for _ in range(max(n // 2, 3))]
    # and pairs that no chain links: ends in two components of the links, an account with no usable link
    names = pl.read_parquet(out / "graph" / "link_names.parquet")
    links = pl.read_parquet(out / "graph" / "links.parquet")
    component = dict(zip(names.get_column("node_id").to_list(), _components(names.height, links)))
    ends = sorted(node for node in component if node.startswith("account:"))
    first = {}
    for node in ends:  # the first account of each component, by id
        first.setdefault(component[node], node)
    anchors = sorted(first.values())
    apart = list(zip(anchors, anchors[1:]))[:3]
    linkless = sorted(set(("account:" + tables.users.get_column("user_id")).to_list()) - set(component))
    pairs += apart[:3] + ([(linkless[0], accounts[0])] if linkless else [])
    assert apart, "the platform has a single component: the test of unreachable pairs would check nothing"
    for a, b in pairs:
        want = evidence_path(tables, a, b, config=config, edges=edges)
        assert store.path(a, b) == want, (a, b)
        if (a, b) in apart or a in linkless:
            assert want == [], (a, b)


def _components(vertices: int, links: pl.DataFrame) -> list[int]:
    import igraph as ig

    g = ig.Graph(n=vertices, edges=links.select("s", "t").rows())
    return g.connected_components().membership


def test_the_store_answers_expand_and_path_as_the_tables_do_on_the_demo(demo_report):
    _check_store_answers(demo_report, read_tables(DEMO), Config(), seed=0, n=8)


@pytest.mark.parametrize("seed", [3, 11])
def test_the_store_answers_as_the_tables_do_on_synthetic_platforms(tmp_path, seed):
    window = {"since": "2024-05-03T00:00:00Z"} if seed == 11 else {}  # a windowed report keeps its window's edges
    config = Config(seed=seed, **window)
    tables = generate(users=1_500, gifts=8_000, seed=seed).tables()
    report = analyze(tables, config, workers=1)
    write_report(report, tmp_path / "out", html=False)
    assert open_store(tmp_path / "out").settings["since"] == (None if not window else "2024-05-03T00:00:00+00:00")
    _check_store_answers(tmp_path / "out", tables, config, seed=seed, n=8)


@pytest.mark.parametrize("args", [["u007282"], ["R0002"], ["device:d006080", "--hops", "3"],
                                  ["u000236", "--through-popular-hosts", "--hops", "2"]])
def test_expand_with_report_alone_answers_from_the_store_with_the_same_output(demo_report, tmp_path, args):
    runner = CliRunner()
    outputs = {}
    for how, extra in (("store", []), ("tables", ["--data", str(DEMO)])):
        view = tmp_path / f"{how}.html"
        result = runner.invoke(cli, ["expand", *args, "--report", str(demo_report), *extra, "--out", str(view)])
        assert result.exit_code == 0, result.output
        outputs[how] = (result.output.replace(str(view), "VIEW"), view.read_bytes())
    assert outputs["store"] == outputs["tables"]


def test_path_with_report_alone_answers_from_the_store_with_the_same_output(demo_report):
    runner = CliRunner()
    for a, b in (("u000236", "u004242"), ("u007282", "u001733"), ("u000001", "u000002")):
        store = runner.invoke(cli, ["path", a, b, "--report", str(demo_report), "--json"])
        tables = runner.invoke(cli, ["path", a, b, "--data", str(DEMO), "--json"])
        assert store.exit_code == tables.exit_code == 0, store.output + tables.output
        assert store.output == tables.output


def test_the_store_does_not_read_the_tables(demo_report, tmp_path, monkeypatch):
    """Asked with the report's settings, ``expand`` and ``path`` answer with the data folder gone."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(demo_report, out)
    source = json.loads((out / "graph" / "source.json").read_text())
    source["data_dir"] = str(tmp_path / "gone")
    (out / "graph" / "source.json").write_text(json.dumps(source))
    runner = CliRunner()
    result = runner.invoke(cli, ["expand", "u007282", "--report", str(out), "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli, ["path", "u000236", "u004242", "--report", str(out)]).exit_code == 0
    # another window is not the report's: the tables are needed, and their folder is gone
    other = runner.invoke(cli, ["path", "u000236", "u004242", "--report", str(out), "--since", "2024-05-10"])
    assert other.exit_code == 2 and "is not there any more; pass --data" in other.stderr


def test_a_store_of_another_schema_version_is_one_line_naming_the_version(demo_report, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(demo_report, out)
    meta = json.loads((out / "graph" / "store.json").read_text())
    meta["schema_version"] = STORE_SCHEMA_VERSION - 1
    (out / "graph" / "store.json").write_text(json.dumps(meta))
    for args in (["show", "u007282"], ["expand", "u007282", "--out", str(tmp_path / "x.html")],
                 ["path", "u000236", "u004242"]):
        result = CliRunner().invoke(cli, [*args, "--report", str(out)])
        assert result.exit_code == 2, result.output
        or_data = "" if args[0] == "show" else ", or pass --data DATA_DIR"  # show has no --data: it must not suggest it
        assert result.stderr.splitlines() == [
            f"graphkit: error: {out / 'graph' / 'store.json'}: store schema_version {STORE_SCHEMA_VERSION - 1}, "
            f"this graphkit reads version {STORE_SCHEMA_VERSION}; run graphkit report again with this graphkit"
            f"{or_data}"]


def test_show_of_a_report_without_a_store_asks_for_a_new_report_not_an_option_it_lacks(demo_report, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(demo_report, out, ignore=shutil.ignore_patterns("graph"))
    result = CliRunner().invoke(cli, ["show", "u007282", "--report", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"graphkit: error: {out}: the report has no store ({out / 'graph' / 'store.json'} is missing: it was written "
        "by an older graphkit); run graphkit report again with this graphkit"]


def test_show_gives_an_accounts_score_ring_and_links_and_a_rings_reasons(demo_report):
    result = CliRunner().invoke(cli, ["show", "u007282", "ring:R0001", "device:d006080", "--report", str(demo_report),
                                      "--json", "--neighbours", "3"])
    assert result.exit_code == 0, result.output
    account, ring, device = json.loads(result.output)
    scores = pl.read_csv(demo_report / "scores.csv", infer_schema=False).filter(pl.col("user_id") == "u007282")
    assert account["facts"]["score"] == float(scores["score"][0])
    assert account["facts"]["ring_id"] == scores["ring_id"][0]
    edges = entity_edges(read_tables(DEMO))
    mine = edges.filter((pl.col("source") == "account:u007282") | (pl.col("target") == "account:u007282"))
    assert sum(account["links"].values()) == mine.height
    assert len(account["neighbours"]) == 3 and account["more_neighbours"] == mine.height - 3
    assert account["neighbours"][0]["coins"] == mine.get_column("coins").max()
    assert ring["ring"]["ring_id"] == "R0001"
    assert device["facts"]["accounts"] == edges.filter(pl.col("target") == "device:d006080").height


def test_show_of_an_unknown_id_or_a_report_without_a_store_is_one_line(demo_report, tmp_path):
    result = CliRunner().invoke(cli, ["show", "nobody", "--report", str(demo_report)])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "'nobody' is not an account, device, IP or stream id" in result.stderr
    import shutil

    out = tmp_path / "out"
    shutil.copytree(demo_report, out)
    (out / "graph" / "store.json").unlink()
    result = CliRunner().invoke(cli, ["show", "u007282", "--report", str(out)])
    assert result.exit_code == 2 and "the report has no store" in result.stderr


def test_open_report_gives_rings_scores_and_frames_from_the_store(demo_report):
    report = open_report(demo_report)
    ring = report.rings[0]
    members = report.expand([ring["ring_id"]], hops=0)
    assert sorted(members.get_column("user_id").to_list()) == sorted(ring["members"])
    assert set(members.get_column("ring_id").to_list()) == {ring["ring_id"]}
    steps = report.path("u000236", "u004242")
    assert steps.get_column("text").to_list() == ["u000236 used device d006080", "d006080 was also used by u004242"]
    around = report.neighbours("u007282")
    assert around.height == 69 and around.columns[:3] == ["other", "relation", "direction"]


def test_a_store_that_fails_half_written_leaves_the_previous_report_and_its_store(tmp_path, monkeypatch):
    """The store is written inside the report's temporary folder: a failure in it keeps the earlier report whole."""
    import graphkit.report.store as store_module
    from graphkit.model import Report

    tables = generate(users=1_500, gifts=8_000, seed=3).tables()
    scores = pl.DataFrame({"user_id": tables.users["user_id"], "score": 0.1, "ring_id": None})
    out = tmp_path / "out"
    write_report(Report((), scores, {}, {}, tables=tables), out, html=False)
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "graph/nodes.parquet" in before and "graph/edges.parquet" in before

    def fails_after_the_edges(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "path_links", fails_after_the_edges)  # edges and nodes are written by then
    with pytest.raises(OSError, match="disk full"):
        write_report(Report((), scores.with_columns(pl.lit(0.9).alias("score")), {}, {}, tables=tables), out,
                     html=False)
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_store_files_are_in_the_order_of_their_string_keys_whatever_the_ids(tmp_path):
    """The store sorts on coded ids (``pl.Enum``); its files must still be in the strings' order, the order a
    lookup by row-group statistics relies on: mixed case, digits, non-ASCII and ids that prefix each other."""
    from graphkit.model import Report

    ids = ["B", "a", "a1", "a10", "a2", "É", "z", "Zz", "ü", "b b", "_x", "0"]
    rng = random.Random(3)
    senders = [rng.choice(ids) for _ in range(60)]
    tables = Tables.from_frames(
        gifts=pl.DataFrame({"sender_id": senders, "receiver_id": [rng.choice(ids) for _ in senders],
                            "stream_id": [rng.choice(["s1", "S1", "s10", "ß"]) for _ in senders],
                            "coins": [float(rng.randint(1, 50)) for _ in senders],
                            "sent_at": [f"2024-05-01T00:{m:02d}:00Z" for m in range(60)]}),
        devices=pl.DataFrame({"user_id": [rng.choice(ids) for _ in range(30)],
                              "device_id": [rng.choice(["d1", "D1", "d10", "é"]) for _ in range(30)]}))
    scores = pl.DataFrame({"user_id": ids, "score": [0.5] * len(ids), "ring_id": [None] * len(ids)})
    out = tmp_path / "out"
    write_report(Report((), scores, {}, {}, tables=tables), out, html=False)
    graph = out / "graph"
    expected = entity_edges(tables)
    for name, keys in (("edges", ["source", "target", "relation"]), ("edges_by_target", ["target", "source", "relation"])):
        frame = pl.read_parquet(graph / f"{name}.parquet")
        assert frame.schema == expected.schema
        assert_frame_equal(frame, expected.sort(keys))
    for name, key in (("nodes", "node_id"), ("link_names", "node_id"), ("gifts", "sender_id"), ("sightings", "user_id")):
        column = pl.read_parquet(graph / f"{name}.parquet").get_column(key)
        assert column.dtype == pl.Utf8
        assert column.to_list() == sorted(column.to_list()), name


def test_show_of_an_unknown_ring_id_names_the_reports_rings(demo_report):
    """A ring id from another report (yesterday's R0042) is not an account either: the line lists this report's rings."""
    result = CliRunner().invoke(cli, ["show", "R0042", "--report", str(demo_report)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("graphkit: error: 'R0042' is not an account, device, IP or stream id in the data")
    assert line.endswith(f", nor a ring of {demo_report} (its rings: R0001 .. R0009)")


def test_expand_of_an_unknown_ring_id_names_the_reports_rings(demo_report, tmp_path):
    """As show does: yesterday's R0042 is neither an id in the data nor a ring of this report."""
    result = CliRunner().invoke(cli, ["expand", "R0042", "--report", str(demo_report), "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.endswith(f", nor a ring of {demo_report} (its rings: R0001 .. R0009)"), line
    assert not (tmp_path / "x.html").exists()
