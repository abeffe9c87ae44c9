"""Learning from labelled accounts: ``graphkit train`` and ``graphkit report --model``.

- :mod:`graphkit.learn.labels`: the labels file, checked strictly;
- :mod:`graphkit.learn.folds`: connected groups and grouped cross-validation folds;
- :mod:`graphkit.learn.trees`: boosted trees as plain data, predictions and per-feature contributions;
- :mod:`graphkit.learn.model`: the JSON model file (never pickle);
- :mod:`graphkit.learn.train`: training with grouped cross-validation, and the scorer a run calls.

It sits above :mod:`graphkit.features` (it learns from those columns) and
below the CLI; the pipeline receives the scorer as a function
(``analyze(learned=...)``), so it imports nothing from here.
"""

from graphkit.learn.folds import connected_groups, grouped_folds, split_groups
from graphkit.learn.labels import check_known, read_labels
from graphkit.learn.model import AccountModel, load_model
from graphkit.learn.train import MODEL_FEATURES, CrossValidation, FoldQuality, account_groups, learned_scorer, train_model

__all__ = [
    "MODEL_FEATURES", "AccountModel", "CrossValidation", "FoldQuality", "account_groups", "check_known",
    "connected_groups", "grouped_folds", "learned_scorer", "load_model", "read_labels", "split_groups", "train_model",
]
