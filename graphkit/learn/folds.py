"""Grouped cross-validation folds: the accounts of one ring never sit in both training and test.

Accounts of one ring share features (their neighbours are each other, their
community is the same): a model tested on a ring it partly saw in training
looks better than it is. :func:`connected_groups` puts accounts that could
be one ring in one group, :func:`grouped_folds` keeps each group in a single
fold (scikit-learn's ``StratifiedGroupKFold``, which also spreads the bad
accounts evenly over the folds).

A group is a connected component of the graph that links

- each account to its Leiden community (:attr:`Report.user_features`
  ``community``: the dense neighbourhood it was judged in), and
- two accounts labelled bad that exchanged a gift, share a (non-hub) device
  or IP, or gifted in lockstep,

so a connected set of bad accounts (a ring, as far as the labels tell) is
always in one group, with the communities it touches.

When one group holds too many of the bad accounts to leave every fold some
(AMLSim's 1,804 bad accounts are 1,799 in one connected piece: laundering
typologies share accounts), :func:`split_groups` cuts that group where its
bad accounts are least linked: Leiden (modularity) on its bad-to-bad links
gives the pieces, the links between pieces are cut (and counted, as the
leak the split allows), and its bad accounts leave their communities.

Examples
--------
>>> import numpy as np
>>> groups = connected_groups(5, community=np.array([0, 0, 1, 1, 2]), bad=np.array([1, 0, 1, 0, 0], bool),
...                           src=np.array([0, 3]), dst=np.array([2, 4]))
>>> groups.tolist()   # 0 and 2 are bad and linked: their communities join; 3-4 is no bad-bad link
[0, 0, 0, 0, 1]
"""

from __future__ import annotations

import numpy as np

from graphkit.errors import InputError
from graphkit.graphs.build import weak_components

__all__ = ["connected_groups", "grouped_folds", "split_groups"]


def connected_groups(n: int, *, community: np.ndarray, bad: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The group of each of ``n`` accounts (module notes), numbered from 0 in order of the smallest account.

    Parameters
    ----------
    n : int
        Accounts, ``0 .. n-1``.
    community : numpy.ndarray of int
        Each account's community (any integer labels).
    bad : numpy.ndarray of bool
        Accounts labelled bad.
    src, dst : numpy.ndarray of int
        Links between accounts (gifts, shared identifiers, co-gifting), either direction.
    """
    community = np.asarray(community, dtype=np.int64)
    _, community = np.unique(community, return_inverse=True)
    bad = np.asarray(bad, dtype=bool)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    both_bad = bad[src] & bad[dst]
    accounts = np.arange(n, dtype=np.int64)
    # vertices 0..n-1 are accounts, n.. are communities
    edges_src = np.concatenate([accounts, src[both_bad]])
    edges_dst = np.concatenate([n + community, dst[both_bad]])
    membership = weak_components(n + int(community.max(initial=-1)) + 1, edges_src, edges_dst)[:n]
    _, membership = np.unique(membership, return_inverse=True)
    return _in_order(membership)


def split_groups(
    groups: np.ndarray, *, community: np.ndarray, bad: np.ndarray, src: np.ndarray, dst: np.ndarray, max_bad: int,
    seed: int = 0,
) -> tuple[np.ndarray, int]:
    """:func:`connected_groups`, with each group of more than ``max_bad`` bad accounts cut (module notes).

    Returns ``(groups, cut)``: the new groups (numbered as by :func:`connected_groups`)
    and how many bad-to-bad links now join two groups.

    Examples
    --------
    >>> # two triangles of bad accounts joined by one link (2-3): one group, cut in two when at most 3 bad may share one
    >>> src, dst = np.array([0, 1, 2, 3, 4, 5, 2]), np.array([1, 2, 0, 4, 5, 3, 3])
    >>> bad, community = np.ones(6, bool), np.arange(6)
    >>> groups = connected_groups(6, community=community, bad=bad, src=src, dst=dst)
    >>> split, cut = split_groups(groups, community=community, bad=bad, src=src, dst=dst, max_bad=3)
    >>> groups.tolist(), split.tolist(), cut
    ([0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1], 1)
    """
    import igraph as ig

    from graphkit.detect.communities import detect_communities

    groups, bad = np.asarray(groups, dtype=np.int64), np.asarray(bad, dtype=bool)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    n = len(groups)
    both_bad = bad[src] & bad[dst]
    src, dst = src[both_bad], dst[both_bad]
    oversized = np.bincount(groups[bad], minlength=int(groups.max(initial=-1)) + 1) > max_bad
    if not oversized.any():
        return groups, int((groups[src] != groups[dst]).sum())
    inside = oversized[groups[src]]
    accounts = np.unique(np.concatenate([src[inside], dst[inside]]))
    local = np.full(n, -1, dtype=np.int64)
    local[accounts] = np.arange(len(accounts))
    graph = ig.Graph(n=len(accounts), edges=np.column_stack([local[src[inside]], local[dst[inside]]]).tolist())
    piece = np.asarray(detect_communities(graph, objective="modularity", resolution=1.0, weights=None, seed=seed).membership)
    keep = ~inside | (piece[local[src]] == piece[local[dst]])
    community = np.asarray(community, dtype=np.int64)
    _, community = np.unique(community, return_inverse=True)
    loose = bad & oversized[groups]  # bad accounts of a cut group leave their communities
    members = np.flatnonzero(~loose)
    edges_src = np.concatenate([members, src[keep]])
    edges_dst = np.concatenate([n + community[members], dst[keep]])
    split = weak_components(n + int(community.max(initial=-1)) + 1, edges_src, edges_dst)[:n]
    split = _in_order(np.unique(split, return_inverse=True)[1])
    return split, int((split[src] != split[dst]).sum())


def _in_order(groups: np.ndarray) -> np.ndarray:
    """Renumber ``groups`` from 0 in the order of their smallest account."""
    _, first = np.unique(groups, return_index=True)
    renumber = np.empty(int(groups.max(initial=-1)) + 1, dtype=np.int64)
    renumber[groups[np.sort(first)]] = np.arange(len(first))
    return renumber[groups]


def grouped_folds(groups: np.ndarray, y: np.ndarray, *, k: int, seed: int) -> np.ndarray:
    """The test fold (``0 .. k-1``) of each labelled account, whole groups per fold, bad accounts spread evenly.

    Raises :class:`InputError` when fewer than ``k`` groups hold a bad account
    (or a good one): some fold would have nothing to find.

    Examples
    --------
    >>> folds = grouped_folds(np.array([0, 0, 1, 1, 2, 2, 3, 3]), np.array([1, 0, 1, 0, 1, 0, 1, 0]), k=2, seed=0)
    >>> sorted(set(folds.tolist())), bool(folds[0] == folds[1] and folds[6] == folds[7])
    ([0, 1], True)
    """
    from sklearn.model_selection import StratifiedGroupKFold

    groups, y = np.asarray(groups), np.asarray(y, dtype=bool)
    for label, name in ((True, "bad"), (False, "good")):
        holding = np.unique(groups[y == label]).size
        if holding < k:
            raise InputError(f"only {holding} connected group{'s hold' if holding != 1 else ' holds'} {name} accounts, "
                             f"too few for {k} folds; use --cv {max(2, holding)} or label more accounts"
                             if holding >= 2 else
                             f"only {holding} connected group{'s hold' if holding != 1 else ' holds'} {name} accounts; "
                             "grouped cross-validation needs two or more: label more accounts")
    folds = np.full(len(y), -1, dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, test) in enumerate(splitter.split(np.zeros((len(y), 1)), y, groups)):
        folds[test] = fold
    return folds
