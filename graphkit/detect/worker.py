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

A worker is only worth its start (about a second) on big graphs:
:func:`worth_a_worker` sends a run to it from :data:`MIN_SIZE` edges on, or
from the number in the environment variable ``GRAPHKIT_WORKER_MIN_SIZE``
(``GRAPHKIT_WORKER_MIN_SIZE=0`` sends every run to a worker, for tests and
for trying the two-process path on small data; the results are the same).

A worker never outlives its parent (a killed run must not leave a child
holding gigabytes). Two mechanisms, both on, because neither covers every
case alone (:func:`die_with_parent`):

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the
  worker the moment its parent dies, whatever the worker is doing;
- everywhere with ``setitimer`` (Linux, macOS, the BSDs), a parent-pid
  watch: every second a timer signal checks that the parent is still the
  one that started the worker, and ends the worker otherwise. It is a
  signal handler rather than a thread because igraph holds Python's lock
  for a whole Leiden run (a watch thread would wait for it), while igraph
  does let signal handlers run at its interruption checks.

A worker's folder is named ``graphkit-TASK-PID-XXXXXXXX`` after its parent's
pid and holds an ``owner.json`` marker. The parent removes it when the run
ends; a folder left behind by a parent that was killed is removed by the next
run (:func:`remove_stale_folders`): only folders with graphkit's name and
marker, of the current user, whose parent process is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from graphkit.errors import ConfigError

__all__ = [
    "MIN_SIZE", "MIN_SIZE_ENV", "TASKS", "die_with_parent", "in_background", "min_size", "remove_stale_folders",
    "run", "worth_a_worker",
]

MIN_SIZE = 2_000_000
"""Below this many edges a Leiden run takes a few seconds at most: starting a worker process
(about a second) is not worth it."""
MIN_SIZE_ENV = "GRAPHKIT_WORKER_MIN_SIZE"
"""Environment variable that overrides :data:`MIN_SIZE` (0: every run goes to a worker)."""
_MARKER = "owner.json"
"""The file that marks a folder as a graphkit worker's (written first, before any array)."""
_ORPHANED = 3
"""A worker's exit code when it ended itself because its parent was gone."""

TASKS = {
    "lockstep": ("graphkit.detect.candidates", "lockstep_membership"),
    "communities": ("graphkit.detect.communities", "edge_membership"),
}
"""task name -> (module, function) run by the worker."""


def task_function(task: str) -> Callable[..., np.ndarray]:
    """The function behind ``task`` (see :data:`TASKS`)."""
    module, name = TASKS[task]
    return getattr(importlib.import_module(module), name)


def min_size() -> int:
    """Edges from which a Leiden run goes to a worker: :data:`MIN_SIZE`, or ``GRAPHKIT_WORKER_MIN_SIZE``.

    Examples
    --------
    >>> min_size()
    2000000
    """
    text = os.environ.get(MIN_SIZE_ENV, "").strip()
    if not text:
        return MIN_SIZE
    if not text.isdigit():
        raise ConfigError(
            f"environment variable {MIN_SIZE_ENV} = {text!r} should be a whole number of edges >= 0 "
            f"(default {MIN_SIZE:,}); fix or unset it"
        )
    return int(text)


def worth_a_worker(edges: int, workers: int) -> bool:
    """Whether a Leiden run on ``edges`` edges goes to a worker process (``workers >= 2`` and a big graph).

    Examples
    --------
    >>> worth_a_worker(10, workers=2), worth_a_worker(5_000_000, workers=2), worth_a_worker(5_000_000, workers=1)
    (False, True, False)
    """
    return workers >= 2 and edges >= min_size()


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
    remove_stale_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"graphkit-{task}-{os.getpid()}-"))
    child = None
    try:
        (folder / _MARKER).write_text(json.dumps({"created_by": "graphkit.detect.worker", "parent": os.getpid()}))
        for name, values in arrays.items():
            np.save(folder / f"{name}.npy", values)
        spec = {"task": task, "arrays": list(arrays), "settings": settings, "parent": os.getpid()}
        (folder / "task.json").write_text(json.dumps(spec))
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

        yield result
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        shutil.rmtree(folder, ignore_errors=True)


