"""``graphkit report``: every output of the contract for one data directory.

Thin: read the tables, call :func:`graphkit.pipeline.analyze`, write with
:func:`graphkit.report.write_report`, render. Progress per stage goes to
stderr; the top rings and the file paths go to stdout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from graphkit import __version__, load_config
from graphkit.config import Config
from graphkit.errors import GraphkitError, TooManyRejectedError
from graphkit.io import Tables
from graphkit.model import Report
from graphkit.util.atomic import output_lock
from graphkit.util.format import plural
from graphkit_cli.common import (
    CONTEXT_SETTINGS,
    UserError,
    columns_option,
    config_option,
    outside_data_dir_option,
    read_data,
    safe_text,
    setting_type,
    stderr,
    stdout,
    window_options,
)

if TYPE_CHECKING:
    from graphkit.model import Decision
    from graphkit.report import ReportFiles, SavedReport

__all__ = ["STAGES", "decision_lines", "render", "report", "report_options", "rings_table", "run_report", "safe_text", "summary_json"]

STAGES = ("reading", "building", "detecting", "scoring", "writing")
"""The stages shown on stderr, in order."""

_PIPELINE_STAGES = {"build": "building", "communities": "detecting", "detect": "detecting", "score": "scoring"}
"""``analyze``'s progress names -> the stage they belong to (unknown names stay in the current stage)."""

_SHOWN_RINGS = 10


def report_options(func: Callable) -> Callable:
    """The options ``report`` and ``demo`` share."""
    for decorator in reversed(
        [
            click.option("--top", type=setting_type("top"), default=None,
                         help="Report (and draw) the N most suspicious rings [default: Config.top, 50]."),
            click.option("--no-html", "no_html", is_flag=True, help="Skip index.html and the ring views."),
            click.option("--redact-key", type=click.Path(path_type=Path, dir_okay=False), default=None,
                         help="Key file (created when missing; keep it outside OUT_DIR): also write "
                              "OUT_DIR/redacted/, a complete copy of the report to share outside the team, "
                              "in which every account, device, IP, stream and gift id (reasons included) is "
                              "a keyed pseudonym. The files in OUT_DIR itself keep the real ids."),
            click.option("--workers", type=click.IntRange(min=1), default=None,
                         help="Processes to use: with 2, on big data the Leiden runs (communities, lockstep "
                              "groups) go to child processes while the other detectors run; 1 keeps the run "
                              "in one process. The results are the same. [default: 2, or 1 on a one-core machine]"),
            click.option("--quiet", "-q", is_flag=True, help="No progress bars on stderr."),
            click.option("--json", "as_json", is_flag=True,
                         help="Print the summary as JSON on stdout (for scripts) instead of the table."),
        ]
    ):
        func = decorator(func)
    return func


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("data_dir", type=click.Path(path_type=Path, file_okay=False), metavar="[DATA_DIR]", required=False)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for the report: new, empty or a previous graphkit report. graphkit replaces its own "
                   "files there and keeps any other file you added (case notes); a folder with someone else's "
                   "rings.json, or another run writing it, is refused.")
@columns_option
@outside_data_dir_option
@config_option
@window_options
@click.option("--previous", "previous", type=click.Path(path_type=Path, file_okay=False), default=None,
              metavar="OLD_OUT", help="An earlier report (yesterday's OUT_DIR): rings that continue its rings keep "
                                      "their ids (a ring of new accounts on an earlier ring's devices and IPs too: "
                                      "re-formed), new rings get ids never used before, and each ring records its "
                                      "status, previous_ids and first_seen.")
@click.option("--labels", "labels", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Investigators' decisions (CSV, Parquet or NDJSON; columns ring_id or user_id, verdict "
                   "confirmed|benign|unsure, note, decided_at, by; ring ids are those of --previous). A group that "
                   "was judged benign and stayed materially the same is held back, listed with why instead of as "
                   "a ring; a confirmed ring's new members are named. Decisions carry forward in rings.json, so "
                   "a later --previous of this report applies them again. Any bad row fails the run (exit 2) "
                   "and is written to OUT_DIR.rejected/labels.csv.")
