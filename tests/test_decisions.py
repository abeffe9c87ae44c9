"""Investigators' decisions: benign groups held back while materially the same, confirmed rings tracked, the
audit trail carried forward (graphkit.history.decisions, report --labels), and eval --labels."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.evaluate import evaluate_decisions
from graphkit.config import Config
from graphkit.history import (
    apply_decisions,
    continue_report,
    carried_decisions,
    carry_ring_ids,
    decisions_from_labels,
    known_ring_ids,
    merge_decisions,
    with_held_back,
)
from graphkit.model import Decision, Report, Ring
from graphkit.report import SavedReport, write_report
from graphkit.report.markdown import render_markdown
from graphkit.report.redact import redact_report
from graphkit.viz import Redactor
from graphkit_cli.main import cli


def _ids(prefix, n):
    return tuple(f"{prefix}{i:02d}" for i in range(n))


def _report(*rings: Ring, summary=None) -> Report:
    members = [(m, r.ring_id) for r in rings for m in r.members]
    scores = pl.DataFrame({"user_id": [m for m, _ in members] + ["loner"], "score": [0.9] * len(members) + [0.1],
                           "ring_id": [r for _, r in members] + [None], "role": ["member"] * len(members) + [None]},
                          schema={"user_id": pl.Utf8, "score": pl.Float64, "ring_id": pl.Utf8, "role": pl.Utf8})
    return Report(tuple(rings), scores, {}, summary or {"rings": len(rings), "as_of": "2024-05-10T00:00:00Z"})


FANS = _ids("f", 10)
FARM = _ids("a", 8)


def test_a_group_judged_benign_is_held_back_while_it_grows_by_at_most_benign_max_growth():
    cleared = Decision("benign", ring_id="R0004", by="ana", decided_at="2024-05-02T00:00:00Z", note="fan club",
                       members=FANS)
    farm = Ring("R0001", 1, 0.9, FARM, 10.0)
    # 2 new accounts on a cleared group of 10: 20%, at the bar -> still held back
    fans = Ring("R0002", 2, 0.5, FANS + ("new1", "new2"), 5.0)
    after = apply_decisions(_report(farm, fans), [cleared], min_jaccard=0.5, max_growth=0.2)
    assert [r.ring_id for r in after.rings] == ["R0001"]
    (held,) = after.held_back
    assert (held.ring_id, held.joined, held.overlap, held.decisions) == ("R0002", ("new1", "new2"), round(10 / 12, 4),
                                                                         (cleared,))
    assert "R0004 was judged benign by ana on 2024-05-02" in held.reason() and "2 joined since" in held.reason()
    assert after.summary["rings"] == 1 and after.summary["held_back"] == 1
    # the held-back group's accounts are in no ring of scores.csv any more; the others keep theirs
    rings_of = dict(after.user_scores.select("user_id", "ring_id").rows())
    assert rings_of["f00"] is None and rings_of["a00"] == "R0001"
    # a third new account is more than 20%: reported again, and its reasons say why
    grown = Ring("R0002", 1, 0.5, FANS + ("new1", "new2", "new3"), 5.0)
    again = apply_decisions(_report(grown), [cleared], min_jaccard=0.5, max_growth=0.2)
    assert again.held_back == () and [r.ring_id for r in again.rings] == ["R0002"]
    assert again.rings[0].reasons[-1] == ("Judged benign by an investigator on 2024-05-02 (as R0004), reported again: "
                                          "3 accounts joined since, more than 20% of the cleared group")
    assert again.rings[0].decisions == (cleared,)


def test_a_group_that_overlaps_the_cleared_one_too_little_is_not_covered_by_the_decision():
    cleared = Decision("benign", ring_id="R0004", members=FANS)
    half = Ring("R0001", 1, 0.5, FANS[:4] + _ids("z", 4), 5.0)  # Jaccard 4/14
    after = apply_decisions(_report(half), [cleared], min_jaccard=0.5, max_growth=0.2)
    assert after.held_back == () and after.rings[0].decisions == () and after.rings[0].reasons == ()


def test_decisions_about_accounts_hold_back_a_group_made_of_them_unless_one_member_is_confirmed():
    benign = [Decision("benign", user_id=m, by="ana") for m in FANS]
    fans = Ring("R0001", 1, 0.5, FANS + ("h1",), 5.0)  # 1 new per 10 decided
    after = apply_decisions(_report(fans), benign, min_jaccard=0.5, max_growth=0.2)
    assert [h.ring_id for h in after.held_back] == ["R0001"] and after.held_back[0].joined == ("h1",)
    caught = [*benign, Decision("confirmed", user_id="h1", by="bo")]
    kept = apply_decisions(_report(fans), caught, min_jaccard=0.5, max_growth=0.2)
    assert kept.held_back == () and kept.rings[0].ring_id == "R0001"
    assert "1 member judged confirmed by investigators: h1" in kept.rings[0].reasons


def test_a_confirmed_ring_is_followed_and_its_new_members_are_named():
    confirmed = Decision("confirmed", ring_id="R0007", by="bo", decided_at="2024-05-03T00:00:00Z", members=FARM)
    grown = Ring("R0001", 1, 0.9, FARM + ("b1", "b2"), 10.0)
    after = apply_decisions(_report(grown), [confirmed])
    ring = after.rings[0]
    assert ring.new_members == ("b1", "b2") and ring.decisions == (confirmed,)
    assert ring.reasons[-1] == ("Confirmed as a ring by an investigator on 2024-05-03 (as R0007); "
                                "2 accounts joined since: b1, b2")
    entry = ring.to_dict()
    assert entry["new_members"] == ["b1", "b2"] and entry["decisions"][0]["by"] == "bo"
    # with --previous, a ring that kept the confirmed ring's id is followed even after it doubled
    doubled = Ring("R0007", 1, 0.9, FARM + _ids("c", 9), 10.0, status="grown", previous_ids=("R0007",))
    followed = apply_decisions(_report(doubled), [confirmed]).rings[0]
    assert followed.new_members == _ids("c", 9)


def test_the_latest_decision_holds_and_at_equal_times_the_labels_file_wins():
    old = Decision("benign", ring_id="R0004", decided_at="2024-05-02T00:00:00Z", members=FANS)
    later = Decision("confirmed", ring_id="R0004", decided_at="2024-05-09T00:00:00Z", members=FANS)
    fans = Ring("R0001", 1, 0.5, FANS, 5.0)
    assert apply_decisions(_report(fans), [later, old]).held_back == ()  # the order of the trail does not matter
    assert len(apply_decisions(_report(fans), [later, old]).rings[0].decisions) == 2
    undated = Decision("benign", ring_id="R0004", members=FANS)
    assert apply_decisions(_report(fans), [undated, later]).held_back == ()
    same_time = Decision("benign", ring_id="R0004", decided_at="2024-05-09T00:00:00Z", members=FANS)
    assert [h.ring_id for h in apply_decisions(_report(fans), [later, same_time]).held_back] == ["R0001"]


def _saved(report: Report) -> SavedReport:
    return SavedReport(None, json.loads(json.dumps(report.to_json_dict("graphkit test"))), pl.DataFrame())


def test_decisions_carry_forward_and_a_held_back_group_keeps_its_id_the_next_day():
    day1 = carry_ring_ids(_report(Ring("R0001", 1, 0.9, FARM, 1.0), Ring("R0002", 2, 0.5, FANS, 1.0)),
                          SavedReport(None, {"summary": {}, "rings": []}, pl.DataFrame()))
    labels = pl.DataFrame({"ring_id": [day1.rings[1].ring_id], "user_id": [None], "verdict": ["benign"],
                           "note": ["fans"], "decided_at": [None], "by": ["ana"]},
                          schema={"ring_id": pl.Utf8, "user_id": pl.Utf8, "verdict": pl.Utf8, "note": pl.Utf8,
                                  "decided_at": pl.Datetime("us", "UTC"), "by": pl.Utf8})
    decided = decisions_from_labels(labels, _saved(day1))
    assert decided[0].members == FANS  # the ring's members when it was judged
    day2 = apply_decisions(carry_ring_ids(_report(Ring("R0001", 1, 0.9, FARM, 1.0), Ring("R0002", 2, 0.5, FANS, 1.0)),
                                          _saved(day1)), decided)
    held_id = day2.held_back[0].ring_id
    assert held_id == day1.rings[1].ring_id
    saved2 = _saved(day2)
    assert carried_decisions(saved2) == decided and held_id in known_ring_ids(saved2)
    # day 3: no labels file; the trail of day 2 still holds the group back, under the same id
    today = carry_ring_ids(_report(Ring("R0001", 1, 0.5, FANS, 1.0), Ring("R0002", 2, 0.9, FARM, 1.0)),
                           with_held_back(saved2))
    day3 = apply_decisions(today, merge_decisions(carried_decisions(saved2), ()))
    assert [h.ring_id for h in day3.held_back] == [held_id]
    assert [r.ring_id for r in day3.rings] == [day1.rings[0].ring_id] and day3.ring_counter == day2.ring_counter
    # the same labels file given again adds nothing to the trail
    assert merge_decisions(carried_decisions(saved2), decisions_from_labels(labels, saved2)) == decided


def test_accounts_held_back_under_a_decision_are_not_new_the_next_day_but_unseen_ones_still_are():
    """A fan club's regulars who were away the day it was cleared come back: once they were held back with it
    (the earlier report's held_back), they count as decided on; an account never seen in it still counts new."""
    config = Config(decision_min_jaccard=0.5, benign_max_growth=0.2)
    decided = (Decision("benign", ring_id="R0004", by="ana", decided_at="2024-05-02T00:00:00Z", note="fans",
                        members=FANS[:8]),)
    # day 2: two of the decided fans are away, one regular the decision never saw (f08) comes: 1 new of 8, held
    day2 = continue_report(_report(Ring("R0002", 1, 0.5, FANS[:6] + ("f08",), 1.0)), None, decided, config)
    assert [h.joined for h in day2.held_back] == [("f08",)]
    saved2 = _saved(day2)
    # day 3: everyone is back, and f09 comes for the first time: f08 was held back yesterday, so only f09 is new
    # (1 of 9); without the earlier report's held_back, f08 and f09 would be 2 new of 8, more than 20%
    day3_group = Ring("R0002", 1, 0.5, FANS, 1.0)
    day3 = continue_report(_report(day3_group), saved2, None, config)
    assert day3.rings == () and [h.joined for h in day3.held_back] == [("f09",)]
    forgetful = apply_decisions(_report(day3_group), carried_decisions(saved2), min_jaccard=0.5, max_growth=0.2)
    assert forgetful.held_back == () and "2 accounts joined since" in forgetful.rings[0].reasons[-1]
    # two accounts never seen with the club (of 9 covered): more than 20%, reported again
    strangers = Ring("R0002", 1, 0.5, FANS[:9] + ("s1", "s2"), 1.0)
    again = continue_report(_report(strangers), saved2, None, config)
    assert again.held_back == () and "2 accounts joined since" in again.rings[0].reasons[-1]
    # the audit trail keeps the decision's members as they were decided on
    assert [d.members for d in day3.decisions] == [FANS[:8]]


def test_the_report_files_list_what_was_held_back_and_why_escaped_and_redacted(tmp_path):
    cleared = Decision("benign", ring_id="R0004", by="[ana](http://x.y)", decided_at="2024-05-02T00:00:00Z",
                       note="<script>alert(1)</script> fans", members=FANS)
    after = apply_decisions(_report(Ring("R0001", 1, 0.9, FARM, 10.0), Ring("R0002", 2, 0.5, FANS, 5.0)), [cleared])
    markdown = render_markdown(after)
    assert "## Investigators' decisions" in markdown and "| R0002 | 0.50 | 10 |" in markdown
    assert not re.search(r"(?<!\\)<script>", markdown) and "\\<script>" in markdown and "\\[ana\\](http\\://x.y)" in markdown
    files = write_report(after, tmp_path / "out", html=False)
    doc = json.loads(files.rings_json.read_text())
    assert doc["summary"]["held_back"] == 1 and [h["ring_id"] for h in doc["held_back"]] == ["R0002"]
    assert doc["held_back"][0]["decisions"][0]["note"] == cleared.note and doc["decisions"][0]["members"] == list(FANS)
    assert "f00" not in (tmp_path / "out" / "members.csv").read_text()
    # the redacted copy names no account and keeps neither the note nor who decided
    red = redact_report(after, Redactor(b"k" * 32))
    text = json.dumps(red.to_json_dict("graphkit test"))
    assert not any(f'"{m}"' in text for m in FANS + FARM) and "fans" not in text and "ana" not in text
    assert red.held_back[0].decisions[0].verdict == "benign"


def test_without_decisions_rings_json_has_neither_held_back_nor_decisions():
    doc = _report(Ring("R0001", 1, 0.9, FARM, 10.0)).to_json_dict("graphkit test")
    assert "held_back" not in doc and "decisions" not in doc and "new_members" not in doc["rings"][0]


# --- eval --labels ------------------------------------------------------------------------------------------------


def test_precision_at_k_counts_judged_rings_only_and_account_measures_use_decided_accounts():
    decided = [Decision("confirmed", ring_id="R1"), Decision("benign", ring_id="R2"),
               Decision("unsure", ring_id="R3"), Decision("benign", ring_id="R4", decided_at="2024-05-01T00:00:00Z"),
               Decision("confirmed", ring_id="R4", decided_at="2024-05-02T00:00:00Z")]
    scores = pl.DataFrame({"user_id": ["p1", "p2", "n1", "n2", "x"], "score": [0.9, 0.3, 0.4, 0.1, 0.99]})
    users = [Decision("confirmed", user_id="p1"), Decision("confirmed", user_id="p2"),
             Decision("benign", user_id="n1"), Decision("benign", user_id="n2"), Decision("unsure", user_id="x")]
    ev = evaluate_decisions(["R1", "R2", "R3", "R4", "R5"], scores, decided + users, ks=(1, 2, 3))
    assert ev.ring_precision_at == {1: 1.0, 2: 0.5, 3: 0.5, 5: 2 / 3}
    assert ev.rings_judged_at == {1: 1, 2: 2, 3: 2, 5: 3}
    assert (ev.rings_confirmed, ev.rings_benign, ev.rings_unsure) == (2, 1, 1)
    # positives 0.9, 0.3 against negatives 0.4, 0.1: 3 of 4 pairs ordered -> AUC 0.75 (x, unsure, is left out)
    assert ev.user_auc == 0.75 and ev.user_average_precision == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert (ev.users_confirmed, ev.users_benign, ev.users_unsure) == (2, 2, 1)


@pytest.fixture
def judged_report(tmp_path):
    report = _report(Ring("R0001", 1, 0.9, FARM, 10.0), Ring("R0002", 2, 0.5, FANS, 5.0))
    write_report(report, tmp_path / "out", html=False)
    return tmp_path / "out"


def test_eval_with_labels_alone_or_with_truth_and_bad_labels_exit_2(judged_report, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("ring_id,user_id,verdict\nR0001,,confirmed\nR0002,,benign\n,a00,confirmed\n,loner,benign\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", str(judged_report), "--labels", str(labels), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)["decisions"]
    assert got["ring_precision_at"] == {"2": 0.5} and got["user_auc"] == 1.0
    assert "ring_recall" not in json.loads(result.output)  # no ground truth given: no ground-truth measures
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"rings": [{"ring_id": "T1", "kind": "account_farm", "members": list(FARM)}]}))
    both = runner.invoke(cli, ["eval", str(judged_report), "--labels", str(labels), "--truth", str(truth), "--json"])
    assert both.exit_code == 0, both.output
    assert json.loads(both.output)["ring_recall"] == 1.0 and "decisions" in json.loads(both.output)
    table = runner.invoke(cli, ["eval", str(judged_report), "--labels", str(labels)])
    assert table.exit_code == 0 and "rings against investigators' decisions" in table.output
    neither = runner.invoke(cli, ["eval", str(judged_report)])
    assert neither.exit_code == 2 and "--truth FILE, --labels FILE or both" in neither.output
    labels.write_text("ring_id,verdict\nR0003,benign\n")
    bad = runner.invoke(cli, ["eval", str(judged_report), "--labels", str(labels)])
    assert bad.exit_code == 2 and "row 1, column ring_id: unknown ring_id" in bad.output
    assert "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1


