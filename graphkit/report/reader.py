"""Reading a report that ``graphkit report`` wrote: the one reader of ``rings.json`` and ``scores.csv``.

Every command and function that reads an earlier report (``graphkit eval``,
``export --report``, ``expand --scores``) goes through :func:`read_report`
or :func:`read_scores`, so a report is checked one way and every problem is
one line that names the file and the fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import polars as pl

from graphkit.errors import InputError, NotFoundError
from graphkit.model import SCHEMA_VERSION

__all__ = ["SavedReport", "held_back_of", "read_report", "read_scores", "read_source"]

_SCORES_SCHEMA = {"user_id": pl.Utf8, "score": pl.Float64, "ring_id": pl.Utf8, "role": pl.Utf8}


@dataclass(frozen=True)
class SavedReport:
    """A report folder as ``graphkit report`` left it.

    Attributes
    ----------
    out_dir : pathlib.Path
        The folder.
    document : dict
        ``rings.json`` as parsed (``schema_version``, ``generator``, ``params``, ``summary``, ``rings``).
    scores : polars.DataFrame or None
        ``scores.csv``: ``user_id, score, ring_id, role`` (``role`` null in reports older than that column);
        ``None`` when read with ``read_report(scores=False)``.
    """

    out_dir: Path
    document: dict[str, Any]
    scores: pl.DataFrame | None

    @property
    def rings(self) -> list[dict[str, Any]]:
        """The rings of ``rings.json``, best first."""
        return self.document["rings"]

    @property
    def held_back(self) -> list[dict[str, Any]]:
        """The groups that scored as rings but that investigators' benign decisions hold back
        (:func:`held_back_of` its ``rings.json``)."""
        return held_back_of(self.document)

    def ring(self, ring_id: str) -> dict[str, Any]:
        """One ring by id, or a held-back group (marked ``"held_back": True``); :class:`NotFoundError` naming
        the report's rings when it has neither.

        Examples
        --------
        >>> saved = SavedReport(Path("out"), {"rings": [], "held_back": [{"ring_id": "R0006", "members": ["a"]}]}, None)
        >>> saved.ring("R0006")
        {'ring_id': 'R0006', 'members': ['a'], 'held_back': True}
        """
        for ring in self.rings:
            if ring.get("ring_id") == ring_id:
                return ring
        for group in self.held_back:
            if group.get("ring_id") == ring_id:
                return {**group, "held_back": True}
        raise NotFoundError(f"{ring_id} is not a ring of {self.out_dir} (its rings: {self.ring_span()})")

    def ring_span(self) -> str:
        """The report's ring ids for a message: ``R0001 .. R0009``, or ``none``.

        Examples
        --------
        >>> SavedReport(Path("out"), {"rings": [{"ring_id": "R0001"}, {"ring_id": "R0002"}]}, None).ring_span()
        'R0001 .. R0002'
        """
        return f"{self.rings[0]['ring_id']} .. {self.rings[-1]['ring_id']}" if self.rings else "none"

    def resolve_rings(self, ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Replace the rings among ``ids`` by their members: ``(seeds, rings)``.

        ``ring:R0002`` always names a ring of this report (an unknown one is
        :class:`NotFoundError`); a bare ``R0002`` does when the report has that
        ring (or held that group back), and is left as it is otherwise. A ring becomes its members as
        ``account:<user_id>`` seeds; every other id is kept, in order.

        Examples
        --------
        >>> saved = SavedReport(Path("out"), {"rings": [{"ring_id": "R0002", "members": ["a", "b"]}]}, None)
        >>> saved.resolve_rings(["R0002", "device:d7", "u1"])
        (('account:a', 'account:b', 'device:d7', 'u1'), ('R0002',))
        """
        seeds: list[str] = []
        rings: list[str] = []
        known = {r.get("ring_id") for r in [*self.rings, *self.held_back]}
        for raw in ids:
            name = raw[len("ring:"):] if raw.startswith("ring:") else raw
            if raw.startswith("ring:") or name in known:
                seeds.extend(f"account:{m}" for m in self.ring(name)["members"])
                rings.append(name)
            else:
                seeds.append(raw)
        return tuple(dict.fromkeys(seeds)), tuple(rings)