@click.option("--model", "model", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A model from graphkit train (model.json): each account's score becomes its calibrated "
                   "probability of being bad, scores.csv gains a reasons column (the features that raised it "
                   "most), and each group's mean probability is one more ring signal (learned_score).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="local: this process (polars + igraph). spark: Apache Spark, for platforms too big for one "
                   "machine (needs pip install 'graphkit[spark]' and Java 17; writes no HTML views, and the "
                   "per-account scores also as Parquet under OUT_DIR/scores/).")
@click.option("--spark-master", default=None, metavar="URL",
              help="With --engine spark: the cluster (spark://host:7077, yarn, k8s://...) [default: local[*], "
                   "or the master spark-submit was given].")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
              help="With --engine spark: a Spark setting, repeatable (--spark-conf spark.executor.memory=4g).")
@click.option("--tables", "catalog_tables", default=None, metavar="DB.PREFIX",
              help="With --engine spark, instead of DATA_DIR: read Spark/Hive tables of the catalog named "
                   "DB.PREFIXusers, DB.PREFIXgifts, DB.PREFIXstreams, DB.PREFIXdevices, DB.PREFIXflags (--tables "
                   "fraud.live_ reads fraud.live_gifts, ...); --columns renames their columns, and its file = "
                   "\"db.table\" names a table otherwise named.")
@click.option("--spark-units", type=click.IntRange(min=1, max=1_000_000), default=1, show_default=True,
              help="With --engine spark: work units the accounts' connected components are packed into; each is "
                   "analysed by graphkit's local pipeline in one executor task. More units spread the graph work "
                   "over executors; the rings stay the local engine's (communities are found per connected "
                   "component; what may still differ: docs/spark.md).")
