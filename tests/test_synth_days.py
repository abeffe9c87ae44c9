"""``graphkit synth --days N``: one folder per day whose truth says which farm is which, and the
small, fast version of the benchmark of rings over time (benchmarks/bench_history.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from benchmarks.bench_history import run_history
from graphkit.errors import ConfigError, InputError
from graphkit.synth import CLUB_KIND, TIMELINE_FILE, generate_days
from graphkit_cli.main import cli


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("days") / "platform"
    result = CliRunner().invoke(cli, ["synth", str(out), "--days", "4", "--users", "2000", "--gifts", "12000",
                                      "--seed", "5", "--format", "parquet"])
    assert result.exit_code == 0, result.output
    assert "timeline.json" in result.output and "re-formed" in result.output
    return out


def _day(out: Path, day: int) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(out / f"day-{day:02d}" / f"{name}.parquet")
            for name in ("users", "streams", "devices", "gifts")}


def _truth(out: Path, day: int) -> dict:
    return json.loads((out / f"day-{day:02d}" / "truth.json").read_text())


def test_each_day_is_a_data_folder_holding_only_that_days_events(written: Path) -> None:
    timeline = json.loads((written / TIMELINE_FILE).read_text())
    assert [d["folder"] for d in timeline["days"]] == ["day-01", "day-02", "day-03", "day-04"]
    for day in range(1, 5):
        tables = _day(written, day)
        start = pl.datetime(2024, 5, 1, time_zone="UTC") + pl.duration(days=day - 1)
        for table, column in (("gifts", "sent_at"), ("devices", "seen_at")):
            bounds = tables[table].select((pl.col(column) >= start).all() & (pl.col(column) < start + pl.duration(days=1)).all())
            assert bounds.item(), (day, table)
        users = set(tables["users"]["user_id"])
        assert set(tables["gifts"]["sender_id"]) <= users and set(tables["devices"]["user_id"]) <= users
        assert set(tables["gifts"]["stream_id"]) <= set(tables["streams"]["stream_id"])
        truth = _truth(written, day)
        senders = set(tables["gifts"]["sender_id"])
        for ring in truth["rings"]:  # every farm member of the day gifts that day (its host receives)
            assert set(ring["members"]) - set(ring["beneficiaries"]) <= senders, (day, ring["identity"])


def test_the_truth_follows_each_farm_by_identity_through_its_event(written: Path) -> None:
    timeline = json.loads((written / TIMELINE_FILE).read_text())
    farms = {f["identity"]: f for f in timeline["farms"]}
    events = {f["event"] for f in farms.values()}
    assert {"stable", "grown", "shrunk", "split", "quiet", "re-formed", "returns", "new"} <= events
    rings = {(d["day"], r["identity"]): r for d in timeline["days"] for r in d["rings"]}
    members = lambda day, identity: set(rings[(day, identity)]["members"]) - set(rings[(day, identity)]["beneficiaries"])  # noqa: E731
    for identity, farm in farms.items():
        day = farm["event_day"]
        if farm["event"] == "re-formed":
            assert rings[(day, identity)]["status"] == "re-formed"
            assert rings[(day, identity)]["previous_ids"] == [identity]
            assert not members(day, identity) & members(day - 1, identity)  # every account is new ...
            devices = [_day(written, d)["devices"] for d in (day - 1, day)]
            used = [set(t.filter(pl.col("user_id").is_in(list(members(d, identity))))["device_id"])
                    for t, d in zip(devices, (day - 1, day))]
            assert used[1] and used[1] <= used[0]  # ... on the devices of the day before
        elif farm["event"] == "returns":  # away for a day, then back with new accounts on the same devices
            back = farm["back_day"]
            assert back == day + 1 and (day, identity) not in rings and identity in timeline["days"][day - 1]["quiet"]
            assert rings[(back, identity)]["status"] == "re-formed" and rings[(back, identity)]["previous_ids"] == [identity]
            assert not members(back, identity) & members(day - 1, identity)
            used = [set(_day(written, d)["devices"].filter(pl.col("user_id").is_in(list(members(d, identity))))["device_id"])
                    for d in (day - 1, back)]
            assert used[1] and used[1] <= used[0]
        elif farm["event"] == "quiet":
            assert (day, identity) not in rings and identity in timeline["days"][day - 1]["quiet"]
            assert identity in _truth(written, day)["quiet"]
        elif farm["event"] == "split" and farm["split_from"]:
            parent = farm["split_from"]
            assert rings[(day, identity)]["previous_ids"] == [parent] and rings[(day, parent)]["status"] == "split"
            earlier = set().union(*(members(d, parent) for d in range(1, day) if (d, parent) in rings))
            assert not members(day, identity) & members(day, parent)  # two pieces ...
            assert members(day, identity) | members(day, parent) <= earlier  # ... of the farm's own accounts
            assert len(members(day, identity)) < len(members(day, parent))  # the bigger piece keeps the identity
        elif farm["event"] == "grown":
            assert len(members(day, identity)) > 1.3 * len(members(day - 1, identity))
        elif farm["event"] == "new":
            assert rings[(day, identity)]["status"] == "new" and (day - 1, identity) not in rings
    labels = _day(written, 4)["users"].filter(pl.col("label") == "bad")["user_id"]
    assert set(labels) >= {m for d in range(1, 5) for r in _truth(written, d)["rings"] for m in r["members"]
                           if m in set(_day(written, 4)["users"]["user_id"])}


def test_a_fan_club_lives_through_the_days_with_the_same_accounts_cheering_the_same_host(written: Path) -> None:
    timeline = json.loads((written / TIMELINE_FILE).read_text())
    clubs = {(d["day"], g["identity"]): set(g["members"]) for d in timeline["days"] for g in d["lookalikes"]}
    assert {identity for _, identity in clubs} == {"C01"}  # one per 10,000 users, at least one
    first, third = clubs[(1, "C01")], clubs[(3, "C01")]
    assert len(first) >= 12 and len(first & third) >= 0.75 * max(len(first), len(third))  # the same fans, slight churn
    for day in (1, 3):
        truth = _truth(written, day)
        club = next(g for g in truth["lookalikes"] if g.get("identity") == "C01")
        assert club["kind"] == CLUB_KIND and set(club["members"]) == clubs[(day, "C01")]
        assert not set(club["members"]) & {m for r in truth["rings"] for m in r["members"]}  # honest accounts
        tables = _day(written, day)
        users = tables["users"].filter(pl.col("user_id").is_in(club["members"]))
        assert users.height == len(club["members"])  # long-standing accounts: a year old or more
        assert users.select((pl.col("created_at") <= datetime(2023, 5, 2, tzinfo=timezone.utc)).all()).item()
        gifts = tables["gifts"].filter(pl.col("sender_id").is_in(club["members"]))
        hosts = gifts.group_by("receiver_id").len().sort("len", descending=True)
        if day == 1:
            host = hosts["receiver_id"][0]
        assert hosts["receiver_id"][0] == host  # the same host, day after day
        to_host = gifts.filter(pl.col("receiver_id") == host)
        assert set(to_host["sender_id"]) == set(club["members"])  # every fan who was there cheered
        assert to_host["stream_id"].n_unique() >= 2  # in two or three streams of the day


def test_the_same_seed_writes_the_same_days_and_bad_settings_are_one_line(tmp_path: Path) -> None:
    a, b = generate_days(2, users=1_000, gifts=5_000, seed=3), generate_days(2, users=1_000, gifts=5_000, seed=3)
    assert a.truth == b.truth and all(x.gifts.equals(y.gifts) for x, y in zip(a.days, b.days))
    with pytest.raises(ConfigError, match="days must be a whole number from 2"):
        generate_days(1, users=1_000, gifts=5_000)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="not an earlier graphkit synth --days output"):
        a.write(tmp_path / "mine")
    result = CliRunner().invoke(cli, ["synth", str(tmp_path / "x"), "--days", "3", "--ring-size-max", "50"])
    assert result.exit_code == 2 and "cannot be combined" in result.output


def test_rings_keep_their_ids_and_statuses_agree_with_the_truth_day_by_day(tmp_path: Path) -> None:
    # the small version of `python -m benchmarks history` (benchmarks/RESULTS.md has the 7-day one)
    found = run_history(tmp_path, days=3, users=4_000, gifts=24_000, seed=1)
    assert found["reformed"][1] >= 1 and found["reformed"][0] == found["reformed"][1]
    assert found["ids_kept"] >= 0.95, found
    assert found["status_agreement"] >= 0.9, found["confusion"]
    assert sum(found["confusion"]["quiet"].values()) + sum(found["confusion"]["split"].values()) >= 1
    report = json.loads((tmp_path / "reports" / "day-02" / "rings.json").read_text())
    assert {"status", "previous_ids", "first_seen", "shared_devices"} <= set(report["rings"][0])


def test_a_benign_label_on_a_look_alike_keeps_it_out_of_the_next_days_rings_and_lists_it_held_back(tmp_path: Path) -> None:
    # the small version of the benchmark's look-alike step: the fan club reaches day 1's rings, is judged
    # benign by its ring id, and the reports of days 2 and 3 (made with --labels) hold it back
    found = run_history(tmp_path, days=3, users=4_000, gifts=24_000, seed=1)
    decisions = found["decisions"]
    assert [(j["identity"], j["day"], j["case"]) for j in decisions["judged"]] == [("C01", 1, "ring")]
    assert decisions["following_days"] == 2 and decisions["both"] == 2, decisions
    ring_id = decisions["judged"][0]["ring_id"]
    labels = (tmp_path / "labels.csv").read_text().splitlines()
    assert labels[0] == "ring_id,user_id,verdict,note,decided_at,by" and labels[1].startswith(f"{ring_id},,benign,")
    reports = tmp_path / "reports"
    for day in (2, 3):
        doc = json.loads((reports / f"day-0{day}" / "rings.json").read_text())
        assert ring_id not in {r["ring_id"] for r in doc["rings"]}
        assert [h["ring_id"] for h in doc["held_back"]] == [ring_id]
    # the benchmark's library path is what `graphkit report --previous --labels` does
    out = tmp_path / "cli-day-02"
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "data" / "day-02"), "--out", str(out), "--no-html", "-q",
                                      "--previous", str(reports / "day-01"), "--labels", str(tmp_path / "labels.csv")])
    assert result.exit_code == 0, result.output
    mine, bench = (json.loads((d / "rings.json").read_text()) for d in (out, reports / "day-02"))
    assert [(h["ring_id"], h["members"]) for h in mine["held_back"]] == [(h["ring_id"], h["members"]) for h in bench["held_back"]]
    assert [r["members"] for r in mine["rings"]] == [r["members"] for r in bench["rings"]]
    # and graphkit diff says so: held back, with the investigator's decision, not quiet
    result = CliRunner().invoke(cli, ["diff", str(reports / "day-01"), str(reports / "day-02"), "--json"])
    assert result.exit_code == 0, result.output
    change = next(c for c in json.loads(result.output)["rings"] if ring_id in c["previous_ids"])
    assert change["status"] == "held_back" and change["ring_id"] == ring_id
    assert change["decisions"][0]["by"] == "benchmark investigator" and change["decisions"][0]["verdict"] == "benign"
