"""What every command shares: error handling, console, shared options.

The library does the work; a command parses options, calls one library
function and renders. Expected failures (:class:`graphkit.GraphkitError`)
become one line on stderr and exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn

import click
from rich.console import Console
from rich.text import Text

from graphkit.config import Config
from graphkit.errors import ConfigError, GraphkitError, NotFoundError
from graphkit.util.display import display_text

if TYPE_CHECKING:
    from graphkit.report.reader import SavedReport
    from graphkit.report.store import ReportStore
    from graphkit.io import Tables

__all__ = [
    "EXIT_BROKEN_PIPE",
    "broken_pipe_exit",
    "UserError",
    "check_out_file",
    "with_the_reports_rings",
    "data_source",
    "recorded_data_dir",
    "report_store",
    "window_options",
    "GraphkitGroup",
    "usage_line",
    "setting_type",
    "stdout",
    "stderr",
    "data_dir_argument",
    "columns_option",
    "outside_data_dir_option",
    "config_option",
    "debug_state",
    "fail",
    "read_data",
    "safe_text",
]

EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: the exit code when the reader of stdout went away (``graphkit report ... | head``)."""


def broken_pipe_exit() -> NoReturn:
    """The reader of stdout went away: point stdout at /dev/null and exit with 141, quietly.

    What well-behaved command-line tools do (the recipe of the ``signal``
    module's documentation, "Note on SIGPIPE"): no message, since nobody
    reads the output any more, and an exit code that says what happened
    (128 + SIGPIPE, as the shell reports for a tool that SIGPIPE stopped).
    stdout is pointed at /dev/null first, so that Python's flush at exit
    does not fail again. Raised as ``SystemExit``, which click and
    :class:`GraphkitGroup` let through.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no real file (a test runner's buffer)
        pass
    raise SystemExit(EXIT_BROKEN_PIPE)


class _Console(Console):
    """rich's console, with a closed stdout handled as :func:`broken_pipe_exit` (rich's own exits with 1)."""

    def on_broken_pipe(self) -> None:
        broken_pipe_exit()


stdout = _Console(highlight=False, soft_wrap=True)
stderr = _Console(stderr=True, highlight=False, soft_wrap=True)


def safe_text(value: Any) -> Text:
    """A data string for the terminal: no rich markup, hidden characters shown escaped.

    Ids, reasons and notes come from the data (attackers choose their ids):
    ``Text`` keeps rich from reading ``[red]`` or ``[link=...]`` as markup, and
    :func:`graphkit.util.display.display_text` shows escape sequences, line
    breaks, bidi controls (U+202E) and zero-width characters as ``\\u202e``, so
    that no id can move the cursor or make itself look like another.
    """
    return Text(display_text(value))


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class UserError(click.ClickException):
    """A user mistake: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        # file names, columns and values in the message come from the data: shown in their display form
        click.echo(f"graphkit: error: {display_text(self.format_message())}", err=True)


_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2; 8.1 prints the help itself


class debug_state:
    enabled = False


def fail(message: str) -> UserError:
    return UserError(message)


def usage_line(exc: click.UsageError) -> str:
    """A click usage error as one line: the option, what is wrong, where the help is.

    ``--top: 0 is not in the range x>=1 (see graphkit report -h)``; click's own
    form takes four lines (usage, a hint, a blank line, the error).
    """
    ctx = exc.ctx
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter) and exc.param is not None:
        param = exc.param
        name = " / ".join(param.opts) if isinstance(param, click.Option) else param.human_readable_name
        text = f"{name}: {exc.message}"
    else:
        text = exc.format_message()
    text = " ".join(text.split()).rstrip(".")
    return f"{text} (see {ctx.command_path if ctx is not None else 'graphkit'} -h)"


class GraphkitGroup(click.Group):
    """A group that turns :class:`GraphkitError` into :class:`UserError`, and
    click's usage errors (of the group and of every command) into one line."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            if isinstance(exc, _NO_ARGS):  # `graphkit` alone prints the help
                raise
            raise UserError(usage_line(exc)) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's options and arguments, or an unknown command
            raise UserError(usage_line(exc)) from None
        except GraphkitError as exc:
            if debug_state.enabled:
                raise
            raise UserError(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("graphkit: interrupted; nothing was written", err=True)
            sys.exit(130)
        except BrokenPipeError:  # click.echo to a closed stdout: not an internal error
            broken_pipe_exit()
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: one line, exit 1; --debug shows the traceback
            if debug_state.enabled:
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            click.echo(
                f"graphkit: internal error: {type(exc).__name__}: {display_text(first)} "
                "(run again with graphkit --debug ... for the traceback, and report it)",
                err=True,
            )
            sys.exit(1)


class _SettingType(click.ParamType):
    """Parses like click's IntRange/FloatRange, then checks the value as :class:`Config` does (NaN too)."""

    def __init__(self, name: str) -> None:
        self.setting_name = name
        self.setting = Config.setting(name)
        kind = click.IntRange if self.setting.kind == "int" else click.FloatRange
        self.base = kind(min=self.setting.min, max=self.setting.max, min_open=self.setting.min_open,
                         max_open=self.setting.max_open)
        self.name = self.base.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        value = self.base.convert(value, param, ctx)
        try:
            return self.setting.check(self.setting_name, value)
        except ConfigError:
            self.fail(f"{value} is not allowed; it must be {self.setting.describe()}", param, ctx)

    def __repr__(self) -> str:
        return repr(self.base)


def setting_type(name: str) -> click.ParamType:
    """The click type of an option that sets ``Config.NAME``: its range is the one Config declares.

    >>> setting_type("top")
    <IntRange x>=1>
    """
    return _SettingType(name)


