"""How tests start the ``graphkit`` program in a child Python: through its installed entry point."""

from __future__ import annotations

import importlib.metadata


def entry() -> str:
    """``from MODULE import ATTR as main``: the console script ``graphkit`` as installed (pyproject.toml)."""
    (script,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "graphkit"]
    module, attr = script.value.split(":")
    return f"from {module} import {attr} as main"
