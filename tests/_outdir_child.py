"""A child process for the kill / concurrency tests of the output folder (test_outdir_processes.py).

Run as ``python tests/_outdir_child.py MODE ...``:

``report READY ARGS...``
    ``graphkit ARGS...`` (the real command), stalled while it writes: once
    rings.json, rings.csv and scores.csv are in the temporary folder, it
    creates the file READY and sleeps, so that the test can kill it there.
``commit OUT N``
    Commit N small folders into OUT through ``atomic_directory`` as fast as
    it can; a commit refused because another process is writing OUT counts
    as busy and is tried again. Prints ``{"commits": N, "busy": ..}``. Any
    other failure is a traceback and exit code 1.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _report(ready: str, args: list[str]) -> None:
    import graphkit.report.writers as writers
    from graphkit_cli.main import cli

    original = writers.render_markdown

    def stalled(*a, **kw):
        Path(ready).write_text("writing")
        time.sleep(60)
        return original(*a, **kw)

    writers.render_markdown = stalled
    cli.main(args=args, prog_name="graphkit")


def _commit(out: str, n: int) -> None:
    import os

    from graphkit.errors import OutputBusyError
    from graphkit.util import atomic_directory

    commits = busy = 0
    while commits < n:
        try:
            with atomic_directory(Path(out), owned=("data.txt",)) as tmp:
                (tmp / "data.txt").write_text(f"{os.getpid()} {commits}\n" * 100)
            commits += 1
        except OutputBusyError:
            busy += 1
            time.sleep(0.001)
    print(json.dumps({"commits": commits, "busy": busy}))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "report":
        _report(rest[0], rest[1:])
    elif mode == "commit":
        _commit(rest[0], int(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode}")
