"""A public signed trust network with fraud labels, as graphkit input: ratings as gifts, negative ratings as flags.

Source and licence
------------------
- Network: Bitcoin OTC (and Bitcoin Alpha), "who trusts whom" among traders,
  from SNAP, the Stanford Network Analysis Project
  (``soc-sign-bitcoinotc.csv`` / ``soc-sign-bitcoinalpha.csv``: ``source,
  target, rating, time`` without a header; ratings -10..+10 and not 0;
  time in epoch seconds, fractional in OTC). SNAP publishes it for research
  without a stated licence; cite Kumar, Spezzano, Subrahmanian and
  Faloutsos, "Edge weight prediction in weighted signed networks", ICDM 2016.
  It is not redistributed here: the script reads files you obtained.
- Labels: the REV2 ground truth (``otc_gt.csv`` / ``alpha_gt.csv``:
  ``node, label`` without a header, ``-1`` fraudulent, ``1`` benign) of Kumar,
  Hooi, Makhija, Kumar, Subrahmanian and Faloutsos, "REV2: Fraudulent user
  prediction in rating platforms", WSDM 2018, from the paper's code release
  (the same terms as the network).

Mapping (written to ``OUT/data/graphkit.toml``; the data is one file, ``ratings.csv``)
--------------------------------------------------------------------------------------
- ``gifts``: the rows with ``rating > 0``; rater -> ratee, ``coins`` = the rating.
  A positive rating is money-like trust that flows from one trader to another.
- ``flags``: the rows with ``rating < 0``; the ratee gets a flag of kind
  ``negative_rating`` at the rating's time, weighed by how negative it was:
  ``weight`` = ``-rating / 10`` (``flag_weight``, a column the converter adds:
  a -10 "scammer" rating is a whole flag, a -1 quibble a tenth of one). A
  negative rating is what a platform's user report is.
- ``users``: every trader who rated or was rated (``users.csv``): an account
  that only ever received negative ratings sends and receives no gift, and a
  flag of an account no table knows is a rejected row.
- ``OUT/labels.csv``: ``user_id, label`` (``bad`` for -1, ``good`` for 1), for
  ``graphkit eval OUT/report --truth OUT/labels.csv``; never read by a report.

Measures (``measure``)
----------------------
Account ROC AUC / average precision over the labelled accounts, for graphkit
without flags, with every negative rating as a flag, and the reputation
baseline (the mean rating an account received); then the held-out-flags
protocol: the negative ratings received by a random half of the labelled
accounts are hidden (from graphkit's flags and from the baseline's ratings
alike), and those accounts are ranked by graphkit's score, by ``known_bad``
alone and by the reputation baseline on what stays visible.

Run::

    .venv/bin/python -m benchmarks.signed_trust soc-sign-bitcoinotc.csv otc_gt.csv OUT [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphkit import Config, analyze, read_tables
from graphkit.evaluate import average_precision, roc_auc

__all__ = ["MAPPING", "convert", "measure", "reputation"]

MAPPING = """\
# Bitcoin OTC / Alpha ratings (SNAP) as graphkit input: benchmarks/signed_trust.py
[tables.users]
file = "users.csv"

[tables.gifts]
file = "ratings.csv"
where = "rating > 0"
[tables.gifts.columns]
sender_id = "rater"
receiver_id = "ratee"
coins = "rating"
sent_at = "time"

