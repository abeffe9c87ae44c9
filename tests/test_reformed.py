"""re-formed: new accounts on an earlier ring's devices and IPs are that ring again, and keep its id.

Hand-built pairs of rings for the rule and its thresholds, then the equipment
each report records (hubs and placeholder device ids never count), and the
whole path through ``report --previous`` and ``graphkit diff``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from click.testing import CliRunner

from graphkit import Tables
from graphkit.config import Config
from graphkit.errors import ConfigError
from graphkit.graphs import build_graphs
from graphkit.history import carry_ring_ids, diff_rings
from graphkit.model import Report, Ring
from graphkit.pipeline import ring_equipment
from graphkit.report import SavedReport
from graphkit_cli.main import cli


def ring(rid, members, devices=(), ips=()):
    return {"ring_id": rid, "members": list(members), "coins_total": 10.0, "beneficiaries": [],
            "shared_devices": list(devices), "shared_ips": list(ips)}


def people(prefix, n):
    return [f"{prefix}{i}" for i in range(n)]


def by_ring(diff):
    return {c.ring_id: c for c in diff.changes}


def test_new_accounts_on_the_devices_of_a_quiet_ring_are_that_ring_re_formed():
    old = [ring("R7", people("a", 20), devices=["d1", "d2", "d3"], ips=["45.1.1.1"]),
           ring("R8", people("b", 10), devices=["d9"])]
    new = [ring("N1", people("z", 25), devices=["d1", "d2", "d3"], ips=["45.1.1.1"])]
    diff = diff_rings(old, new)
    change = by_ring(diff)["N1"]
    assert (change.status, change.previous_ids, change.matched_id) == ("re-formed", ("R7",), "R7")
    assert change.common_devices == ("d1", "d2", "d3") and change.common_ips == ("45.1.1.1",)
    assert change.joined == tuple(sorted(people("z", 25))) and len(change.left) == 20
    assert [c.previous_ids for c in diff.changes if c.status == "quiet"] == [("R8",)]  # R7 is not quiet
    assert "N1 re-formed R7: 25 new accounts on device d1, device d2, device d3, IP 45\\.1.1.1" in diff.to_markdown()


def test_one_common_device_or_a_small_share_of_them_is_not_enough():
    old = [ring("R1", people("a", 10), devices=["d1", "d2", "d3", "d4"]),
           ring("R2", people("b", 10), devices=["e1", "e2", "e3", "e4", "e5", "e6"])]
    new = [ring("N1", people("x", 10), devices=["d1", "x2", "x3"]),            # one common device
           ring("N2", people("y", 10), devices=["e1", "e2", "y1", "y2", "y3"])]  # 2 of 5: below half
    assert {c.ring_id: c.status for c in diff_rings(old, new).changes if c.ring_id} == {"N1": "new", "N2": "new"}
    loose = diff_rings(old, new, reform_min_identifiers=1, reform_min_share=0.3)
    assert {c.ring_id: (c.status, c.previous_ids) for c in loose.changes if c.ring_id} == {
        "N1": ("re-formed", ("R1",)), "N2": ("re-formed", ("R2",))}


def test_a_ring_still_continued_by_its_members_is_not_re_formed_a_second_time():
    old = [ring("R1", people("a", 10), devices=["d1", "d2"])]
    new = [ring("N1", people("a", 10), devices=["d1", "d2"]),      # the same accounts: stable, keeps R1
           ring("N2", people("z", 10), devices=["d1", "d2"])]      # same devices, but R1 is taken
    changes = by_ring(diff_rings(old, new))
    assert (changes["N1"].status, changes["N2"].status, changes["N2"].previous_ids) == ("stable", "new", ())


def test_two_new_rings_on_one_old_rings_devices_give_it_to_the_best_match_one_to_one():
    old = [ring("R1", people("a", 10), devices=["d1", "d2", "d3", "d4"])]
    new = [ring("N1", people("x", 10), devices=["d1", "d2", "q1", "q2"]),   # half of N1's
           ring("N2", people("y", 10), devices=["d1", "d2", "d3"])]         # all of N2's
    changes = by_ring(diff_rings(old, new))
    assert (changes["N1"].status, changes["N2"].status, changes["N2"].matched_id) == ("new", "re-formed", "R1")


def test_rings_of_reports_that_record_no_equipment_are_never_re_formed():
    old = [{"ring_id": "R1", "members": people("a", 10)}]
    new = [{"ring_id": "N1", "members": people("z", 10)}]
    assert [c.status for c in diff_rings(old, new).changes] == ["new", "quiet"]


def test_re_formed_rings_keep_the_old_id_and_first_seen_with_report_previous():
    earlier = SavedReport(None, {"ring_counter": 9, "summary": {"as_of": "2024-05-02T23:00:00Z"}, "rings": [
        ring("R0009", people("a", 12), devices=["d1", "d2"], ips=["45.1.1.1"]) | {"first_seen": "2024-05-01T22:00:00Z"}]},
        pl.DataFrame())
    today = Report((Ring("R0001", 1, 0.9, tuple(people("z", 15)), 5.0, shared_devices=("d1", "d2"),
                         shared_ips=("45.1.1.1",)),),
                   pl.DataFrame({"user_id": ["z0"], "score": [0.9], "ring_id": ["R0001"]}), {},
                   {"as_of": "2024-05-03T23:00:00Z"})
    carried = carry_ring_ids(today, earlier).rings[0]
    assert (carried.ring_id, carried.status, carried.previous_ids, carried.first_seen) == (
        "R0009", "re-formed", ("R0009",), "2024-05-01T22:00:00Z")
    strict = carry_ring_ids(today, earlier, config=Config(reform_min_identifiers=4)).rings[0]
    assert (strict.ring_id, strict.status) == ("R0010", "new")


def test_reform_settings_are_range_checked_and_reach_params():
    with pytest.raises(ConfigError, match="reform_min_share"):
        Config(reform_min_share=0.0)
    with pytest.raises(ConfigError, match="reform_min_identifiers"):
        Config(reform_min_identifiers=0)
    params = Config().to_params()
    assert params["reform_min_identifiers"] == 2 and params["reform_min_share"] == 0.5
    assert params["match_min_jaccard"] == 0.3


def _links(rows):
    users, devices, ips = zip(*rows)
    return Tables.from_frames(devices=pl.DataFrame({"user_id": users, "device_id": devices, "ip": ips}))


def test_recorded_equipment_leaves_out_placeholders_hubs_and_devices_of_one_member():
    crowd = [(f"c{i}", f"own{i}", "100.1.1.1") for i in range(6)]                     # a carrier NAT (hub at cap 5)
    rows = [("a", "unknown", "100.1.1.1"), ("b", "unknown", "100.1.1.1"), ("c", "0", "9.9.9.9"),
            ("a", "d1", "45.0.0.1"), ("b", "d1", "45.0.0.1"), ("c", "d2", "45.0.0.1"), *crowd]
    graphs = build_graphs(_links(rows), Config(hub_cap=5))
    uid = dict(zip(graphs.index.users["user_id"].to_list(), graphs.index.users["uid"].to_list()))
    members = pl.DataFrame({"group": [0, 0, 0], "uid": [uid["a"], uid["b"], uid["c"]]},
                           schema={"group": pl.Int64, "uid": pl.UInt32})
    assert ring_equipment(members, graphs) == {(0, "device"): ("d1",), (0, "ip"): ("45.0.0.1",)}


def _farm_data(folder, accounts, devices, ips, day, host="h1"):
    """A farm: ``accounts`` on ``devices``/``ips`` (cycled) gifting ``host`` big gifts, among a crowd of
    honest viewers who gift small amounts to many hosts, all on ``day``."""
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc) + timedelta(days=day)
    users, dev_rows, gifts = [], [], []
    for i, acct in enumerate(accounts):
        users.append((acct, (t0 - timedelta(hours=6)).isoformat()))
        dev_rows.append((acct, devices[i % len(devices)], ips[i % len(ips)], t0.isoformat()))
        for k in range(4):
            gifts.append((acct, host, 999.0, (t0 + timedelta(minutes=7 * i + k)).isoformat()))
    for v in range(300):  # honest viewers: own phone, one carrier NAT shared by all, small gifts to 30 hosts
        acct = f"v{v:03d}"
        users.append((acct, "2022-01-01T00:00:00+00:00"))
        dev_rows.append((acct, f"phone{v:03d}", "100.64.0.1", t0.isoformat()))
        dev_rows.append((acct, "unknown", "100.64.0.1", t0.isoformat()))
        for k in range(3):
            gifts.append((acct, f"host{(v + k * 7) % 30:02d}", 5.0, (t0 + timedelta(minutes=v + k)).isoformat()))
    folder.mkdir()
    pl.DataFrame(users, schema=["user_id", "created_at"], orient="row").write_csv(folder / "users.csv")
    pl.DataFrame(dev_rows, schema=["user_id", "device_id", "ip", "seen_at"], orient="row").write_csv(folder / "devices.csv")
    pl.DataFrame(gifts, schema=["sender_id", "receiver_id", "coins", "sent_at"], orient="row").write_csv(
        folder / "gifts.csv")


def _ring_of(out, member):
    doc = json.loads((out / "rings.json").read_text())
    return next(r for r in doc["rings"] if member in r["members"])


def test_a_banned_farm_back_on_its_devices_with_new_accounts_is_re_formed_and_keeps_its_id(tmp_path):
    runner = CliRunner()
    _farm_data(tmp_path / "day1", people("f", 24), ["emu1", "emu2", "emu3"], ["45.9.9.1", "45.9.9.2"], 0)
    _farm_data(tmp_path / "day2", people("g", 24), ["emu1", "emu2", "emu3"], ["45.9.9.1", "45.9.9.2"], 1)
    first = runner.invoke(cli, ["report", str(tmp_path / "day1"), "--out", str(tmp_path / "out1"), "--no-html"])
    assert first.exit_code == 0, first.output
    before = _ring_of(tmp_path / "out1", "f0")
    assert before["shared_devices"] == ["emu1", "emu2", "emu3"] and "unknown" not in before["shared_devices"]
    assert before["shared_ips"] == ["45.9.9.1", "45.9.9.2"]  # the carrier NAT of 300 viewers is a hub
    second = runner.invoke(cli, ["report", str(tmp_path / "day2"), "--out", str(tmp_path / "out2"), "--no-html",
                                 "--previous", str(tmp_path / "out1")])
    assert second.exit_code == 0, second.output
    after = _ring_of(tmp_path / "out2", "g0")
    assert (after["ring_id"], after["status"], after["previous_ids"]) == (before["ring_id"], "re-formed",
                                                                          [before["ring_id"]])
    diffed = runner.invoke(cli, ["diff", str(tmp_path / "out1"), str(tmp_path / "out2"), "--json"])
    assert diffed.exit_code == 0, diffed.output
    change = next(c for c in json.loads(diffed.output)["rings"] if c["ring_id"] == after["ring_id"])
    assert change["status"] == "re-formed" and change["common_devices"] == ["emu1", "emu2", "emu3"]


def test_two_farms_that_share_only_a_placeholder_id_and_a_carrier_nat_are_not_one_farm(tmp_path):
    runner = CliRunner()
    _farm_data(tmp_path / "day1", people("f", 24), ["unknown"], ["100.64.0.1"], 0)
    _farm_data(tmp_path / "day2", people("g", 24), ["unknown"], ["100.64.0.1"], 1)
    for day in ("day1", "day2"):
        args = ["report", str(tmp_path / day), "--out", str(tmp_path / f"out-{day}"), "--no-html"]
        if day == "day2":
            args += ["--previous", str(tmp_path / "out-day1")]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out-day2" / "rings.json").read_text())
    assert _ring_of(tmp_path / "out-day2", "g0")["status"] == "new"  # found again, but nothing ties it to f*
    assert all(r["status"] != "re-formed" for r in doc["rings"])
    assert all(not r["shared_devices"] and "100.64.0.1" not in r["shared_ips"] for r in doc["rings"])


def test_the_redacted_copy_records_the_equipment_as_pseudonyms_that_still_match_across_reports():
    from graphkit.report.redact import redact_report
    from graphkit.viz import Redactor

    red = Redactor(b"k" * 32)
    ring = Ring("R0001", 1, 0.9, ("a", "b"), 1.0, shared_devices=("emu1", "emu2"), shared_ips=("45.0.0.1",))
    shared = redact_report(Report((ring,), pl.DataFrame({"user_id": ["a"], "score": [0.9]}), {}, {}), red).rings[0]
    assert shared.shared_devices == tuple(sorted(red.pseudonym(d, "device") for d in ("emu1", "emu2")))
    assert shared.shared_ips == (red.pseudonym("45.0.0.1", "ip"),) and "emu1" not in json.dumps(shared.to_dict())


def _saved(report: Report) -> SavedReport:
    return SavedReport(None, json.loads(json.dumps(report.to_json_dict("graphkit test"))), pl.DataFrame())


def _day(*rings: Ring, as_of: str) -> Report:
    scores = pl.DataFrame({"user_id": ["x"], "score": [0.0], "ring_id": [None]},
                          schema={"user_id": pl.Utf8, "score": pl.Float64, "ring_id": pl.Utf8})
    return Report(rings, scores, {}, {"as_of": as_of})


def test_a_farm_that_stays_away_a_few_reports_is_still_re_formed_within_the_memory():
    farm = Ring("R0001", 1, 0.9, tuple(people("a", 12)), 5.0, shared_devices=("emu1", "emu2"), shared_ips=("45.0.0.1",))
    family = Ring("R0002", 2, 0.5, tuple(people("f", 4)), 1.0)  # records no equipment: nothing to remember
    day1 = carry_ring_ids(_day(farm, family, as_of="2024-05-01T23:00:00Z"), _saved(_day(as_of="2024-04-30T23:00:00Z")))
    day2 = carry_ring_ids(_day(as_of="2024-05-02T23:00:00Z"), _saved(day1))       # banned: both quiet
    assert [(q["ring_id"], q["quiet_reports"], q["last_seen"]) for q in day2.quiet_rings] == [
        ("R0001", 1, "2024-05-01T23:00:00Z")]
    day3 = carry_ring_ids(_day(as_of="2024-05-03T23:00:00Z"), _saved(day2))
    assert [(q["ring_id"], q["quiet_reports"]) for q in day3.quiet_rings] == [("R0001", 2)]
    back = Ring("R0001", 1, 0.9, tuple(people("z", 14)), 6.0, shared_devices=("emu1", "emu2"), shared_ips=("45.0.0.1",))
    day4 = carry_ring_ids(_day(back, as_of="2024-05-04T23:00:00Z"), _saved(day3))
    ring = day4.rings[0]
    assert (ring.ring_id, ring.status, ring.previous_ids, ring.first_seen) == (
        "R0001", "re-formed", ("R0001",), day1.rings[0].first_seen)
    assert day4.quiet_rings == ()  # it is back: no longer remembered as quiet
    diff = diff_rings(_saved(day3).rings, [ring.to_dict()], remembered=_saved(day3).document["quiet_rings"])
    assert [(c.status, c.previous_ids) for c in diff.changes] == [("re-formed", ("R0001",))]


def test_a_quiet_ring_is_forgotten_after_reform_memory_reports():
    farm = Ring("R0001", 1, 0.9, tuple(people("a", 12)), 5.0, shared_devices=("emu1", "emu2"))
    config = Config(reform_memory=1)
    day1 = carry_ring_ids(_day(farm, as_of="2024-05-01T23:00:00Z"), _saved(_day(as_of="2024-04-30T23:00:00Z")),
                          config=config)
    day2 = carry_ring_ids(_day(as_of="2024-05-02T23:00:00Z"), _saved(day1), config=config)
    day3 = carry_ring_ids(_day(as_of="2024-05-03T23:00:00Z"), _saved(day2), config=config)
    assert [q["ring_id"] for q in day2.quiet_rings] == ["R0001"] and day3.quiet_rings == ()
    back = Ring("R0001", 1, 0.9, tuple(people("z", 14)), 6.0, shared_devices=("emu1", "emu2"))
    day4 = carry_ring_ids(_day(back, as_of="2024-05-04T23:00:00Z"), _saved(day3), config=config)
    assert (day4.rings[0].ring_id, day4.rings[0].status) == ("R0002", "new")