@report_options
def report(
    data_dir: Path,
    out_dir: Path,
    columns: Path | None,
    allow_outside_data_dir: bool,
    config_path: Path | None,
    since: str | None,
    until: str | None,
    previous: Path | None,
    labels: Path | None,
    model: Path | None,
    engine: str,
    spark_master: str | None,
    spark_conf: tuple[str, ...],
    spark_units: int,
    catalog_tables: str | None,
    top: int | None,
    no_html: bool,
    redact_key: Path | None,
    workers: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Find the rings in DATA_DIR and write every output to OUT_DIR.

    Writes rings.json, rings.csv, scores.csv, members.csv, report.md,
    index.html with one view per ring under rings/, rejected/ when input rows
    broke the data contract, graph/ (the report's store, which show, expand
    and path --report read), and with --redact-key a shareable copy with
    pseudonyms for every id in redacted/. The folder appears only when complete: an interrupted run
    (Ctrl-C, SIGTERM) leaves no partial report, and a previous report stays as
    it was until the new one is ready. Files you added to a previous report
    (your notes) are carried into the new one. When too many input rows are
    rejected, the run fails and writes them to OUT_DIR.rejected/, beside the
    report. With --previous, ring ids carry over from an earlier report
    (graphkit diff shows the changes); with --labels, investigators' decisions
    hold back groups judged benign and track confirmed rings. With --model, a
    model from graphkit train scores every account (README "graphkit train").
    Prints the top rings, the groups held back, and where the files are. With
    --engine spark, DATA_DIR may also be an hdfs:// or s3a:// folder, and each
    table a folder of Parquet files; or give --tables DB.PREFIX instead of
    DATA_DIR to read Spark/Hive tables.

    Example: graphkit report fixtures/demo --out out/
    """
    config = load_config(config_path, since=since, until=until, top=top)
    spark = None
    if catalog_tables is not None and engine != "spark":
        raise UserError("--tables needs --engine spark (the local engine reads a DATA_DIR)")
    if (data_dir is None) == (catalog_tables is None):
        raise UserError("give DATA_DIR (a folder of tables) or, with --engine spark, --tables DB.PREFIX"
                        if data_dir is None else "give DATA_DIR or --tables DB.PREFIX, not both")
    if engine == "spark":
        from graphkit.engines.spark.read import parse_tables_option
        from graphkit.engines.spark.session import parse_spark_conf, require_spark

        if catalog_tables is not None:
            parse_tables_option(catalog_tables)  # a malformed name fails before Spark starts
        require_spark()
        spark = {"master": spark_master, "conf": parse_spark_conf(spark_conf), "units": spark_units,
                 "tables": catalog_tables}
        if redact_key is not None or labels is not None or model is not None:
            raise UserError("--redact-key, --labels and --model are not available with --engine spark yet; run them "
                            "with --engine local")
    elif spark_master or spark_conf:
        raise UserError("--spark-master and --spark-conf need --engine spark")
    run_report(
        data_dir, out_dir, config=config, columns=columns, html=not no_html and spark is None, redact_key=redact_key,
        workers=workers, quiet=quiet, as_json=as_json, allow_outside_data_dir=allow_outside_data_dir,
        previous=previous, labels=labels, model=model, spark=spark,
    )


def run_report(
    data_dir: Path | None,
    out_dir: Path,
    *,
    config: Config,
    columns: Path | None = None,
    html: bool = True,
    redact_key: Path | None = None,
    workers: int | None = None,
    quiet: bool = False,
    as_json: bool = False,
    allow_outside_data_dir: bool = False,
    previous: Path | None = None,
    labels: Path | None = None,
    model: Path | None = None,
    spark: dict[str, Any] | None = None,
) -> tuple[Report, ReportFiles]:
    """Read, analyse, write, render: the body of ``report`` and ``demo``.

    OUT_DIR's lock is held from the start (a second run into the same folder
    is refused at once, and an unwritable parent folder is found before the
    analysis) until the report is in place. ``spark`` (``master``, ``conf``,
    ``units``, ``tables``): run on Spark (:mod:`graphkit.engines.spark`) instead of here;
    with ``tables`` (``db.prefix``), ``data_dir`` is None.
    """
    # imported here: the report writers pull in the detectors' signals and igraph, and graphkit.history scipy,
    # which `graphkit -h` does not need
    from graphkit.history import continue_report
    from graphkit.report import check_out_dir, read_report, write_report

    with output_lock(out_dir):
        check_out_dir(out_dir, data_dir=data_dir)
        redactor = _redactor(redact_key, out_dir) if redact_key is not None else None
        earlier = read_report(previous) if previous is not None else None  # a bad --previous fails before the work
        learned = _learned(model, config) if model is not None else None  # and a bad --model
        with _progress(quiet) as stages:
            stages.start("reading")
            staging = None
            if spark is not None:
                result, staging, staged = _on_spark(data_dir, out_dir, columns, config, spark, stages)
                decided = None
            else:
                staged = {}
                tables = _read(data_dir, out_dir, columns, config, allow_outside_data_dir)
                decided = _read_labels(labels, tables, earlier, previous, out_dir) if labels is not None else None
                stages.start("building")
                result = _analyze(tables, config, stages.pipeline, workers, learned)
            try:
                result = continue_report(result, earlier, decided, config)
                stages.start("writing")
                source = {"data_dir": str(data_dir.resolve()) if data_dir is not None else None,
                          **({"tables": spark["tables"]} if spark is not None and spark.get("tables") else {}),
                          "columns": str(columns.resolve()) if columns else None,
                          "allow_outside_data_dir": allow_outside_data_dir}
                files = write_report(result, out_dir, html=html, top=config.top, redactor=redactor,
                                     generator=f"graphkit {__version__}", source=source, staged=staged,
                                     scores_csv=spark is None or result.user_scores.height == result.summary["users"])
            finally:
                if staging is not None:
                    shutil.rmtree(staging, ignore_errors=True)
            stages.finish()
    if as_json:
        click.echo(json.dumps(summary_json(result, files, config.top), indent=2, ensure_ascii=False))
    else:
        render(result, files, config.top)
    return result, files


def _read(data_dir: Path, out_dir: Path, columns: Path | None, config: Config, allow_outside_data_dir: bool) -> Tables:
    try:
        tables = read_data(data_dir, columns=columns, config=config, allow_outside_data_dir=allow_outside_data_dir)
    except TooManyRejectedError as exc:
        raise _refused(exc, out_dir, name_folder=True) from None
    for warning in tables.warnings:  # never silent: e.g. exact duplicate gifts that were kept
        stderr.print(safe_text(f"graphkit: warning: {warning}"))
    return tables


def _read_labels(
    path: Path, tables: Tables, earlier: SavedReport | None, previous: Path | None, out_dir: Path
) -> tuple[Decision, ...]:
    """The decisions of a ``--labels`` file, checked against the data's accounts and the ``--previous`` report's
    rings; a bad row fails the run like too many bad rows of a table (the rows go to ``OUT_DIR.rejected/``)."""
    from datetime import datetime, timezone

    import polars as pl

    from graphkit.history import decisions_from_labels, known_ring_ids
    from graphkit.io.labels import read_labels

    accounts = pl.concat([
        tables.users["user_id"], tables.gifts["sender_id"], tables.gifts["receiver_id"], tables.devices["user_id"],
        tables.streams["host_id"],
    ], rechunk=False)  # chunks side by side, no copy of the platform's ids
    rings_from = f"--previous {previous}" if previous is not None else "a --previous report (none was given)"
    try:
        read = read_labels(path, known_users=accounts, known_rings=known_ring_ids(earlier), rings_from=rings_from,
                           now=datetime.now(timezone.utc))
    except TooManyRejectedError as exc:
        raise _refused(exc, out_dir, name_folder=False) from None
    return decisions_from_labels(read.decisions, earlier)


def _refused(exc: TooManyRejectedError, out_dir: Path, *, name_folder: bool) -> UserError:
    """The one-line error of a run refused for its bad rows, which are written beside OUT_DIR (never in it: a
    previous report there stays as it was); ``name_folder`` names their folder, else their first file."""
    from graphkit.report import write_failed_rejected

    try:
        written = write_failed_rejected(exc.rejected, out_dir)
        where = ""
        if written:
            where = f"; the rejected rows are in {f'{written[0].parent}/' if name_folder else written[0]}"
    except GraphkitError as not_written:
        where = f"; the rejected rows were not written ({not_written})"
    kept = f"; the previous report in {out_dir} is kept as it was" if (out_dir / "rings.json").is_file() else ""
    return UserError(f"{exc}{where}{kept}")


def _on_spark(data_dir: Path | None, out_dir: Path, columns: Path | None, config: Config, spark: dict[str, Any],
              stages: "_Stages") -> tuple[Report, Path, dict[str, Path]]:
    """Read, analyse and stage the Parquet outputs on Spark: the report, the staging folder and its entries."""
    from pyspark.sql import SparkSession

    from graphkit.engines.spark import (
        SparkOptions, analyze, read_spark_tables, spark_session, stage_outputs, staging_folder,
    )

    ours = SparkSession.getActiveSession() is None  # a session of the caller's (a notebook, a test) stays up
    session = spark_session(spark["master"], spark["conf"])
    staging = None
    try:
        try:
            tables = read_spark_tables(session, data_dir, config, tables=spark.get("tables"), columns=columns,
                                       max_bad_share=config.max_bad_share)
        except TooManyRejectedError as exc:
            kept = f"; the previous report in {out_dir} is kept as it was" if (out_dir / "rings.json").is_file() else ""
            raise UserError(f"{exc}{kept}") from None
        stages.start("building")
        staging = staging_folder(out_dir)
        result = analyze(session, tables, config, SparkOptions(units=spark["units"]), scores_path=staging / "scores")
        stages.start("writing")
        return result.report, staging, stage_outputs(result, staging)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if ours:
            session.stop()


def _redactor(key: Path, out_dir: Path) -> Any:
    from graphkit.viz import load_or_create_key

    return load_or_create_key(key, outside=out_dir)


def _learned(model: Path, config: Config) -> Callable[..., Any]:
    """The scorer of ``--model`` for ``analyze(learned=...)`` (the file read and checked now)."""
    from graphkit.learn import learned_scorer, load_model

    account_model, digest = load_model(model)
    return learned_scorer(account_model, digest=digest, reasons=config.model_reasons, source=str(model))


def _analyze(tables: Tables, config: Config, progress: Callable[[str], None], workers: int | None,
             learned: Callable[..., Any] | None = None) -> Report:
    # imported here: the pipeline pulls in igraph and the detectors, which
    # `graphkit -h` and the other commands do not need
    from graphkit.pipeline import analyze

    return analyze(tables, config, progress=progress, workers=workers, learned=learned)


class _Stages:
    """One progress task per stage; a stage completes when the next starts."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks = {name: progress.add_task(name, total=1, start=False) for name in STAGES}
        self._current: str | None = None

    def start(self, stage: str) -> None:
        if stage == self._current:
            return
        self.finish()
        for earlier in STAGES[: STAGES.index(stage)]:  # a stage the pipeline did not announce is done too
            self._progress.update(self._tasks[earlier], completed=1)
        self._progress.start_task(self._tasks[stage])
        self._current = stage

    def pipeline(self, name: str) -> None:
        stage = _PIPELINE_STAGES.get(name)
        if stage is not None:
            self.start(stage)

    def finish(self) -> None:
        if self._current is not None:
            self._progress.update(self._tasks[self._current], completed=1)
            self._progress.stop_task(self._tasks[self._current])
            self._current = None