def data_dir_argument(func: Callable) -> Callable:
    return click.argument(
        "data_dir", type=click.Path(path_type=Path, file_okay=False), metavar="DATA_DIR"
    )(func)


def columns_option(func: Callable) -> Callable:
    return click.option(
        "--columns",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Mapping file renaming warehouse columns (default: DATA_DIR/graphkit.toml).",
    )(func)


def outside_data_dir_option(func: Callable) -> Callable:
    """``--allow-outside-data-dir``: every command that takes ``--columns`` has it."""
    return click.option(
        "--allow-outside-data-dir",
        "allow_outside_data_dir",
        is_flag=True,
        help="Read table files that lie outside DATA_DIR (a mapping's file = or a symbolic link leading "
             "elsewhere); refused by default.",
    )(func)


def config_option(func: Callable) -> Callable:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        default=None,
        help="graphkit.toml whose [params] table overrides the defaults.",
    )(func)


def read_data(
    data_dir: Path,
    *,
    columns: Path | None,
    config: Config,
    allow_outside_data_dir: bool = False,
    count_distinct: bool = False,
) -> "Tables":
    """:func:`graphkit.io.read_tables` with the reading settings of ``config``: every command reads alike,
    and reads only the window ``config.since``/``config.until`` (pushed into the scans)."""
    from graphkit.io import read_tables  # polars loads only for the commands that read data
    from graphkit.io.window import time_window

    return read_tables(
        data_dir,
        columns=columns,
        max_bad_share=config.max_bad_share,
        max_coins=config.max_coins,
        dedupe_exact_rows=config.dedupe_exact_rows,
        allow_outside_data_dir=allow_outside_data_dir,
        count_distinct=count_distinct,
        window=time_window(config.since, config.until),
    )


def with_the_reports_rings(exc: NotFoundError, report_dir: Path, saved: "SavedReport") -> NotFoundError:
    """An unknown id's error, adding the rings of the report asked (a mistyped or yesterday's ring id)."""
    return NotFoundError(f"{exc}, nor a ring of {report_dir} (its rings: {saved.ring_span()})")


def check_out_file(out: Path, data_dir: Path | None) -> None:
    """Refuse an output file that could replace an input table of the data directory (one line, exit 2).

    ``graphkit report`` refuses an ``OUT_DIR`` that holds the input data; the
    commands that write one file (``expand``, ``export``, ``features``) may
    write inside ``DATA_DIR`` (a view beside the case's data), but never over
    a file that is or may be a table there (a table's name such as
    ``gifts.csv``, ``graphkit.toml``, or any existing CSV, Parquet or NDJSON
    file, which a mapping may name), links resolved.
    """
    from graphkit.io.mapping import MAPPING_FILE
    from graphkit.io.schema import TABLE_NAMES
    from graphkit.io.scan import SUFFIXES

    if data_dir is not None:
        target, data = out.resolve(), data_dir.resolve()
        tables = {f"{name}{suffix}" for name in TABLE_NAMES for suffix in SUFFIXES} | {MAPPING_FILE}
        inside = data == target or data in target.parents
        if inside and (target.name in tables or (target.exists() and target.name.endswith(SUFFIXES))):
            raise UserError(f"{out}: could replace an input table of the data directory {data_dir}; "
                            "choose another file name or a folder outside it for --out")


def data_source(data_dir: Path | None, columns: Path | None, allow_outside_data_dir: bool,
                report_dir: Path | None) -> tuple[Path, Path | None, bool]:
    """The data directory a follow-up command reads: ``--data``, or the one the ``--report`` read."""
    if data_dir is not None:
        return data_dir, columns, allow_outside_data_dir
    if report_dir is None:
        raise UserError("pass --data DATA_DIR (or --report OUT_DIR of a graphkit report of that data)")
    from graphkit.report.reader import read_source

    source = read_source(report_dir)
    mapped = source.get("columns")
    return (Path(source["data_dir"]), columns or (Path(mapped) if isinstance(mapped, str) else None),
            allow_outside_data_dir or bool(source.get("allow_outside_data_dir")))


def recorded_data_dir(report_dir: Path) -> Path | None:
    """The data directory a report recorded (``graph/source.json``), when it is still there; else ``None``."""
    from graphkit.errors import InputError
    from graphkit.report.reader import read_source

    try:
        return Path(read_source(report_dir)["data_dir"])
    except InputError:
        return None


def report_store(report_dir: Path | None, data_dir: Path | None, config: Config,
                 min_coins: float = 0.0) -> "ReportStore | None":
    """The store of ``--report OUT_DIR`` when it can answer: no ``--data`` was given, the report has a store,
    and the question's window and hub settings are the report's (else ``None``: the tables answer).

    A store of another ``schema_version`` is a one-line error (exit 2) that offers ``--data`` (``show``,
    which has no ``--data``, opens the store itself and is told only to run the report again).
    """
    if report_dir is None or data_dir is not None or not (report_dir / "graph" / "store.json").is_file():
        return None
    from graphkit.errors import InputError
    from graphkit.report.store import open_store

    try:
        store = open_store(report_dir)
    except InputError as exc:
        raise InputError(f"{exc}, or pass --data DATA_DIR") from None
    return store if store.answers(config, min_coins=min_coins) else None


def _time_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from graphkit.io.parse import parse_time_value  # polars: only when a time is given

    try:
        parse_time_value(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def window_options(func: Callable) -> Callable:
    """``--since`` and ``--until``: the time window, checked when parsed (one line on a bad time)."""
    func = click.option("--until", metavar="TIME", default=None, callback=_time_value,
                        help="Keep only events before TIME (ISO-8601 or an epoch number; README, Input).")(func)
    return click.option("--since", metavar="TIME", default=None, callback=_time_value,
                        help="Keep only events at or after TIME (ISO-8601 or an epoch number).")(func)
