"""``graphkit train``: a scorer learned from labelled accounts, with grouped cross-validation."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from graphkit.config import load_config
from graphkit.util.atomic import atomic_write_text
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    check_out_file,
    columns_option,
    config_option,
    data_dir_argument,
    outside_data_dir_option,
    read_data,
    safe_text,
    setting_type,
    stdout,
    window_options,
)

__all__ = ["cross_validation_table", "train"]


@click.command(context_settings=CONTEXT_SETTINGS)
@data_dir_argument
@click.option("--labels", "labels_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Table (CSV, Parquet, NDJSON) of user_id and label (bad/good, 1/0), each account once; "
                   "--columns renames its columns under [tables.users.columns].")
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="JSON file to write the model to (replaced atomically); graphkit report --model reads it.")
@click.option("--cv", "folds", type=setting_type("learn_folds"), default=None,
              help="Grouped cross-validation folds [default: Config.learn_folds, 5].")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Threads for fitting the trees (more than one slows down a busy machine).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for the analysis, as for graphkit report [default: 2, or 1 on a one-core machine].")
@click.option("--json", "as_json", is_flag=True, help="Print the cross-validation as JSON on stdout.")
@window_options
@columns_option
@outside_data_dir_option
@config_option
def train(data_dir: Path, labels_path: Path, model_path: Path, folds: int | None, threads: int, workers: int | None,
          as_json: bool, since: str | None, until: str | None, columns: Path | None, allow_outside_data_dir: bool,
          config_path: Path | None) -> None:
    """Learn an account scorer from labelled accounts of DATA_DIR.

    Fits scikit-learn's HistGradientBoostingClassifier on the columns of
    graphkit features for the labelled accounts and writes it, with its
    calibration, as plain JSON (never pickle: a shared model cannot run
    code). Grouped cross-validation: accounts are split into connected
    groups (an account's Leiden community, joined with every bad account it
    is linked to by a gift, a shared device or IP, or co-gifting), each
    group in one fold, so one ring's members are never in both training and
    test. Prints ROC AUC and average precision per fold and over all
    out-of-fold scores; those scores also calibrate the probabilities
    (isotonic). A labels file with unknown accounts, unrecognised labels,
    an account twice or a single class is refused.

    Example: graphkit train fixtures/demo --labels fixtures/demo/users.csv --model model.json --cv 3
    """
    from graphkit.learn import read_labels, train_model  # scikit-learn and the pipeline: not for `graphkit -h`
    from graphkit.pipeline import analyze

    from graphkit.learn.model import check_replaceable

    check_out_file(model_path, data_dir)  # before any work: never over an input table,
    check_replaceable(model_path)  # nor over a file that is not a graphkit model
    config = load_config(config_path, since=since, until=until)
    labels = read_labels(labels_path, columns=columns)  # a bad labels file fails before the analysis
    tables = read_data(data_dir, columns=columns, config=config, allow_outside_data_dir=allow_outside_data_dir)
    model, cv = train_model(analyze(tables, config, workers=workers), labels, config=config, folds=folds,
                            labels_path=labels_path, threads=threads)
    atomic_write_text(model.to_json(), model_path)
    if as_json:
        click.echo(json.dumps(cv.to_dict(), indent=2))
        return
    stdout.print(cross_validation_table(cv))
    stdout.print(safe_text(f"wrote a model of {len(model.classifier.trees)} trees on {len(model.features)} features, "
                           f"learnt from {model.training['labelled']:,} accounts ({model.training['bad']:,} bad) "
                           f"-> {model_path}"))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def cross_validation_table(cv) -> Table:
    """Rich table: one row per test fold, then all out-of-fold scores together."""
    table = Table(title=f"grouped cross-validation ({len(cv.folds)} folds, {cv.groups:,} connected groups, "
                        f"{cv.groups_with_bad:,} with bad accounts)", title_justify="left")
    for column in ("fold", "accounts", "bad", "groups", "ROC AUC", "average precision"):
        table.add_column(column, justify="right")
    for fold in cv.folds:
        table.add_row(str(fold.fold), f"{fold.accounts:,}", f"{fold.bad:,}", f"{fold.groups:,}", _fmt(fold.auc),
                      _fmt(fold.average_precision))
    table.add_row("all", f"{sum(f.accounts for f in cv.folds):,}", f"{sum(f.bad for f in cv.folds):,}",
                  f"{cv.groups:,}", _fmt(cv.auc), _fmt(cv.average_precision))
    return table
