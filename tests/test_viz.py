"""HTML views without a browser: escaping, offline-ness, caps, redaction, files."""

from __future__ import annotations

import base64
import dataclasses
import html
import hashlib
import json
import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import Config
from graphkit.errors import InputError
from graphkit.model import Ring
from graphkit.viz.evidence_page import ROLE_SIZES
from graphkit.viz.network import GROUP_COLORS
from graphkit.viz import LegendItem, Redactor, TableBlock, overview, render_network, ring_view, script_json, write_views
from views_fixtures import XSS, XSS_DEVICE, report, tables


def _frames(n: int = 3, label: str = "x"):
    ids = [f"n{i}" for i in range(n)]
    nodes = pl.DataFrame({"id": ids, "label": [f"{label}{i}" for i in range(n)], "type": ["account"] * n,
                          "group": ["member"] * n, "size": [10.0] * n, "tooltip": [f"tip {label}" for _ in ids],
                          "importance": [float(i) for i in range(n)]})
    edges = pl.DataFrame({"source": ids[:-1], "target": ids[1:], "relation": ["gifted"] * (n - 1),
                          "width": [1.0] * (n - 1), "tooltip": [label] * (n - 1)})
    return nodes, edges


def _data(page: str) -> dict:
    return json.loads(page.split('id="gk-data">', 1)[1].split("</script>", 1)[0])


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.text(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=8))
def test_script_json_round_trips_and_cannot_break_out(value):
    text = script_json(value)
    assert json.loads(text) == value
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}


def test_every_data_string_is_escaped_and_no_markup_survives():
    evil = "</script><script>alert(1)</script><!--"
    nodes, edges = _frames(label=evil)
    page = render_network(nodes, edges, title=evil, panel=[(evil, [evil])], notes=[evil],
                          legend=[LegendItem(evil, '"><x', "dot")],
                          table=TableBlock(columns=(evil,), rows=((evil,),), links=("rings/a.html",)))
    assert evil not in page and "alert(1)</script>" not in page
    assert page.count("</script>") == 3  # closes the data block, vis-network, the view's own script: no more
    assert page.count("&lt;/script&gt;&lt;script&gt;alert(1)") >= 5  # title x2, heading, line, note, legend, cell
    assert _data(page)["nodes"]["label"][0] == evil + "0"
    assert 'style="background:#999999"' in page  # a colour that is not a colour is not written


def test_page_is_offline_and_only_its_own_scripts_may_run():
    page = render_network(*_frames(), title="t")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "cdn" not in page.lower().replace("cdnjs", "")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 2
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_cap_keeps_the_most_important_and_says_what_was_left_out():
    nodes, edges = _frames(10)
    nodes = nodes.with_columns(pl.Series("pinned", [True] + [False] * 9))
    page = render_network(nodes, edges, title="t", max_nodes=4)
    data = _data(page)
    assert data["nodes"]["id"] == ["n0", "n7", "n8", "n9"]  # the pinned one, then by importance
    assert data["edges"]["from"] == ["n7", "n8"]
    assert "Showing the 4 most important of 10 nodes" in page and "left out: 6 account" in page
    assert data["options"]["physics"]["enabled"] is True
    assert _data(render_network(nodes, edges, title="t", physics_max_nodes=5))["options"]["physics"]["enabled"] is False


def test_pages_are_deterministic():
    nodes, edges = _frames(50)
    assert render_network(nodes, edges, title="t", seed=3) == render_network(nodes, edges, title="t", seed=3)
    r = report()
    assert ring_view(r.rings[0], r.tables, r.user_scores) == ring_view(r.rings[0], r.tables, r.user_scores)


def test_bad_frames_are_one_line_errors():
    nodes, edges = _frames()
    with pytest.raises(InputError, match="nodes frame lacks column"):
        render_network(nodes.drop("tooltip"), edges, title="t")
    with pytest.raises(InputError, match="duplicate ids"):
        render_network(pl.concat([nodes, nodes]), edges, title="t")


def test_ring_view_shows_members_evidence_and_roles():
    r = report()
    page = ring_view(r.ring("R0001"), r.tables, r.user_scores)
    data = _data(page)["nodes"]
    ids = set(data["id"])
    assert {f"account:{m}" for m in r.ring("R0001").members} <= ids
    assert {"device:d1", f"device:{XSS_DEVICE}", "ip:10.0.0.1", "stream:s1", "account:u8"} <= ids
    by_id = dict(zip(data["id"], zip(data["shape"], data["color"], data["tip"])))
    assert by_id["account:h1"][0] == "star" and by_id["device:d1"][0] == "square" and by_id["ip:10.0.0.1"][0] == "triangle"
    assert "ring: R0001 (beneficiary)" in by_id["account:h1"][2]
    assert "age at the first gift it sent: 5 days" in by_id["account:u1"][2]
    assert "ring reasons:\n- 3 accounts share device d1" in by_id["account:u1"][2]
    assert "ring: R0002 (member)" in by_id["account:u8"][2] and "reached in 1 hop: received gifts from h1" in by_id["account:u8"][2]
    assert by_id["account:u8"][1] != by_id["account:u1"][1]  # in another ring: coloured by risk, not role


