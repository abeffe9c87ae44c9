"""``graphkit eval``: detection quality of a report folder against ground truth."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.table import Table

from graphkit.evaluate import DecisionEvaluation, Evaluation, evaluate_output
from graphkit_cli.common import CONTEXT_SETTINGS, safe_text, stdout

__all__ = ["decision_tables", "eval_command", "evaluation_tables", "truth_tables"]


@click.command("eval", context_settings=CONTEXT_SETTINGS)
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False), metavar="OUT_DIR")
@click.option("--truth", "truth_path", default=None, type=click.Path(path_type=Path, dir_okay=False),
              help="truth.json from graphkit synth, or a users table with a label column (bad/good, 1/0).")
@click.option("--labels", "labels_path", default=None, type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE",
              help="Investigators' decisions about this report (columns ring_id or user_id, verdict "
                   "confirmed|benign|unsure, note, decided_at, by): precision@k of its rings (confirmed = "
                   "positive, benign = negative, unsure and undecided left out) and ROC AUC / average precision "
                   "of the scores of the accounts they name. Any bad row is one line, exit 2.")
@click.option("--columns", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Mapping file renaming the columns of a --truth users table ([tables.users.columns]).")
@click.option("--k", "k", type=click.IntRange(min=1), default=None,
              help="Judge the top K rings (default: twice the number of planted rings).")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON on stdout.")
def eval_command(out_dir: Path, truth_path: Path | None, labels_path: Path | None, columns: Path | None,
                 k: int | None, as_json: bool) -> None:
    """Measure a report's detection quality against ground truth or investigators' decisions.

    Reads OUT_DIR/rings.json and OUT_DIR/scores.csv from graphkit report.
    A planted ring is found when one reported ring in the top K holds at least
    half of its members and at least half of that ring are its members.
    Prints ring recall and precision in the top K (per kind and per size
    band: 5-49, 50-199 and 200+ accounts), look-alike
    groups wrongly reported (when at least half of a top ring are its
    accounts, even a piece of it), user-level ROC AUC, average precision,
    precision@k, and the score threshold trade-off (accounts flagged,
    precision, recall) for deciding where to act. With --labels (instead of
    or with --truth): the share of confirmed among the judged rings of the top
    k, and account ROC AUC and average precision over the decided accounts.
    When the report had a flags table, scores.csv carries
    score_without_flags, and the account ROC AUC and average precision are
    printed with and without the flags (for --truth and for --labels).

    Example: graphkit eval out/ --truth fixtures/demo/truth.json
    """
    if truth_path is None and labels_path is None:
        raise click.UsageError("give --truth FILE, --labels FILE or both")
    evaluation = evaluate_output(out_dir, truth_path, k=k, columns=columns, labels_path=labels_path,
                                 now=datetime.now(timezone.utc))
    if as_json:
        click.echo(json.dumps(evaluation.to_dict(), indent=2))
        return
    for table in evaluation_tables(evaluation):
        stdout.print(table)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def evaluation_tables(evaluation: Evaluation) -> list[Table]:
    """Rich tables: the headline numbers, each planted ring, the threshold trade-off; the decisions' measures."""
    decided = [] if evaluation.decisions is None else decision_tables(evaluation.decisions)
    if not evaluation.has_truth:
        return decided
    return truth_tables(evaluation) + decided


def decision_tables(decided: DecisionEvaluation) -> list[Table]:
    """Rich tables: precision@k of the rings against the decisions, and the account measures."""
    rings = Table(title="rings against investigators' decisions", title_justify="left")
    for column in ("top k", "judged", "confirmed", "benign", "precision"):
        rings.add_column(column, justify="right")
    for kk, precision in decided.ring_precision_at.items():
        judged = decided.rings_judged_at[kk]
        confirmed = round(precision * judged) if precision is not None else 0
        rings.add_row(f"{kk:,}", f"{judged:,}", f"{confirmed:,}", f"{judged - confirmed:,}", _fmt(precision))
    head = Table(title="decisions", title_justify="left", show_header=False)
    head.add_column("measure")
    head.add_column("value", justify="right")
    head.add_row("rings reported", f"{decided.rings:,}")
    head.add_row("rings confirmed / benign / unsure",
                 f"{decided.rings_confirmed:,} / {decided.rings_benign:,} / {decided.rings_unsure:,}")
    head.add_row("accounts confirmed / benign / unsure",
                 f"{decided.users_confirmed:,} / {decided.users_benign:,} / {decided.users_unsure:,}")
    head.add_row("account ROC AUC (decided accounts)", _fmt(decided.user_auc))
    head.add_row("account average precision (decided accounts)", _fmt(decided.user_average_precision))
    if decided.user_auc_without_flags is not None or decided.user_average_precision_without_flags is not None:
        head.add_row("account ROC AUC without flags", _fmt(decided.user_auc_without_flags))
        head.add_row("account average precision without flags", _fmt(decided.user_average_precision_without_flags))
    return [rings, head] if decided.rings else [head]


def truth_tables(evaluation: Evaluation) -> list[Table]:
    """Rich tables against ground truth: the headline numbers, each planted ring, the threshold trade-off."""
    head = Table(title="detection quality", title_justify="left", show_header=False)
    head.add_column("measure")
    head.add_column("value", justify="right")
    if evaluation.n_planted:
        head.add_row(f"ring recall in the top {evaluation.k}", _fmt(evaluation.ring_recall))
        head.add_row(f"ring precision in the top {evaluation.k}", _fmt(evaluation.ring_precision))
        for kind, recall in evaluation.recall_by_kind().items():
            head.add_row(safe_text(f"  recall, {kind}"), _fmt(recall))  # kinds come from the truth file
        for band, (found, planted) in evaluation.recall_by_size().items():
            head.add_row(f"  recall, {band} accounts", f"{found / planted:.3f} ({found} of {planted})")
        head.add_row("look-alike groups reported", safe_text(", ".join(evaluation.lookalikes_reported) or "none"))
    head.add_row("rings reported", f"{evaluation.n_reported:,}")
    head.add_row("user ROC AUC", _fmt(evaluation.auc))
    head.add_row("user average precision", _fmt(evaluation.average_precision))
    if evaluation.auc_without_flags is not None or evaluation.average_precision_without_flags is not None:
        head.add_row("user ROC AUC without flags", _fmt(evaluation.auc_without_flags))
        head.add_row("user average precision without flags", _fmt(evaluation.average_precision_without_flags))
    for kk, value in evaluation.precision_at.items():
        head.add_row(f"precision of the top {kk:,} accounts", _fmt(value))
    tables = [head]
    if evaluation.matches:
        rings = Table(title="planted rings", title_justify="left")
        for column in ("ring", "kind", "size", "found by", "best overlap"):
            rings.add_column(column, justify="right" if column in ("size", "best overlap") else "left")
        for m in evaluation.matches:
            rings.add_row(safe_text(m.ring_id), safe_text(m.kind), f"{m.size:,}", safe_text(m.found_by or "-"),
                          f"{m.overlap:.0%}")
        tables.append(rings)
    if evaluation.thresholds is not None:
        trade = Table(title="score threshold trade-off", title_justify="left")
        for column in ("score >=", "accounts flagged", "precision", "recall"):
            trade.add_column(column, justify="right")
        for row in evaluation.thresholds.iter_rows(named=True):
            trade.add_row(f"{row['threshold']:.1f}", f"{row['flagged']:,}", _fmt(row["precision"]), _fmt(row["recall"]))
        tables.append(trade)
    return tables
