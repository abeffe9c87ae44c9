"""The detector contract: every registered detector on the same data, one hand-built case each, and a toy detector."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graphkit import Config, Tables, analyze, read_tables
from graphkit.detect import candidates
from graphkit.detect.registry import (
    CANDIDATE_SCHEMA,
    DETECTORS,
    Detector,
    DetectorInputs,
    check_candidates,
    detector_inputs,
    run_detectors,
)
from graphkit.graphs import build_graphs
from graphkit.pipeline import detection_inputs, leiden_groupings

CONFIG = Config(seed=0)


@pytest.fixture(scope="module")
def demo_inputs(fixtures_dir) -> DetectorInputs:
    tables = read_tables(fixtures_dir / "demo")
    graphs = build_graphs(tables, CONFIG)
    with leiden_groupings(graphs, CONFIG) as groupings:
        return detection_inputs(tables, graphs, CONFIG).with_inputs(**groupings())


# -- conformance: one set of checks for every registered detector -------------------------------------------------


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_every_detector_keeps_the_contract_on_the_demo(detector, demo_inputs):
    found = detector.find(demo_inputs)
    check_candidates(found, detector.name, demo_inputs.n_users)  # schema, uid range, no repeats, source
    if found.height:
        assert found.group_by("cand").len()["len"].min() >= CONFIG.min_ring_size


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_every_detector_gives_the_same_candidates_twice(detector, demo_inputs):
    assert_frame_equal(detector.find(demo_inputs), detector.find(demo_inputs))


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_every_detector_reads_only_the_inputs_it_declares(detector, demo_inputs):
    bare = DetectorInputs(config=CONFIG, n_users=demo_inputs.n_users, gifts=demo_inputs.gifts,
                          gift_flow=demo_inputs.gift_flow, cogift=demo_inputs.cogift)
    needed = {name: getattr(demo_inputs, name) for name in detector.needs if name in DetectorInputs.__dataclass_fields__
              and name not in ("config", "n_users", "gifts", "gift_flow", "cogift")}
    # with only the declared inputs present, the detector runs and finds the same groups
    assert_frame_equal(detector.find(bare.with_inputs(**needed)), detector.find(demo_inputs))


def test_run_detectors_waits_for_inputs_that_are_not_there_yet(demo_inputs):
    early = DetectorInputs(config=CONFIG, n_users=demo_inputs.n_users, gifts=demo_inputs.gifts,
                           gift_flow=demo_inputs.gift_flow, cogift=demo_inputs.cogift)
    assert sorted(run_detectors(early)) == ["burst_bucket", "dense_block", "flow_motif"]
    assert sorted(run_detectors(demo_inputs)) == sorted(d.name for d in DETECTORS)
    assert sorted(run_detectors(demo_inputs, skip=frozenset({"community", "fan_in"}))) == [
        "burst_bucket", "crowded_identifier", "dense_block", "equal_fan", "flow_motif", "money_loop", "relay_chain",
        "synchrony"]


@pytest.mark.parametrize(
    "frame, message",
    [
        (pl.DataFrame({"cand": [0], "uid": [1]}, schema={"cand": pl.Int64, "uid": pl.UInt32}), "columns"),
        (pl.DataFrame({"cand": [0], "uid": [1], "source": ["toy"]}), "columns"),  # uid not UInt32
        (pl.DataFrame({"cand": [0], "uid": [9], "source": ["toy"]}, schema=CANDIDATE_SCHEMA), "uids up to 9"),
        (pl.DataFrame({"cand": [0, 0], "uid": [1, 1], "source": ["toy"] * 2}, schema=CANDIDATE_SCHEMA), "twice"),
        (pl.DataFrame({"cand": [0], "uid": [1], "source": ["other"]}, schema=CANDIDATE_SCHEMA), "sources"),
    ],
)
def test_a_frame_that_breaks_the_contract_is_refused(frame, message):
    with pytest.raises(ValueError, match=message):
        check_candidates(frame, "toy", n_users=3)


def test_a_detector_cannot_declare_an_input_that_does_not_exist():
    with pytest.raises(ValueError, match="unknown inputs"):
        Detector("toy", frozenset({"gift_flows"}), lambda inputs: inputs.gifts)


# -- a toy detector: one function plus one registry line ---------------------------------------------------------


def _top_receivers(inputs: DetectorInputs) -> pl.DataFrame:
    """A toy detector: the senders of the receiver with the most coins, as one group."""
    top = inputs.gift_flow.group_by("dst").agg(pl.col("coins").sum()).sort(["coins", "dst"], descending=[True, False])
    senders = inputs.gift_flow.filter(pl.col("dst") == top["dst"][0]).select(pl.col("src").unique().sort().alias("uid"))
    return senders.select(pl.lit(0, dtype=pl.Int64).alias("cand"), "uid", pl.lit("top_receiver").alias("source"))


def test_a_new_detector_is_one_function_and_one_registry_line(fixtures_dir):
    toy = Detector("top_receiver", frozenset({"gift_flow"}), _top_receivers)
    tables = read_tables(fixtures_dir / "demo")
    with_toy = analyze(tables, CONFIG, workers=1, detectors=DETECTORS + (toy,))
    without = analyze(tables, CONFIG, workers=1)
    assert with_toy.summary["candidates"] == without.summary["candidates"] + 1
    assert all(name in DETECTORS_AND_TOY for ring in with_toy.rings for name in ring.sources)


DETECTORS_AND_TOY = {"community", "dense_block_moment", "dense_block_dst", "synchrony", "money_loop", "fan_in",
                     "crowded_identifier_device", "crowded_identifier_ip", "burst_bucket", "top_receiver"}


# -- each detector on a case built by hand -------------------------------------------------------------------------


def test_community_candidates_keep_communities_within_the_size_bounds():
    membership = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    found = candidates.community_candidates(membership, min_size=3, max_size=4)
    assert found.group_by("cand").agg(pl.col("uid").sort()).sort("cand").rows() == [(0, [0, 1, 2])]


def test_synchrony_candidates_skip_accounts_without_a_lockstep_group():
    membership = np.array([-1, 0, 0, 0, -1, 1, 1])
    found = candidates.synchrony_candidates(membership, min_size=3, max_size=10)
    assert found["uid"].to_list() == [1, 2, 3] and set(found["source"]) == {"synchrony"}


def _gifts(rows) -> Tables:
    t0 = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    return Tables.from_frames(gifts=pl.DataFrame({
        "sender_id": [r[0] for r in rows], "receiver_id": [r[1] for r in rows], "coins": [float(r[2]) for r in rows],
        "sent_at": [t0 + timedelta(seconds=r[3]) for r in rows], "stream_id": [r[4] for r in rows],
    }))


def _inputs_with_ids(tables: Tables) -> tuple[DetectorInputs, dict[int, str]]:
    graphs = build_graphs(tables, CONFIG)
    return detection_inputs(tables, graphs, CONFIG), dict(graphs.index.users.select("uid", "user_id").rows())


def _groups(ids: dict[int, str], found: pl.DataFrame) -> list[list[str]]:
    return sorted(sorted(ids[u] for u in uids) for uids in found.group_by("cand").agg("uid")["uid"].to_list())


def test_dense_block_finds_accounts_that_gift_the_same_streams_at_the_same_moments():
    farm = [f"f{i}" for i in range(6)]
    rows = [(f, "h1", 10, 60 * 10 * m, f"s{m}") for f in farm for m in range(4)]  # 6 accounts x 4 moments, all of them
    rows += [(f"v{i}", f"h{i % 5}", 10, 997 * i, f"s{10 + i}") for i in range(40)]  # scattered viewers
    inputs, ids = _inputs_with_ids(_gifts(rows))
    found = candidates.dense_block_candidates(inputs.gifts, inputs.n_users, window_s=120, max_blocks=5,
                                              min_size=5, max_size=500)
    moment_groups = _groups(ids, found.filter(pl.col("source") == "dense_block_moment"))
    assert farm in moment_groups


def test_money_loop_finds_coins_that_come_back_between_persons():
    # a -> b -> c -> a carry most of each other's coins; x pays a once and gets nothing back
    rows = [("a", "b", 100, 0, "s1"), ("b", "c", 100, 10, "s2"), ("c", "a", 100, 20, "s3"), ("x", "a", 5, 30, "s1")]
    inputs, ids = _inputs_with_ids(_gifts(rows))
    found = candidates.loop_candidates(inputs.gift_flow, inputs.person, min_size=3, max_persons=10)
    assert _groups(ids, found) == [["a", "b", "c"]]


def test_fan_in_finds_one_shot_large_senders_paying_one_receiver():
    mules = [(f"m{i}", "cashout", 5000, 60 * i, "s1") for i in range(6)]  # one large gift each
    viewers = [(f"v{i}", f"h{i % 3}", 10, 60 * j + i, f"s{2 + i % 3}") for i in range(30) for j in range(5)]
    inputs, ids = _inputs_with_ids(_gifts(mules + viewers))
    found = candidates.fan_in_candidates(inputs.gift_flow, inputs.activity, inputs.baseline, min_size=5)
    assert _groups(ids, found) == [sorted([f"m{i}" for i in range(6)] + ["cashout"])]


def test_money_loop_bounds_persons_not_accounts():
    # hosts h1, h2 each log 4 alts into their own phone; the alts pay the other host: 2 persons, 10 accounts
    rows, devices = [], []
    for h, other in (("h1", "h2"), ("h2", "h1")):
        devices.append((h, f"phone-{h}"))
        for j in range(4):
            alt = f"{h}-alt{j}"
            devices.append((alt, f"phone-{h}"))
            rows.append((alt, other, 100, j, f"s-{other}"))
    device_table = pl.DataFrame({"user_id": [u for u, _ in devices], "device_id": [d for _, d in devices],
                                 "ip": [None] * len(devices)}, schema_overrides={"ip": pl.Utf8})
    inputs, ids = _inputs_with_ids(Tables.from_frames(gifts=_gifts(rows).gifts, devices=device_table))
    whole = sorted(u for u, _ in devices)
    assert _groups(ids, candidates.loop_candidates(inputs.gift_flow, inputs.person, min_size=3, max_persons=2)) == [whole]
    assert _groups(ids, candidates.loop_candidates(inputs.gift_flow, inputs.person, min_size=3, max_persons=1)) == []
