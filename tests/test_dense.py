"""Dense-block peeling against brute force and planted blocks."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.detect.dense import column_weighted_matrix, dense_blocks, densest_block


def _density(m: np.ndarray, rows, cols) -> float:
    return m[np.ix_(rows, cols)].sum() / (len(rows) + len(cols)) if len(rows) + len(cols) else 0.0


def _brute_force_best(m: np.ndarray) -> float:
    n_r, n_c = m.shape
    best = 0.0
    for r in range(1, n_r + 1):
        for rows in itertools.combinations(range(n_r), r):
            for c in range(1, n_c + 1):
                for cols in itertools.combinations(range(n_c), c):
                    best = max(best, _density(m, list(rows), list(cols)))
    return best


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=4, max_size=4))
def test_peeling_is_within_the_approximation_bound_of_the_optimum(cells):
    m = np.array(cells, dtype=float)
    if m.sum() == 0:
        return
    block = densest_block(sp.csr_matrix(m), eps=0.0, min_rows=1)
    optimum = _brute_force_best(m)
    assert block is not None
    assert block.density == pytest_approx(_density(m, block.rows, block.cols))
    # batch peeling is a 2(1+eps)-approximation of the densest subgraph
    assert block.density >= optimum / 2 - 1e-9


def pytest_approx(x):
    import pytest

    return pytest.approx(x)


def test_a_planted_block_survives_camouflage_to_a_popular_column():
    rng = np.random.default_rng(1)
    n_rows, n_cols = 400, 300
    rows = rng.integers(0, n_rows, 800)  # organic background: two gifts a row
    cols = rng.integers(0, n_cols, 800)
    ring_rows = np.arange(20)
    ring_cols = np.arange(290, 296)
    block_r = np.repeat(ring_rows, len(ring_cols))
    block_c = np.tile(ring_cols, len(ring_rows))
    # camouflage: every ring row also hits the popular column 0, which half the platform uses
    popular_r = np.r_[ring_rows, np.arange(0, n_rows, 2)]
    m = column_weighted_matrix(
        np.r_[rows, block_r, popular_r], np.r_[cols, block_c, np.zeros(len(popular_r), dtype=int)], (n_rows, n_cols)
    )
    block = dense_blocks(m, min_rows=3)[0]
    assert set(ring_rows) <= set(block.rows.tolist())
    assert set(ring_cols) <= set(block.cols.tolist())
    # the 200 honest rows on the popular column are not pulled in with it
    assert len(block.rows) <= len(ring_rows) + 2


def test_blocks_come_densest_first_without_sharing_rows_and_stop_below_min_density():
    m = sp.csr_matrix(sp.block_diag([np.ones((5, 5)), np.ones((4, 4)), np.ones((3, 3))]))
    blocks = dense_blocks(m, min_rows=3)
    assert [b.rows.tolist() for b in blocks] == [[0, 1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]
    assert [b.density for b in blocks] == [2.5, 2.0, 1.5]
    assert dense_blocks(m, min_rows=3, min_density=10.0) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n_rows: st.integers(1, 12).flatmap(lambda n_cols: st.tuples(
    st.just((n_rows, n_cols)),
    st.lists(st.tuples(st.integers(0, n_rows - 1), st.integers(0, n_cols - 1)), max_size=60)))))
def test_column_weighted_matrix_is_the_same_built_either_way(case):
    # the packed-key construction gives the very matrix (layout and values) of the COO one used for huge shapes
    from graphkit.detect import dense

    shape, pairs = case
    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    cols = np.array([c for _, c in pairs], dtype=np.int64)
    packed = column_weighted_matrix(rows, cols, shape)
    original = dense._PACKED_LIMIT
    dense._PACKED_LIMIT = 0
    try:
        coo = column_weighted_matrix(rows, cols, shape)
    finally:
        dense._PACKED_LIMIT = original
    assert packed.shape == coo.shape
    assert np.array_equal(packed.indptr, coo.indptr)
    assert np.array_equal(packed.indices, coo.indices)
    assert np.array_equal(packed.data, coo.data)
    degree = np.bincount(np.unique(rows * shape[1] + cols) % shape[1], minlength=shape[1]) if len(pairs) else np.zeros(shape[1])
    assert np.allclose(packed.toarray(), (packed.toarray() > 0) / np.log(degree + 5.0)[np.newaxis, :])
