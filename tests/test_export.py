"""graphkit.report.export and `graphkit export`: files networkx reads back as the same graph."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from click.testing import CliRunner

from graphkit import Config, Tables
from graphkit.graphs import build_graphs
from graphkit.errors import ConfigError
from graphkit.report.export import export_format, export_graph, nodes_path
from graphkit_cli.main import cli

NASTY = ['0000123', '1234567890123456789', 'a&b<c>"d\'', "tab\tid", "bell\x07id", "ü"]
GIFTS = pl.DataFrame(
    {
        "sender_id": NASTY + ["0000123"],
        "receiver_id": ["h1"] * 6 + ["h2"],
        "coins": [1.0, 2.5, 3.0, 4.0, 5.0, 6.0, 0.25],
        "sent_at": [f"2024-01-01T00:00:{s:02d}Z" for s in range(7)],
        "stream_id": ["s1"] * 7,
    }
)
DEVICES = pl.DataFrame({"user_id": ["0000123", "1234567890123456789", "z"], "device_id": ["d1", "d1", "d2"]})


@pytest.fixture(scope="module")
def graphs():
    return build_graphs(Tables.from_frames(gifts=GIFTS, devices=DEVICES), Config())


def _clean(node: str) -> str:
    return node.replace("\x07", "\ufffd")


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
@pytest.mark.parametrize("which", ["gifts", "shared", "cogift"])
def test_xml_exports_read_back_by_networkx_as_the_same_graph(graphs, tmp_path, fmt, which):
    out = tmp_path / f"g.{fmt}"
    assert export_graph(graphs, which, out) == [out]
    got = nx.read_graphml(out) if fmt == "graphml" else nx.read_gexf(out)
    want = graphs.to_networkx(which)
    assert got.is_directed() == want.is_directed() == (which == "gifts")
    assert set(got.nodes) == {_clean(n) for n in want.nodes}
    assert {(_clean(a), _clean(b)) for a, b in want.edges} == set(got.edges)
    for a, b, data in want.edges(data=True):
        for key, value in data.items():
            assert got.edges[_clean(a), _clean(b)][key] == value, (a, b, key)


def test_gifts_export_follows_the_contract(graphs, tmp_path):
    out = tmp_path / "gifts.graphml"
    export_graph(graphs, "gifts", out)
    g = nx.read_graphml(out)
    # one node per account in the gifts table, one edge per distinct pair with coins (sum) and count
    assert set(g.nodes) == {_clean(n) for n in NASTY} | {"h1", "h2"}
    assert g.number_of_edges() == 7
    assert g.edges["0000123", "h1"] == {"coins": 1.0, "count": 1, "first_at": "2024-01-01T00:00:00Z",
                                        "last_at": "2024-01-01T00:00:00Z"}
    assert g.edges["1234567890123456789", "h1"]["coins"] == 2.5


def test_parquet_writes_edges_and_nodes_with_id_strings(graphs, tmp_path):
    out = tmp_path / "shared.parquet"
    written = export_graph(graphs, "shared", out)
    assert written == [out, nodes_path(out)] and nodes_path(out).name == "shared.nodes.parquet"
    edges, nodes = pl.read_parquet(out), pl.read_parquet(nodes_path(out))
    assert edges.select("source", "target", "devices").rows() == [("0000123", "1234567890123456789", 1)]
    assert nodes["id"].to_list() == ["0000123", "1234567890123456789", "z"]


def test_format_from_suffix_or_option():
    assert export_format("x.GEXF") == "gexf"
    assert export_format("x.bin", "parquet") == "parquet"
    with pytest.raises(ConfigError, match="suffix"):
        export_format("x.csv")
    with pytest.raises(ConfigError, match="unknown export format"):
        export_format("x.gexf", "dot")


def _write(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    GIFTS.write_csv(data / "gifts.csv")
    DEVICES.write_csv(data / "devices.csv")
    return data


def test_cli_export_gifts_graphml(tmp_path):
    data = _write(tmp_path)
    out = tmp_path / "out" / "gifts.graphml"
    result = CliRunner().invoke(cli, ["export", str(data), "--graph", "gifts", "--format", "graphml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "8 nodes, 7 edges" in result.output
    assert nx.read_graphml(out).number_of_edges() == 7


def test_cli_export_window_and_hub_cap(tmp_path):
    data = _write(tmp_path)
    out = tmp_path / "shared.parquet"
    result = CliRunner().invoke(cli, ["export", str(data), "--graph", "shared", "--out", str(out), "--hub-cap", "2",
                                      "--since", "2024-01-01T00:00:03Z"])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).height == 1
    result = CliRunner().invoke(cli, ["export", str(data), "--graph", "gifts", "--out", str(tmp_path / "g.gexf"),
                                      "--since", "2024-01-01T00:00:03Z"])
    assert result.exit_code == 0, result.output
    assert nx.read_gexf(tmp_path / "g.gexf").number_of_edges() == 4


@pytest.mark.parametrize(
    "args,message",
    [
        (["--graph", "gifts", "--out", "x.csv"], "cannot tell the format"),
        (["--graph", "gifts", "--out", "x.gexf", "--since", "soon"], "since"),
        (["--graph", "gifts", "--out", "x.gexf", "--hub-cap", "1"], "--hub-cap: 1 is not in the range x>=2"),
    ],
)
def test_cli_user_errors_are_one_line_exit_2(tmp_path, args, message):
    data = _write(tmp_path)
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(cli, ["export", str(data), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("x.*"))


def test_cli_missing_data_dir_is_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "nope"), "--graph", "gifts", "--out",
                                      str(tmp_path / "g.graphml")])
    assert result.exit_code == 2 and "not found" in result.output


def test_cli_help_ends_with_an_example():
    result = CliRunner().invoke(cli, ["export", "-h"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1].strip() != ""
    assert "Example: graphkit export" in result.output


# --- nodes carry the report's score, ring and role; one ring's subgraph (issue 18 item 21) ------------------

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "report"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--no-html", "-q"])
    assert result.exit_code == 0, result.output
    return out


def _scores(out: Path) -> dict[str, dict]:
    frame = pl.read_csv(out / "scores.csv", schema_overrides={"user_id": pl.Utf8, "ring_id": pl.Utf8, "role": pl.Utf8})
    return {row["user_id"]: row for row in frame.iter_rows(named=True)}


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_exported_nodes_carry_score_ring_and_role_from_the_report(demo_out, tmp_path, fmt):
    out = tmp_path / f"gifts.{fmt}"
    result = CliRunner().invoke(cli, ["export", str(DEMO), "--graph", "gifts", "--out", str(out), "--report",
                                      str(demo_out)])
    assert result.exit_code == 0, result.output
    g = nx.read_gexf(out) if fmt == "gexf" else nx.read_graphml(out)
    scores = _scores(demo_out)
    ring_nodes = [n for n, a in g.nodes(data=True) if a.get("ring_id")]
    assert len(ring_nodes) > 100
    for node, attrs in g.nodes(data=True):
        want = scores[node]
        assert attrs["score"] == pytest.approx(want["score"])
        assert attrs.get("ring_id") == want["ring_id"] and attrs.get("role") == want["role"]


def test_export_of_one_ring_is_the_subgraph_of_its_members(demo_out, tmp_path):
    ring = json.loads((demo_out / "rings.json").read_text())["rings"][1]
    assert ring["ring_id"] == "R0002"
    whole, one = tmp_path / "all.graphml", tmp_path / "R0002.graphml"
    for path, extra in ((whole, []), (one, ["--ring", "R0002"])):
        result = CliRunner().invoke(cli, ["export", str(DEMO), "--graph", "gifts", "--out", str(path), "--report",
                                          str(demo_out), *extra])
        assert result.exit_code == 0, result.output
    full, sub = nx.read_graphml(whole), nx.read_graphml(one)
    members = set(ring["members"]) & set(full.nodes)
    assert set(sub.nodes) == members and len(members) >= ring["size"] - 2
    assert set(sub.edges) == set(full.subgraph(members).edges) and sub.number_of_edges() > 0
    assert {a["ring_id"] for _, a in sub.nodes(data=True)} == {"R0002"}
    assert "R0002" in result.stdout


def test_parquet_node_list_carries_the_report_columns(demo_out, tmp_path):
    out = tmp_path / "shared.parquet"
    result = CliRunner().invoke(cli, ["export", str(DEMO), "--graph", "shared", "--out", str(out), "--report",
                                      str(demo_out), "--ring", "R0001"])
    assert result.exit_code == 0, result.output
    nodes = pl.read_parquet(nodes_path(out))
    assert nodes.columns == ["id", "score", "ring_id", "role"]
    assert set(nodes["ring_id"].to_list()) == {"R0001"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ring", "R0001"], "--ring needs --report OUT_DIR"),
        (["--ring", "R9999", "--report", "{out}"], "R9999 is not a ring of"),
        (["--report", "{data}"], "not a graphkit report"),
    ],
)
def test_report_and_ring_mistakes_are_one_line_exit_2(demo_out, tmp_path, extra, message):
    extra = [e.format(out=demo_out, data=DEMO) for e in extra]
    result = CliRunner().invoke(cli, ["export", str(DEMO), "--graph", "gifts", "--out", str(tmp_path / "x.gexf"),
                                      *extra])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert not (tmp_path / "x.gexf").exists()
