"""pyproject.toml lists every package, so a non-editable install imports all of graphkit."""

from __future__ import annotations

import tomllib

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_graphkit_package_is_in_the_package_list():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "graphkit").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
