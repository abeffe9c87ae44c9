"""What ``graphkit -h`` and ``import graphkit`` load: not the graph libraries (checked in sys.modules, not timed)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import graphkit

from _cli_entry import entry as _entry

HEAVY = ("igraph", "networkx", "matplotlib", "scipy", "pyvis")
"""Modules that `graphkit -h` and `import graphkit` must not load."""


def _imported(code: str, *args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {m.group(1) for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", done.stderr, re.M)}


def test_help_does_not_import_the_graph_libraries():
    modules = _imported(f"import sys; {_entry()}; sys.argv[0] = 'graphkit'; sys.exit(main())", "-h")
    assert "graphkit_cli.report" in modules, "the check sees the command modules"
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_import_graphkit_is_light_and_keeps_its_public_names():
    modules = _imported("import graphkit; graphkit.Config(); graphkit.load_config")
    assert not modules & {*HEAVY, "graphkit.pipeline"}, sorted(modules & {*HEAVY, "graphkit.pipeline"})
    from graphkit.pipeline import analyze

    assert graphkit.analyze is analyze
    assert {"analyze", "read_tables", "Tables", "Report", "Ring"} <= set(dir(graphkit))
    assert all(hasattr(graphkit, name) for name in graphkit.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        graphkit.nope  # noqa: B018


def test_questions_to_a_reports_store_do_not_import_the_graph_libraries(tmp_path):
    # `path` and `show --report` answer from OUT/graph/ (an index of links, node rows): no igraph graph is built,
    # so neither igraph (which imports matplotlib when it is installed), networkx nor scipy is loaded
    from click.testing import CliRunner

    from graphkit_cli.main import cli

    data = tmp_path / "data"
    data.mkdir()
    (data / "gifts.csv").write_text("sender_id,receiver_id,coins,sent_at\na,h,100,2024-05-01T00:00:00Z\n"
                                    "b,h,50,2024-05-01T00:01:00Z\nc,b,20,2024-05-01T00:02:00Z\n")
    (data / "devices.csv").write_text("user_id,device_id\na,d1\nb,d1\nc,d2\n")
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["report", str(data), "--out", str(out), "-q", "--no-html"])
    assert done.exit_code == 0, done.output
    for question in (["path", "a", "c"], ["show", "a"]):
        modules = _imported(f"import sys; {_entry()}; sys.argv[0] = 'graphkit'; sys.exit(main())",
                            *question, "--report", str(out))
        assert "graphkit.report.store" in modules, "the check sees the store"
        assert not modules & set(HEAVY), (question, sorted(modules & set(HEAVY)))
