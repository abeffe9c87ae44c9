"""The output folder against real processes: killed runs, SIGTERM and concurrent runs.

A child process (tests/_outdir_child.py) runs the real ``graphkit report``
and stalls while it writes, so that the test can kill it at that point, or
start a second run beside it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphkit_cli.main import cli

from _report_data import write_data_dir

CHILD = Path(__file__).with_name("_outdir_child.py")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def _start_stalled_report(data: Path, out: Path, ready: Path) -> subprocess.Popen:
    """The real ``graphkit report DATA --out OUT``, stopped halfway through writing its files."""
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "report", str(ready), "report", str(data), "--out", str(out), "--no-html", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            out_, err = child.communicate()
            pytest.fail(f"the child run did not reach the writing stage: {err}")
        time.sleep(0.05)
    return child


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def data(tmp_path):
    return write_data_dir(tmp_path / "data")


def test_a_killed_run_leaves_a_partial_that_the_next_run_removes(data, tmp_path):
    out = tmp_path / "out"
    child = _start_stalled_report(data, out, tmp_path / "ready")
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert any(name.endswith(".partial") for name in _hidden(tmp_path)), _hidden(tmp_path)  # what kill -9 leaves
    result = invoke("report", data, "--out", out, "--no-html", "-q")
    assert result.exit_code == 0, result.output
    assert _hidden(tmp_path) == []  # the dead run's partial folder and its lock file are gone
    assert (out / "rings.json").is_file()


def test_sigterm_removes_the_partial_and_keeps_the_previous_report(data, tmp_path):
    out = tmp_path / "out"
    assert invoke("report", data, "--out", out, "--no-html", "-q").exit_code == 0
    before = _snapshot(out)
    child = _start_stalled_report(data, out, tmp_path / "ready")
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err  # like Ctrl-C
    assert err.splitlines() == ["graphkit: interrupted; nothing was written"], err
    assert _hidden(tmp_path) == []
    assert _snapshot(out) == before


def test_a_second_run_into_the_same_out_dir_is_refused_while_the_first_writes(data, tmp_path, monkeypatch):
    import graphkit_cli.report as report_cmd

    analysed = []
    monkeypatch.setattr(report_cmd, "_analyze", lambda *a, **kw: analysed.append(1))
    out = tmp_path / "out"
    child = _start_stalled_report(data, out, tmp_path / "ready")
    try:
        result = invoke("report", data, "--out", out, "--no-html", "-q")
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=30)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"another graphkit run (pid {child.pid}) is writing {out}" in lines[0]
    assert analysed == []  # refused at the start, not after the analysis
    assert _hidden(tmp_path) == []


def test_two_processes_committing_into_one_folder_never_collide(tmp_path):
    out = tmp_path / "out"
    children = [
        subprocess.Popen([sys.executable, str(CHILD), "commit", str(out), "150"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    counts = []
    for child in children:
        stdout, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr  # no FileNotFoundError, no half-swapped folder
        counts.append(json.loads(stdout))
    assert [c["commits"] for c in counts] == [150, 150]  # each finished its commits; "busy" were the waits
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["data.txt"]
    pid, i = (out / "data.txt").read_text().splitlines()[0].split()
    assert int(pid) in {c.pid for c in children}