class _progress:
    """Context manager: rich progress bars on stderr (disabled by ``--quiet``)."""

    def __init__(self, quiet: bool) -> None:
        self._bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<10}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=stderr,
            disable=quiet,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __enter__(self) -> _Stages:
        self._bars.start()
        return _Stages(self._bars)

    def __exit__(self, exc_type: type | None, *exc: Any) -> None:
        if exc_type is None:
            self._bars.stop()
            return
        # a failed run: clear the bars, so that the error is the only line left on stderr
        # (a terminal erases them; a log file or pipe gets nothing at all)
        self._bars.live.transient = True
        console = self._bars.console
        quiet, console.quiet = console.quiet, console.quiet or not console.is_terminal
        try:
            self._bars.stop()
        finally:
            console.quiet = quiet


# --- rendering -------------------------------------------------------------------


def rings_table(result: Report, limit: int) -> Table:
    table = Table(title=f"Top rings ({min(limit, len(result.rings))} of {len(result.rings)})", title_justify="left")
    for header, justify in (("rank", "right"), ("ring", "left"), ("score", "right"), ("size", "right"),
                            ("coins", "right"), ("beneficiaries", "left"), ("first reason", "left")):
        table.add_column(header, justify=justify)
    for ring in result.rings[:limit]:
        beneficiaries = ", ".join(b.user_id for b in ring.beneficiaries[:3])
        if len(ring.beneficiaries) > 3:
            beneficiaries += f" +{len(ring.beneficiaries) - 3}"
        table.add_row(
            str(ring.rank), safe_text(ring.ring_id), f"{ring.score:.2f}", f"{ring.size:,}",
            f"{ring.coins_total:,.0f}", safe_text(beneficiaries), safe_text(ring.reasons[0] if ring.reasons else ""),
        )
    return table


