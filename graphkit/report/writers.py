"""Write every output of the contract (CONTRACT.md, Output) for one :class:`Report`.

:func:`write_report` fills a temporary folder next to ``out_dir`` and swaps
it in only when every file is written (:func:`graphkit.util.atomic.atomic_directory`):
an interrupted run never leaves a half-written report, and a previous report
in ``out_dir`` stays untouched until the new one is complete.

``rings.json``, ``rings.csv`` and ``scores.csv`` hold no timestamps and are
sorted stably, with floats at fixed precision, so the same input and params
give byte-identical files.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from graphkit.util.version import GENERATOR
from graphkit.errors import InputError
from graphkit.io import TABLE_NAMES
from graphkit.model import Report
from graphkit.util.atomic import atomic_directory, atomic_write_csv, output_lock, unowned_entries
from graphkit.report.markdown import render_markdown
from graphkit.score import SCORE_DECIMALS

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.viz import Redactor

__all__ = [
    "REPORT_ENTRIES",
    "ReportFiles",
    "check_out_dir",
    "failed_rejected_dir",
    "members_csv_text",
    "rings_csv_text",
    "rings_json_text",
    "scores_csv_text",
    "write_failed_rejected",
    "write_report",
]

REPORT_ENTRIES = ("rings.json", "rings.csv", "scores.csv", "members.csv", "report.md", "index.html", "rings", "rejected",
                  "graph", "redacted", "scores")
"""The top-level names :func:`write_report` writes in a report folder: graphkit's, replaced by the next run.

Everything else in the folder is the user's and is carried into the next
report. :func:`write_report` cannot write a name missing here (the swap
refuses it), so this list is complete.
"""

_FAILED_MARKER = ".graphkit-rejected"
"""Written into ``OUT_DIR.rejected/`` with the rows: only CSV files of a folder holding it are graphkit's."""
_FAILED_REJECTED = (*(f"{name}.csv" for name in (*TABLE_NAMES, "labels")), _FAILED_MARKER)
"""The names :func:`write_failed_rejected` writes in ``OUT_DIR.rejected/``: the input tables', and the
decisions file's (``report --labels``; :func:`graphkit.io.labels.read_labels`)."""

REDACTED = "redacted"
"""The folder inside OUT_DIR that holds the shareable, redacted copy of the report (``--redact-key``)."""


@dataclass(frozen=True)
class ReportFiles:
    """Where :func:`write_report` put each output (paths inside ``out_dir``)."""

    out_dir: Path
    rings_json: Path
    rings_csv: Path
    scores_csv: Path
    report_md: Path
    members_csv: Path | None = None
    """``members.csv``: ring_id, user_id, role for every ring member."""
    index_html: Path | None = None
    """``None`` when the HTML views were not written (``html=False``)."""
    ring_views: tuple[Path, ...] = ()
    rejected: tuple[Path, ...] = ()
    kept: tuple[Path, ...] = ()
    """Entries of the previous folder that graphkit did not write, carried into this one."""
    redacted: Path | None = None
    """``redacted/``: the same files with keyed pseudonyms for every id (only with a redactor)."""

    def paths(self) -> list[Path]:
        """Every file of the report, in a stable order (the redacted copy's files are under ``redacted``)."""
        first = [self.rings_json, self.rings_csv, self.scores_csv, self.report_md]
        first += [self.members_csv] if self.members_csv is not None else []
        html = [self.index_html] if self.index_html is not None else []
        return first + html + list(self.ring_views) + list(self.rejected)

    def to_dict(self) -> dict[str, Any]:
        """Paths as strings, for ``--json`` output."""
        return {
            "out_dir": str(self.out_dir),
            "rings_json": str(self.rings_json),
            "rings_csv": str(self.rings_csv),
            "scores_csv": str(self.scores_csv),
            "report_md": str(self.report_md),
            "members_csv": str(self.members_csv) if self.members_csv is not None else None,
            "index_html": str(self.index_html) if self.index_html is not None else None,
            "ring_views": [str(p) for p in self.ring_views],
            "rejected": [str(p) for p in self.rejected],
            "kept": [str(p) for p in self.kept],
            "redacted": str(self.redacted) if self.redacted is not None else None,
        }