_FOLDER = re.compile(r"graphkit-(?P<task>[a-z_]+)-(?P<parent>[0-9]+)-[A-Za-z0-9_]+")


def remove_stale_folders(where: str | Path | None = None) -> list[Path]:
    """Remove the worker folders that runs killed before they could clean up; return them.

    A folder is removed only when all of these hold: its name is
    ``graphkit-TASK-PID-XXXXXXXX`` with a task of :data:`TASKS`; it is a
    real folder (not a link) of the current user; it holds the
    ``owner.json`` marker naming the same parent pid; and no process with
    that pid is alive. Anything else is left alone (a live run's folder, a
    pid reused by another process, a folder graphkit did not write).

    Parameters
    ----------
    where : path, optional
        The folder to look in (default: :func:`tempfile.gettempdir`, where
        :func:`in_background` creates them).

    Returns
    -------
    list of Path
        The folders removed.

    Examples
    --------
    >>> import tempfile
    >>> remove_stale_folders(tempfile.mkdtemp())
    []
    """
    base = Path(where if where is not None else tempfile.gettempdir())
    removed = []
    for entry in sorted(base.iterdir()) if base.is_dir() else []:
        match = _FOLDER.fullmatch(entry.name)
        if match is None or match["task"] not in TASKS:
            continue
        parent = int(match["parent"])
        try:
            info = entry.lstat()
            marker = json.loads((entry / _MARKER).read_text())
        except (OSError, ValueError):
            continue
        if not (entry.is_dir() and not entry.is_symlink() and info.st_uid == os.getuid()):
            continue
        if not isinstance(marker, dict) or marker.get("created_by") != "graphkit.detect.worker" or marker.get("parent") != parent:
            continue
        if _alive(parent):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


_PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""


def die_with_parent(parent: int, *, interval: float = 1.0, pdeathsig: bool = True) -> list[str]:
    """Make this process end when ``parent`` does; return the mechanisms in place.

    ``"pdeathsig"``: on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, after
    which the kernel kills this process when its parent dies. ``"watch"``:
    where ``signal.setitimer`` exists, every ``interval`` seconds a timer
    signal checks ``os.getppid() == parent`` and ends the process with exit
    code 3 otherwise (runs in igraph's interruption checks too). If the
    parent is already gone, the process ends right away.

    Parameters
    ----------
    parent : int
        The pid of the process that started this one.
    interval : float
        Seconds between two checks of the watch.
    pdeathsig : bool
        False leaves ``prctl`` out: the watch alone, as on the platforms
        without it (the tests check each mechanism on its own).

    Returns
    -------
    list of str
        The mechanisms in place, among ``"pdeathsig"`` and ``"watch"``.
    """
    mechanisms = []
    if pdeathsig and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
            mechanisms.append("pdeathsig")

    def check(*_: object) -> None:
        if os.getppid() != parent:
            os._exit(_ORPHANED)

    check()  # the parent may have died before the mechanisms were in place
    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, check)
        signal.setitimer(signal.ITIMER_REAL, interval, interval)
        mechanisms.append("watch")
    return mechanisms


def run(folder: Path) -> None:
    """Run the task described in ``folder``; write ``result.npy`` there (atomically: a temporary name, then a rename)."""
    spec = json.loads((folder / "task.json").read_text())
    arrays = {name: np.load(folder / f"{name}.npy") for name in spec["arrays"]}
    result = task_function(spec["task"])(**arrays, **spec["settings"])
    np.save(folder / "result.tmp.npy", result)
    (folder / "result.tmp.npy").rename(folder / "result.npy")


def _main(folder: Path) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent handles it, and stops this
    # worker when it leaves in_background (or dies, and die_with_parent ends this one)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    mechanisms = die_with_parent(json.loads((folder / "task.json").read_text())["parent"])
    try:
        run(folder)
    finally:
        if "watch" in mechanisms:  # disarmed: the interpreter's teardown restores SIGALRM's default (exit)
            signal.setitimer(signal.ITIMER_REAL, 0)


if __name__ == "__main__":
    _main(Path(sys.argv[1]))