def test_write_views_writes_index_and_one_page_per_ring(tmp_path):
    written = write_views(report(), tmp_path / "out", top=1)
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == ["index.html", "rings/R0001.html"]
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<a href="rings/R0001.html">R0001</a>' in index
    assert "1 lower-scoring rings are in rings.json but not drawn here." in index


def test_overview_links_rings_by_money_and_shared_identifiers():
    r = report()
    data = _data(overview(r))
    assert data["nodes"]["id"] == ["R0001", "R0002"]
    assert list(zip(data["edges"]["from"], data["edges"]["to"])) == [("R0001", "R0002")]  # h1 gifted u8
    assert data["links"] == {"R0001": "rings/R0001.html", "R0002": "rings/R0002.html"}


def test_unsafe_ring_ids_are_refused(tmp_path):
    r = report()
    bad = Ring(ring_id="../../x", rank=1, score=0.5, members=("u1",), coins_total=0.0)
    with pytest.raises(InputError, match="cannot be a file name"):
        write_views(type(r)(rings=(bad,), user_scores=r.user_scores, params={}, summary={}, tables=r.tables), tmp_path)


def test_redacted_views_carry_no_id_from_the_data(tmp_path):
    red = Redactor(bytes.fromhex("cd" * 32))
    write_views(report(), tmp_path, redactor=red)
    for page in ["index.html", "rings/R0001.html", "rings/R0002.html"]:
        text = (tmp_path / page).read_text(encoding="utf-8")
        visible = text.split("<body>", 1)[1].split('<script type="application/json"', 1)[0]
        data = _data(text)
        for part in ("nodes", "edges"):  # colours are graphkit's own hex codes ("#a5d8d0"), not data
            data[part].pop("color")
        shown = json.dumps(data, ensure_ascii=False) + html.unescape(re.sub(r"<[^>]+>", " ", visible))
        for raw in ("u1", "u8", "h1", "h2", "d1", "d8", "10.0.0.1", "window.__xss", "onerror"):
            assert raw not in shown, (page, raw)
    ring1 = (tmp_path / "rings" / "R0001.html").read_text(encoding="utf-8")
    assert f"96% of the ring&#x27;s coins go to {red.pseudonym('h1')}; {red.pseudonym(XSS)} sent 1,200" in ring1


def test_redactor_replaces_whole_ids_only():
    red = Redactor(b"k" * 32)
    text = red.text("u1 sent to u10 and u1's host; device u1", [("account", "u1"), ("device", "u1")])
    assert text.split()[0] == red.pseudonym("u1") and "u10" in text
    assert red.series(pl.Series(["u1", None, "u1"])).to_list() == [red.pseudonym("u1"), None, red.pseudonym("u1")]
    with pytest.raises(Exception, match="at least 16 bytes"):
        Redactor(b"short")