# --- graphkit report --labels, end to end on the demo ---------------------------------------------------------------


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_report_with_labels_holds_back_benign_groups_tracks_confirmed_rings_and_carries_decisions(tmp_path, fixtures_dir):
    demo = fixtures_dir / "demo"
    day1, day2, day3 = tmp_path / "day1", tmp_path / "day2", tmp_path / "day3"
    _run("report", demo, "--out", day1, "--until", "2024-05-20", "--no-html", "-q")
    before = {r["ring_id"]: set(r["members"]) for r in json.loads((day1 / "rings.json").read_text())["rings"]}
    confirmed, *benign = before
    labels = tmp_path / "labels.csv"
    labels.write_text("ring_id,user_id,verdict,note,decided_at,by\n"
                      f"{confirmed},,confirmed,farm,2024-05-20T09:00:00Z,bo\n"
                      + "".join(f"{r},,benign,looks organic,2024-05-20T10:00:00Z,ana\n" for r in benign))
    out = _run("report", demo, "--out", day2, "--previous", day1, "--labels", labels, "--no-html").output
    doc = json.loads((day2 / "rings.json").read_text())
    held = {h["ring_id"]: h for h in doc["held_back"]}
    assert held and "Held back" in out and doc["summary"]["held_back"] == len(held)
    # every group judged benign is held back while materially the same, else reported saying why: none vanishes
    for ring_id in benign:
        decided = before[ring_id]
        if ring_id in held:
            group = set(held[ring_id]["members"])
            assert len(group & decided) / len(group | decided) >= 0.5 and len(group - decided) <= 0.2 * len(decided)
            assert held[ring_id]["decisions"][0]["by"] == "ana" and "judged benign" in held[ring_id]["reason"]
        else:
            again = [r for r in doc["rings"] if any(d.get("ring_id") == ring_id for d in r["decisions"])]
            assert all(any("reported again" in reason for reason in r["reasons"]) for r in again)
    assert any(any("reported again" in reason for reason in r["reasons"]) for r in doc["rings"])
    # the confirmed ring is followed: its new members are the accounts it did not have when it was confirmed
    (tracked,) = [r for r in doc["rings"] if any(d.get("verdict") == "confirmed" for d in r["decisions"])]
    assert tracked["new_members"] == sorted(set(tracked["members"]) - before[confirmed])
    assert [r["rank"] for r in doc["rings"]] == list(range(1, len(doc["rings"]) + 1))
    assert doc["summary"]["rings"] == len(doc["rings"])
    assert doc["summary"]["accounts_in_rings"] == sum(r["size"] for r in doc["rings"])
    members = (day2 / "members.csv").read_text()
    assert not any(f",{m}," in members for h in held.values() for m in h["members"])
    assert "## Investigators' decisions" in (day2 / "report.md").read_text()
    # benign_max_growth is a setting: a looser one holds back the groups that grew too
    (tmp_path / "loose.toml").write_text("[params]\nbenign_max_growth = 1.0\n")
    _run("report", demo, "--out", tmp_path / "loose", "--previous", day1, "--labels", labels, "--no-html", "-q",
         "--config", tmp_path / "loose.toml")
    loose = json.loads((tmp_path / "loose" / "rings.json").read_text())
    assert loose["params"]["benign_max_growth"] == 1.0 and len(loose["held_back"]) > len(held)
    # the next day, without --labels, the decisions still hold, under the same ids
    _run("report", demo, "--out", day3, "--previous", day2, "--no-html", "-q")
    doc3 = json.loads((day3 / "rings.json").read_text())
    assert sorted(h["ring_id"] for h in doc3["held_back"]) == sorted(held) and doc3["decisions"] == doc["decisions"]
    # a held-back group can be asked about by its id: show says why it is held back, expand draws its accounts
    held_id = sorted(held)[0]
    shown = _run("show", held_id, "--report", day2).output
    assert f"{held_id}: held back, not reported as a ring" in shown and "judged benign" in shown
    _run("expand", held_id, "--report", day2, "--out", tmp_path / "held.html", "--json")
    assert (tmp_path / "held.html").is_file()