def render(result: Report, files: ReportFiles, top: int) -> None:
    """Print the top rings and where the files are (stdout)."""
    if result.rings:
        stdout.print(rings_table(result, min(top, _SHOWN_RINGS)))
    else:
        stdout.print("No ring was found with these settings.")
    if result.decisions is not None:
        for line in decision_lines(result):
            stdout.print(safe_text(line))
    listing: list[tuple[str, str]] = [
        ("rings.json", "the ranked rings"),
        ("rings.csv", "one row per ring"),
        ("scores.csv", "a score for every account"),
        ("members.csv", "every ring's members and their roles"),
        ("report.md", "the report for people"),
    ]
    if files.index_html is not None:
        listing.append(("index.html", f"the overview, with {len(files.ring_views)} ring views under rings/"))
    if files.rejected:
        tables = "1 table" if len(files.rejected) == 1 else f"{len(files.rejected)} tables"
        listing.append(("rejected/", f"rejected input rows with their reasons ({tables})"))
    if files.redacted is not None:
        listing.append((f"{files.redacted.name}/", "the same files with pseudonyms for every id: the copy to share"))
    for path in files.kept:
        listing.append((path.name + ("/" if path.is_dir() else ""), "yours, kept from the previous folder"))
    where = Table.grid(padding=(0, 2))
    where.add_column()
    where.add_column(style="dim")
    for name, what in listing:
        where.add_row(safe_text(f"{files.out_dir / name}{'/' if name.endswith('/') else ''}"), what)
    stdout.print(Text(f"Wrote {files.out_dir}:"))
    stdout.print(where)
    if files.index_html is not None:
        stdout.print(Text(f"Open {files.index_html} in a browser to explore the rings."))
    if files.redacted is not None:
        stdout.print(Text(f"To share outside the team, send {files.redacted}: every id in it is a keyed pseudonym "
                          "(the key file maps them back; keep it to yourself)."))


