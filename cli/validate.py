"""``graphkit validate``: read and check the tables, print counts and rejections."""

from __future__ import annotations

import json
from pathlib import Path

import click
import polars as pl
from rich.markup import escape

from graphkit.config import load_config
from graphkit.errors import TooManyRejectedError
from graphkit.io import TABLES, Tables
from graphkit.io.parse import TIME_RULE
from graphkit.io.schema import TABLE_NAMES
from graphkit.util.atomic import atomic_directory, atomic_write_csv
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    UserError,
    columns_option,
    config_option,
    data_dir_argument,
    outside_data_dir_option,
    read_data,
    setting_type,
    stdout,
)


@click.command(context_settings=CONTEXT_SETTINGS)
@data_dir_argument
@columns_option
@outside_data_dir_option
@config_option
@click.option("--max-bad-share", type=setting_type("max_bad_share"), default=None,
              help="Fail a table when more than this share of its rows is rejected [default: max_bad_share, 0.05].")
@click.option("--rejected", "rejected_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write rejected rows with their reasons to DIR/rejected/NAME.csv.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON on stdout.")
def validate(
    data_dir: Path, columns: Path | None, allow_outside_data_dir: bool, config_path: Path | None,
    max_bad_share: float | None, rejected_dir: Path | None, as_json: bool,
) -> None:
    """Read and check the tables of DATA_DIR; print rows read, accepted and
    rejected (by reason), time range and distinct ids per table.

    Exits 0 when the data can be used, 2 when it cannot. --config reads the
    reading settings (max_bad_share, max_coins, dedupe_exact_rows) from the
    [params] table of a graphkit.toml, as report does.

    Example: graphkit validate fixtures/bad/negative_coins --rejected checks/
    """
    config = load_config(config_path, max_bad_share=max_bad_share)
    if rejected_dir is not None and (rejected_dir / "rings.json").is_file():
        raise UserError(f"{rejected_dir}: is a graphkit report, whose rejected/ belongs to that report's data; "
                        "choose another folder for --rejected")
    try:
        tables = read_data(data_dir, columns=columns, config=config, count_distinct=True,
                           allow_outside_data_dir=allow_outside_data_dir)
    except TooManyRejectedError as exc:
        if rejected_dir is not None:
            _write_rejected(exc.rejected, rejected_dir)
        raise
    if rejected_dir is not None:
        _write_rejected(tables.rejected, rejected_dir)
    if as_json:
        click.echo(json.dumps(validation_summary(tables), indent=2))
        return
    for line in validation_lines(tables):
        stdout.print(line, markup=False)
    if tables.unknown_accounts:
        stdout.print(f"{tables.unknown_accounts:,} accounts appear in gifts/devices/streams but not in users (allowed).")
    for warning in tables.warnings:
        stdout.print(f"warning: {warning}", markup=False)
    if tables.rejected_rows:
        where = f" written to {rejected_dir / 'rejected'}" if rejected_dir else "; add --rejected DIR to keep them"
        plural = "" if tables.rejected_rows == 1 else "s"
        stdout.print(f"{tables.rejected_rows:,} rejected row{plural}{where}.", markup=False)
    stdout.print(f"[green]ok[/green]: {escape(str(data_dir))} can be analysed.")


def _write_rejected(rejected: dict[str, pl.DataFrame], rejected_dir: Path) -> None:
    """``DIR/rejected/NAME.csv`` for this run's tables, as one set: the CSV files an earlier run left
    for another data set go (other files in the folder stay)."""
    with atomic_directory(rejected_dir / "rejected", owned=tuple(f"{name}.csv" for name in TABLE_NAMES)) as tmp:
        for name, frame in sorted(rejected.items()):
            if frame.height:
                atomic_write_csv(frame, tmp / f"{name}.csv")


def validation_summary(tables: Tables) -> dict:
    """The counts of :func:`validation_lines` as a JSON-ready dict (``--json``)."""
    return {
        "data_dir": str(tables.source) if tables.source else None,
        "tables": [tables.stats[name].to_dict() for name in sorted(tables.stats)],
        "unknown_accounts": tables.unknown_accounts,
        "rejected_rows": tables.rejected_rows,
        "exact_duplicate_rows": tables.exact_duplicate_rows,
        "warnings": tables.warnings,
    }


def validation_lines(tables: Tables) -> list[str]:
    """One short block per table: counts, rejections by reason, time range, distinct ids.

    Plain lines rather than a grid, so that nothing is cut at 80 columns.
    """
    lines = []
    optional = tuple(name for name in ("flags",) if name in tables.stats)  # listed only when given
    for name in ("users", "streams", "devices", "gifts", *optional):
        stats = tables.stats.get(name)
        if stats is None:
            lines.append(f"{name}: absent")
            continue
        lines.append(f"{name}: {stats.path.name if stats.path else 'frame'}")
        window = f", out of window {stats.out_of_window:,}" if stats.out_of_window else ""
        lines.append(f"  rows read {stats.rows_read:,}, accepted {stats.accepted:,}, rejected {stats.rejected:,}{window}")
        for reason, count in stats.rejected_by_reason.items():
            lines.append(f"    {count:,} {reason}")
        times = [c.name for c in TABLES[name].columns if c.kind == "time"]
        time_reasons = tuple(f"unparseable {t}" for t in times) + tuple(f"{t} " for t in times)
        if any(reason.startswith(time_reasons) for reason in stats.rejected_by_reason):
            lines.append(f"    ({TIME_RULE})")  # how a time is read, next to the times it refused
        if stats.duplicates_kept:
            plural = "s" if stats.duplicates_kept != 1 else ""
            lines.append(f"  {stats.duplicates_kept:,} exact duplicate row{plural} kept")
        if stats.time_min is not None and stats.time_max is not None:
            lines.append(f"  time range {stats.time_min:%Y-%m-%d %H:%M:%S} .. {stats.time_max:%Y-%m-%d %H:%M:%S} UTC")
        if stats.distinct_ids:
            lines.append("  distinct " + ", ".join(f"{k} {v:,}" for k, v in stats.distinct_ids.items()))
    return lines
