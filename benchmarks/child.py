"""Run one benchmark step in a child process; measure its wall time and peak RSS from the OS.

The child's peak resident set size comes from ``os.wait4`` (the kernel's
``ru_maxrss`` of that very process, or of its largest descendant), so each
measurement belongs to one run, not to the largest child the session ever
had. A run may start processes of its own (graphkit's lockstep worker), so
the resident memory of the child's whole process group is also sampled every
50 ms; ``peak_rss_mb`` is the larger of the two.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["ChildResult", "run_child"]


@dataclass
class ChildResult:
    """What one child process did."""

    ok: bool
    wall_s: float
    peak_rss_mb: float
    timed_out: bool = False
    over_memory: bool = False
    returncode: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    """The JSON object the child printed as its last stdout line."""
    stderr_tail: str = ""


def run_child(args: list[str], *, timeout_s: float | None = None, cwd: Path | None = None,
              max_rss_mb: float | None = None) -> ChildResult:
    """Run ``python -m benchmarks <args>`` and wait for it, killing it after ``timeout_s``.

    The child prints one JSON object on its last stdout line; it is returned
    in ``data``. With ``max_rss_mb``, the child is killed when its resident
    memory grows past it (so that a run cannot take the machine down).
    """
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"gk-bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks", *args], stdout=out, stderr=err, cwd=cwd, start_new_session=True
        )
        timed_out = over_memory = False
        group_peak = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            group_peak = max(group_peak, _group_rss_mb(proc.pid))
            if timeout_s is not None and time.perf_counter() - start > timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            if max_rss_mb is not None and group_peak > max_rss_mb:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                over_memory = True
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
        err_text = err.read().decode("utf-8", "replace")
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    data: dict[str, Any] = {}
    if lines and not timed_out:
        try:
            data = json.loads(lines[-1])
        except json.JSONDecodeError:
            data = {}
    ok = proc.returncode == 0 and not timed_out and bool(data)
    return ChildResult(
        ok=ok,
        wall_s=wall,
        peak_rss_mb=max(usage.ru_maxrss / 1024, group_peak),  # Linux reports ru_maxrss in kilobytes
        timed_out=timed_out,
        over_memory=over_memory,
        returncode=proc.returncode,
        data=data,
        stderr_tail="\n".join(err_text.strip().splitlines()[-15:]),
    )


def _group_rss_mb(pgid: int) -> float:
    """Current resident memory of every process in process group ``pgid``, in MB (Linux ``/proc``)."""
    return rss_mb(lambda pid, ppid, pgrp: pgrp == pgid)


def rss_mb(selected: Callable[[int, int, int], bool]) -> float:
    """Current resident memory of the processes for which ``selected(pid, ppid, pgrp)`` holds, in MB (``/proc``)."""
    total_pages = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # fields after the command name (which may hold spaces): state ppid pgrp ... ; rss is field 24
            fields = stat[stat.rindex(")") + 2:].split()
            if selected(int(entry.name), int(fields[1]), int(fields[2])):
                total_pages += int(fields[21])
        except (OSError, ValueError, IndexError):
            continue
    return total_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