def rings_json_text(report: Report, generator: str = GENERATOR) -> str:
    """The content of ``rings.json``: two-space indented JSON and a final newline.

    Non-finite floats (NaN, infinity) become ``null`` so that the file is
    valid JSON for every reader.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.model import Report
    >>> empty = Report(rings=(), user_scores=pl.DataFrame(), params={"seed": 0}, summary={"rings": 0})
    >>> print(rings_json_text(empty, "graphkit 0.1.0"))  # doctest: +NORMALIZE_WHITESPACE
    {
      "schema_version": 1,
      "generator": "graphkit 0.1.0",
      "params": {
        "seed": 0
      },
      "summary": {
        "rings": 0
      },
      "rings": []
    }
    """
    doc = _finite(report.to_json_dict(generator))
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def rings_csv_text(report: Report) -> str:
    """The content of ``rings.csv``: one row per ring in rank order.

    Columns: ``ring_id, rank, score, size, coins_total, kind, beneficiaries,
    top_signals, first_reason``; score with 4 decimals, coins with 2.
    """
    frame = report.rings_frame().sort("rank", maintain_order=True)
    frame = frame.with_columns(_fixed("score", 4), _fixed("coins_total", 2))
    return frame.write_csv()


def scores_csv_text(report: Report) -> str:
    """The content of ``scores.csv``: ``user_id,score,ring_id,role`` for every account.

    Sorted by score (highest first), then user_id; score with 6 decimals
    (:data:`graphkit.score.SCORE_DECIMALS`: a ring member's score and an
    account's evidence fill the first four, the exposure tie-break of
    :func:`graphkit.score.account_score` the last two);
    ring_id and role empty outside rings. ``role`` (``beneficiary``,
    ``funder``, ``member``) comes after the contract's three columns: outputs
    change only by adding fields. Ids are written exactly as read. With a
    flags table, ``score_without_flags`` follows: the score with the flags'
    parts taken out (:func:`graphkit.pipeline.analyze`), for measuring what
    the flags add (``graphkit eval``). With a trained model (``report
    --model``) the score is the account's calibrated probability and a last
    column, ``reasons``, holds its top feature contributions.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.model import Report
    >>> scores = pl.DataFrame({"user_id": ["b", "a"], "score": [0.5, 0.91234], "ring_id": [None, "R0001"],
    ...                        "role": [None, "beneficiary"]})
    >>> print(scores_csv_text(Report((), scores, {}, {})), end="")
    user_id,score,ring_id,role
    a,0.912340,R0001,beneficiary
    b,0.500000,,
    """
    scores = report.user_scores
    without = ["score_without_flags"] if "score_without_flags" in scores.columns else []
    flag_reason = [_text(scores, "flag_reason")] if "flag_reason" in scores.columns else []  # with a flags table
    learned = [_text(scores, "reasons")] if "reasons" in scores.columns else []  # report --model only
    frame = (
        scores.select(pl.col("user_id").cast(pl.Utf8), pl.col("score").cast(pl.Float64), _text(scores, "ring_id"),
                      _text(scores, "role"), *(pl.col(c).cast(pl.Float64) for c in without), *flag_reason, *learned)
        .sort(["score", "user_id"], descending=[True, False], nulls_last=True, maintain_order=True)
        .with_columns(_fixed("score", SCORE_DECIMALS), *(_fixed(c, SCORE_DECIMALS) for c in without))
    )
    return frame.write_csv()


