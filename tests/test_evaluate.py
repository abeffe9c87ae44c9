"""Evaluation metrics against scikit-learn, and the ring-matching rule by hand."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from graphkit.errors import InputError
from graphkit.evaluate import (
    average_precision,
    evaluate,
    evaluate_output,
    evaluate_rings,
    roc_auc,
    threshold_table,
    user_labels,
)

labels_and_scores = st.integers(min_value=2, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda xs: 0 < sum(xs) < len(xs)),
        st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(labels_and_scores)
def test_auc_and_average_precision_match_scikit_learn(data):
    labels, scores = (np.array(x) for x in data)
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores))


def test_one_class_has_no_auc():
    assert roc_auc(np.array([1, 1]), np.array([0.2, 0.4])) is None
    assert average_precision(np.array([0, 0]), np.array([0.2, 0.4])) is None


TRUTH = {
    "rings": [
        {"ring_id": "T1", "kind": "account_farm", "members": ["a1", "a2", "a3", "a4"], "beneficiaries": ["a4"]},
        {"ring_id": "T2", "kind": "gifting_burst", "members": ["b1", "b2", "b3", "b4"], "beneficiaries": []},
    ],
    "lookalikes": [{"group_id": "L1", "kind": "family_device", "members": ["f1", "f2", "f3"]}],
}


def test_a_ring_is_found_when_half_of_it_is_in_a_reported_ring_that_is_half_it():
    # T1: 2 of 4 members in a ring of 4 -> found; T2: 3 of 4 in a ring of 7 -> not (3/7 < half)
    reported = [["a1", "a2", "x1", "x2"], ["b1", "b2", "b3", "x3", "x4", "x5", "x6"]]
    ev = evaluate_rings(reported, TRUTH, k=4)
    assert [m.found_by for m in ev.matches] == ["#1", None]
    assert ev.ring_recall == 0.5
    assert ev.ring_precision == 0.5
    assert ev.recall_by_kind() == {"account_farm": 1.0, "gifting_burst": 0.0}


def test_reported_lookalikes_and_top_k_cut():
    reported = [["f1", "f2", "f3"], ["a1", "a2", "a3"]]
    assert evaluate_rings(reported, TRUTH, k=1).lookalikes_reported == ["L1"]
    assert evaluate_rings(reported, TRUTH, k=1).ring_recall == 0.0  # T1's ring is second, outside the top 1
    assert evaluate_rings(reported, TRUTH).k == 4  # default: twice the planted rings


def test_a_lookalike_cut_into_pieces_is_reported_by_each_piece():
    """A promotion wave reported as five rings of its own accounts, each under half of the wave (the case a
    new-user tryout found on a synth day): each ring is a look-alike reported, not a planted ring missed."""
    wave = [f"w{i}" for i in range(100)]
    truth = {"rings": TRUTH["rings"], "lookalikes": [{"group_id": "L7", "kind": "promotion_wave", "members": wave}]}
    pieces = [wave[i * 12:(i + 1) * 12] + [f"x{i}"] for i in range(5)]  # 12 of 100 each, 12 of 13 of the ring
    assert evaluate_rings(pieces, truth, k=5).lookalikes_reported == ["L7"]
    # a ring with a few of a crowd's accounts among its own is no look-alike
    assert evaluate_rings([["a1", "a2", "a3", "w1"]], truth, k=1).lookalikes_reported == []


def test_threshold_table_counts_flagged_precision_and_recall():
    table = threshold_table(np.array([1, 1, 0, 0]), np.array([0.9, 0.5, 0.6, 0.1]), thresholds=[0.8, 0.5, 0.0])
    assert table.rows() == [(0.8, 1, 1.0, 0.5), (0.5, 3, 2 / 3, 1.0), (0.0, 4, 0.5, 1.0)]


def test_evaluate_output_reads_a_report_folder(tmp_path):
    (tmp_path / "rings.json").write_text(json.dumps({"rings": [
        {"ring_id": "R0001", "members": ["a1", "a2", "a3"]},
    ]}))
    pl.DataFrame({"user_id": ["a1", "a2", "a3", "z"], "score": [0.9, 0.9, 0.8, 0.1], "ring_id": ["R0001"] * 3 + [None]}).write_csv(
        tmp_path / "scores.csv"
    )
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH))
    ev = evaluate_output(tmp_path, truth)
    assert ev.matches[0].found_by == "R0001"
    assert ev.auc == 1.0  # a1..a3 are bad and scored above z
    assert ev.to_dict()["ring_recall"] == 0.5


def test_evaluate_with_a_labels_table(tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("user_id,label\na,1\nb,0\nc,0\n")
    scores = pl.DataFrame({"user_id": ["a", "b", "c"], "score": [0.2, 0.9, 0.1]})
    from graphkit.evaluate import load_truth

    truth, labels = load_truth(users)
    assert truth is None
    assert evaluate([], scores, labels=labels).auc == 0.5


def test_missing_report_files_are_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="rings.json: not found; run graphkit report"):
        evaluate_output(tmp_path, tmp_path / "truth.json")


def test_user_labels_are_the_positives_evaluate_counts():
    scores = pl.DataFrame({"user_id": ["a1", "x1", "b4", "f1", "a4"], "score": [0.9, 0.8, 0.7, 0.2, 0.1]})
    y = user_labels(scores["user_id"], TRUTH)
    assert y.tolist() == [True, False, True, False, True]
    ev = evaluate([["a1", "a4"]], scores, TRUTH)
    assert ev.average_precision == pytest.approx(average_precision(y, scores["score"].to_numpy()))
    # a labels table replaces the planted rings as the source of positives
    labels = pl.DataFrame({"user_id": ["f1", "a1"], "label": ["bad", "good"]})
    assert user_labels(scores["user_id"], TRUTH, labels=labels).tolist() == [False, False, False, True, False]


@pytest.mark.parametrize("rings, message", [
    ([{"ring_id": "R0001"}], "rings entry R0001 needs a 'members' list"),
    ([{"ring_id": "R0001", "members": "ab"}], "rings entry R0001 needs a 'members' list"),
    ({"R0001": []}, "'rings' must be a list"),
])
def test_malformed_rings_or_truth_is_one_clear_error(tmp_path, rings, message):
    (tmp_path / "rings.json").write_text(json.dumps({"rings": rings}))
    (tmp_path / "scores.csv").write_text("user_id,score,ring_id\na,0.5,\n")
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH))
    with pytest.raises(InputError, match=message):
        evaluate_output(tmp_path, truth)
    (tmp_path / "rings.json").write_text(json.dumps({"rings": []}))
    truth.write_text(json.dumps({"rings": rings}))
    with pytest.raises(InputError, match=message):
        evaluate_output(tmp_path, truth)


def _reference_rings(reported, truth, k):
    """Pair-by-pair matching, as written in the evaluator's docstring (the vectorised one must agree)."""
    def match(rep, planted):
        common = len(rep & planted)
        return common > 0 and common * 2 >= len(planted) and common * 2 >= len(rep)

    top = [set(r) for r in reported[:k]]
    found, best, hits = [], [], [False] * len(top)
    for ring in truth["rings"]:
        members = set(ring["members"])
        first = None
        for i, rep in enumerate(top):
            if match(rep, members):
                hits[i] = True
                first = first if first is not None else i
        found.append(first)
        best.append(max((len(rep & members) / len(members) for rep in top), default=0.0))
    def mostly(rep, group):  # a look-alike counts when half of a top ring is its accounts
        common = len(rep & group)
        return common > 0 and common * 2 >= len(rep)

    looks = [g["group_id"] for g in truth["lookalikes"] if any(mostly(rep, set(g["members"])) for rep in top)]
    return found, best, hits, looks


