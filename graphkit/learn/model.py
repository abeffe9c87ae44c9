"""The model file of ``graphkit train``: plain JSON that a shared copy cannot use to run code.

Layout (``schema_version`` 1)::

    {"format": "graphkit-account-model", "schema_version": 1, "generator": "graphkit 0.1.0",
     "features": ["n_sent", ...],                     # the columns of graphkit features it reads, in order
     "classifier": {"baseline": -2.1, "n_features": 70, "trees": [{...}, ...]},   # graphkit.learn.trees
     "calibration": {"method": "isotonic on grouped out-of-fold scores", "x": [...], "y": [...]},
     "training": {"labelled": 20000, "bad": 1000, "folds": 5, "params": {...},
                  "cross_validation": {...}, "sklearn": "1.9.1"}}

Loading reads numbers and names only, checks every field (a tree's split
points only forward, so every path ends), and refuses anything else in one
line. A probability is ``calibration(raw score)``: the isotonic map from the
raw log-odds to the share of bad accounts, fitted on the out-of-fold scores of
the grouped cross-validation (as ``CalibratedClassifierCV(ensemble=False)``
does), applied by linear interpolation between its points.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphkit.errors import InputError
from graphkit.learn.trees import TreeEnsemble
from graphkit.util.version import GENERATOR

__all__ = ["FORMAT", "MODEL_SCHEMA_VERSION", "AccountModel", "check_replaceable", "feature_matrix", "load_model"]

FORMAT = "graphkit-account-model"
MODEL_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AccountModel:
    """A trained account scorer: features, trees, calibration and how it was trained.

    Attributes
    ----------
    features : tuple of str
        Columns of :func:`graphkit.features.account_features` it reads, in order.
    classifier : TreeEnsemble
        The boosted trees (log-odds).
    calibration_x, calibration_y : numpy.ndarray
        The isotonic map from log-odds to probability (increasing x).
    training : dict
        Counts, settings, cross-validated quality (:class:`graphkit.learn.train.CrossValidation`).
    generator : str
        The graphkit that trained it.
    """

    features: tuple[str, ...]
    classifier: TreeEnsemble
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    training: dict[str, Any] = field(default_factory=dict)
    generator: str = GENERATOR

    def matrix(self, frame: pl.DataFrame, *, source: str = "the model") -> np.ndarray:
        """:func:`feature_matrix` of ``frame`` with this model's features."""
        return feature_matrix(frame, self.features, source=source)

    def probability(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw log-odds."""
        return np.clip(np.interp(raw, self.calibration_x, self.calibration_y), 0.0, 1.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of being bad, per row of :meth:`matrix`."""
        return self.probability(self.classifier.raw_score(X))

    def to_json(self) -> str:
        doc = {
            "format": FORMAT,
            "schema_version": MODEL_SCHEMA_VERSION,
            "generator": self.generator,
            "features": list(self.features),
            "classifier": self.classifier.to_dict(),
            "calibration": {"method": "isotonic on grouped out-of-fold scores",
                            "x": self.calibration_x.tolist(), "y": self.calibration_y.tolist()},
            "training": self.training,
        }
        return json.dumps(doc, allow_nan=False, separators=(",", ":")) + "\n"


def feature_matrix(frame: pl.DataFrame, features: tuple[str, ...], *, source: str = "the model") -> np.ndarray:
    """``features`` of ``frame`` as a float matrix (booleans 0/1, nulls NaN), in that order, snapped.

    Values are rounded to 6 significant digits, and those below 1e-12 in
    size become 0: the last bits of a feature vary from run to run (sums in
    parallel group-bys, HITS' iterations leave 1e-17 where an account has no
    hub role), and a tree split between 0 and 1e-17 would turn that noise
    into a different score. Training and scoring read the same snapped values.

    Raises :class:`InputError` when ``frame`` lacks one of them (a model from another graphkit).

    Examples
    --------
    >>> feature_matrix(pl.DataFrame({"a": [True, None], "b": [2, 3]}), ("b", "a")).tolist()
    [[2.0, 1.0], [3.0, nan]]
    >>> feature_matrix(pl.DataFrame({"x": [0.1234567891, 3e-17, -1234567.0]}), ("x",)).ravel().tolist()
    [0.123457, 0.0, -1234570.0]
    """
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise InputError(f"{source}: it reads feature{'s' if len(missing) != 1 else ''} "
                         f"{', '.join(missing[:3])}{' and others' if len(missing) > 3 else ''} that this graphkit does not "
                         "compute; train the model again with this graphkit (graphkit train)")
    X = frame.select(pl.col(name).cast(pl.Float64) for name in features).to_numpy().astype(np.float64)
    return _snap(X)


def _snap(X: np.ndarray) -> np.ndarray:
    """Round to 6 significant digits; sizes below 1e-12 to 0 (:func:`feature_matrix`)."""
    X = np.where(np.abs(X) < 1e-12, 0.0, X)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (5 - np.floor(np.log10(np.abs(X))))
        snapped = np.round(X * scale) / scale
    return np.where(np.isfinite(snapped), snapped, X)


def load_model(path: str | Path) -> tuple[AccountModel, str]:
    """Read and check a model file; returns the model and the file's SHA-256 (hex).

    Raises
    ------
    InputError
        One line naming the file and what is wrong: not JSON, not a graphkit
        model, another schema version, or a field that is not what it must be.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the model file ({exc.strerror or type(exc).__name__}); "
                         "pass the model.json of graphkit train") from None
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"{path}: not a JSON file; pass the model.json of graphkit train "
                         "(pickle, joblib and skops files are never loaded)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"{path}: not a graphkit model (no \"format\": \"{FORMAT}\"); pass the model.json of graphkit train")
    if doc.get("schema_version") != MODEL_SCHEMA_VERSION:
        raise InputError(f"{path}: model schema_version {doc.get('schema_version')!r}, this graphkit reads "
                         f"{MODEL_SCHEMA_VERSION}; train the model again with this graphkit")
    try:
        model = _from_doc(doc)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{path}: a broken model file ({exc}); train the model again with graphkit train") from None
    return model, hashlib.sha256(data).hexdigest()


def check_replaceable(path: str | Path) -> None:
    """Refuse to write a model over a file that is not a graphkit model (graphkit never replaces what it did not write).

    Raises :class:`InputError` (one line) when ``path`` exists and is not a model file.
    """
    path = Path(path)
    if not path.exists():
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    if path.is_dir() or f'"format":"{FORMAT}"'.encode() not in head.replace(b" ", b""):
        raise InputError(f"{path}: exists and is not a graphkit model; choose another --model file, "
                         "or move that one away first (graphkit replaces only models it wrote)")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _from_doc(doc: dict[str, Any]) -> AccountModel:
    features = doc.get("features")
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise ValueError("'features' is not a list of names")
    if len(set(features)) != len(features):
        raise ValueError("'features' names a column twice")
    classifier = TreeEnsemble.from_dict(doc.get("classifier"), len(features))
    calibration = doc.get("calibration")
    if not isinstance(calibration, dict):
        raise ValueError("'calibration' is missing")
    x, y = (_numbers(calibration.get(key), f"calibration.{key}") for key in ("x", "y"))
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("'calibration' x and y differ in length or are empty")
    if (np.diff(x) < 0).any() or ((y < 0) | (y > 1)).any():
        raise ValueError("'calibration' x must increase and y lie in [0, 1]")
    training = doc.get("training", {})
    generator = doc.get("generator", "")
    return AccountModel(tuple(features), classifier, x, y, training if isinstance(training, dict) else {},
                        generator if isinstance(generator, str) else "")


def _numbers(values: Any, name: str) -> np.ndarray:
    if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise ValueError(f"'{name}' is not a list of finite numbers")
    return np.array(values, dtype=np.float64)