def test_a_bad_labels_file_fails_the_run_in_one_line_keeps_the_previous_report_and_the_rejected_rows(
        tmp_path, fixtures_dir):
    demo = fixtures_dir / "demo"
    out = tmp_path / "out"
    _run("report", demo, "--out", out, "--until", "2024-05-10", "--no-html", "-q")
    before = (out / "rings.json").read_bytes()
    labels = tmp_path / "labels.csv"
    labels.write_text("ring_id,user_id,verdict\nR0001,,benign\n,u000001,fine\n,nobody,benign\n")
    result = CliRunner().invoke(cli, ["report", str(demo), "--out", str(out), "--labels", str(labels), "-q"])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert f"{labels}: 3 of 3 rows rejected; row 1, column ring_id: unknown ring_id" in line
    assert "none was given" in line and f"{out}.rejected/labels.csv" in line and "kept as it was" in line
    assert (out / "rings.json").read_bytes() == before
    rejected = pl.read_csv(tmp_path / "out.rejected" / "labels.csv", infer_schema=False)
    assert rejected["reason"].to_list() == ["unknown ring_id", "unknown verdict", "unknown user_id"]


def test_the_decision_settings_are_checked_and_go_into_params():
    from graphkit.config import Config
    from graphkit.errors import ConfigError

    params = Config().to_params()
    assert params["decision_min_jaccard"] == 0.5 and params["benign_max_growth"] == 0.2
    with pytest.raises(ConfigError, match="decision_min_jaccard"):
        Config(decision_min_jaccard=0)
    with pytest.raises(ConfigError, match="benign_max_growth"):
        Config(benign_max_growth=-0.1)


