"""The ``graphkit`` program: Ctrl-C and closed pipes handled around the click command group.

The console script ``graphkit`` calls :func:`main` (``python -m graphkit_cli``
does the same). This module imports nothing but the standard library until
:func:`main` has installed its signal handler, so that a Ctrl-C even while the
command modules are still importing gives the same one line.

- **Ctrl-C (SIGINT)** prints ``graphkit: interrupted`` on stderr and exits
  with 130, wherever it lands: while importing, reading, analysing or
  writing. The first Ctrl-C raises :class:`Interrupted` in the main thread, so
  that ``finally`` blocks and context managers still clean up (the report's
  temporary folder, the Leiden worker process); a second one while they do
  is ignored. :class:`Interrupted` is deliberately not a
  ``KeyboardInterrupt``: click would turn that into ``Aborted!`` and exit 1
  outside a command, and library code would turn it into an internal error.
  It is not raised while polars code is on the stack: polars' Rust code
  calls back into Python and turns an exception raised there into a panic
  (``PanicException``, a traceback); the interrupt waits 20 ms and tries
  again. Should the interrupt still surface as another exception, it is
  reported as the interruption it was.
- **A closed stdout** (``graphkit report ... | head``): no message, exit code
  141 (:func:`graphkit_cli.common.broken_pipe_exit`); here, the flush of
  stdout is done before the interpreter's own, and a closed pipe that click
  met itself (while printing help) gets the same exit code.
- Once the command has finished, Ctrl-C is ignored for the interpreter's
  last milliseconds: the work is done and its exit code stands.

What remains: a Ctrl-C in the first few milliseconds, while Python itself
starts and before this module runs, gets Python's own handling.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Sequence

__all__ = ["EXIT_INTERRUPTED", "Interrupted", "main"]

EXIT_INTERRUPTED = 130
"""128 + SIGINT: the exit code of an interrupted run, as shells report it."""


class Interrupted(BaseException):
    """Raised in the main thread by the first Ctrl-C (SIGINT) of a ``graphkit`` run."""


class _State:
    interrupted = False
    deferred = False


_NATIVE_CALLERS = ("polars",)
"""Packages whose Python code native code calls back into: an exception raised there becomes a Rust panic.

polars' Rust code calls Python (to build a dtype object, for one) and
unwraps the result: an exception raised in such a callback is a panic,
which pyo3 turns into a ``PanicException`` (measured: 101 of 542 signals
that raised during ``LazyFrame.collect_schema``). While a frame of these
packages is on the stack, the interrupt waits :data:`_RETRY_S` and tries again."""
_RETRY_S = 0.02


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _State.interrupted:
        return  # a second Ctrl-C while the first one's cleanup runs: let it finish
    if _inside(_NATIVE_CALLERS, frame):
        if not _State.deferred:
            _State.deferred = True
            timer = threading.Timer(_RETRY_S, _deliver_again, args=(signum,))
            timer.daemon = True
            timer.start()
        return
    _State.interrupted = True
    raise Interrupted


def _deliver_again(signum: int) -> None:
    _State.deferred = False
    signal.raise_signal(signum)


def _inside(packages: tuple[str, ...], frame: FrameType | None) -> bool:
    """Whether a frame of one of ``packages`` (already imported) is on the stack from ``frame`` up."""
    roots = []
    for name in packages:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            roots.append(os.path.dirname(path) + os.sep)
    while roots and frame is not None:
        if frame.f_code.co_filename.startswith(tuple(roots)):
            return True
        frame = frame.f_back
    return False


def _interrupted_exit() -> int:
    try:
        print("graphkit: interrupted", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr is gone too: the exit code says it
        pass
    return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None, *, standalone: bool = True) -> int:
    """Run the ``graphkit`` command group with Ctrl-C and broken-pipe handling; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).
    standalone : bool
        True for the program itself: Ctrl-C stays ignored after the command,
        while the interpreter exits. False restores the caller's handler.

    Returns
    -------
    int
        The command's exit code: 0, 1 (internal error), 2 (user error),
        130 (interrupted), 141 (stdout closed by its reader).
    """
    _State.interrupted = _State.deferred = False
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        return _run(argv)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started with Ctrl-C ignored (a background job): keep it so
        return _run(argv)
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        code = _run(argv)
    finally:
        # the program is over: a late Ctrl-C must not hit the interpreter's teardown (a traceback, or
        # death by SIGINT after a complete run); a caller that embeds main() gets its own handler back
        signal.signal(signal.SIGINT, signal.SIG_IGN if standalone else previous)
    return code


def _run(argv: Sequence[str] | None) -> int:
    try:
        from graphkit_cli.common import EXIT_BROKEN_PIPE, broken_pipe_exit
        from graphkit_cli.main import cli

        try:
            cli.main(args=list(argv) if argv is not None else None, prog_name="graphkit")
            code: int = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        if _State.interrupted and code != EXIT_BROKEN_PIPE:  # the interrupt became another error on its way up
            return _interrupted_exit()
        if type(sys.stdout).__name__.lstrip("_") == "PacifyFlushWrapper":
            # click met a closed stdout itself (while printing help), wrapped stdout so and exited with 1
            # (by its type's name, _PacifyFlushWrapper since click 8.2, which deprecates importing it)
            broken_pipe_exit()
        sys.stdout.flush()  # here, not at exit: a closed pipe is handled below
        return code
    except SystemExit as exc:  # broken_pipe_exit() above
        return _exit_code(exc.code)
    except BrokenPipeError:
        from graphkit_cli.common import broken_pipe_exit

        try:
            broken_pipe_exit()
        except SystemExit as exc:
            return _exit_code(exc.code)
    except BaseException:
        if _State.interrupted:  # Interrupted itself, or what it turned into on its way up
            return _interrupted_exit()
        raise


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