def members_csv_text(report: Report) -> str:
    """The content of ``members.csv``: ``ring_id,user_id,role``, one row per ring member.

    Rings in rank order, each ring's members in the order of ``rings.json``;
    ``role`` is ``beneficiary`` (receives the ring's coins), ``funder`` (pays
    into it) or ``member``, as in ``scores.csv``.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.model import Report, Ring
    >>> ring = Ring("R0001", 1, 0.9, ("a", "h"), 10.0)
    >>> scores = pl.DataFrame({"user_id": ["h", "a"], "score": [0.9, 0.8], "ring_id": ["R0001"] * 2,
    ...                        "role": ["beneficiary", "member"]})
    >>> print(members_csv_text(Report((ring,), scores, {}, {})), end="")
    ring_id,user_id,role
    R0001,a,member
    R0001,h,beneficiary
    """
    members = pl.DataFrame(
        {"ring_id": [r.ring_id for r in report.rings for _ in r.members],
         "user_id": [m for r in report.rings for m in r.members]},
        schema={"ring_id": pl.Utf8, "user_id": pl.Utf8},
    )
    scores = report.user_scores
    roles = (
        scores.select(pl.col("user_id").cast(pl.Utf8), _text(scores, "ring_id"), _text(scores, "role"))
        .unique(["ring_id", "user_id"], keep="first", maintain_order=True)
    )
    return (
        members.join(roles, on=["ring_id", "user_id"], how="left", maintain_order="left")
        .with_columns(pl.col("role").fill_null("member"))
        .write_csv()
    )


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` of ``frame`` as text, or an empty (null) column when the frame has none."""
    return (pl.col(column).cast(pl.Utf8) if column in frame.columns else pl.lit(None, pl.Utf8)).alias(column)


def write_report(
    report: Report,
    out_dir: str | Path,
    *,
    html: bool = True,
    top: int | None = None,
    generator: str = GENERATOR,
    redactor: "Redactor | None" = None,
    source: dict[str, Any] | None = None,
    staged: Mapping[str, Path] | None = None,
    scores_csv: bool = True,
) -> ReportFiles:
    """Write every output of the contract for ``report`` into ``out_dir``, atomically.

    With ``source`` (``data_dir``, ``columns``, ``allow_outside_data_dir``:
    where the tables were read), ``graph/source.json`` records it, so that
    follow-up commands given ``--report OUT_DIR`` find the data
    (:func:`graphkit.report.reader.read_source`).

    Parameters
    ----------
    report : Report
        The result of :func:`graphkit.pipeline.analyze`.
    out_dir : path
        Created, or replaced when it holds a previous report: graphkit's own
        entries (:data:`REPORT_ENTRIES`) are replaced, and every other file in
        it (an investigator's notes) is carried into the new report. A folder
        with a ``rings.json`` graphkit did not write, or with other files but
        no ``rings.json``, or the input data, is refused (:func:`check_out_dir`).
    html : bool
        Write ``index.html`` and one view per ring under ``rings/``
        (:func:`graphkit.viz.write_views`).
    top : int, optional
        Describe (``report.md``) and draw (HTML) at most this many rings;
        ``rings.json`` and ``rings.csv`` hold every ring of the report.
    generator : str
        The ``generator`` field of ``rings.json``.
    redactor : graphkit.viz.Redactor, optional
        Also write ``out_dir/redacted/``: every file of the report again
        (JSON, CSV, Markdown, views, rejected rows), with keyed pseudonyms
        for every account, device, IP, stream and gift id, reasons included
        (:func:`graphkit.report.redact.redact_report`); the files in
        ``out_dir`` itself keep the real ids.

    Returns
    -------
    ReportFiles

    Raises
    ------
    InputError
        When ``out_dir`` is a file, a folder that is not a graphkit report, or
        holds the input data; or when its parent folder cannot be written.
    OutputBusyError
        When another run is writing ``out_dir``.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> from graphkit.model import Report
    >>> report = Report((), pl.DataFrame({"user_id": ["a"], "score": [0.1], "ring_id": [None]}), {}, {})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> files = write_report(report, out, html=False)
    >>> sorted(p.name for p in out.iterdir())
    ['members.csv', 'report.md', 'rings.csv', 'rings.json', 'scores.csv']
    """
    out_dir = Path(out_dir)
    with output_lock(out_dir):
        check_out_dir(out_dir, data_dir=report.tables.source if report.tables is not None else None)
        kept = unowned_entries(out_dir, REPORT_ENTRIES)
        with atomic_directory(out_dir, owned=REPORT_ENTRIES) as tmp:
            _write_files(report, tmp, html=html, top=top, generator=generator, scores_csv=scores_csv)
            if report.tables is not None and (tmp / "scores.csv").is_file():
                # the store for follow-up questions (expand, path, show --report)
                from graphkit.report.reader import read_scores
                from graphkit.report.store import write_store

                write_store(report, tmp / "graph", scores=read_scores(tmp / "scores.csv"))
            for name, folder in (staged or {}).items():
                if name not in REPORT_ENTRIES:
                    raise ValueError(f"staged entry {name!r} is not one of the report's entries")
                shutil.move(str(folder), str(tmp / name))
            if source is not None:
                (tmp / "graph").mkdir(exist_ok=True)
                (tmp / "graph" / "source.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
            if redactor is not None:
                from graphkit.report.redact import redact_report

                _write_files(redact_report(report, redactor, top=top), tmp / REDACTED, html=html, top=top,
                             generator=generator, views=(report, redactor))
            written = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file())
        _remove_failed_rejected(out_dir)
    index = out_dir / "index.html"
    return ReportFiles(
        out_dir=out_dir,
        rings_json=out_dir / "rings.json",
        rings_csv=out_dir / "rings.csv",
        scores_csv=out_dir / "scores.csv",
        report_md=out_dir / "report.md",
        members_csv=out_dir / "members.csv",
        index_html=index if html and Path("index.html") in written else None,
        ring_views=tuple(out_dir / p for p in written if p.parts[0] == "rings"),
        rejected=tuple(out_dir / p for p in written if p.parts[0] == "rejected"),
        kept=tuple(out_dir / name for name in kept),
        redacted=out_dir / REDACTED if redactor is not None else None,
    )


def _write_files(report: Report, folder: Path, *, html: bool, top: int | None, generator: str,
                 views: "tuple[Report, Redactor] | None" = None, scores_csv: bool = True) -> None:
    """Every file of one report folder. ``views``: draw the HTML from this report with this redactor
    (the redacted bundle's views are drawn from the real report, whose tables they need)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rings.json").write_text(rings_json_text(report, generator), encoding="utf-8")
    (folder / "rings.csv").write_text(rings_csv_text(report), encoding="utf-8")
    if scores_csv:
        (folder / "scores.csv").write_text(scores_csv_text(report), encoding="utf-8")
    (folder / "members.csv").write_text(members_csv_text(report), encoding="utf-8")
    if report.tables is not None:
        report.tables.write_rejected(folder)
    links: dict[str, str] = {}
    if html:
        from graphkit.viz import write_views

        drawn, redactor = views if views is not None else (report, None)
        write_views(drawn, folder, top=top, redactor=redactor)
        links = {
            ring.ring_id: f"rings/{ring.ring_id}.html"
            for ring in report.rings
            if (folder / "rings" / f"{ring.ring_id}.html").is_file()
        }
    markdown = render_markdown(report, top=top, links=links, generator=generator)
    (folder / "report.md").write_text(markdown, encoding="utf-8")


def check_out_dir(out_dir: str | Path, *, data_dir: str | Path | None = None) -> None:
    """Raise :class:`InputError` unless ``out_dir`` may be created or replaced by a report.

    :func:`write_report` replaces graphkit's own entries (:data:`REPORT_ENTRIES`)
    and carries every other entry into the new report, so it writes into a new
    or empty folder, or a previous report: a folder whose ``rings.json``
    graphkit wrote (it names graphkit as its ``generator`` and has a
    ``schema_version``). Never a folder with someone else's ``rings.json``,
    the input data, the current folder or the home folder. Commands call it
    before the analysis, to fail fast.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "rings.json").write_text("{}")
    >>> check_out_dir(folder)
    Traceback (most recent call last):
    ...
    graphkit.errors.InputError: ...: its rings.json was not written by graphkit ...
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is a file; choose a folder for --out")
    resolved = out_dir.resolve()
    if data_dir is not None:
        data = Path(data_dir).resolve()
        if data == resolved or resolved in data.parents:
            raise InputError(f"{out_dir}: holds the input data; choose another folder for --out")
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path.home().resolve():
        raise InputError(
            f"{out_dir}: is the current folder, one above it or the home folder; choose a new folder for --out"
        )
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    rings_json = out_dir / "rings.json"
    if not rings_json.is_file() and not rings_json.is_symlink():
        raise InputError(
            f"{out_dir}: exists and is not a graphkit report (no rings.json); choose a new folder for --out or empty it"
        )
    if not _written_by_graphkit(rings_json):
        raise InputError(
            f"{out_dir}: its rings.json was not written by graphkit (no graphkit generator and schema_version), "
            "so the folder is not a graphkit report; choose a new folder for --out"
        )


def _written_by_graphkit(rings_json: Path) -> bool:
    try:
        if rings_json.is_symlink():
            return False
        content = json.loads(rings_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(content, dict):
        return False
    generator, version = content.get("generator"), content.get("schema_version")
    return (
        isinstance(generator, str) and generator.startswith("graphkit ")
        and isinstance(version, int) and not isinstance(version, bool)
    )


def failed_rejected_dir(out_dir: str | Path) -> Path:
    """Where a run that failed on its input leaves its rejected rows: ``OUT_DIR.rejected/`` beside ``out_dir``.

    Examples
    --------
    >>> failed_rejected_dir("cases/out")
    PosixPath('cases/out.rejected')
    """
    out_dir = Path(out_dir)
    return out_dir.with_name(f"{out_dir.name}.rejected")


def write_failed_rejected(rejected: Mapping[str, pl.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write the rejected rows of a failed run to ``OUT_DIR.rejected/NAME.csv``, leaving ``out_dir`` alone.

    A failed run has no report to put them in, and the previous report in
    ``out_dir`` must stay as it was, so they go beside it
    (:func:`failed_rejected_dir`); the folder is replaced atomically, files
    the user put there are kept, and the next successful :func:`write_report`
    removes the CSV files. Tables without rejected rows are left out.

    Returns
    -------
    list of Path
        The files written (empty, and nothing written, when no row was rejected).

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> rows = pl.DataFrame({"coins": ["-1"], "reason": ["negative coins"]})
    >>> [str(p.relative_to(out.parent)) for p in write_failed_rejected({"gifts": rows}, out)]
    ['report.rejected/gifts.csv']
    >>> out.exists()
    False
    """
    frames = {name: frame for name, frame in sorted(rejected.items()) if frame.height}
    if not frames:
        return []
    target = failed_rejected_dir(out_dir)
    if target.is_dir() and not (target / _FAILED_MARKER).is_file():
        theirs = sorted(name for name in _FAILED_REJECTED if (target / name).exists())
        if theirs:
            raise InputError(f"{target} holds {', '.join(theirs)}, which graphkit did not write; move them away "
                             "and run again to get the rejected rows there")
    with output_lock(out_dir), atomic_directory(target, owned=_FAILED_REJECTED) as tmp:
        for name, frame in frames.items():
            atomic_write_csv(frame, tmp / f"{name}.csv")
        (tmp / _FAILED_MARKER).write_text("rejected rows of a failed graphkit run; graphkit removes them\n",
                                          encoding="utf-8")
    return [target / f"{name}.csv" for name in frames]


def _remove_failed_rejected(out_dir: Path) -> None:
    """After a successful run: remove the rejected rows a failed run left beside ``out_dir`` (the user's files stay)."""
    target = failed_rejected_dir(out_dir)
    if not target.is_dir() or target.is_symlink() or not (target / _FAILED_MARKER).is_file():
        return  # not a folder of graphkit's rejected rows: nothing there is graphkit's to remove
    for name in _FAILED_REJECTED:
        path = target / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
    if not any(target.iterdir()):
        target.rmdir()


def _fixed(column: str, decimals: int) -> pl.Expr:
    """A float column as text with exactly ``decimals`` decimals (no exponent, stable bytes).

    Non-finite values (NaN, infinity) are written as empty cells. Values too
    big for a 38-digit decimal (1e30 and above: corrupt coin columns) are
    written as polars prints the float (``3e+60``), still stable.
    """
    value = pl.col(column).cast(pl.Float64)
    fits = value.abs() < 1e30
    fixed = pl.when(value.is_finite() & fits).then(value).round(decimals).cast(pl.Decimal(38, decimals)).cast(pl.Utf8)
    return pl.when(value.is_finite() & ~fits).then(value.cast(pl.Utf8)).otherwise(fixed).alias(column)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