_POOL = [f"p{i}" for i in range(14)]


@st.composite
def _rings_and_decisions(draw):
    accounts = draw(st.permutations(_POOL))
    cuts = sorted(draw(st.lists(st.integers(1, len(_POOL) - 1), max_size=4, unique=True)))
    groups = [g for g in (accounts[a:b] for a, b in zip([0, *cuts], [*cuts, len(_POOL)])) if len(g) >= 2]
    rings = [Ring(f"R{i:04d}", i + 1, 1.0 - i / 10, tuple(sorted(g)), 1.0) for i, g in enumerate(groups)]
    verdicts = st.sampled_from(["confirmed", "benign", "unsure"])
    days = st.sampled_from([None, "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"])
    ring_decisions = []
    for _ in range(draw(st.integers(0, 4))):  # a decision about an earlier form of a group: a few accounts off
        base = set(draw(st.sampled_from([r.members for r in rings]))) if rings else set()
        base -= draw(st.sets(st.sampled_from(_POOL), max_size=2))
        base |= draw(st.sets(st.sampled_from(_POOL), max_size=2))
        if base:
            ring_decisions.append(Decision(draw(verdicts), ring_id=f"X{draw(st.integers(0, 3))}", decided_at=draw(days),
                                           members=tuple(sorted(base))))
    user_decisions = draw(st.lists(st.builds(lambda v, u, day: Decision(v, user_id=u, decided_at=day),
                                             verdicts, st.sampled_from(_POOL), days), max_size=10))
    return rings, ring_decisions + user_decisions