@settings(max_examples=60, deadline=None)
@given(
    reported=st.lists(st.sets(st.integers(0, 30), min_size=1, max_size=12), max_size=8),
    planted=st.lists(st.sets(st.integers(0, 30), min_size=1, max_size=12), min_size=1, max_size=6),
    looks=st.lists(st.sets(st.integers(0, 30), min_size=1, max_size=8), max_size=6),
    k=st.integers(1, 10),
)
def test_ring_matching_agrees_with_pair_by_pair_matching(reported, planted, looks, k):
    reported = [[f"u{m}" for m in sorted(r)] for r in reported]
    truth = {"rings": [{"ring_id": f"T{j}", "kind": "x", "members": [f"u{m}" for m in sorted(p)]} for j, p in enumerate(planted)],
             "lookalikes": [{"group_id": f"L{j}", "members": [f"u{m}" for m in sorted(g)]} for j, g in enumerate(looks)]}
    ev = evaluate_rings(reported, truth, k=k)
    found, best, hits, false_looks = _reference_rings(reported, truth, k)
    assert [m.found_by for m in ev.matches] == [None if f is None else f"#{f + 1}" for f in found]
    assert [m.overlap for m in ev.matches] == pytest.approx(best)
    assert ev.ring_precision == pytest.approx(sum(hits) / len(hits) if hits else 0.0)
    assert ev.lookalikes_reported == false_looks
