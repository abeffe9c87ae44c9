"""graphkit train / report --model: labels refused in one line, grouped folds, JSON trees against scikit-learn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.errors import InputError
from graphkit.learn import connected_groups, grouped_folds, load_model, read_labels, split_groups
from graphkit.learn.model import AccountModel
from graphkit.learn.trees import from_sklearn
from graphkit.report.reader import read_scores
from graphkit_cli.main import cli

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


# --- the JSON trees against scikit-learn -------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 4))
    X[rng.random(600) < 0.25, 1] = np.nan  # missing values go one way or the other at each split
    X[:, 3] = X[:, 3] > 0  # a boolean feature
    y = ((np.nan_to_num(X[:, 1], nan=2.0) + X[:, 0] > 0.7) ^ (rng.random(600) < 0.05)).astype(int)
    return X, y, HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)


def test_json_trees_score_like_scikit_learn_after_a_round_trip(fitted, tmp_path):
    X, y, clf = fitted
    model = AccountModel(("a", "b", "c", "d"), from_sklearn(clf), np.array([-5.0, 5.0]), np.array([0.0, 1.0]))
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    loaded, digest = load_model(path)
    assert len(digest) == 64
    assert np.allclose(loaded.classifier.raw_score(X), clf.decision_function(X))


def test_contributions_add_up_to_the_score_and_credit_the_feature_that_decides(fitted):
    X, _, clf = fitted
    bias, contrib = from_sklearn(clf).contributions(X)
    assert np.allclose(bias + contrib.sum(axis=1), clf.decision_function(X))
    assert np.abs(contrib[:, 2]).mean() < 0.3 * np.abs(contrib[:, 0]).mean()  # feature 2 is noise: it counts less


def test_calibration_interpolates_like_isotonic_regression():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(0)
    raw = rng.normal(size=300)
    y = (raw + rng.normal(size=300) > 0.5).astype(float)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(raw, y)
    model = AccountModel(("a",), from_sklearn_stub(), iso.X_thresholds_, iso.y_thresholds_)
    grid = np.linspace(-4, 4, 101)
    assert np.allclose(model.probability(grid), iso.predict(grid))


def from_sklearn_stub():
    from graphkit.learn.trees import TreeEnsemble

    return TreeEnsemble(0.0, (), 1)


@pytest.mark.parametrize("change, message", [
    (lambda doc: "not json", "not a JSON file"),
    (lambda doc: {**doc, "format": "pickle"}, "not a graphkit model"),
    (lambda doc: {**doc, "schema_version": 2}, "schema_version 2"),
    (lambda doc: {**doc, "classifier": {**doc["classifier"], "trees": [
        {**doc["classifier"]["trees"][0], "left": [0] * len(doc["classifier"]["trees"][0]["left"])}]}},
     "points to a node that is not after it"),
    (lambda doc: {**doc, "classifier": {**doc["classifier"], "trees": [
        {**doc["classifier"]["trees"][0], "feature": [9] * len(doc["classifier"]["trees"][0]["feature"])}]}},
     "names a feature the model does not list"),
    (lambda doc: {**doc, "calibration": {"x": [1, 0], "y": [0, 1]}}, "x must increase"),
    (lambda doc: {**doc, "features": ["a", "a", "c", "d"]}, "names a column twice"),
])
def test_a_broken_or_foreign_model_file_is_one_line(fitted, tmp_path, change, message):
    _, _, clf = fitted
    doc = json.loads(AccountModel(("a", "b", "c", "d"), from_sklearn(clf), np.array([0.0]), np.array([0.5])).to_json())
    changed = change(doc)
    path = tmp_path / "model.json"
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed), encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_model(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_pickle_is_never_loaded(tmp_path):
    import pickle

    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps({"format": "graphkit-account-model"}))
    with pytest.raises(InputError, match="never loaded"):
        load_model(path)


# --- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("user_id,label\na,bad\nb,maybe\n", "1 row refused .1 with unrecognised label"),
    ("user_id,label\na,bad\na,good\nb,good\n", "duplicate user_id"),
    ("user_id,label\na,bad\nb,\n", "1 account has no label .first: 'b'"),
    ("user_id,label\na,good\nb,0\n", "every one of its 2 accounts is labelled good"),
    ("user_id,verdict\na,bad\nb,good\n", "column 'label' is missing or empty"),
    ("account,label\na,bad\n", "required column 'user_id' is missing"),
])
def test_a_malformed_labels_file_is_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        read_labels(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_labels_read_numbers_and_words_and_keep_ids_exactly(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("user_id,label\n007,1\n1234567890123456789,good\nx,TRUE\n", encoding="utf-8")
    assert read_labels(path).rows() == [("007", True), ("1234567890123456789", False), ("x", True)]


# --- grouped folds ----------------------------------------------------------------------------


def test_connected_groups_match_networkx_components_by_hand():
    community = np.array([0, 0, 1, 2, 2, 3, 4])
    bad = np.array([True, False, True, False, True, True, False])
    src, dst = np.array([0, 1, 4, 5, 6]), np.array([2, 3, 5, 6, 0])
    graph = nx.Graph()
    graph.add_nodes_from(range(7))
    graph.add_edges_from((a, b) for a, b in zip(src, dst) if bad[a] and bad[b])
    graph.add_edges_from((i, ("c", c)) for i, c in enumerate(community))
    expected = {frozenset(n for n in comp if isinstance(n, (int, np.integer))) for comp in nx.connected_components(graph)}
    groups = connected_groups(7, community=community, bad=bad, src=src, dst=dst)
    found = {frozenset(np.flatnonzero(groups == g).tolist()) for g in np.unique(groups)}
    assert found == expected == {frozenset({0, 1, 2}), frozenset({3, 4, 5}), frozenset({6})}


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=12, max_value=60),
    k=st.integers(min_value=2, max_value=4),
    data=st.data(),
)
def test_no_group_straddles_two_folds(n, k, data):
    community = np.array(data.draw(st.lists(st.integers(0, n // 3), min_size=n, max_size=n)))
    bad = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    m = data.draw(st.integers(0, 2 * n))
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    dst = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    groups = connected_groups(n, community=community, bad=bad, src=src, dst=dst)
    # two bad accounts linked, or two accounts of one community, share a group
    linked = bad[src] & bad[dst]
    assert (groups[src[linked]] == groups[dst[linked]]).all()
    for c in np.unique(community):
        assert np.unique(groups[community == c]).size == 1
    try:
        folds = grouped_folds(groups, bad, k=k, seed=0)
    except InputError as error:  # too few groups with bad (or good) accounts for k folds: said in one line
        assert "\n" not in str(error)
        assert min(np.unique(groups[bad]).size, np.unique(groups[~bad]).size) < k
        return
    assert set(folds.tolist()) <= set(range(k)) and (folds >= 0).all()
    for g in np.unique(groups):
        assert np.unique(folds[groups == g]).size == 1, "a group sits in two folds"


def test_an_oversized_group_is_cut_between_its_loosest_linked_bad_accounts():
    # two bad cliques of 5 joined by one link: 10 bad accounts in one group, too many for 2 folds of at most 5
    edges = [(a, b) for base in (0, 5) for a in range(base, base + 5) for b in range(a + 1, base + 5)] + [(4, 5)]
    src, dst = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    bad, community = np.ones(12, bool), np.array([0] * 10 + [1, 2])
    bad[10:] = False
    groups = connected_groups(12, community=community, bad=bad, src=src, dst=dst)
    assert np.unique(groups[:10]).size == 1
    split, cut = split_groups(groups, community=community, bad=bad, src=src, dst=dst, max_bad=5)
    assert cut == 1
    assert {frozenset(np.flatnonzero(split == g).tolist()) for g in np.unique(split[:10])} == {
        frozenset(range(5)), frozenset(range(5, 10))}


# --- the commands -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """graphkit train on the demo (3 folds, few trees), the model and the command's output."""
    folder = tmp_path_factory.mktemp("train")
    config = folder / "graphkit.toml"
    config.write_text("[params]\nlearn_max_iter = 30\n", encoding="utf-8")
    model = folder / "model.json"
    result = CliRunner().invoke(cli, ["train", str(DEMO), "--labels", str(DEMO / "users.csv"), "--model", str(model),
                                      "--cv", "3", "--config", str(config), "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    return folder, model, json.loads(result.output)


def test_train_prints_grouped_cross_validation_and_writes_plain_json(trained):
    _, model, cv = trained
    assert len(cv["folds"]) == 3 and cv["groups_with_bad"] == 9  # the demo's nine planted rings, each kept whole
    assert sum(f["bad"] for f in cv["folds"]) == 248
    assert all(f["auc"] > 0.8 for f in cv["folds"]) and cv["auc"] > 0.9
    doc = json.loads(model.read_text(encoding="utf-8"))
    assert doc["format"] == "graphkit-account-model" and doc["schema_version"] == 1
    assert doc["generator"].startswith("graphkit ") and "n_sent" in doc["features"] and "user_id" not in doc["features"]
    assert doc["training"]["labelled"] == 8000 and doc["training"]["params"]["learn_max_iter"] == 30


def test_report_with_a_model_scores_accounts_by_probability_with_reasons(trained, tmp_path):
    _, model, _ = trained
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--model", str(model), "--no-html",
                                      "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    scores = pl.read_csv(out / "scores.csv", infer_schema=False)
    assert scores.columns == ["user_id", "score", "ring_id", "role", "reasons"]
    loaded, digest = load_model(model)
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    assert doc["summary"]["model"]["sha256"] == digest and doc["params"]["weight_learned"] == 0.4
    assert all("learned_score" in ring["signals"] for ring in doc["rings"])
    # the score is the model's probability, recomputed here from the features
    from graphkit import Config, analyze, read_tables
    from graphkit.features import account_features

    frame = account_features(analyze(read_tables(DEMO), Config(), workers=1))
    expected = dict(zip(frame["user_id"].to_list(), np.round(loaded.predict(loaded.matrix(frame)), 4).tolist()))
    got = dict(zip(scores["user_id"].to_list(), scores["score"].cast(pl.Float64).to_list()))
    assert got == pytest.approx(expected, abs=1e-9)
    top = scores.sort(pl.col("score").cast(pl.Float64), descending=True).row(0, named=True)
    assert top["reasons"] and "(+" in top["reasons"]  # e.g. "community_size 36 (+5.1); ..."
    feature = top["reasons"].split(" ")[0]
    assert feature in loaded.features


def test_a_model_keeps_the_flag_reasons_of_scores_csv(trained, tmp_path):
    """With a flags table and a model, scores.csv keeps flag_reason beside the model's reasons, and read_scores
    reads both back. It has no score_without_flags: that is the rule-based score without the flags, which
    beside the model's probability would credit the model's gain to the flags in `graphkit eval`."""
    _, model, _ = trained
    data = tmp_path / "data"
    shutil.copytree(DEMO, data)
    flagged = pl.read_csv(DEMO / "users.csv")["user_id"].head(3).to_list()
    pl.DataFrame({"user_id": flagged, "kind": ["chargeback"] * 3, "at": ["2024-05-02T00:00:00Z"] * 3}).write_csv(
        data / "flags.csv")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(data), "--out", str(out), "--model", str(model), "--no-html",
                                      "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    scores = read_scores(out / "scores.csv")
    assert scores.columns == ["user_id", "score", "ring_id", "role", "flag_reason", "reasons"]
    reasons = dict(zip(scores["user_id"].to_list(), scores["flag_reason"].to_list()))
    assert all(reasons[u] and reasons[u].startswith("flag rate ") for u in flagged)
    assert scores["reasons"].drop_nulls().str.contains(r"\(\+|\(-").any()


def test_report_without_a_model_has_no_trace_of_learning(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(out), "--no-html", "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    assert "model" not in doc["summary"] and "weight_learned" not in doc["params"]
    assert not any("learn" in name for name in doc["params"])
    assert (out / "scores.csv").read_text(encoding="utf-8").splitlines()[0] == "user_id,score,ring_id,role"


def test_a_model_whose_features_this_graphkit_lacks_is_one_line(trained, tmp_path):
    _, model, _ = trained
    doc = json.loads(model.read_text(encoding="utf-8"))
    doc["features"][0] = "telepathy"
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", str(DEMO), "--out", str(tmp_path / "out"), "--model", str(bad),
                                      "--no-html", "-q", "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "telepathy" in result.output and "graphkit train" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_labels_of_accounts_not_in_the_data_are_refused_before_a_model_is_written(tmp_path):
    labels = tmp_path / "labels.csv"
    shutil.copy(DEMO / "users.csv", labels)
    with labels.open("a", encoding="utf-8") as handle:
        handle.write("ghost,2024-01-01T00:00:00Z,US,bad\n")
    model = tmp_path / "model.json"
    result = CliRunner().invoke(cli, ["train", str(DEMO), "--labels", str(labels), "--model", str(model), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "1 labelled account is not in the data (first: 'ghost')" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not model.exists()


def test_contributions_of_a_hand_built_tree():
    from graphkit.learn.trees import Tree, TreeEnsemble

    # root splits feature 1 at 0.5 (missing: right); its left child splits feature 0 at 2 (missing: left).
    # leaves: 1.0 (n=1), 3.0 (n=3) under the left child (value 2.5); -1.0 (n=4) on the right; root value 0.75
    tree = Tree(feature=np.array([1, 0, -1, -1, -1]), threshold=np.array([0.5, 2.0, 0, 0, 0]),
                missing_left=np.array([False, True, False, False, False]), left=np.array([1, 2, 0, 0, 0]),
                right=np.array([4, 3, 0, 0, 0]), value=np.array([0.75, 2.5, 1.0, 3.0, -1.0]),
                leaf=np.array([False, False, True, True, True]))
    trees = TreeEnsemble(-0.5, (tree,), 2)
    X = np.array([[1.0, 0.0], [5.0, 0.0], [np.nan, 0.0], [1.0, 9.0], [1.0, np.nan]])
    assert trees.raw_score(X).tolist() == [0.5, 2.5, 0.5, -1.5, -1.5]
    bias, contrib = trees.contributions(X)
    assert bias == 0.25
    assert contrib.tolist() == [[-1.5, 1.75], [0.5, 1.75], [-1.5, 1.75], [0.0, -1.75], [0.0, -1.75]]


_LABEL_WORDS = {"bad": True, "1": True, "true": True, "BAD": True, "good": False, "0": False, "false": False, "Good": False}


@settings(max_examples=30, deadline=None)
@given(rows=st.dictionaries(st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True), st.sampled_from(sorted(_LABEL_WORDS)),
                            min_size=1, max_size=20))
def test_a_labels_file_reads_exactly_or_is_refused_in_one_line(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("labels") / "labels.csv"
    path.write_text("user_id,label\n" + "".join(f"{k},{v}\n" for k, v in rows.items()), encoding="utf-8")
    expected = sorted((k, _LABEL_WORDS[v]) for k, v in rows.items())
    if len({bad for _, bad in expected}) < 2:
        with pytest.raises(InputError, match="every one of its") as info:
            read_labels(path)
        assert "\n" not in str(info.value)
    else:
        assert read_labels(path).rows() == expected


def test_train_never_writes_over_a_file_that_is_not_a_model(tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text('{"case": "R0002"}', encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", str(DEMO), "--labels", str(DEMO / "users.csv"), "--model", str(notes)])
    assert result.exit_code == 2, result.output
    assert "is not a graphkit model" in result.output and len(result.output.strip().splitlines()) == 1
    assert notes.read_text(encoding="utf-8") == '{"case": "R0002"}'


def test_a_model_file_may_be_replaced_and_anything_else_is_refused(fitted, tmp_path):
    from graphkit.learn.model import check_replaceable

    _, _, clf = fitted
    model = tmp_path / "model.json"
    model.write_text(AccountModel(("a", "b", "c", "d"), from_sklearn(clf), np.array([0.0]), np.array([0.5])).to_json(),
                     encoding="utf-8")
    check_replaceable(model)  # a model graphkit wrote: fine to replace
    check_replaceable(tmp_path / "new.json")  # nothing there yet: fine
    for other in ("users.csv", "folder"):
        path = tmp_path / other
        path.mkdir() if other == "folder" else path.write_text("user_id,label\n", encoding="utf-8")
        with pytest.raises(InputError, match="is not a graphkit model"):
            check_replaceable(path)
