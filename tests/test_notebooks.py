"""The notebooks in ``notebooks/`` run top to bottom in a real Jupyter kernel, and are committed without outputs.

Each notebook is executed with nbclient in an IPython kernel running this
interpreter (the venv's ``python``, through a kernel spec written to a
temporary folder, so a ``python3`` kernel installed elsewhere on the machine
is never picked up), from the ``notebooks/`` folder as Jupyter would, with
matplotlib's non-interactive ``Agg`` backend.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
KERNEL = "graphkit-test"
TIMEOUT_S = 300
"""Per cell: far above the notebooks' run time (well under a minute each); only a hang reaches it."""


def test_the_notebooks_are_there():
    names = [p.name for p in NOTEBOOK_FILES]
    assert names == ["01-ring-deep-dive.ipynb", "02-detection-quality.ipynb"], names


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs or execution counts; clear them before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernel spec that starts an IPython kernel with this interpreter, in a folder of its own."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = folder / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "graphkit tests",
                "language": "python",
                # matplotlib's inline backend: renders with Agg (no display needed) into the
                # cell's outputs, where the test can see that every figure was drawn
                "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
            }
        ),
        encoding="utf-8",
    )
    return folder


def _execute(path: Path, kernel_dir: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
    client = NotebookClient(
        nb,
        km=manager,
        timeout=TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel_dir: Path):
    before = _files()
    nb = _execute(path, kernel_dir)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), f"{path.name}: not every cell ran"
    outputs = [out for cell in code for out in cell.outputs]
    plots = [cell for cell in code if "plt.show()" in cell.source]
    blank = [cell.source.splitlines()[0] for cell in plots
             if not any("image/png" in out.get("data", {}) for out in cell.outputs)]
    assert plots and not blank, f"{path.name}: figures not drawn: {blank}"
    errors = [out for out in outputs if out.output_type == "error"]
    assert not errors, errors
    # the notebooks never write into the repository (they run from notebooks/)
    after = _files()
    changed = sorted(str(p.relative_to(REPO)) for p in after if before.get(p) != after[p])
    assert not changed, f"{path.name} wrote into the repository: {changed}"


_NOT_WATCHED = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}


def _files() -> dict[Path, int]:
    """Every file of the checkout (caches and the venv aside) with its modification time."""
    found = {}
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in _NOT_WATCHED]
        for name in files:
            path = Path(root, name)
            found[path] = path.stat().st_mtime_ns
    return found
