"""Training an account model on labelled accounts, with grouped cross-validation; scoring a run with it.

:func:`train_model` fits scikit-learn's HistGradientBoostingClassifier on
the columns of :func:`graphkit.features.account_features` listed in
:data:`MODEL_FEATURES`, for the labelled accounts. The same grouped folds
(:mod:`graphkit.learn.folds`) give the cross-validated quality (ROC AUC and
average precision per fold and over all out-of-fold scores) and the
out-of-fold scores the isotonic calibration is fitted on; the final trees
are fitted on every labelled account.

:func:`learned_scorer` turns a model into what ``analyze(learned=...)``
calls: every account's calibrated probability and, as its reasons, the
features that raised its log-odds most along its paths through the trees
(:meth:`graphkit.learn.trees.TreeEnsemble.contributions`).

Examples
--------
>>> from graphkit import Config, analyze, read_tables
>>> report = analyze(read_tables("fixtures/demo"), Config(), workers=1)
>>> labels = read_labels("fixtures/demo/users.csv")
>>> model, cv = train_model(report, labels, config=Config(learn_max_iter=20), folds=3, labels_path="users.csv")
>>> cv.auc > 0.9, len(cv.folds), cv.groups_with_bad   # the demo's nine planted rings, never split across folds
(True, 3, 9)
>>> scored = learned_scorer(model, digest="test")(report.user_features, report.graphs).scores
>>> scored.columns
['user_id', 'probability', 'reasons']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from graphkit.config import TRAIN_SETTINGS, Config
from graphkit.evaluate import average_precision, roc_auc
from graphkit.features import FEATURES, account_features, feature_frame
from graphkit.graphs import Graphs
from graphkit.learn.folds import connected_groups, grouped_folds, split_groups
from graphkit.learn.labels import check_known, read_labels
from graphkit.learn.model import AccountModel, feature_matrix
from graphkit.learn.trees import from_sklearn
from graphkit.model import LearnedScores, Report

__all__ = ["MODEL_FEATURES", "CrossValidation", "FoldQuality", "account_groups", "learned_scorer", "read_labels",
           "train_model"]

_NOT_FEATURES = ("user_id", "created_at", "first_sent_at", "last_sent_at", "community", "lockstep_group")
MODEL_FEATURES: tuple[str, ...] = tuple(name for name in FEATURES if name not in _NOT_FEATURES)
"""The columns of ``graphkit features`` a model learns from: all but the id, the times and the
community and lockstep group numbers (labels of a partition, not quantities)."""


@dataclass(frozen=True)
class FoldQuality:
    """One test fold of the grouped cross-validation."""

    fold: int
    accounts: int
    bad: int
    groups: int
    auc: float | None
    average_precision: float | None


@dataclass(frozen=True)
class CrossValidation:
    """Grouped cross-validation of a model: per fold, and over every out-of-fold score together.

    Attributes
    ----------
    folds : tuple of FoldQuality
    auc, average_precision : float or None
        Over all labelled accounts, each scored by the model that did not see its fold.
    groups : int
        Connected groups the labelled accounts fall in (:func:`graphkit.learn.folds.connected_groups`).
    groups_with_bad : int
        Groups holding a bad account (at least the number of folds).
    cut_links : int
        Links between two bad accounts that :func:`graphkit.learn.folds.split_groups` cut
        (they may join training and test accounts; 0 when every connected group fitted in a fold).
    largest_group : int
        Labelled accounts in the largest group.
    """

    folds: tuple[FoldQuality, ...]
    auc: float | None
    average_precision: float | None
    groups: int
    groups_with_bad: int
    largest_group: int
    cut_links: int = 0

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "auc": r(self.auc), "average_precision": r(self.average_precision),
            "groups": self.groups, "groups_with_bad": self.groups_with_bad, "largest_group": self.largest_group,
            "cut_links": self.cut_links,
            "folds": [{"fold": f.fold, "accounts": f.accounts, "bad": f.bad, "groups": f.groups, "auc": r(f.auc),
                       "average_precision": r(f.average_precision)} for f in self.folds],
        }


def account_groups(report: Report, bad: pl.DataFrame, *, folds: int = 5, seed: int = 0) -> tuple[pl.DataFrame, int]:
    """``(user_id, group)`` for every account of ``report``, and the bad-to-bad links cut.

    The connected groups of :mod:`graphkit.learn.folds`, a group holding more
    than a ``1 / folds`` share of the bad accounts cut by :func:`graphkit.learn.folds.split_groups`.
    ``bad`` holds ``user_id, bad`` for the labelled accounts.
    """
    graphs = report.graphs
    index = graphs.index.users.select("uid", "user_id").sort("uid")
    community = index.join(report.user_features.select("user_id", "community"), on="user_id", how="left", maintain_order="left")
    is_bad = index.join(bad, on="user_id", how="left", maintain_order="left")["bad"].fill_null(False).to_numpy()
    links = pl.concat([
        graphs.gift_flow.select(pl.col("src").cast(pl.Int64).alias("a"), pl.col("dst").cast(pl.Int64).alias("b")),
        graphs.shared.select(pl.col("a").cast(pl.Int64), pl.col("b").cast(pl.Int64)),
        graphs.cogift.select(pl.col("a").cast(pl.Int64), pl.col("b").cast(pl.Int64)),
    ])
    communities, src, dst = community["community"].fill_null(-1).to_numpy(), links["a"].to_numpy(), links["b"].to_numpy()
    groups = connected_groups(graphs.n_users, community=communities, bad=is_bad, src=src, dst=dst)
    groups, cut = split_groups(groups, community=communities, bad=is_bad, src=src, dst=dst,
                               max_bad=max(1, int(is_bad.sum()) // folds), seed=seed)
    return index.select("user_id", pl.Series("group", groups)), cut


def _classifier(config: Config):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=config.learn_max_iter, learning_rate=config.learn_rate, max_leaf_nodes=config.learn_max_leaf_nodes,
        min_samples_leaf=config.learn_min_samples_leaf, l2_regularization=config.learn_l2, early_stopping=False,
        categorical_features=None, random_state=config.seed,
    )


def train_model(
    report: Report, labels: pl.DataFrame, *, config: Config = Config(), folds: int | None = None,
    labels_path: str | Path = "labels", threads: int = 1,
) -> tuple[AccountModel, CrossValidation]:
    """Fit an account model on the labelled accounts of ``report``, with grouped cross-validation.

    Parameters
    ----------
    report : Report
        From :func:`graphkit.analyze` on the data the labels describe.
    labels : polars.DataFrame
        ``user_id, bad`` (:func:`graphkit.learn.labels.read_labels`).
    config : Config
        The ``learn_*`` settings and ``seed``.
    folds : int, optional
        Cross-validation folds (default ``config.learn_folds``).
    labels_path : path
        Named in the errors.
    threads : int
        OpenMP threads for scikit-learn's fitting. One by default: on a busy
        machine its spinning threads slowed one fit twentyfold (8 s on one
        thread, 155 s on two, 8,000 accounts, measured with about 15 jobs
        running on 2 cores).

    Returns
    -------
    (AccountModel, CrossValidation)

    Raises
    ------
    InputError
        Labels of accounts the data does not have; too few connected groups for the folds.
    """
    import sklearn
    from sklearn.isotonic import IsotonicRegression
    from threadpoolctl import threadpool_limits

    k = folds if folds is not None else config.learn_folds
    frame = account_features(report)
    check_known(labels, frame["user_id"], path=labels_path)
    groups, cut = account_groups(report, labels, folds=k, seed=config.seed)
    rows = labels.join(frame, on="user_id", how="inner").join(groups, on="user_id", how="left").sort("user_id")
    X = feature_matrix(rows, MODEL_FEATURES)
    present = ~np.isnan(X).all(axis=0)  # a feature the data never has (no creation times: no ages) teaches nothing
    features, X = tuple(name for name, keep in zip(MODEL_FEATURES, present) if keep), X[:, present]
    y = rows["bad"].to_numpy().astype(bool)
    group = rows["group"].to_numpy()
    fold_of = grouped_folds(group, y, k=k, seed=config.seed)
    oof = np.zeros(len(y), dtype=np.float64)
    qualities = []
    with threadpool_limits(limits=threads):
        for fold in range(k):
            test = fold_of == fold
            clf = _classifier(config).fit(X[~test], y[~test])
            oof[test] = from_sklearn(clf).raw_score(X[test])
            qualities.append(FoldQuality(fold + 1, int(test.sum()), int(y[test].sum()), int(np.unique(group[test]).size),
                                         roc_auc(y[test], oof[test]), average_precision(y[test], oof[test])))
        final = from_sklearn(_classifier(config).fit(X, y))
    sizes = np.unique(group, return_counts=True)[1]
    cv = CrossValidation(tuple(qualities), roc_auc(y, oof), average_precision(y, oof), int(sizes.size),
                         int(np.unique(group[y]).size), int(sizes.max()), cut)
    calibration = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof, y.astype(np.float64))
    training = {
        "labelled": int(len(y)), "bad": int(y.sum()), "folds": k,
        "params": {name: getattr(config, name) for name in TRAIN_SETTINGS} | {"seed": config.seed},
        "features_without_values": [name for name, keep in zip(MODEL_FEATURES, present) if not keep],
        "cross_validation": cv.to_dict(), "sklearn": sklearn.__version__,
    }
    model = AccountModel(features, final, np.asarray(calibration.X_thresholds_, dtype=np.float64),
                         np.asarray(calibration.y_thresholds_, dtype=np.float64), training)
    return model, cv


def account_reasons(model: AccountModel, X: np.ndarray, *, k: int, contributions: np.ndarray | None = None) -> pl.Series:
    """Per row of ``X``: its ``k`` features that raised the log-odds most, as ``"name value (+c); ..."``.

    Only features that raised it count (contribution above 0.005); a row with
    none gets an empty string. Values are shown with 4 significant digits,
    contributions in log-odds with 2 decimals. ``contributions`` (from
    :meth:`~graphkit.learn.trees.TreeEnsemble.contributions`) saves walking the trees again.
    """
    contrib = contributions if contributions is not None else model.classifier.contributions(X)[1]
    k = min(k, contrib.shape[1])
    top = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    rows = np.arange(X.shape[0])[:, None]
    names = np.asarray(model.features, dtype=object)
    parts = []
    for j in range(k):
        column, gain = top[:, j], contrib[rows[:, 0], top[:, j]]
        value = X[rows[:, 0], column]
        parts.append(
            pl.when(pl.lit(pl.Series(gain > 0.005)))
            .then(pl.format("{} {} (+{})", pl.lit(pl.Series(names[column].astype(str))),
                            pl.lit(pl.Series(value)).map_batches(_show_values, return_dtype=pl.Utf8),
                            pl.lit(pl.Series(gain)).round(2).cast(pl.Utf8)))
        )
    if not parts:
        return pl.Series("reasons", [""] * X.shape[0], dtype=pl.Utf8)
    return pl.select(pl.concat_str(parts, separator="; ", ignore_nulls=True).fill_null("").alias("reasons")).to_series()


def _show_values(values: pl.Series) -> pl.Series:
    """Feature values for reading: 4 significant digits, ``missing`` for NaN."""
    array = values.to_numpy()
    text = np.where(np.isnan(array), "missing", np.char.mod("%.4g", np.nan_to_num(array)))
    return pl.Series(text, dtype=pl.Utf8)


def learned_scorer(model: AccountModel, *, digest: str, reasons: int = 3,
                   source: str = "the model") -> Callable[[pl.DataFrame, Graphs], LearnedScores]:
    """What ``analyze(learned=...)`` calls: every account's calibrated probability and reasons.

    Parameters
    ----------
    model : AccountModel
    digest : str
        The model file's SHA-256, recorded in ``rings.json`` ``summary.model``.
    reasons : int
        Feature contributions per account (``Config.model_reasons``).
    source : str
        Named in the error when the data lacks a feature of the model.
    """

    def score(user_features: pl.DataFrame, graphs: Graphs) -> LearnedScores:
        frame = feature_frame(user_features, graphs)
        X = model.matrix(frame, source=source)
        bias, contrib = model.classifier.contributions(X)  # one walk through the trees: log-odds and their parts
        probability = model.probability(bias + contrib.sum(axis=1))
        scores = pl.DataFrame({"user_id": frame["user_id"], "probability": probability}).with_columns(
            account_reasons(model, X, k=reasons, contributions=contrib))
        training = model.training
        cv = training.get("cross_validation", {}) if isinstance(training.get("cross_validation"), dict) else {}
        summary = {
            "sha256": digest, "trained_by": model.generator, "features": len(model.features),
            "trees": len(model.classifier.trees), "labelled": training.get("labelled"), "bad": training.get("bad"),
            "cv_auc": cv.get("auc"), "cv_average_precision": cv.get("average_precision"),
        }
        return LearnedScores(scores=scores, summary=summary)

    return score
