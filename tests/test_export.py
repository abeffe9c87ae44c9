"""graphkit.report.export and `graphkit export`: files networkx reads back as the same graph."""

from __future__ import annotations

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