def decision_lines(result: Report) -> list[str]:
    """What the investigators' decisions changed, one line each: the groups held back (with why) and the
    confirmed rings' new members."""
    held = result.held_back
    lines = [f"Held back {len(held):,} group{'s' if len(held) != 1 else ''} that investigators judged benign "
             "(listed in report.md and rings.json held_back):" if held else
             f"No group held back by a benign decision ({len(result.decisions or ()):,} decisions in effect or earlier)."]
    lines += [f"  {h.ring_id} ({h.size:,} accounts, score {h.score:.2f}): {h.reason()}" for h in held[:_SHOWN_RINGS]]
    if len(held) > _SHOWN_RINGS:
        lines.append(f"  and {len(held) - _SHOWN_RINGS:,} more")
    for ring in result.rings:
        if any(d.verdict == "confirmed" and d.ring_id is not None for d in ring.decisions or ()):
            new = ", ".join(ring.new_members[:10]) + (f" and {len(ring.new_members) - 10:,} more"
                                                       if len(ring.new_members) > 10 else "")
            lines.append(f"Confirmed ring {ring.ring_id}: " + (f"{plural(len(ring.new_members), 'new member')} since: {new}"
                                                               if ring.new_members else "no new member since"))
    return lines


def summary_json(result: Report, files: ReportFiles, top: int) -> dict[str, Any]:
    """What ``--json`` prints: the summary, the top rings in brief and the file paths."""
    return {
        "summary": result.summary,
        "rings": [
            {
                "ring_id": ring.ring_id,
                "rank": ring.rank,
                "score": round(ring.score, 4),
                "size": ring.size,
                "coins_total": round(ring.coins_total, 2),
                "beneficiaries": [b.user_id for b in ring.beneficiaries],
                "first_reason": ring.reasons[0] if ring.reasons else None,
            }
            for ring in result.rings[:top]
        ],
        "files": files.to_dict(),
        **({"held_back": [{"ring_id": h.ring_id, "size": h.size, "score": round(h.score, 4), "reason": h.reason()}
                          for h in result.held_back],
            "confirmed_new_members": {r.ring_id: list(r.new_members) for r in result.rings if r.new_members}}
           if result.decisions is not None else {}),
    }
