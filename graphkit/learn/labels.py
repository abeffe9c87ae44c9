"""The labels file of ``graphkit train``: ``user_id`` and ``label`` (bad/good, 1/0), checked strictly.

It is read like a users table (:func:`graphkit.io.tables.read_table`, so a
mapping file's ``[tables.users.columns]`` renames its columns, e.g. AMLSim's
``nodeid`` and ``isFraud``), then refused in one line when a model learnt
from it would be wrong: a row the table rules reject (an unrecognised label,
a user_id twice, a missing user_id), an account without a label, a single
class, or accounts the data does not have.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "labels.csv").write_text("user_id,label\\na,bad\\nb,0\\nc,good\\n")
>>> read_labels(folder / "labels.csv").rows()
[('a', True), ('b', False), ('c', False)]
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphkit.errors import InputError
from graphkit.io.mapping import load_mapping
from graphkit.io.tables import read_table
from graphkit.io.validate import REASON

__all__ = ["check_known", "read_labels"]

_FIX = "give each user_id once with a label of bad/good (or 1/0)"


def read_labels(path: str | Path, *, columns: str | Path | None = None) -> pl.DataFrame:
    """Read a labels file: ``user_id`` (text), ``bad`` (bool), one row per account, sorted by user_id.

    Parameters
    ----------
    path : path
        CSV, Parquet or NDJSON with ``user_id`` and ``label`` (``bad``/``good``,
        ``1``/``0``, ``true``/``false``); other columns are ignored.
    columns : path, optional
        A mapping file whose ``[tables.users.columns]`` renames the columns.

    Raises
    ------
    InputError
        One line naming the file, the problem and the fix: rows rejected (an
        unrecognised label, a duplicate or missing user_id), accounts with no
        label, no label column, or only one class.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: labels file not found; pass a table of user_id and label (bad/good or 1/0)")
    mapping = load_mapping(columns).get("users") if columns is not None else None
    part = read_table(path, "users", mapping, max_bad_share=1.0)
    if part.rejected.height:
        reasons = part.rejected.group_by(REASON).len().sort(["len", REASON], descending=[True, False])
        first = reasons.row(0)
        raise InputError(f"{path}: {part.rejected.height:,} row{'s' if part.rejected.height != 1 else ''} refused "
                         f"({first[1]:,} with {first[0]}); {_FIX}")
    labels = part.accepted
    unlabelled = labels.filter(pl.col("label").is_null())
    if unlabelled.height == labels.height:
        raise InputError(f"{path}: column 'label' is missing or empty; {_FIX}")
    if unlabelled.height:
        raise InputError(f"{path}: {unlabelled.height:,} account{'s have' if unlabelled.height != 1 else ' has'} no label "
                         f"(first: {unlabelled['user_id'][0]!r}); {_FIX}")
    frame = labels.select(pl.col("user_id").cast(pl.Utf8), (pl.col("label") == "bad").alias("bad")).sort("user_id")
    n_bad = int(frame["bad"].sum())
    if n_bad == 0 or n_bad == frame.height:
        only = "bad" if n_bad else "good"
        raise InputError(f"{path}: every one of its {frame.height:,} accounts is labelled {only}; "
                         "a model needs bad and good accounts to learn from")
    return frame


def check_known(labels: pl.DataFrame, user_ids: pl.Series, *, path: str | Path) -> None:
    """Refuse labels for accounts that ``user_ids`` (the data's accounts) does not hold: one line, the first named.

    Examples
    --------
    >>> labels = pl.DataFrame({"user_id": ["a", "zz"], "bad": [True, False]})
    >>> check_known(labels, pl.Series(["a", "b"]), path="labels.csv")
    Traceback (most recent call last):
    ...
    graphkit.errors.InputError: labels.csv: 1 labelled account is not in the data (first: 'zz'); label accounts of the data directory, or check --since/--until
    """
    unknown = labels.filter(~pl.col("user_id").is_in(user_ids.cast(pl.Utf8).implode()))
    if unknown.height:
        raise InputError(f"{path}: {unknown.height:,} labelled account{'s are' if unknown.height != 1 else ' is'} not in the data "
                         f"(first: {unknown['user_id'][0]!r}); label accounts of the data directory, or check --since/--until")