def test_show_embeds_the_page_in_a_sandboxed_iframe(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    from graphkit.viz import show

    page = render_network(*_frames(label=XSS), title="t")
    show(page, height=300)
    (obj,) = shown
    assert obj.data.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;') and 'sandbox="allow-scripts"' in obj.data
    assert XSS not in obj.data and "height:300px" in obj.data


def test_views_use_the_view_settings_of_the_report():
    r = report()
    page = ring_view(r.ring("R0001"), r.tables, r.user_scores, config=Config(view_max_nodes=6))
    nodes = _data(page)["nodes"]
    assert len([p for p in nodes["part"] if p != "s"]) == 6 and "more nodes were reached and left out" in page
    assert tables().users.height == 9


def test_write_views_draws_each_ring_as_ring_view_does_on_the_whole_platform(tmp_path):
    """write_views walks only the edges around the rings; the pages must not change for it."""
    from graphkit import Config, analyze, read_tables

    demo = analyze(read_tables(__import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "demo"), Config())
    write_views(demo, tmp_path, top=3)
    for ring in demo.rings[:3]:
        whole = ring_view(ring, demo.tables, demo.user_scores, user_features=demo.user_features, config=Config())
        assert (tmp_path / "rings" / f"{ring.ring_id}.html").read_text(encoding="utf-8") == whole


def test_ring_view_draws_members_big_by_role_and_collapses_context_by_kind():
    """Issue 18 item 20: the ring stands out; its context is faded and collapsed into counted groups."""
    r = report()
    ring = r.ring("R0001")
    page = ring_view(ring, r.tables, r.user_scores)
    nodes = _data(page)["nodes"]
    rows = list(zip(nodes["id"], nodes["part"], nodes["size"], nodes["color"], nodes["label"], nodes["grp"]))
    members = {f"account:{m}" for m in ring.members}
    focus = {row[0]: row for row in rows if row[1] == "f"}
    context = [row for row in rows if row[1] == "c"]
    summaries = [row for row in rows if row[1] == "s"]
    assert set(focus) == members
    h1 = focus["account:h1"]
    assert h1[2] == ROLE_SIZES["beneficiary"] and h1[3] == GROUP_COLORS["beneficiary"]
    assert focus[f"account:{XSS}"][2] == ROLE_SIZES["funder"] and focus[f"account:{XSS}"][3] == GROUP_COLORS["funder"]
    assert focus["account:u1"][2] == ROLE_SIZES["member"] and focus["account:u1"][3] == GROUP_COLORS["member"]
    assert ROLE_SIZES["beneficiary"] > ROLE_SIZES["funder"] > ROLE_SIZES["member"]
    assert min(row[2] for row in focus.values()) > max(row[2] for row in context)
    # one summary node per kind, with the count of its context nodes; faded colours for the context
    assert sorted(row[4] for row in summaries) == ["1 other account", "1 stream", "2 IPs", "2 devices"]
    for summary in summaries:
        count = sum(1 for row in context if row[5] == summary[5])
        assert summary[4].startswith(f"{count} ")
    assert all(row[3] not in GROUP_COLORS.values() for row in context)
    assert "5 nodes in focus; 6 context nodes in 4 groups, collapsed until shown" in page
    assert '<button id="gk-context" type="button" aria-pressed="false">show context (6 nodes)</button>' in page
    # the member table: id, role, score, coins; each row focuses its node; hostile ids escaped
    table = page.split('<table id="gk-table">', 1)[1].split("</table>", 1)[0]
    assert "<th scope=\"col\">role</th>" in table and '<tr data-focus="0"><td data-sort="h1">h1</td>' \
        '<td data-sort="beneficiary">beneficiary</td><td class="num" data-sort="0.95">0.95</td>' in table
    assert table.count("<tr data-focus=") == len(ring.members) and "<img" not in table
    assert _data(page)["focus"][:2] == ["account:h1", f"account:{XSS}"]  # exact ids, in the escaped JSON
    # other pages (expand) keep their plain view
    assert "part" not in _data(render_network(*_frames(), title="t"))["nodes"]


def test_context_groups_never_take_the_id_of_a_node():
    nodes = pl.DataFrame({"id": ["context:devices", "d"], "label": ["a", "d"], "type": ["account", "device"],
                          "group": ["member", "device"], "size": [10.0, 5.0], "tooltip": ["a", "d"],
                          "context": [None, "devices"]})
    edges = pl.DataFrame({"source": ["context:devices"], "target": ["d"], "relation": ["used_device"],
                          "width": [1.0], "tooltip": ["e"]})
    data = _data(render_network(nodes, edges, title="t"))
    assert data["nodes"]["id"] == ["context:devices", "d", "~context:devices"]
    assert data["nodes"]["label"][2] == "1 devices" and data["nodes"]["part"] == ["f", "c", "s"]
    assert data["edges"]["from"][-1] == "context:devices" and data["edges"]["to"][-1] == "~context:devices"



def test_views_write_counts_of_ips_as_ips_and_plurals_without_brackets():
    """One formatter: "2 IPs" / "ips: 4,242" and "link(s)" / "time(s)" were written by hand in places."""
    r = dataclasses.replace(report(), summary={**report().summary, "ips": 4242})  # analyze counts them
    pages = [overview(r), *(ring_view(ring, r.tables, r.user_scores) for ring in r.rings)]
    # what people read: the page outside its scripts (the bundled vis-network has "(s)" of its own), and the data
    text = "\n".join([html.unescape(re.sub(r"(?s)<script\b.*?</script>", "", page)) for page in pages]
                     + [json.dumps(_data(page), ensure_ascii=False) for page in pages])
    assert "IPs: 4,242" in pages[0] and not re.search(r"\bips\b", text)
    assert "(s)" not in text
    assert re.search(r"\b1 link to\b|\b[0-9,]+ links to\b", text), "the context groups' edges say how many links"
