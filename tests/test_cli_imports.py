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
