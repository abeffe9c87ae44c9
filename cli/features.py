"""``graphkit features``: one row per account of graphkit's graph features, as Parquet, for other models."""

from __future__ import annotations

from pathlib import Path

import click

from graphkit.config import load_config
from graphkit.util.atomic import atomic_write_bytes, check_replaceable_file, parquet_bytes
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    check_out_file,
    columns_option,
    config_option,
    data_dir_argument,
    outside_data_dir_option,
    read_data,
    safe_text,
    stdout,
    window_options,
)

__all__ = ["features"]


@click.command(context_settings=CONTEXT_SETTINGS)
@data_dir_argument
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Parquet file to write (replaced atomically; an existing file only if graphkit wrote it).")
@window_options
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes to use, as for graphkit report [default: 2, or 1 on a one-core machine].")
@columns_option
@outside_data_dir_option
@config_option
def features(data_dir: Path, out: Path, since: str | None, until: str | None, workers: int | None,
             columns: Path | None, allow_outside_data_dir: bool, config_path: Path | None) -> None:
    """Write one row per account of the graph features graphkit computes.

    Activity, centrality (PageRank, HITS, k-core, betweenness), graphkit's
    per-account evidence, the Leiden community and lockstep group, and the
    mean and maximum of a few features over each account's gift and
    shared-identifier neighbours: README "graphkit features" lists every
    column. Ids are written exactly as read.

    Example: graphkit features fixtures/demo --out features.parquet
    """
    from graphkit.features import account_features  # igraph and the detectors: not for `graphkit -h`
    from graphkit.pipeline import analyze

    check_out_file(out, data_dir)  # before any work: never over an input table
    check_replaceable_file(out)  # nor over a file graphkit did not write
    config = load_config(config_path, since=since, until=until)
    tables = read_data(data_dir, columns=columns, config=config, allow_outside_data_dir=allow_outside_data_dir)
    frame = account_features(analyze(tables, config, workers=workers))
    atomic_write_bytes(parquet_bytes(frame), out)
    stdout.print(safe_text(f"wrote {frame.height:,} accounts x {frame.width - 1} features -> {out}"))