def _held_by_rule(group, decisions, min_jaccard, max_growth):
    """The documented rule, restated with plain sets: latest decision per target, then benign holds and
    confirmed vetoes."""
    latest = {}
    for i, d in sorted(enumerate(decisions), key=lambda e: (e[1].decided_at or "", e[0])):
        latest[d.ring_id or "user:" + d.user_id] = d
    ring_ds = [d for d in latest.values() if d.ring_id]
    user_ds = {d.user_id: d.verdict for d in latest.values() if d.user_id}
    jac = [(d, len(group & set(d.members)) / len(group | set(d.members))) for d in ring_ds]
    if any(d.verdict == "confirmed" and j >= min_jaccard for d, j in jac):
        return False
    if any(user_ds.get(m) == "confirmed" for m in group):
        return False
    by_ring = any(d.verdict == "benign" and j >= min_jaccard and len(group - set(d.members)) <= max_growth * len(d.members)
                  for d, j in jac)
    cleared = {m for m in group if user_ds.get(m) == "benign"}
    by_users = bool(cleared) and len(cleared) / len(group) >= min_jaccard and len(group - cleared) <= max_growth * len(cleared)
    return by_ring or by_users


@settings(max_examples=60, deadline=None)
@given(_rings_and_decisions(), st.sampled_from([0.3, 0.5, 0.8]), st.sampled_from([0.0, 0.2, 1.0]))
def test_every_group_is_either_reported_or_held_back_exactly_as_the_rule_says(case, min_jaccard, max_growth):
    rings, decisions = case
    after = apply_decisions(_report(*rings), decisions, min_jaccard=min_jaccard, max_growth=max_growth)
    kept, held = [r.ring_id for r in after.rings], [h.ring_id for h in after.held_back]
    assert sorted(kept + held) == [r.ring_id for r in rings]  # nothing disappears
    assert [r.rank for r in after.rings] == list(range(1, len(kept) + 1))
    for ring in rings:
        assert (ring.ring_id in held) == _held_by_rule(set(ring.members), decisions, min_jaccard, max_growth)
    for group in after.held_back:
        assert group.decisions and all(d.verdict == "benign" for d in group.decisions)
