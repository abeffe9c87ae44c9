"""Dense blocks that resist camouflage, in the spirit of FRAUDAR.

A ring's accounts gift the same few targets (streams, hosts) far more densely
than organic viewers do. FRAUDAR (Hooi et al., KDD 2016) finds the subset of
rows and columns of a bipartite graph that maximises the average suspicious
weight per node, with column weights ``1 / log(degree + c)`` so that edges to
popular targets (camouflage, or honest fans of a star) count for little.

This module peels in batches (Bahmani, Kumar & Vassilvitskii, VLDB 2012):
each pass removes every node whose weighted degree is at most ``(1 + eps)``
times the current average, which needs one sparse matrix-vector product per
pass and O(log n / eps) passes: near-linear, vectorised, no per-edge Python
loop. The densest intermediate subset is the block. Blocks are found one after
the other, the rows of each found block removed before the next search.

References
----------
Hooi, B., Song, H. A., Beutel, A., Shah, N., Shin, K., & Faloutsos, C. (2016).
FRAUDAR: Bounding graph fraud in the face of camouflage. KDD '16.

Bahmani, B., Kumar, R., & Vassilvitskii, S. (2012). Densest subgraph in
streaming and MapReduce. PVLDB 5(5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

__all__ = ["DenseBlock", "column_weighted_matrix", "densest_block", "dense_blocks"]

_PACKED_LIMIT = 1 << 63
"""(row, col) pairs pack into one int64 key when ``n_rows * n_cols`` is below this."""


@dataclass(frozen=True)
class DenseBlock:
    """Rows and columns of one dense block, with its density.

    Attributes
    ----------
    rows, cols : numpy.ndarray
        Sorted indices into the matrix the block was found in.
    density : float
        Suspicious weight inside the block per node (rows + cols).
    weight : float
        Suspicious weight inside the block.
    """

    rows: np.ndarray
    cols: np.ndarray
    density: float
    weight: float

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.cols)


def column_weighted_matrix(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], *, c: float = 5.0
) -> sp.csr_matrix:
    """A binary row x column matrix whose entries are ``1 / log(col_degree + c)``.

    Duplicate (row, col) pairs count once. Column degree is the number of
    distinct rows linked to the column.

    Examples
    --------
    >>> m = column_weighted_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), (2, 2))
    >>> round(float(m[0, 0]), 4)  # column 0 has 2 rows: 1 / log(2 + 5)
    0.5139
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n_rows, n_cols = shape
    if n_rows * n_cols >= _PACKED_LIMIT:
        binary = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=shape)
        binary.data[:] = 1.0  # duplicates were summed: make them count once
        col_degree = np.asarray(binary.sum(axis=0)).ravel()
        weights = 1.0 / np.log(col_degree + c)
        return sp.csr_matrix(binary.multiply(weights[np.newaxis, :]))
    # the distinct (row, col) pairs as one sorted int64 key are the CSR layout itself (row by row, columns in
    # order): no COO conversion, no summing of duplicates (6x faster for 10^7 gifts, the same matrix)
    key = pl.Series(rows * n_cols + cols).unique().sort().to_numpy()
    row_of, col_of = key // n_cols, key % n_cols
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    weights = 1.0 / np.log(np.bincount(col_of, minlength=n_cols).astype(np.float64) + c)
    return sp.csr_matrix((weights[col_of], col_of, indptr), shape=shape)


