"""Gradient-boosted trees as plain data: read out of scikit-learn, evaluated with numpy, explained by path.

A trained :class:`~sklearn.ensemble.HistGradientBoostingClassifier` is turned
into :class:`TreeEnsemble`: arrays of numbers per tree (split feature,
threshold, where missing values go, children, node value) and the baseline.
That is all a prediction needs, so a model file holds numbers only, and
loading one runs no code (pickle, joblib and skops files rebuild Python
objects; skops checks their types against a trusted list, and needed new
trusted types for these estimators' internals in 2026).

Per-feature contributions follow each account's path through every tree
(Saabas' method, as in ``treeinterpreter`` and LightGBM's ``pred_contrib``
before SHAP): a split moves the expected value from the node's value to the
child's, and the difference is credited to the split's feature. A node's
value is the count-weighted mean of the leaves under it, so for every
account ``bias + sum(contributions) == raw score`` exactly.

References
----------
A. Saabas, "Interpreting random forests", 2014.
G. Ke et al., "LightGBM: A Highly Efficient Gradient Boosting Decision Tree", NeurIPS 2017.

Examples
--------
>>> import numpy as np
>>> from sklearn.ensemble import HistGradientBoostingClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(400, 3))
>>> y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
>>> clf = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
>>> trees = from_sklearn(clf)
>>> bool(np.allclose(trees.raw_score(X), clf.decision_function(X)))
True
>>> bias, contrib = trees.contributions(X)
>>> bool(np.allclose(bias + contrib.sum(axis=1), clf.decision_function(X)))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

__all__ = ["Tree", "TreeEnsemble", "from_sklearn"]


@dataclass(frozen=True)
class Tree:
    """One regression tree as arrays indexed by node (node 0 is the root).

    Attributes
    ----------
    feature : numpy.ndarray of int
        Split feature (column of X) of each internal node; -1 at leaves.
    threshold : numpy.ndarray of float
        A value ``<= threshold`` goes left (may be ``inf``).
    missing_left : numpy.ndarray of bool
        Where a missing value (NaN) goes.
    left, right : numpy.ndarray of int
        Children; 0 at leaves. Every child comes after its parent.
    value : numpy.ndarray of float
        A leaf's raw value; an internal node's count-weighted mean of its leaves.
    leaf : numpy.ndarray of bool
    """

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    leaf: np.ndarray

    def to_dict(self) -> dict[str, list]:
        return {
            "feature": self.feature.tolist(),
            "threshold": [_json_float(t) for t in self.threshold.tolist()],
            "missing_left": self.missing_left.tolist(),
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "value": self.value.tolist(),
            "leaf": self.leaf.tolist(),
        }

    @classmethod
    def from_dict(cls, doc: Any, n_features: int) -> "Tree":
        """Check and build; raises ValueError naming what is wrong (the caller adds the file)."""
        if not isinstance(doc, dict):
            raise ValueError("a tree is not an object")
        keys = ("feature", "threshold", "missing_left", "left", "right", "value", "leaf")
        lists = {}
        for key in keys:
            value = doc.get(key)
            if not isinstance(value, list) or not value:
                raise ValueError(f"a tree's {key!r} is not a non-empty list")
            lists[key] = value
        n = len(lists["feature"])
        if any(len(lists[key]) != n for key in keys):
            raise ValueError("a tree's lists differ in length")
        leaf = _array(lists["leaf"], bool, "leaf")
        feature = _array(lists["feature"], int, "feature")
        left, right = _array(lists["left"], int, "left"), _array(lists["right"], int, "right")
        threshold = np.array([_from_json_float(t) for t in lists["threshold"]], dtype=np.float64)
        value = _array(lists["value"], float, "value")
        if not np.isfinite(value).all():
            raise ValueError("a tree holds a value that is not a finite number")
        internal = ~leaf
        nodes = np.arange(n)
        if ((feature[internal] < 0) | (feature[internal] >= n_features)).any():
            raise ValueError("a split names a feature the model does not list")
        # children after their parent and inside the tree: every path ends at a leaf
        for child in (left, right):
            if ((child[internal] <= nodes[internal]) | (child[internal] >= n)).any():
                raise ValueError("a split points to a node that is not after it in the tree")
        return cls(feature=np.where(internal, feature, -1), threshold=threshold,
                   missing_left=_array(lists["missing_left"], bool, "missing_left"),
                   left=np.where(internal, left, 0), right=np.where(internal, right, 0), value=value, leaf=leaf)


@dataclass(frozen=True)
class TreeEnsemble:
    """A binary gradient-boosted model: ``raw = baseline + sum of the trees``, probability ``1 / (1 + exp(-raw))``."""

    baseline: float
    trees: tuple[Tree, ...]
    n_features: int

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """The log-odds of each row of ``X`` (rows: accounts; columns: the model's features; NaN missing)."""
        return self._walk(np.asarray(X, dtype=np.float64), contributions=False)[0]

    def contributions(self, X: np.ndarray) -> tuple[float, np.ndarray]:
        """``(bias, contributions)``: the raw score of a row is ``bias + contributions[row].sum()``.

        ``contributions[row, j]`` is what splits on feature ``j`` added to the
        row's log-odds along its paths (module notes); ``bias`` is the
        baseline plus every tree's root value, the same for all rows.
        """
        _, contrib = self._walk(np.asarray(X, dtype=np.float64), contributions=True)
        bias = self.baseline + float(sum(tree.value[0] for tree in self.trees))
        return bias, contrib

    @cached_property
    def _forest(self) -> dict[str, np.ndarray]:
        """Every tree's arrays end to end, children offset: all trees walk together, one level per step."""
        sizes = np.array([len(t.value) for t in self.trees], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        joined = {name: np.concatenate([getattr(t, name) for t in self.trees]) if self.trees else np.zeros(0)
                  for name in ("feature", "threshold", "missing_left", "value", "leaf")}
        for name in ("left", "right"):
            joined[name] = np.concatenate([getattr(t, name) + off for t, off in zip(self.trees, offsets)]) \
                if self.trees else np.zeros(0, dtype=np.int64)
        joined["roots"] = offsets
        return joined

    def _walk(self, X: np.ndarray, *, contributions: bool, chunk: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
        """Raw scores and (when asked) contributions, by rows in chunks of about ``chunk`` (row, tree) pairs."""
        n, n_trees, width = X.shape[0], len(self.trees), self.n_features
        raw = np.full(n, self.baseline, dtype=np.float64)
        contrib = np.zeros((n, width) if contributions else (0, width), dtype=np.float64)
        if not n_trees:
            return raw, contrib
        f = self._forest
        step = max(1, chunk // n_trees)
        for start in range(0, n, step):
            part = X[start:start + step]
            m = part.shape[0]
            # the (row, node) pairs still inside a tree; a pair leaves the list at its leaf
            row = np.repeat(np.arange(m, dtype=np.int64), n_trees)
            at = np.tile(f["roots"], m)
            gained = np.zeros(m * width, dtype=np.float64) if contributions else None
            while row.size:
                leaf = f["leaf"][at]
                if leaf.any():
                    raw[start:start + m] += np.bincount(row[leaf], weights=f["value"][at[leaf]], minlength=m)
                    row, at = row[~leaf], at[~leaf]
                    if not row.size:
                        break
                feature = f["feature"][at]
                x = part[row, feature]
                go_left = np.where(np.isnan(x), f["missing_left"][at], x <= f["threshold"][at])
                child = np.where(go_left, f["left"][at], f["right"][at])
                if gained is not None:
                    gained += np.bincount(row * width + feature, weights=f["value"][child] - f["value"][at], minlength=m * width)
                at = child
            if gained is not None:
                contrib[start:start + m] = gained.reshape(m, width)
        return raw, contrib

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "n_features": self.n_features, "trees": [t.to_dict() for t in self.trees]}

    @classmethod
    def from_dict(cls, doc: Any, n_features: int) -> "TreeEnsemble":
        if not isinstance(doc, dict) or not isinstance(doc.get("trees"), list):
            raise ValueError("'classifier' needs a 'trees' list")
        baseline = doc.get("baseline")
        if isinstance(baseline, bool) or not isinstance(baseline, (int, float)) or not math.isfinite(baseline):
            raise ValueError("'classifier.baseline' is not a finite number")
        if doc.get("n_features") != n_features:
            raise ValueError("'classifier.n_features' differs from the features listed")
        return cls(float(baseline), tuple(Tree.from_dict(t, n_features) for t in doc["trees"]), n_features)


def from_sklearn(classifier: Any) -> TreeEnsemble:
    """The trees of a fitted binary :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.

    Categorical splits are not supported (graphkit's features are numbers).
    """
    if len(getattr(classifier, "classes_", ())) != 2:
        raise ValueError("only a binary classifier can be read")
    trees = []
    for (predictor,) in classifier._predictors:  # one tree per iteration for a binary loss
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        leaf = nodes["is_leaf"].astype(bool)
        value = nodes["value"].astype(np.float64).copy()
        count = nodes["count"].astype(np.float64)
        left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
        for i in range(len(nodes) - 1, -1, -1):  # children come after parents: fill internal values bottom-up
            if not leaf[i]:
                weight = count[left[i]] + count[right[i]]
                value[i] = (count[left[i]] * value[left[i]] + count[right[i]] * value[right[i]]) / weight if weight else 0.0
        trees.append(Tree(
            feature=np.where(leaf, -1, nodes["feature_idx"].astype(np.int64)),
            threshold=nodes["num_threshold"].astype(np.float64),
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=np.where(leaf, 0, left), right=np.where(leaf, 0, right), value=value, leaf=leaf,
        ))
    baseline = float(np.asarray(classifier._baseline_prediction).ravel()[0])
    return TreeEnsemble(baseline, tuple(trees), int(classifier.n_features_in_))


def _json_float(value: float) -> float | str:
    """JSON has no infinity: ``inf`` is written as the string ``"inf"`` (a threshold above every value)."""
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def _from_json_float(value: Any) -> float:
    if value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("a threshold is not a number")
    return float(value)


def _array(values: list, kind: type, name: str) -> np.ndarray:
    if kind is bool:
        if not all(isinstance(v, bool) for v in values):
            raise ValueError(f"a tree's {name!r} holds something other than true/false")
        return np.array(values, dtype=bool)
    if kind is int:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise ValueError(f"a tree's {name!r} holds something other than whole numbers")
        return np.array(values, dtype=np.int64)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"a tree's {name!r} holds something other than numbers")
    return np.array(values, dtype=np.float64)
