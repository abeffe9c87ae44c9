"""The ``graphkit`` program as a real process: Ctrl-C and closed pipes.

These run the installed console script's entry point in a child Python
(never a wall-clock assertion). A SIGINT at a precise point is sent by the
child to itself from an audit hook (``sys.addaudithook``): a real signal, at
a point the test chooses (an import, the opening of gifts.csv, the start of
the Leiden worker), so the test does not depend on the machine's speed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import graphkit

DEMO = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"


from _cli_entry import entry as _entry


_LAUNCH = """
import os, signal, sys
event, target = sys.argv[1], sys.argv[2]
sent = []
def hook(name, args):
    if name == event and not sent and (args[0] == target if name == "import" else target in str(args)):
        sent.append(1)
        os.kill(os.getpid(), signal.SIGINT)
sys.addaudithook(hook)
sys.argv = ["graphkit", *sys.argv[3:]]
{entry}
sys.exit(main())
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp), **extra}


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DEMO, data)
    return data


def _interrupt_at(tmp_path: Path, event: str, target: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    code = _LAUNCH.format(entry=_entry())
    return subprocess.run(
        [sys.executable, "-c", code, event, target, *args], capture_output=True, text=True, timeout=300,
        env=_env(tmp_path, **env),
    )


def _stderr_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("stage", "event", "target", "env"),
    [
        ("early: importing the commands", "import", "graphkit_cli.main", {}),
        ("reading: opening gifts.csv", "open", "gifts.csv", {}),
        ("analysing: loading igraph for the pipeline", "import", "igraph", {}),
        ("analysing: starting the Leiden worker", "subprocess.Popen", "graphkit.detect.worker",
         {"GRAPHKIT_WORKER_MIN_SIZE": "0"}),
    ],
)
def test_ctrl_c_anywhere_prints_one_line_and_exits_130(tmp_path, stage, event, target, env):
    data, out = _data(tmp_path), tmp_path / "out"
    done = _interrupt_at(tmp_path, event, target, "report", str(data), "--out", str(out), **env)
    lines = _stderr_lines(done)
    assert done.returncode == 130, f"{stage}: exit {done.returncode}\n{done.stderr}"
    assert len(lines) == 1 and "interrupted" in lines[0], f"{stage}:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    assert not out.exists(), "an interrupted run leaves no report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "tmp"], "nor a partial folder beside it"
    assert list((tmp_path / "tmp").iterdir()) == [], "nor a worker folder"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _start_report_until_worker(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """A real ``graphkit report`` with the Leiden worker forced on the demo, and the worker's pid once it runs."""
    data = _data(tmp_path)
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import sys; {_entry()}; sys.argv[0] = 'graphkit'; sys.exit(main())",
         "report", str(data), "--out", str(tmp_path / "out"), "-q", "--no-html"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path, GRAPHKIT_WORKER_MIN_SIZE="0"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and parent.poll() is None:
        workers = [c for c in _children(parent.pid) if "graphkit.detect.worker" in _cmdline(c)]
        if workers:
            return parent, workers[0]
        time.sleep(0.002)
    parent.kill()
    pytest.fail(f"no worker process was seen (exit {parent.poll()}): {parent.communicate()[1]}")


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _state(pid) in (None, "Z"):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
def test_ctrl_c_while_the_worker_runs_stops_it_and_leaves_nothing(tmp_path):
    parent, worker = _start_report_until_worker(tmp_path)
    parent.send_signal(signal.SIGINT)
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == ["graphkit: interrupted"]
    assert _gone(worker, 5), "the worker outlived an interrupted run"
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [["report", "DATA", "--out", "OUT", "--no-html", "-q"], ["report", "DATA", "--out", "OUT", "--no-html", "-q", "--json"],
     ["--help"]],
    ids=["table", "json", "help"],
)
def test_a_closed_stdout_exits_141_quietly(tmp_path, args):
    data, out = _data(tmp_path), tmp_path / "out"
    argv = [str(data) if a == "DATA" else str(out) if a == "OUT" else a for a in args]
    child = subprocess.Popen(
        [sys.executable, "-c", f"import sys; {_entry()}; sys.argv[0] = 'graphkit'; sys.exit(main())", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tmp_path),
    )
    child.stdout.close()  # the reader goes away before anything is written, like `| head -0`
    err = child.stderr.read().decode()
    child.wait(timeout=300)
    assert child.returncode == 141, err
    assert err == ""
    if args[0] == "report":
        assert (out / "rings.json").is_file(), "the report itself is complete"


def test_piping_into_head_keeps_the_first_lines_and_no_error(tmp_path):
    data = _data(tmp_path)
    script = Path(sys.executable).parent / "graphkit"
    if not script.exists():
        pytest.skip("the console script is not installed next to this Python")
    done = subprocess.run(
        ["bash", "-c", f'"{script}" report "{data}" --out "{tmp_path / "out"}" --no-html -q | head -1; '
                       'echo "exit=${PIPESTATUS[0]}" >&2'],
        capture_output=True, text=True, timeout=300, env=_env(tmp_path),
    )
    assert done.stdout.startswith("Top rings"), done.stdout
    assert re.fullmatch(r"exit=(0|141)\n", done.stderr), done.stderr


_POLARS_CALLBACKS = """
import collections, signal, sys, time
import polars as pl
import graphkit_cli.__main__ as program
lf = pl.scan_parquet(sys.argv[1])
seen = collections.Counter()
signal.signal(signal.SIGALRM, program._on_sigint)  # the Ctrl-C handler, driven by a timer at many offsets
signal.signal(signal.SIGINT, program._on_sigint)
for i in range(200):
    try:
        program._State.interrupted = False
        signal.setitimer(signal.ITIMER_REAL, 0.00005 * (i % 40 + 1))
        for _ in range(50):
            lf.collect_schema()  # polars' Rust code calls back into Python here
        time.sleep(0.02)
        seen["finished"] += 1
    except program.Interrupted:
        seen["Interrupted"] += 1
    except BaseException as exc:
        seen[type(exc).__name__] += 1
    program._State.interrupted = True  # stray timer signals between two rounds
print(dict(seen))
"""


def test_ctrl_c_during_polars_callbacks_is_an_interrupt_not_a_rust_panic(tmp_path):
    # raised at once, 6-19% of these interrupts became polars PanicExceptions (a traceback, exit 1)
    import polars as pl

    from datetime import datetime, timezone

    when = datetime(2024, 5, 1, tzinfo=timezone.utc)
    columns = {f"t{i}": pl.Series([when], dtype=pl.Datetime("us", "UTC")) for i in range(20)}
    columns |= {f"s{i}": pl.Series([["a"]], dtype=pl.List(pl.Utf8)) for i in range(20)}
    pl.DataFrame(columns).write_parquet(tmp_path / "t.parquet")  # dtypes that polars builds in Python
    done = subprocess.run([sys.executable, "-c", _POLARS_CALLBACKS, str(tmp_path / "t.parquet")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = eval(done.stdout)  # a dict of outcome -> count
    assert set(seen) <= {"Interrupted", "finished"}, seen
    assert seen.get("Interrupted", 0) >= 150, seen