def densest_block(
    matrix: sp.spmatrix,
    *,
    eps: float = 0.05,
    row_mask: np.ndarray | None = None,
    min_rows: int = 2,
) -> DenseBlock | None:
    """The densest block of ``matrix`` by batch peeling (see module notes).

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n_rows, n_cols)
        Non-negative suspicious weights, e.g. from :func:`column_weighted_matrix`.
    eps : float
        Peeling aggressiveness: smaller is slower and closer to the greedy optimum.
    row_mask : bool array, optional
        Rows allowed in the block (default: all).
    min_rows : int
        Blocks with fewer rows are not returned.

    Returns
    -------
    DenseBlock or None
        None when no block with at least ``min_rows`` rows and one column exists.

    Examples
    --------
    A 3 x 3 all-ones block hidden among sparse noise is found exactly:

    >>> rows = np.r_[np.repeat([0, 1, 2], 3), [3, 4, 5]]
    >>> cols = np.r_[np.tile([0, 1, 2], 3), [3, 4, 5]]
    >>> block = densest_block(sp.csr_matrix((np.ones(12), (rows, cols)), shape=(6, 6)))
    >>> block.rows.tolist(), block.cols.tolist()
    ([0, 1, 2], [0, 1, 2])
    """
    csr = sp.csr_matrix(matrix, dtype=np.float64)
    n_rows, n_cols = csr.shape
    alive_r = np.ones(n_rows, dtype=bool) if row_mask is None else np.asarray(row_mask, dtype=bool).copy()
    # nodes without any edge never help
    alive_r &= np.diff(csr.indptr) > 0
    alive_c = np.asarray((csr[alive_r] != 0).sum(axis=0)).ravel() > 0
    # work on the live part only, and shrink it again whenever half of it is gone
    row_ids, col_ids = np.flatnonzero(alive_r), np.flatnonzero(alive_c)
    sub = csr[row_ids][:, col_ids].tocsr()
    live_r = np.ones(len(row_ids), dtype=bool)
    live_c = np.ones(len(col_ids), dtype=bool)
    best: tuple[float, np.ndarray, np.ndarray, float] | None = None
    while live_r.sum() >= min_rows and live_c.any():
        if live_r.sum() + live_c.sum() < 0.5 * (len(live_r) + len(live_c)):
            row_ids, col_ids = row_ids[live_r], col_ids[live_c]
            sub = sub[live_r][:, live_c].tocsr()
            live_r = np.ones(len(row_ids), dtype=bool)
            live_c = np.ones(len(col_ids), dtype=bool)
        row_deg = sub @ live_c.astype(np.float64)
        row_deg[~live_r] = 0.0
        col_deg = sub.T @ live_r.astype(np.float64)
        col_deg[~live_c] = 0.0
        weight = float(row_deg.sum())
        if weight <= 0.0:
            break
        density = weight / int(live_r.sum() + live_c.sum())
        if best is None or density >= best[0] * (1 - 1e-12):  # ties: the smaller, later subset
            best = (density, row_ids[live_r], col_ids[live_c], weight)
        # remove every node whose weighted degree is at most (1 + eps) times the average (2 * density)
        threshold = (1.0 + eps) * 2.0 * density
        drop_r = live_r & (row_deg <= threshold)
        drop_c = live_c & (col_deg <= threshold)
        if not drop_r.any() and not drop_c.any():
            weakest_r = np.where(live_r, row_deg, np.inf)
            weakest_c = np.where(live_c, col_deg, np.inf)
            if weakest_r.min() <= weakest_c.min():
                drop_r[np.argmin(weakest_r)] = True
            else:
                drop_c[np.argmin(weakest_c)] = True
        live_r &= ~drop_r
        live_c &= ~drop_c
    if best is None:
        return None
    density, rows, cols, weight = best
    if len(rows) < min_rows or len(cols) == 0:
        return None
    return DenseBlock(rows=rows, cols=cols, density=density, weight=weight)


def dense_blocks(
    matrix: sp.spmatrix,
    *,
    max_blocks: int = 20,
    min_rows: int = 3,
    min_density: float = 0.0,
    eps: float = 0.05,
) -> list[DenseBlock]:
    """Find up to ``max_blocks`` dense blocks, one after the other.

    After each block its rows are taken out and the search starts again, so
    blocks never share rows. The search stops at ``max_blocks`` or when the
    densest remaining block is below ``min_density``.

    Examples
    --------
    Two planted blocks are found in turn, the denser first:

    >>> r = np.r_[np.repeat(np.arange(4), 4), np.repeat(np.arange(4, 7), 3)]
    >>> c = np.r_[np.tile(np.arange(4), 4), np.tile(np.arange(4, 7), 3)]
    >>> m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(7, 7))
    >>> [b.rows.tolist() for b in dense_blocks(m, min_rows=3)]
    [[0, 1, 2, 3], [4, 5, 6]]
    """
    csr = sp.csr_matrix(matrix, dtype=np.float64)
    available = np.ones(csr.shape[0], dtype=bool)
    blocks: list[DenseBlock] = []
    while len(blocks) < max_blocks and available.sum() >= min_rows:
        block = densest_block(csr, eps=eps, row_mask=available, min_rows=min_rows)
        if block is None or block.density < min_density:
            break
        blocks.append(block)
        available[block.rows] = False
    return blocks
