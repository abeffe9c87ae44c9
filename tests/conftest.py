"""Shared test fixtures: where the repository, its fixtures and the shared data sets are."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
"""The repository root (the folder holding pyproject.toml)."""


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``fixtures/``: small committed data sets."""
    return REPO / "fixtures"


@pytest.fixture(scope="session")
def shared_dataset() -> Callable[[str], Path]:
    """``shared_dataset(NAME)`` -> ``<repo>/../shared/datasets/NAME``; skips the test when absent.

    The shared data sets sit beside the repository (CI checks out ``shared/``
    next to the clone); they are never copied into the repository.
    """

    def locate(name: str) -> Path:
        path = REPO.parent / "shared" / "datasets" / name
        if not path.is_dir():
            pytest.skip(f"shared data set {name} not found at {path} (it lives beside the repository, in ../shared)")
        return path

    return locate


@pytest.fixture()
def wide_console(monkeypatch):
    """The CLI's console 200 columns wide for one test, whatever the terminal or ``COLUMNS`` said when it was made.

    rich reads ``COLUMNS`` once, when the console is made (on import of ``graphkit_cli.common``); pytest-xdist's
    workers have ``COLUMNS=80``, so a ``COLUMNS`` given to ``CliRunner`` later is ignored. This sets rich's private
    ``_width``, not the ``width`` property: undoing the property would pin the width measured now.
    """
    from graphkit_cli.common import stdout

    monkeypatch.setattr(stdout, "_width", 200)
