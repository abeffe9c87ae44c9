"""The score of an account outside the rings: half its evidence, ties ordered by its exposure.

Expected values are computed here from the definitions in the docstrings of
:func:`graphkit.score.exposure` and :func:`graphkit.score.account_score`.
"""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import Config, analyze, read_tables
from graphkit.errors import ConfigError
from graphkit.score import account_score, exposure

U32 = pl.UInt32


def _scores(evidence: list[float], exposures: list[float], config: Config = Config()) -> list[float]:
    frame = pl.DataFrame({"evidence": evidence, "exposure": exposures})
    return frame.select(account_score(pl.col("evidence"), pl.col("exposure"), config))["score"].to_list()


def test_accounts_of_equal_evidence_are_ordered_by_their_exposure():
    # three accounts without evidence, one trading with nobody suspicious, two with more and more exposure
    scores = _scores([0.0, 0.0, 0.0], [0.0, 0.3, 0.9])
    assert scores[0] < scores[1] < scores[2], scores
    assert scores == [0.0, 0.000015, 0.000045]  # floor(exposure * 0.5 * 100) / 10**6


def test_exposure_never_lifts_an_account_above_one_with_more_evidence():
    # the least evidence a 4-decimal score can show (0.0001) beats the most exposure there is
    scores = _scores([0.0, 0.0002], [1.0, 0.0])
    assert scores[0] < scores[1], scores
    assert scores == [0.000049, 0.0001]


def test_the_score_rounded_to_four_decimals_is_the_score_without_the_tie_break():
    evidence = [0.0, 0.4, 0.41234, 0.99998]
    with_tie = _scores(evidence, [0.99, 0.99, 0.5, 1.0])
    without = _scores(evidence, [0.99, 0.99, 0.5, 1.0], Config(weight_exposure=0.0))
    assert without == [round(0.5 * e, 4) for e in evidence]
    assert [round(s, 4) for s in with_tie] == without


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=30),
       st.floats(0, 0.5))
def test_the_order_of_evidence_is_kept_and_exposure_only_breaks_its_ties(rows, weight):
    evidence = [e for e, _ in rows]
    exposures = [x for _, x in rows]
    scores = _scores(evidence, exposures, Config(weight_exposure=weight))
    level = _scores(evidence, exposures, Config(weight_exposure=0.0))  # round(0.5 * evidence, 4)
    for i in range(len(rows)):
        assert round(scores[i], 4) == pytest.approx(level[i], abs=1e-12)
        for j in range(len(rows)):
            if level[i] > level[j]:
                assert scores[i] > scores[j], (rows[i], rows[j])
            elif level[i] == level[j] and exposures[i] > exposures[j]:
                assert scores[i] >= scores[j], (rows[i], rows[j])


def _expected_exposure(n: int, edges: list[tuple[int, int]], evidence: list[float]) -> dict[int, float]:
    """``1 - prod(1 - e_j)`` over the distinct partners ``j`` of each account (either direction, no self-gift)."""
    partners: dict[int, set[int]] = {}
    for a, b in edges:
        if a != b:
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
    return {u: 1.0 - math.prod(1.0 - evidence[j] for j in nbrs) for u, nbrs in partners.items()}


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
    st.lists(st.floats(0, 0.99), min_size=n, max_size=n),
)))
def test_exposure_is_the_noisy_or_of_the_partners_evidence(case):
    n, edges, evidence = case
    frame = pl.DataFrame({"uid": list(range(n)), "evidence": evidence}, schema={"uid": U32, "evidence": pl.Float64})
    flow = pl.DataFrame({"src": [a for a, _ in edges], "dst": [b for _, b in edges]}, schema={"src": U32, "dst": U32})
    found = dict(exposure(frame, flow).rows())
    expected = _expected_exposure(n, edges, evidence)
    assert set(found) == set(expected)
    for uid, value in expected.items():
        assert found[uid] == pytest.approx(value, abs=1e-12)


def test_weight_exposure_is_range_checked():
    with pytest.raises(ConfigError, match="weight_exposure"):
        Config(weight_exposure=0.6)
    with pytest.raises(ConfigError, match="weight_exposure"):
        Config(weight_exposure=-0.1)
    assert "weight_exposure" in Config().to_params()


def test_the_tie_break_changes_no_ring_and_no_score_at_four_decimals_on_the_demo():
    tables = read_tables("fixtures/demo")
    on = analyze(tables, Config(seed=0), workers=1)
    off = analyze(tables, Config(seed=0, weight_exposure=0.0), workers=1)
    assert [(r.ring_id, r.members, r.score) for r in on.rings] == [(r.ring_id, r.members, r.score) for r in off.rings]
    both = on.user_scores.join(off.user_scores, on="user_id", suffix="_off")
    assert (both["score"].round(4) == both["score_off"]).all()
    assert (both["score"] >= both["score_off"]).all()
    tied = both.filter(pl.col("score") != pl.col("score_off"))
    assert tied.height > 0, "some accounts of the demo trade with accounts that have evidence"
    assert tied["ring_id"].is_null().all(), "ring members keep their ring's score"
