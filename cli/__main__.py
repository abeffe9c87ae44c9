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
  When the interrupt surfaces as another exception (polars, whose Rust code
  turns an exception raised inside one of its Python callbacks into a
  ``PanicException``), it is still reported as the interruption it was.
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
from typing import NoReturn, Sequence

__all__ = ["EXIT_INTERRUPTED", "Interrupted", "main"]

EXIT_INTERRUPTED = 130
"""128 + SIGINT: the exit code of an interrupted run, as shells report it."""


class Interrupted(BaseException):
    """Raised in the main thread by the first Ctrl-C (SIGINT) of a ``graphkit`` run."""


class _State:
    interrupted = False


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _State.interrupted:
        return  # a second Ctrl-C while the first one's cleanup runs: let it finish
    _State.interrupted = True
    raise Interrupted


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
    _State.interrupted = False
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
        from click.utils import PacifyFlushWrapper

        from graphkit_cli.common import EXIT_BROKEN_PIPE, broken_pipe_exit
        from graphkit_cli.main import cli

        try:
            cli.main(args=list(argv) if argv is not None else None, prog_name="graphkit")
            code: int = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        if _State.interrupted and code != EXIT_BROKEN_PIPE:  # the interrupt became another error on its way up
            return _interrupted_exit()
        if isinstance(sys.stdout, PacifyFlushWrapper):
            # click met a closed stdout itself (while printing help) and exited with 1
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