def held_back_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The well-formed ``held_back`` groups of a ``rings.json`` (a report written with ``--labels``, or with
    ``--previous`` of a report that had decisions): entries with a text ``ring_id`` and a list of text
    ``members``; reports without the field have none.

    Examples
    --------
    >>> held_back_of({"held_back": [{"ring_id": "R0006", "members": ["a", "b"]}, {"ring_id": "R7", "members": "a"}]})
    [{'ring_id': 'R0006', 'members': ['a', 'b']}]
    """
    found = document.get("held_back")
    if not isinstance(found, list):
        return []
    return [h for h in found if isinstance(h, dict) and isinstance(h.get("ring_id"), str)
            and isinstance(h.get("members"), list) and all(isinstance(m, str) for m in h["members"])]


def read_report(out_dir: str | Path, *, scores: bool = True) -> SavedReport:
    """Read and check the ``rings.json`` and ``scores.csv`` of a report folder.

    Parameters
    ----------
    out_dir : path
        The ``OUT_DIR`` of ``graphkit report``.
    scores : bool
        Also read ``scores.csv`` (a second, which an answer from the report's
        store does not need: it keeps the scores); without it ``SavedReport.scores`` is ``None``.

    Returns
    -------
    SavedReport

    Raises
    ------
    InputError
        A file is missing or unreadable, ``rings.json`` is not a graphkit
        report of a schema version this graphkit reads, a ring has no
        ``members`` list, or ``scores.csv`` lacks ``user_id`` or ``score``.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> from graphkit.model import Report
    >>> from graphkit.report import write_report
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> _ = write_report(Report((), pl.DataFrame({"user_id": ["a"], "score": [0.1], "ring_id": [None]}), {}, {}),
    ...                  out, html=False)
    >>> saved = read_report(out)
    >>> saved.rings, saved.scores.columns
    ([], ['user_id', 'score', 'ring_id', 'role'])
    """
    out_dir = Path(out_dir)
    rings_json, scores_csv = out_dir / "rings.json", out_dir / "scores.csv"
    for path in (rings_json, scores_csv):
        if not path.is_file():
            raise InputError(f"{path}: not found; run graphkit report DATA_DIR --out {out_dir} first "
                             f"({out_dir} is not a graphkit report)")
    try:
        document = json.loads(rings_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{rings_json}: not valid JSON ({type(exc).__name__}); rerun graphkit report") from None
    if not isinstance(document, dict):
        raise InputError(f"{rings_json}: not a graphkit rings.json (expected an object with a 'rings' list)")
    if not isinstance(document.get("rings"), list):
        raise InputError(f"{rings_json}: 'rings' must be a list")
    version = document.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError(f"{rings_json}: schema_version {version!r}, but this graphkit reads schema_version "
                         f"{SCHEMA_VERSION}; rerun graphkit report with this version")
    for i, ring in enumerate(document["rings"]):
        if not isinstance(ring, dict) or not isinstance(ring.get("members"), list):
            name = ring.get("ring_id", f"#{i + 1}") if isinstance(ring, dict) else f"#{i + 1}"
            raise InputError(f"{rings_json}: rings entry {name} needs a 'members' list of account ids")
    return SavedReport(out_dir, document, read_scores(scores_csv) if scores else None)


_OPTIONAL_SCORES = ("score_without_flags",)
"""Numeric columns a scores.csv has only sometimes (a report with a flags table), read when present."""
_OPTIONAL_TEXTS = ("flag_reason", "reasons")
"""Text columns a scores.csv has only sometimes (a flags table; ``report --model``), read when present."""


def read_scores(path: str | Path) -> pl.DataFrame:
    """Read a ``scores.csv``: ``user_id, score, ring_id, role``, ids as strings, one row per account;
    ``score_without_flags`` and ``flag_reason`` too when the report had a flags table, and ``reasons``
    when it had a model.

    Raises :class:`InputError` when the file cannot be read or lacks ``user_id`` or ``score``.
    """
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema=False)  # every column as text, cast below
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: cannot be read as a graphkit scores.csv ({type(exc).__name__})") from None
    missing = {"user_id", "score"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: not a graphkit scores.csv (missing {', '.join(sorted(missing))}); "
                         "pass the scores.csv of graphkit report")
    optional = [c for c in _OPTIONAL_SCORES if c in frame.columns]
    for column in ("score", *optional):
        try:
            frame.select(pl.col(column).cast(pl.Float64))
        except pl.exceptions.PolarsError:
            raise InputError(f"{path}: column {column!r} holds values that are not numbers; "
                             "pass the scores.csv of graphkit report") from None
    frame = frame.select(
        *(pl.col(c).cast(dtype) if c in frame.columns else pl.lit(None, dtype).alias(c) for c, dtype in _SCORES_SCHEMA.items()),
        *(pl.col(c).cast(pl.Float64) for c in optional),
        *(pl.col(c) for c in _OPTIONAL_TEXTS if c in frame.columns),
    )
    return frame.unique("user_id", keep="first", maintain_order=True)


def read_source(out_dir: str | Path) -> dict[str, Any]:
    """Where a report's tables were read: ``data_dir``, ``columns``, ``allow_outside_data_dir``
    (``graph/source.json``, written by ``graphkit report``).

    Raises :class:`InputError` when the report does not record it, or its data folder is gone.
    """
    path = Path(out_dir) / "graph" / "source.json"
    try:
        source = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"{out_dir}: the report does not record where its data is (no {path.name}); "
                         "pass --data DATA_DIR") from None
    data_dir = source.get("data_dir") if isinstance(source, dict) else None
    if not isinstance(data_dir, str) or not Path(data_dir).is_dir():
        raise InputError(f"{out_dir}: its data folder {data_dir} is not there any more; pass --data DATA_DIR")
    return source
