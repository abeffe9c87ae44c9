"""The Leiden worker process: it dies with its parent, and a killed run's folder goes on the next run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import graphkit
from graphkit.detect import worker
from graphkit.errors import ConfigError

from _cli_entry import entry

DEMO = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"
linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _gone(pid: int, seconds: float) -> bool:
    """The process ended within ``seconds`` (a zombie waiting for its reaper counts as ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fields = _stat(pid)
        if fields is None or fields[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def _worker_of(parent: subprocess.Popen) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and parent.poll() is None:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == parent.pid and b"graphkit.detect.worker" in cmdline:
                return int(stat.parent.name)
        time.sleep(0.002)
    parent.kill()
    pytest.fail(f"no worker process was seen (exit {parent.poll()}): {parent.communicate()[1]}")


def _no_worker_in(folder: Path, seconds: float) -> bool:
    """No live process runs a worker on a folder inside ``folder``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        live = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(folder).encode() in cmdline.read_bytes() and (_stat(int(cmdline.parent.name)) or ["Z"])[0] != "Z":
                    live.append(cmdline.parent.name)
            except OSError:
                continue
        if not live:
            return True
        time.sleep(0.05)
    return False


def _report(tmp_path: Path, out: str, env: dict[str, str], **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; {entry()}; sys.argv[0] = 'graphkit'; sys.exit(main())",
         "report", str(tmp_path / "data"), "--out", str(tmp_path / out), "-q", "--no-html"],
        env=env, text=True, **popen,
    )


@linux_only
def test_a_killed_report_takes_its_worker_along_and_the_next_run_removes_its_folder(tmp_path):
    shutil.copytree(DEMO, tmp_path / "data")
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "GRAPHKIT_WORKER_MIN_SIZE": "0"}
    parent = _report(tmp_path, "out", env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child = _worker_of(parent)
    os.kill(child, signal.SIGSTOP)  # held where it is: it cannot finish on its own before the parent dies
    deadline = time.monotonic() + 10
    while (_stat(child) or ["?"])[0] not in ("T", "Z", "?") and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _stat(child)[0] == "T", "the worker is alive and stopped"
    parent.kill()
    parent.wait()
    os.kill(child, signal.SIGCONT)
    assert _gone(child, 30), "the worker outlived its killed parent"  # a bound, not a speed: generous for a loaded machine
    left = sorted(p.name for p in (tmp_path / "tmp").iterdir())
    assert left and all(name.startswith("graphkit-") and f"-{parent.pid}-" in name for name in left), left
    assert _no_worker_in(tmp_path / "tmp", 30), "the other worker (communities, lockstep) is gone too"

    again = _report(tmp_path, "out2", {**env, "GRAPHKIT_WORKER_MIN_SIZE": ""},
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert list((tmp_path / "tmp").iterdir()) == [], "the next run removed the dead run's worker folder"


_PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
print(child.pid, flush=True)
child.stdout.readline()  # the child's watch is in place
"""
_CHILD = """
import os, time
from graphkit.detect.worker import die_with_parent
print(die_with_parent(os.getppid(), interval=0.1, pdeathsig={pdeathsig}), flush=True)
time.sleep(120)
"""


@linux_only
@pytest.mark.parametrize(("pdeathsig", "mechanisms"), [(True, ["pdeathsig", "watch"]), (False, ["watch"])])
def test_each_mechanism_alone_ends_the_worker_when_its_parent_dies(pdeathsig, mechanisms):
    # SIGKILL on the parent: no cleanup of its own can run, the child must notice by itself
    child_code = _CHILD.format(pdeathsig=pdeathsig)
    code = _PARENT + "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n"
    parent = subprocess.Popen([sys.executable, "-c", code, child_code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 30
    while (_stat(parent.pid) or ["?"])[0] != "T" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _stat(child) is not None and _stat(child)[0] != "Z", "the child runs while its parent is alive"
    parent.kill()
    parent.wait()
    assert _gone(child, 30), f"the child outlived its parent with {mechanisms}"


def test_die_with_parent_names_the_mechanisms_in_place():
    code = ("import os, signal; from graphkit.detect.worker import die_with_parent; "
            "print(die_with_parent(os.getppid(), pdeathsig={}))")
    for flag in (True, False):
        done = subprocess.run([sys.executable, "-c", code.format(flag)], capture_output=True, text=True, timeout=60)
        got = eval(done.stdout)  # a list of str
        expected = (["pdeathsig"] if flag and sys.platform.startswith("linux") else []) + ["watch"]
        assert got == expected, done.stderr


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def _folder(base: Path, name: str, marker: dict | None) -> Path:
    folder = base / name
    folder.mkdir()
    (folder / "a.npy").write_bytes(b"x")
    if marker is not None:
        (folder / "owner.json").write_text(json.dumps(marker))
    return folder


def test_only_graphkit_worker_folders_of_dead_parents_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    ours = {"created_by": "graphkit.detect.worker"}
    stale = _folder(tmp_path, f"graphkit-lockstep-{dead}-abc123", {**ours, "parent": dead})
    kept = [
        _folder(tmp_path, f"graphkit-communities-{alive}-abc123", {**ours, "parent": alive}),  # a live run
        _folder(tmp_path, f"graphkit-lockstep-{dead}-nomark", None),  # no marker: not known to be ours
        _folder(tmp_path, f"graphkit-lockstep-{dead}-other", {**ours, "parent": dead + 1}),  # marker disagrees
        _folder(tmp_path, f"graphkit-lockstep-{dead}-notus", {"created_by": "someone", "parent": dead}),
        _folder(tmp_path, f"graphkit-unknown-{dead}-abc123", {**ours, "parent": dead}),  # not a worker task
        _folder(tmp_path, f"graphkit-lockstep-{dead}", {**ours, "parent": dead}),  # not the name's shape
    ]
    target = _folder(tmp_path, "elsewhere", {**ours, "parent": dead})
    (tmp_path / f"graphkit-lockstep-{dead}-link").symlink_to(target)  # never followed
    (tmp_path / f"graphkit-lockstep-{dead}-file").write_text("{}")

    assert worker.remove_stale_folders(tmp_path) == [stale]
    assert not stale.exists()
    assert all((k / "a.npy").exists() for k in kept)
    assert (target / "a.npy").exists() and (tmp_path / f"graphkit-lockstep-{dead}-link").is_symlink()
    assert (tmp_path / f"graphkit-lockstep-{dead}-file").is_file()


def test_a_worker_folder_is_named_after_its_parent_and_removed_after_the_run():
    a, b, w = np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0])
    settings = {"n_users": 4, "resolution": 0.2, "seed": 0, "max_size": 500, "n_iterations": 1}
    with worker.in_background("lockstep", {"a": a, "b": b, "weight": w}, settings) as result:
        seen = [p for p in Path(worker.tempfile.gettempdir()).glob(f"graphkit-lockstep-{os.getpid()}-*")]
        assert len(seen) == 1 and (seen[0] / "owner.json").is_file()
        assert result().tolist() == [0, 0, 0, -1]
    assert not seen[0].exists()


def test_the_worker_size_knob_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv(worker.MIN_SIZE_ENV, raising=False)
    assert not worker.worth_a_worker(1000, workers=2)
    monkeypatch.setenv(worker.MIN_SIZE_ENV, "0")
    assert worker.worth_a_worker(0, workers=2) and not worker.worth_a_worker(10**9, workers=1)
    monkeypatch.setenv(worker.MIN_SIZE_ENV, "lots")
    with pytest.raises(ConfigError, match="GRAPHKIT_WORKER_MIN_SIZE = 'lots' should be a whole number"):
        worker.worth_a_worker(10, workers=2)
