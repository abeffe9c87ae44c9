"""Commands that write one file (features, export, expand) never replace a file graphkit did not write."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("command, name", [
    (["features", DEMO], "features.parquet"),
    (["export", DEMO, "--graph", "shared"], "shared.graphml"),
    (["export", DEMO, "--graph", "shared"], "shared.gexf"),
    (["export", DEMO, "--graph", "shared"], "shared.parquet"),
    (["expand", "u007282", "--data", DEMO, "--hops", "1"], "around.html"),
])
def test_an_investigators_file_is_kept_and_graphkits_own_is_replaced(tmp_path, command, name):
    out = tmp_path / name
    out.write_text("case notes: do not lose\n")
    refused = _run(*command, "--out", out)
    assert refused.exit_code == 2, refused.output
    assert "exists and was not written by graphkit" in refused.output and "Traceback" not in refused.output
    assert out.read_text() == "case notes: do not lose\n"  # kept, byte for byte
    out.unlink()
    first = _run(*command, "--out", out)
    assert first.exit_code == 0, first.output
    out.write_bytes(out.read_bytes())  # a copy is no longer graphkit's file? it is: the mark is in the content
    again = _run(*command, "--out", out)  # tomorrow's run replaces graphkit's own file
    assert again.exit_code == 0, again.output


def test_the_node_list_beside_a_parquet_export_is_protected_too(tmp_path):
    out = tmp_path / "shared.parquet"
    nodes = tmp_path / "shared.nodes.parquet"
    nodes.write_text("someone else's file\n")
    refused = _run("export", DEMO, "--graph", "shared", "--out", out)
    assert refused.exit_code == 2 and nodes.name in refused.output, refused.output
    assert nodes.read_text() == "someone else's file\n" and not out.exists()
