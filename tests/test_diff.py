"""graphkit diff: each status on a pair of reports built by hand, the matching, the files and the command."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from graphkit.history import STATUSES, diff_rings, write_diff
from graphkit.errors import InputError
from graphkit_cli.main import cli


def ring(rid, members, coins=100.0, bens=()):
    return {"ring_id": rid, "members": list(members), "coins_total": coins,
            "beneficiaries": [{"user_id": b, "coins_in": 1.0} for b in bens]}


def people(prefix, n, start=0):
    return [f"{prefix}{i}" for i in range(start, start + n)]


def statuses(diff):
    return {(c.ring_id, c.previous_ids): c.status for c in diff.changes}


def test_each_status_on_a_pair_of_reports_built_by_hand():
    old = [
        ring("R1", people("s", 10)),                     # stays the same -> stable
        ring("R2", people("g", 10)),                     # grows to 15 -> grown
        ring("R3", people("k", 10)),                     # loses 4 -> shrunk
        ring("R4", people("m", 6)), ring("R5", people("n", 6)),   # come together -> merged
        ring("R6", people("p", 12)),                     # breaks in two -> split
        ring("R7", people("q", 8)),                      # disappears -> quiet
    ]
    new = [
        ring("N1", people("s", 10)),
        ring("N2", people("g", 15)),
        ring("N3", people("k", 6)),
        ring("N4", people("m", 6) + people("n", 6)),
        ring("N5", people("p", 6)), ring("N6", people("p", 6, start=6)),
        ring("N7", people("z", 9)),                      # nothing before -> new
    ]
    diff = diff_rings(old, new)
    assert statuses(diff) == {
        ("N1", ("R1",)): "stable", ("N2", ("R2",)): "grown", ("N3", ("R3",)): "shrunk",
        ("N4", ("R4", "R5")): "merged", ("N5", ("R6",)): "split", ("N6", ("R6",)): "split",
        ("N7", ()): "new", (None, ("R7",)): "quiet",
    }
    counts = diff.counts()
    assert list(counts) == list(STATUSES) and counts["split"] == 2 and counts["re-formed"] == 0
    grown = next(c for c in diff.changes if c.ring_id == "N2")
    assert grown.joined == tuple(people("g", 5, start=10)) and grown.left == () and grown.jaccard == round(10 / 15, 4)


def test_the_matching_is_one_to_one_with_the_most_overlap_in_total():
    # N1 overlaps R1 and R2 by Jaccard 0.4 each; N2 overlaps only R1 (0.35): the best total gives R1 to N2
    old = [ring("R1", people("a", 7)), ring("R2", people("b", 4))]
    new = [ring("N1", people("a", 2) + people("b", 4)), ring("N2", people("a", 5, start=2) + people("x", 1))]
    matched = {c.ring_id: c.previous_ids for c in diff_rings(old, new, min_piece=0.9).changes if c.jaccard is not None}
    assert matched == {"N1": ("R2",), "N2": ("R1",)}


def test_coins_and_beneficiaries_before_and_now():
    diff = diff_rings([ring("R1", "abcd", coins=100, bens=["h1"])], [ring("R9", "abcd", coins=250, bens=["h2"])])
    change = diff.changes[0]
    assert (change.status, change.coins_before, change.coins_after) == ("stable", 100.0, 250.0)
    assert (change.beneficiaries_before, change.beneficiaries_after) == (("h1",), ("h2",))
    assert "coins 100 -> 250" not in diff.to_markdown()  # stable rings are counted, not listed
    assert diff.to_markdown().splitlines()[2] == "1 stable."


def test_write_diff_keeps_other_files_and_refuses_a_diff_json_it_did_not_write(tmp_path):
    diff = diff_rings([ring("R1", "ab")], [])
    out = tmp_path / "diff"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    write_diff(diff, out)
    assert sorted(p.name for p in out.iterdir()) == ["diff.html", "diff.json", "diff.md", "notes.md"]
    assert json.loads((out / "diff.json").read_text())["counts"]["quiet"] == 1
    write_diff(diff, out)  # its own diff.json is replaced
    (out / "diff.json").write_text('{"mine": true}')
    with pytest.raises(InputError, match="was not written by graphkit"):
        write_diff(diff, out)
    assert (out / "diff.json").read_text() == '{"mine": true}'


def test_diff_command_on_two_reports_of_the_demo(tmp_path, fixtures_dir):
    runner = CliRunner()
    a, b = tmp_path / "a", tmp_path / "b"
    for out, extra in ((a, []), (b, ["--since", "2024-05-10"])):
        result = runner.invoke(cli, ["report", str(fixtures_dir / "demo"), "--out", str(out), "--no-html", "-q"] + extra)
        assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["diff", str(a), str(a), "--json"])
    assert result.exit_code == 0, result.output
    same = json.loads(result.output)
    assert same["counts"]["stable"] == len(json.loads((a / "rings.json").read_text())["rings"])
    assert sum(same["counts"].values()) == same["counts"]["stable"]
    result = runner.invoke(cli, ["diff", str(a), str(b), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "What changed" in result.output
    doc = json.loads((tmp_path / "d" / "diff.json").read_text())
    new_ids = [r["ring_id"] for r in json.loads((b / "rings.json").read_text())["rings"]]
    assert [c["ring_id"] for c in doc["rings"] if c["status"] != "quiet"] == new_ids


def test_diff_of_a_folder_that_is_not_a_report_is_one_line(tmp_path, fixtures_dir):
    result = CliRunner().invoke(cli, ["diff", str(fixtures_dir / "demo"), str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "not a graphkit report" in result.output


def _page_data(page):
    return json.loads(page.split('id="gk-data">', 1)[1].split("</script>", 1)[0])


def test_diff_html_colours_every_ring_by_its_status_and_links_it_to_the_rings_it_continues(tmp_path):
    from graphkit.viz.diff_page import EARLIER_COLOR, STATUS_COLORS

    old = [ring("R1", people("s", 10)), ring("R2", people("g", 10)), ring("R4", people("m", 6)),
           ring("R5", people("n", 6)), ring("R7", people("q", 8))]
    new = [ring("N1", people("s", 10)), ring("N2", people("g", 15)), ring("N4", people("m", 6) + people("n", 6)),
           ring("N7", people("z", 9))]
    write_diff(diff_rings(old, new), tmp_path / "d")
    data = _page_data((tmp_path / "d" / "diff.html").read_text(encoding="utf-8"))
    colour = dict(zip(data["nodes"]["id"], data["nodes"]["color"]))
    assert colour == {"now:N1": STATUS_COLORS["stable"], "now:N2": STATUS_COLORS["grown"],
                      "now:N4": STATUS_COLORS["merged"], "now:N7": STATUS_COLORS["new"],
                      "before:R1": EARLIER_COLOR, "before:R2": EARLIER_COLOR, "before:R4": EARLIER_COLOR,
                      "before:R5": EARLIER_COLOR, "before:R7": STATUS_COLORS["quiet"]}
    assert sorted(zip(data["edges"]["from"], data["edges"]["to"])) == [
        ("before:R1", "now:N1"), ("before:R2", "now:N2"), ("before:R4", "now:N4"), ("before:R5", "now:N4")]
    size = dict(zip(data["nodes"]["id"], data["nodes"]["size"]))
    assert size["now:N2"] > size["now:N1"]  # 15 members against 10


def test_diff_html_renders_hostile_ring_and_device_ids_inert():
    from graphkit.viz import diff_view

    evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>\u2028"
    old = [{**ring(evil, people("a", 5)), "shared_devices": [evil, "d2"]}, ring("R2", people("q", 3))]
    new = [{**ring("N1" + evil, people("z", 5)), "shared_devices": [evil, "d2"]}]
    diff = diff_rings(old, new)
    assert [c.status for c in diff.changes] == ["re-formed", "quiet"]
    markdown = diff.to_markdown(old=evil, new=evil)
    assert not re.search(r"(?<!\\)<", markdown) and "\u2028" not in markdown  # as report.md: every < escaped
    assert "device \\</script>\\<script>alert(1)" in markdown and "\\u2028" in markdown
    page = diff_view(diff.to_dict(), old=evil, new=evil)
    assert "<script>alert" not in page and "<img src=x" not in page and "\u2028" not in page
    assert page.count("</script>") == 3  # the data block, vis-network and the page's own script
    data = _page_data(page)
    assert f"now:N1{evil}" in data["nodes"]["id"] and f"before:{evil}" in data["nodes"]["id"]
    assert "&lt;img src=x" in page  # the table and the title show the text, escaped


def test_diff_html_of_ten_thousand_rings_keeps_the_changes_and_is_quick(tmp_path):
    import time

    from graphkit.viz.diff_page import STATUS_COLORS

    old = [ring(f"R{i}", [f"u{i}-{k}" for k in range(5)]) for i in range(10_000)]
    new = [ring(f"N{i}", [f"u{i}-{k}" for k in range(5)]) for i in range(9_990)]
    new += [ring(f"X{i}", [f"x{i}-{k}" for k in range(5)]) for i in range(20)]
    start = time.perf_counter()
    diff = diff_rings(old, new)
    write_diff(diff, tmp_path / "d")
    elapsed = time.perf_counter() - start
    assert diff.counts()["stable"] == 9_990 and diff.counts()["new"] == 20 and diff.counts()["quiet"] == 10
    data = _page_data((tmp_path / "d" / "diff.html").read_text(encoding="utf-8"))
    colours = data["nodes"]["color"]
    assert len(colours) == 2_000  # Config.view_max_nodes: the new and quiet rings are kept first
    assert colours.count(STATUS_COLORS["new"]) == 20 and colours.count(STATUS_COLORS["quiet"]) == 10
    assert elapsed < 60, f"{elapsed:.1f} s"  # a loose bound against a quadratic step, not a benchmark


def held(rid, members, *decisions, coins=40.0):
    return {"ring_id": rid, "members": list(members), "coins_total": coins, "overlap": 1.0, "joined": [],
            "decisions": [dict(d, members=list(members)) if "ring_id" in d else d for d in decisions]}


def test_a_group_held_back_by_a_benign_decision_is_held_back_not_quiet():
    # R1 (a fan club) was reported yesterday; an investigator cleared it, so today's report holds it back
    cleared = {"ring_id": "R1", "verdict": "benign", "note": "fans of h1", "decided_at": "2024-05-20T10:02:00Z",
               "by": "ana"}
    old = [ring("R1", people("f", 12)), ring("R2", people("a", 8))]
    new = [ring("R2", people("a", 8))]
    diff = diff_rings(old, new, held_back=[held("R1", people("f", 12), cleared)])
    assert statuses(diff) == {("R2", ("R2",)): "stable", ("R1", ("R1",)): "held_back"}
    change = next(c for c in diff.changes if c.status == "held_back")
    assert change.decisions == ({k: cleared[k] for k in ("ring_id", "verdict", "note", "decided_at", "by")},)
    assert change.size == 12 and change.left == () and change.joined == ()
    doc = diff.to_dict()
    assert doc["counts"]["held_back"] == 1 and doc["counts"]["quiet"] == 0
    assert doc["rings"][1]["decisions"][0]["note"] == "fans of h1"
    assert "- R1 (R1 before) is held back, not reported (12 accounts): R1 judged benign by ana on " \
           "2024-05-20T10:02:00Z (\"fans of h1\")" in diff.to_markdown()
    # held back again the day after: still held_back, continuing its held-back self; a group held back
    # yesterday that is gone today is not "quiet" (it was never reported)
    again = diff_rings(new, new, held_back=[held("R1", people("f", 11), cleared)],
                       held_back_before=[held("R1", people("f", 12), cleared), held("R9", people("x", 5))])
    assert statuses(again) == {("R2", ("R2",)): "stable", ("R1", ("R1",)): "held_back"}
    # a group held back yesterday and reported again today (it grew) continues its held-back self
    back = diff_rings(new, [ring("R1", people("f", 16)), *new], held_back_before=[held("R1", people("f", 12), cleared)])
    assert statuses(back) == {("R1", ("R1",)): "grown", ("R2", ("R2",)): "stable"}
    # without the held-back groups (as before this status existed), the cleared ring reads as quiet
    assert statuses(diff_rings(old, new))[(None, ("R1",))] == "quiet"


def test_a_held_back_decision_is_escaped_in_diff_md_and_diff_html(tmp_path):
    from graphkit.viz.diff_page import STATUS_COLORS

    evil = "</script><img src=x onerror=alert(1)>*[x](http://e.vil)\u2028"
    decision = {"ring_id": evil, "verdict": "benign", "note": evil, "decided_at": "2024-05-20T10:02:00Z", "by": evil}
    diff = diff_rings([ring(evil, people("f", 6))], [], held_back=[held(evil, people("f", 6), decision)])
    assert [c.status for c in diff.changes] == ["held_back"]
    markdown = diff.to_markdown()
    assert not re.search(r"(?<!\\)[<\[*]", markdown) and "\u2028" not in markdown and "http://" not in markdown
    write_diff(diff, tmp_path / "d")
    page = (tmp_path / "d" / "diff.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<script>alert" not in page and "\u2028" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the decision column shows the note, escaped
    data = _page_data(page)
    assert dict(zip(data["nodes"]["id"], data["nodes"]["color"]))[f"now:{evil}"] == STATUS_COLORS["held_back"]


def test_diff_command_lists_the_group_the_demo_labels_held_back(tmp_path, fixtures_dir):
    runner = CliRunner()
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    for args in (["--out", str(day1), "--until", "2024-05-20"],
                 ["--out", str(day2), "--previous", str(day1), "--labels", str(fixtures_dir / "demo-labels.csv")]):
        result = runner.invoke(cli, ["report", str(fixtures_dir / "demo"), "--no-html", "-q", *args])
        assert result.exit_code == 0, result.output
    held_ids = [h["ring_id"] for h in json.loads((day2 / "rings.json").read_text())["held_back"]]
    assert held_ids == ["R0006"]
    result = runner.invoke(cli, ["diff", str(day1), str(day2), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    r6 = [c for c in doc["rings"] if "R0006" in c["previous_ids"] or c["ring_id"] == "R0006"]
    assert [(c["status"], c["ring_id"], c["previous_ids"]) for c in r6] == [("held_back", "R0006", ["R0006"])]
    assert r6[0]["decisions"][0] == {"ring_id": "R0006", "verdict": "benign", "note": "school team cheering together",
                                     "decided_at": "2024-05-20T10:30:00Z", "by": "ana"}
    result = runner.invoke(cli, ["diff", str(day1), str(day2)])
    assert result.exit_code == 0 and "held_back" in result.output and "1 held_back" in result.output
