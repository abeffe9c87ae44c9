"""Leiden runs in a second process: ``python -m graphkit.detect.worker DIR``.

igraph runs on one core and holds Python's lock while it works, so a thread
cannot overlap it. :func:`in_background` writes a task's arrays to ``DIR``
(``.npy`` files and ``task.json``), starts this module with the same Python,
and yields a function that waits for the child and reads back
``result.npy``. A plain child process (not :mod:`multiprocessing`) so that
nothing of the caller's program is imported again: a script without an
``if __name__ == "__main__"`` guard, a notebook, a CLI all work the same.

Each task is a function of numpy arrays and JSON settings that returns one
array, and is the very function the caller runs when it stays in one
process, so one or two processes give the same result:

- ``lockstep``: :func:`graphkit.detect.candidates.lockstep_membership`;
- ``communities``: :func:`graphkit.detect.communities.edge_membership`.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

__all__ = ["TASKS", "in_background", "run"]

TASKS = {
    "lockstep": ("graphkit.detect.candidates", "lockstep_membership"),
    "communities": ("graphkit.detect.communities", "edge_membership"),
}
"""task name -> (module, function) run by the worker."""


def task_function(task: str) -> Callable[..., np.ndarray]:
    """The function behind ``task`` (see :data:`TASKS`)."""
    module, name = TASKS[task]
    return getattr(importlib.import_module(module), name)


@contextmanager
def in_background(task: str, arrays: dict[str, np.ndarray], settings: dict) -> Iterator[Callable[[], np.ndarray]]:
    """Run ``task(**arrays, **settings)`` in a child process while the caller goes on.

    Parameters
    ----------
    task : str
        A key of :data:`TASKS`.
    arrays : dict
        Keyword name -> numpy array (written as ``.npy``; the caller may drop
        its own copies once the context is entered).
    settings : dict
        Keyword arguments that JSON can hold.

    Yields
    ------
    callable
        Waits for the child and returns its array. Raises ``RuntimeError``
        naming the task and the child's last line of error output when it
        failed. Leaving the context early stops the child.

    Examples
    --------
    >>> import numpy as np
    >>> a, b, w = np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0])
    >>> settings = {"n_users": 4, "resolution": 0.2, "seed": 0, "max_size": 500, "n_iterations": 1}
    >>> with in_background("lockstep", {"a": a, "b": b, "weight": w}, settings) as result:
    ...     result().tolist()
    [0, 0, 0, -1]
    """
    task_function(task)  # an unknown task fails here, not in the child
    with tempfile.TemporaryDirectory(prefix=f"graphkit-{task}-") as tmp:
        folder = Path(tmp)
        for name, values in arrays.items():
            np.save(folder / f"{name}.npy", values)
        (folder / "task.json").write_text(json.dumps({"task": task, "arrays": list(arrays), "settings": settings}))
        with open(folder / "stderr.txt", "wb") as stderr:  # a file, not a pipe: a chatty child cannot block on it
            child = subprocess.Popen(
                [sys.executable, "-m", "graphkit.detect.worker", str(folder)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            )

        def result() -> np.ndarray:
            if child.wait() != 0:
                text = (folder / "stderr.txt").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise RuntimeError(f"the {task} worker process failed (exit {child.returncode}): {text[0]}")
            return np.load(folder / "result.npy")

        try:
            yield result
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def run(folder: Path) -> None:
    """Run the task described in ``folder``; write ``result.npy`` there (atomically: a temporary name, then a rename)."""
    spec = json.loads((folder / "task.json").read_text())
    arrays = {name: np.load(folder / f"{name}.npy") for name in spec["arrays"]}
    result = task_function(spec["task"])(**arrays, **spec["settings"])
    np.save(folder / "result.tmp.npy", result)
    (folder / "result.tmp.npy").rename(folder / "result.npy")


if __name__ == "__main__":
    run(Path(sys.argv[1]))