[tables.flags]
file = "ratings.csv"
where = "rating < 0"
[tables.flags.columns]
user_id = "ratee"
at = "time"
weight = "flag_weight"
[tables.flags.constants]
kind = "negative_rating"
"""


def convert(network: Path, labels: Path, out: Path) -> Path:
    """Write ``OUT/data/ratings.csv``, ``users.csv``, ``graphkit.toml`` and ``OUT/labels.csv``; return ``OUT/data``.

    The rows are copied as they are (ids as text, times as written: fractional epoch
    seconds are read by graphkit's time rule), with a header and one column,
    ``flag_weight`` (``-rating / 10`` on negative ratings, empty on the others).
    """
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    ratings = pl.read_csv(network, has_header=False, new_columns=["rater", "ratee", "rating", "time"],
                          schema_overrides={"rater": pl.Utf8, "ratee": pl.Utf8, "rating": pl.Utf8, "time": pl.Utf8})
    negative = pl.col("rating").cast(pl.Float64) < 0
    ratings.with_columns(
        pl.when(negative).then((-pl.col("rating").cast(pl.Float64) / 10.0).clip(0.0, 1.0)).alias("flag_weight")
    ).write_csv(data / "ratings.csv")
    pl.concat([ratings["rater"], ratings["ratee"]]).unique().sort().rename("user_id").to_frame().write_csv(data / "users.csv")
    (data / "graphkit.toml").write_text(MAPPING, encoding="utf-8")
    truth = pl.read_csv(labels, has_header=False, new_columns=["user_id", "label"],
                        schema_overrides={"user_id": pl.Utf8, "label": pl.Int64})
    truth.select("user_id", pl.when(pl.col("label") < 0).then(pl.lit("bad")).otherwise(pl.lit("good")).alias("label")) \
        .write_csv(out / "labels.csv")
    return data


def reputation(ratings: pl.DataFrame) -> pl.DataFrame:
    """The reputation baseline: ``user_id, score`` = minus the mean rating received (higher is worse).

    Examples
    --------
    >>> r = pl.DataFrame({"ratee": ["a", "a", "b"], "rating": [-10, 2, 5]})
    >>> reputation(r).sort("user_id").rows()
    [('a', 4.0), ('b', -5.0)]
    """
    return ratings.group_by(pl.col("ratee").alias("user_id")).agg((-pl.col("rating").cast(pl.Float64).mean()).alias("score"))


def _rank(labels: pl.DataFrame, scores: pl.DataFrame, column: str = "score") -> dict[str, float | None]:
    """AUC and AP of ``scores[column]`` over the labelled accounts (missing accounts score lowest)."""
    frame = labels.join(scores.select(pl.col("user_id").cast(pl.Utf8), pl.col(column).cast(pl.Float64)), on="user_id",
                        how="left")
    lowest = (frame[column].min() or 0.0) - 1.0
    s = frame[column].fill_null(lowest).to_numpy()
    y = (frame["label"] == "bad").to_numpy()
    return {"auc": _r(roc_auc(y, s)), "ap": _r(average_precision(y, s)), "bad": int(y.sum()), "good": int((~y).sum())}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def measure(data: Path, labels_csv: Path, *, seed: int = 0, config: Config = Config()) -> dict[str, Any]:
    """Every measure of the module notes, as a JSON-ready dict."""
    tables = read_tables(data)
    labels = pl.read_csv(labels_csv, schema_overrides={"user_id": pl.Utf8})
    ratings = pl.read_csv(data / "ratings.csv", schema_overrides={"rater": pl.Utf8, "ratee": pl.Utf8})
    no_flags = dataclasses.replace(tables, flags=tables.flags.clear(), present=tables.present - {"flags"})
    without = analyze(no_flags, config, workers=1)
    with_flags = analyze(tables, config, workers=1)
    found: dict[str, Any] = {
        "ratings": ratings.height, "gifts": tables.gifts.height, "flags": tables.flags.height,
        "rejected": {name: int(frame.height) for name, frame in tables.rejected.items()},
        "rings_without_flags": len(without.rings), "rings_with_flags": len(with_flags.rings),
        "all": {
            "graphkit_without_flags": _rank(labels, without.user_scores),
            "graphkit_with_flags": _rank(labels, with_flags.user_scores),
            "reputation": _rank(labels, reputation(ratings)),
        },
    }
    rng = np.random.default_rng(seed)
    ids = labels["user_id"].sort()
    hidden = ids.gather(np.sort(rng.choice(ids.len(), size=ids.len() // 2, replace=False)))
    visible_flags = tables.flags.filter(~pl.col("user_id").is_in(hidden.implode()))
    held = analyze(dataclasses.replace(tables, flags=visible_flags), config, workers=1)
    visible_ratings = ratings.filter(~((pl.col("rating") < 0) & pl.col("ratee").is_in(hidden.implode())))
    on_hidden = labels.filter(pl.col("user_id").is_in(hidden.implode()))
    found["held_out"] = {
        "hidden_accounts": int(hidden.len()),
        "graphkit_without_flags": _rank(on_hidden, without.user_scores),
        "graphkit_with_visible_flags": _rank(on_hidden, held.user_scores),
        "known_bad_only": _rank(on_hidden, held.user_features, "known_bad"),
        "reputation_on_visible_ratings": _rank(on_hidden, reputation(visible_ratings)),
    }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", type=Path, help="soc-sign-bitcoinotc.csv or soc-sign-bitcoinalpha.csv (SNAP)")
    parser.add_argument("labels", type=Path, help="otc_gt.csv or alpha_gt.csv (REV2)")
    parser.add_argument("out", type=Path, help="folder for data/, labels.csv and measures.json")
    parser.add_argument("--seed", type=int, default=0, help="which half of the labelled accounts is held out")
    args = parser.parse_args()
    data = convert(args.network, args.labels, args.out)
    found = measure(data, args.out / "labels.csv", seed=args.seed)
    (args.out / "measures.json").write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
