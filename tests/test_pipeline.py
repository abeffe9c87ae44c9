"""analyze(): the rings an investigator relies on, on hand-built and bundled data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import graphkit
from graphkit import Config, Tables, analyze, read_tables
from graphkit.evaluate import evaluate
from graphkit.graphs import build_graphs
from graphkit.pipeline import STAGES, device_links, ring_threshold

REPO = Path(graphkit.__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"


def _hand_built_platform() -> Tables:
    """Organic viewers gifting hosts, plus one farm: 12 fresh accounts on 2 emulators paying host 'hx'."""
    rng = np.random.default_rng(3)
    start = np.datetime64("2024-03-01T00:00:00")
    viewers = [f"v{i:03d}" for i in range(300)]
    hosts = [f"h{i}" for i in range(12)]
    n = 3000
    organic = pl.DataFrame({
        "sender_id": rng.choice(viewers, n),
        "receiver_id": rng.choice(hosts, n, p=np.r_[0.3, np.full(11, 0.7 / 11)]),
        "coins": rng.choice([1.0, 5.0, 10.0, 99.0], n, p=[0.5, 0.3, 0.15, 0.05]),
        "sent_at": (start + rng.integers(0, 20 * 86_400, n).astype("timedelta64[s]")).astype(str),
    })
    farm = [f"f{i:02d}" for i in range(12)]
    farm_gifts = pl.DataFrame({
        "sender_id": np.repeat(farm, 6),
        "receiver_id": ["hx"] * 72,
        "coins": [499.0] * 72,
        "sent_at": (start + np.arange(72).astype("timedelta64[h]") + np.timedelta64(5, "D")).astype(str),
    })
    gifts = pl.concat([organic, farm_gifts, pl.DataFrame({"sender_id": ["v001"], "receiver_id": ["hx"], "coins": [5.0],
                                                          "sent_at": ["2024-03-02T00:00:00"]})])
    devices = pl.concat([
        pl.DataFrame({"user_id": viewers, "device_id": [f"dv{i}" for i in range(300)]}),
        pl.DataFrame({"user_id": farm, "device_id": [f"emu{i % 2}" for i in range(12)]}),
    ])
    created = ["2022-01-01T00:00:00Z"] * 300 + ["2024-03-04T00:00:00Z"] * 12 + ["2021-06-01T00:00:00Z"] * 13
    users = pl.DataFrame({"user_id": viewers + farm + hosts + ["hx"], "created_at": created})
    return Tables.from_frames(users=users, gifts=gifts, devices=devices)


@pytest.fixture(scope="module")
def hand_report():
    return analyze(_hand_built_platform(), Config())


def test_the_planted_farm_is_the_top_ring_with_its_beneficiary_and_reasons(hand_report):
    top = hand_report.rings[0]
    assert set(top.members) == {f"f{i:02d}" for i in range(12)} | {"hx"}
    assert top.beneficiaries[0].user_id == "hx"
    assert top.beneficiaries[0].coins_in == 12 * 6 * 499.0
    assert top.kind == "account_farm"
    assert "12 of 13 accounts share 2 devices" in top.reasons
    assert any(r.startswith("100% of the ring's 35,928 coins went to 1 account: hx") for r in top.reasons)
    assert top.coins_total == 35_928.0
    # organic viewers are not rings
    assert not any(m.startswith("v") for ring in hand_report.rings for m in ring.members)


def test_report_invariants(hand_report):
    rings = hand_report.rings
    assert [r.rank for r in rings] == list(range(1, len(rings) + 1))
    assert [r.ring_id for r in rings] == [f"R{i:04d}" for i in range(1, len(rings) + 1)]
    assert all(a.score >= b.score for a, b in zip(rings, rings[1:]))
    members = [m for r in rings for m in r.members]
    assert len(members) == len(set(members)), "an account belongs to at most one ring"
    for ring in rings:
        assert list(ring.members) == sorted(ring.members)
        assert {b.user_id for b in ring.beneficiaries} <= set(ring.members)
        assert 0.0 <= ring.score <= 1.0
    scores = hand_report.user_scores
    assert scores.height == hand_report.graphs.n_users == 325
    assert scores["score"].is_between(0.0, 1.0).all()
    in_ring = scores.filter(pl.col("ring_id").is_not_null())
    assert sorted(in_ring["user_id"].to_list()) == sorted(members)
    assert in_ring["score"].min() >= scores.filter(pl.col("ring_id").is_null())["score"].max()
    assert hand_report.params == Config().to_params()
    assert hand_report.summary["rings"] == len(rings)


def test_progress_names_every_stage_in_order():
    seen = []
    analyze(_hand_built_platform(), Config(), progress=seen.append)
    assert seen == list(STAGES)


def test_same_input_same_rings():
    a = analyze(_hand_built_platform(), Config(seed=5))
    b = analyze(_hand_built_platform(), Config(seed=5))
    assert [r.to_dict() for r in a.rings] == [r.to_dict() for r in b.rings]
    assert a.user_scores.equals(b.user_scores)


def test_ring_threshold_stands_above_the_platforms_groups():
    scores = pl.Series([0.05] * 50 + [0.06] * 50 + [0.7])
    assert 0.06 < ring_threshold(scores, Config(min_score=0.0)) < 0.7
    assert ring_threshold(pl.Series([0.0] * 10), Config(min_score=0.1)) == 0.1


@pytest.fixture(scope="module")
def demo_report():
    return analyze(read_tables(DEMO), Config())


def test_demo_planted_rings_are_found_and_lookalikes_are_not(demo_report):
    truth = json.loads((DEMO / "truth.json").read_text())
    ev = evaluate([r.members for r in demo_report.rings], demo_report.user_scores, truth)
    assert ev.ring_recall >= 0.9, ev.to_dict()["rings"]
    assert ev.ring_precision >= 0.8
    assert ev.lookalikes_reported == []
    assert ev.average_precision >= 0.8
    assert set(ev.recall_by_kind()) == {"account_farm", "cashout_mules", "gift_laundering", "gifting_burst"}


def test_demo_beneficiaries_are_the_planted_ones(demo_report):
    truth = json.loads((DEMO / "truth.json").read_text())
    planted = {b for ring in truth["rings"] for b in ring["beneficiaries"]}
    reported = {b.user_id for ring in demo_report.rings for b in ring.beneficiaries}
    assert len(planted & reported) >= 0.8 * len(planted)


def test_beneficiaries_are_listed_most_coins_first(demo_report):
    """Ring.beneficiaries (rings.json, rings.csv, report.md, the CLI table) lists the biggest receiver first."""
    several = [ring for ring in demo_report.rings if len(ring.beneficiaries) > 1]
    assert several, "the demo data has rings with several beneficiaries"
    for ring in several:
        coins = [b.coins_in for b in ring.beneficiaries]
        assert coins == sorted(coins, reverse=True), (ring.ring_id, [(b.user_id, b.coins_in) for b in ring.beneficiaries])


def test_amlsim_laundering_accounts_rank_far_above_chance(shared_dataset):
    from graphkit.evaluate import evaluate as evaluate_scores

    data = shared_dataset("amlsim-20k")
    tables = read_tables(data, columns=REPO / "fixtures" / "amlsim.toml")
    report = analyze(tables, Config())
    ev = evaluate_scores([r.members for r in report.rings], report.user_scores, labels=tables.users.select("user_id", "label"))
    assert ev.auc >= 0.8
    assert ev.average_precision >= 3 * 1804 / 20000  # at least three times the base rate


def test_device_links_one_row_per_account_and_identifier_with_hubs_flagged():
    devices = pl.DataFrame(
        {
            "user_id": ["a", "a", "b", "c", "c", "d"],
            "device_id": ["d1", "d1", "d1", "d2", None, "d3"],
            "ip": ["10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2", None],
        }
    )
    tables = Tables.from_frames(devices=devices)
    graphs = build_graphs(tables, Config(hub_cap=2))
    links = graphs.index.decode(device_links(graphs), "uid", as_="user_id")
    # identifiers back to their id strings through the index
    names = dict(
        [(f"device:{did}", key) for key, did in graphs.index.devices.select("device_id", "did").rows()]
        + [(f"ip:{iid}", key) for key, iid in graphs.index.ips.select("ip", "iid").rows()]
    )
    named = links.with_columns(pl.col("identifier").replace_strict(names))
    got = sorted(named.select("user_id", "identifier", "kind", "hub").rows())
    assert got == [
        ("a", "10.0.0.1", "ip", True),  # 3 accounts > hub_cap 2
        ("a", "d1", "device", False),  # seen twice, one row
        ("b", "10.0.0.1", "ip", True),
        ("b", "d1", "device", False),
        ("c", "10.0.0.1", "ip", True),
        ("c", "10.0.0.2", "ip", False),
        ("c", "d2", "device", False),
        ("d", "d3", "device", False),
    ]


def test_leiden_runs_in_child_processes_give_the_same_report(monkeypatch):
    # child processes are used for big graphs only: lower the bars so the demo takes that path
    import graphkit.detect.candidates as candidates
    import graphkit.detect.communities as communities
    import graphkit.detect.worker as worker

    tables = read_tables(DEMO)
    one = analyze(tables, Config(seed=0), workers=1)
    started = []
    popen = worker.subprocess.Popen
    monkeypatch.setattr(worker.subprocess, "Popen", lambda *a, **k: started.append(a[0][-1]) or popen(*a, **k))
    monkeypatch.setenv("GRAPHKIT_WORKER_MIN_SIZE", "1")
    two = analyze(tables, Config(seed=0), workers=2)
    assert [Path(folder).name.split("-")[1] for folder in started] == ["lockstep", "communities"]
    assert [(r.ring_id, r.members, r.score, r.sources) for r in one.rings] == [
        (r.ring_id, r.members, r.score, r.sources) for r in two.rings
    ]
    assert any("synchrony" in r.sources for r in two.rings)
    assert one.user_scores.equals(two.user_scores)
    assert one.summary == two.summary


@pytest.mark.parametrize("task", ["lockstep", "communities"])
def test_a_failed_worker_is_a_clear_error(monkeypatch, task):
    import sys

    import graphkit.detect.candidates as candidates
    import graphkit.detect.communities as communities

    graphs = build_graphs(read_tables(DEMO), Config())
    monkeypatch.setenv("GRAPHKIT_WORKER_MIN_SIZE", "1")
    monkeypatch.setattr(sys, "executable", "/bin/false")
    start = {
        "lockstep": lambda: candidates.lockstep_groups(graphs.cogift, graphs.n_users, Config(), workers=2),
        "communities": lambda: communities.user_communities(graphs, Config(), workers=2),
    }[task]
    with pytest.raises(RuntimeError, match=f"the {task} worker process failed \\(exit 1\\)"):
        with start() as result:
            result()


def test_bad_community_settings_fail_before_any_work():
    from graphkit.detect.communities import user_communities
    from graphkit.errors import ConfigError

    graphs = build_graphs(read_tables(DEMO), Config())
    with pytest.raises(ConfigError, match="community_method = 'nope' is not allowed"):  # Config refuses it
        with user_communities(graphs, Config(community_method="nope"), workers=2):
            pass
    bad = Config()
    object.__setattr__(bad, "community_method", "nope")  # got past Config: the communities stage refuses it too
    with pytest.raises(ConfigError, match="unknown community method 'nope'"):
        with user_communities(graphs, bad, workers=2):
            pass


def test_rings_csv_top_signals_quote_each_rings_own_signal_values(demo_report):
    """rings.csv ``top_signals``: the signals that carried the score, with their values from rings.json ``signals``."""
    frame = demo_report.rings_frame()
    main_signal = {"cashout_mules": "one_shot_large_ratio", "gift_laundering": "cycle_coin_share",
                   "gifting_burst": "synchrony", "account_farm": "crowding"}
    for ring, text in zip(demo_report.rings, frame["top_signals"]):
        pairs = dict(pair.split("=") for pair in text.split(";"))
        assert len(pairs) == 3, text
        for name, value in pairs.items():
            assert name in ring.signals, (ring.ring_id, name, sorted(ring.signals))
            assert float(value) == round(ring.signals[name], 4), (ring.ring_id, name, value)
        if ring.kind in main_signal and ring.kind != "account_farm":
            assert float(pairs[main_signal[ring.kind]]) > 0, (ring.ring_id, ring.kind, text)


def test_demo_rings_do_not_move_when_the_ids_are_spelled_in_reverse_order(demo_report):
    """The same platform with every account id renamed so that their sorted order reverses: the same rings."""
    tables = read_tables(DEMO)
    ids = pl.concat([tables.users["user_id"], tables.gifts["sender_id"], tables.gifts["receiver_id"],
                     tables.devices["user_id"], tables.streams["host_id"]]).unique().sort().to_list()
    renamed = {old: f"v{len(ids) - i:06d}" for i, old in enumerate(ids)}
    back = {new: old for old, new in renamed.items()}

    def rename(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
        return frame.with_columns(pl.col(c).replace_strict(renamed) for c in cols)

    reversed_tables = Tables.from_frames(
        users=rename(tables.users, "user_id"), gifts=rename(tables.gifts, "sender_id", "receiver_id"),
        devices=rename(tables.devices, "user_id"), streams=rename(tables.streams, "host_id"),
    )
    report = analyze(reversed_tables, Config(), workers=1)
    assert sorted(sorted(back[m] for m in r.members) for r in report.rings) == sorted(
        sorted(r.members) for r in demo_report.rings)
