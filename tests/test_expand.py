"""Evidence neighbourhoods and paths (graphkit.detect.evidence) and the expand / path commands."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import Config
from graphkit.detect.evidence import (
    entity_edges,
    evidence_graph,
    evidence_path,
    neighbourhood_edges,
    node_facts,
    popular_hosts,
)
from graphkit.errors import NotFoundError
from graphkit.io import Tables
from graphkit_cli.main import cli
from views_fixtures import XSS, tables


def _random_tables(seed: int) -> Tables:
    rng = np.random.default_rng(seed)
    users = [f"u{i}" for i in range(40)]
    n_gifts, n_dev = 60, 50
    gifts = pl.DataFrame({
        "sender_id": rng.choice(users, n_gifts), "receiver_id": rng.choice(users[:8], n_gifts),
        "coins": rng.integers(1, 500, n_gifts).astype(float),
        "sent_at": [f"2024-01-01T{h:02d}:00:00Z" for h in rng.integers(0, 24, n_gifts)],
        "stream_id": rng.choice(["s1", "s2", "s3", "s4", "s5", "s6"], n_gifts),
    })
    devices = pl.DataFrame({"user_id": users + list(rng.choice(users, n_dev - len(users))), "device_id": rng.choice([f"d{i}" for i in range(25)], n_dev),
                            "ip": rng.choice([f"10.0.0.{i}" for i in range(30)], n_dev)})
    streams = pl.DataFrame({"stream_id": ["s1", "s2", "s3", "s4", "s5", "s6"], "host_id": users[:6]})
    return Tables.from_frames(gifts=gifts, devices=devices, streams=streams)


def _nx_graph(t: Tables) -> nx.Graph:
    e = entity_edges(t)
    return nx.from_edgelist(zip(e.get_column("source").to_list(), e.get_column("target").to_list()))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("hops", [1, 2, 3])
def test_neighbourhood_matches_networkx_ego_graph(seed, hops):
    t = _random_tables(seed)
    ev = evidence_graph(t, ["u9"], hops=hops, hub_cap=10_000)
    expected = nx.single_source_shortest_path_length(_nx_graph(t), "account:u9", cutoff=hops)
    assert dict(ev.nodes.select("node_id", "hops").rows()) == expected
    ids = set(expected)
    induced = {(s, t_) for s, t_ in zip(ev.edges.get_column("source"), ev.edges.get_column("target"))}
    all_edges = entity_edges(t)
    want = {(s, t_) for s, t_ in zip(all_edges.get_column("source"), all_edges.get_column("target"))
            if s in ids and t_ in ids}
    assert induced == want


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5), st.lists(st.integers(0, 39), min_size=1, max_size=8),
       st.sampled_from([{}, {"since": "2024-01-01T08:00:00Z", "until": "2024-01-01T20:00:00Z"}, {"min_coins": 200.0}]),
       st.sampled_from([2, 4, 50]))
def test_neighbourhood_edges_equal_the_platform_edges_cut_down(seed, picks, window, hub_cap):
    # what the ring pages are drawn from: the same edges and facts as the whole platform's, cut to one link
    t = _random_tables(seed)
    accounts = [f"u{i}" for i in picks]
    edges = entity_edges(t, **window)
    ends = pl.Series([f"account:{a}" for a in accounts]).implode()
    near = edges.filter(pl.col("source").is_in(ends) | pl.col("target").is_in(ends))
    reach = pl.concat([pl.Series([f"account:{a}" for a in accounts]), near["source"], near["target"]]).unique()
    want_edges = edges.filter(pl.col("source").is_in(reach.implode()) & pl.col("target").is_in(reach.implode()))
    want_facts = node_facts(edges, hub_cap).filter(pl.col("node_id").is_in(reach.implode())).sort("node_id")
    got_edges, got_facts = neighbourhood_edges(t, accounts, hub_cap=hub_cap, **window)
    assert got_edges.equals(want_edges.sort("source", "target", "relation"))
    assert got_facts.equals(want_facts)


def _nx_costs(t: Tables) -> nx.Graph:
    """The cost of every link as evidence_path documents it, computed edge by edge in plain Python:
    1 + half the log of the number of neighbours of each end, plus, for a gift link, half the
    -log of its share of the sender's spending and of the receiver's income (in that relation)."""
    e = entity_edges(t).rows(named=True)
    neighbours: dict[str, set[str]] = {}
    out_total: dict[tuple[str, str], float] = {}
    in_total: dict[tuple[str, str], float] = {}
    for row in e:
        neighbours.setdefault(row["source"], set()).add(row["target"])
        neighbours.setdefault(row["target"], set()).add(row["source"])
        out_total[row["source"], row["relation"]] = out_total.get((row["source"], row["relation"]), 0.0) + row["coins"]
        in_total[row["target"], row["relation"]] = in_total.get((row["target"], row["relation"]), 0.0) + row["coins"]
    g = nx.Graph()
    for row in e:
        u, v = row["source"], row["target"]
        cost = 1 + 0.5 * (np.log(len(neighbours[u])) + np.log(len(neighbours[v])))
        if row["relation"] in ("gifted", "gifted_in"):
            cost -= 0.5 * (np.log(row["coins"] / out_total[u, row["relation"]])
                           + np.log(row["coins"] / in_total[v, row["relation"]]))
        if not g.has_edge(u, v) or g[u][v]["cost"] > cost:
            g.add_edge(u, v, cost=cost)
    return g


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_path_is_the_cheapest_chain_like_networkx_dijkstra(seed):
    # no hub and no popular host: every link is usable, the cost alone decides
    t = _random_tables(seed)
    g = _nx_costs(t)
    steps = evidence_path(t, "u11", "u23", config=Config(hub_cap=10_000))
    if nx.has_path(g, "account:u11", "account:u23"):
        assert steps[0].source == "account:u11" and steps[-1].target == "account:u23"
        for a, b in zip(steps, steps[1:]):
            assert a.target == b.source
        assert all(g.has_edge(s.source, s.target) for s in steps)
        cost = sum(g[s.source][s.target]["cost"] for s in steps)
        assert cost == pytest.approx(nx.dijkstra_path_length(g, "account:u11", "account:u23", weight="cost"))
    else:
        assert steps == []


def test_path_on_a_uniform_chain_has_as_many_steps_as_the_fewest_hops():
    # every device holds 2 accounts, every account 2 devices (ends 1): all links cost the same
    users = [f"u{i}" for i in range(8)]
    devices = pl.DataFrame({"user_id": users[:-1] + users[1:], "device_id": [f"d{i}" for i in range(7)] * 2})
    t = Tables.from_frames(devices=devices)
    assert len(evidence_path(t, "u0", "u7")) == nx.shortest_path_length(_nx_graph(t), "account:u0", "account:u7")


def test_demo_path_between_two_ring_members_avoids_the_host_with_466_senders(fixtures_dir):
    # issue 18 item 18: R0002's u000236 and u007628 were linked through u005227 (466 senders) by gifts of
    # 20 coins and 1 coin, although both gift the ring's beneficiaries
    from graphkit.io import read_tables

    steps = evidence_path(read_tables(fixtures_dir / "demo"), "u000236", "u007628")
    ends = {s.source for s in steps} | {s.target for s in steps}
    assert steps and "account:u005227" not in ends
    assert all(s.hubs == () for s in steps)


def test_path_sentences_tell_the_story():
    t = Tables.from_frames(
        devices=pl.DataFrame({"user_id": ["u17", "u18"], "device_id": ["d7", "d7"]}),
        gifts=pl.DataFrame({"sender_id": ["u18"] * 12, "receiver_id": ["h3"] * 12,
                            "coins": [415.0] * 11 + [425.0], "sent_at": ["2024-01-01T00:00:00Z"] * 12}),
    )
    assert [s.text for s in evidence_path(t, "u17", "h3")] == [
        "u17 used device d7", "d7 was also used by u18", "u18 gifted 4,990 coins to h3 in 12 gifts"]
    assert [s.relation for s in evidence_path(t, "h3", "u17")] == ["gifted", "used_device", "used_device"]


def test_cogifting_links_accounts_through_a_stream():
    t = tables()
    steps = evidence_path(t, "u7", "u9", config=Config(hub_cap=10_000))
    assert len(steps) == 2
    assert {s.relation for s in steps} <= {"gifted", "gifted_in"}


def test_hubs_are_shown_but_not_expanded_nor_used_in_paths():
    users = [f"u{i}" for i in range(6)]
    t = Tables.from_frames(devices=pl.DataFrame({"user_id": users, "device_id": ["hub"] * 6}))
    ev = evidence_graph(t, ["u0"], hops=2, hub_cap=3)
    assert ev.nodes.get_column("node_id").to_list() == ["account:u0", "device:hub"]
    assert ev.nodes.filter(pl.col("kind") == "device").item(0, "hub") is True
    assert "device hub (6 accounts)" in ev.notes[0]
    assert evidence_path(t, "u0", "u5", config=Config(hub_cap=3)) == []
    assert len(evidence_path(t, "u0", "u5", config=Config(hub_cap=6))) == 2
    # a hub given as the starting point is expanded
    assert evidence_graph(t, ["device:hub"], hops=1, hub_cap=3).nodes.height == 7


def test_min_coins_and_time_range_limit_what_is_followed():
    t = tables()
    reached = lambda **kw: set(evidence_graph(t, ["h2"], hops=1, **kw).accounts().get_column("user_id"))  # noqa: E731
    assert reached() == {"h2", "u7", "u8", "u9"}
    assert reached(min_coins=100) == {"h2", "u8", "u9"}
    assert reached(since="2024-03-01T10:07:00Z") == {"h2", "u8", "u9"}
    assert reached(until="2024-03-01T10:07:00Z") == {"h2", "u7"}
    assert reached(until="2024-03-01T10:06:00Z") == {"h2"}


def test_seeds_of_every_kind_and_unknown_ids():
    t = tables()
    assert evidence_graph(t, ["ip:10.0.0.2"], hops=1).accounts().get_column("user_id").sort().to_list() == \
        sorted(["u3", XSS])
    assert evidence_graph(t, ["s2"], hops=1).seeds == ("stream:s2",)
    with pytest.raises(NotFoundError, match="'nobody' is not an account"):
        evidence_graph(t, ["nobody"])
    with pytest.raises(NotFoundError):
        evidence_path(t, "u1", "device:u1")


def test_max_nodes_keeps_seeds_and_nearest_and_says_what_was_left_out():
    t = _random_tables(0)
    full = evidence_graph(t, ["u1"], hops=3, hub_cap=10_000)
    capped = evidence_graph(t, ["u1"], hops=3, hub_cap=10_000, max_nodes=10)
    assert capped.nodes.height == 10 and capped.nodes.item(0, "node_id") == "account:u1"
    assert capped.nodes.get_column("hops").max() <= full.nodes.get_column("hops").sort().item(9)
    assert f"{full.nodes.height - 10:,} more nodes were reached and left out" in capped.notes[-1]
    kept = set(capped.nodes.get_column("node_id"))
    assert set(capped.edges.get_column("source")) | set(capped.edges.get_column("target")) <= kept


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    t = tables()
    for name in ("users", "streams", "devices", "gifts"):
        getattr(t, name).write_csv(d / f"{name}.csv")
    return d


def test_expand_command_prints_accounts_and_writes_the_view(data_dir, tmp_path):
    out = tmp_path / "v" / "u8.html"
    scores = tmp_path / "scores.csv"
    pl.DataFrame({"user_id": ["u8", "h2"], "score": [0.52, 0.6], "ring_id": ["R0002", "R0002"]}).write_csv(scores)
    result = CliRunner().invoke(cli, ["expand", "u8", "--data", str(data_dir), "--hops", "1", "--scores",
                                      str(scores), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 accounts reached" in result.output
    assert "received gifts" in result.output and "0.60" in result.output and "R0002" in result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "account:h2" in page


def test_expand_redacts_with_a_key_kept_outside(data_dir, tmp_path):
    out = tmp_path / "share" / "view.html"
    key = tmp_path / "keys" / "case.key"
    key.parent.mkdir()
    key.write_text("cd" * 32 + "\n")  # a fixed key whose pseudonyms happen to contain no raw id
    args = ["expand", "h1", "--data", str(data_dir), "--hops", "2", "--out", str(out), "--redact", str(key)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    first = out.read_text(encoding="utf-8")
    assert not any(p.name.endswith(".key") for p in out.parent.iterdir())
    data = first.split('id="gk-data">', 1)[1].split("</script>", 1)[0]
    shown = data + first.split("<aside>", 1)[1].split("</aside>", 1)[0]
    for raw in ("u1", "h1", "d1", "10.0.0.1", "s1", "window.__xss"):
        assert raw not in shown
    assert '"account:acct-' in first and '"device:dev-' in first and '"stream:strm-' in first
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert out.read_text(encoding="utf-8") == first  # same key, same pseudonyms, same page
    inside = CliRunner().invoke(cli, args[:-1] + [str(out.parent / "k.key")])
    assert inside.exit_code == 2 and "must not be inside" in inside.output
    fresh = tmp_path / "keys" / "new.key"
    assert CliRunner().invoke(cli, args[:-1] + [str(fresh)]).exit_code == 0
    assert fresh.stat().st_mode & 0o777 == 0o600 and len(bytes.fromhex(fresh.read_text().strip())) == 32
    assert out.read_text(encoding="utf-8") != first  # another key, other pseudonyms


def test_expand_and_path_errors_are_one_line(data_dir, tmp_path):
    result = CliRunner().invoke(cli, ["expand", "ghost", "--data", str(data_dir), "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and "'ghost' is not an account" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.html").exists()
    result = CliRunner().invoke(cli, ["path", "u1", "ghost", "--data", str(data_dir)])
    assert result.exit_code == 2 and "'ghost' is not an account" in result.output


def test_path_command_prints_steps(data_dir):
    result = CliRunner().invoke(cli, ["path", "u1", "u9", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    steps = evidence_path(tables(), "u1", "u9")
    assert f"u1 -> u9: {len(steps)} steps" in result.output
    for i, step in enumerate(steps, 1):
        assert f"{i}. {step.text}" in result.output
    result = CliRunner().invoke(cli, ["path", "u1", "u7", "--data", str(data_dir), "--until", "2024-03-01T10:05:00Z"])
    assert result.exit_code == 0 and "are not linked by any chain of evidence" in result.output


def test_path_from_an_account_to_itself_says_so_without_the_hub_note(data_dir):
    """Hubs have nothing to do with an account's chain to itself: the note would send an investigator looking."""
    result = CliRunner().invoke(cli, ["path", "u1", "u1", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["u1 and u1 are the same id: there is no chain to find."]


@pytest.mark.parametrize("command", ["expand", "path"])
def test_help_ends_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "-h"])
    assert result.exit_code == 0 and "Example: graphkit " + command in result.output


def test_path_json_gives_the_steps_for_scripts(data_dir):
    result = CliRunner().invoke(cli, ["path", "u1", "u9", "--data", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    steps = evidence_path(tables(), "u1", "u9")
    assert doc["a"] == "u1" and doc["b"] == "u9" and doc["linked"] is True
    assert doc["steps"] == [{"source": s.source, "target": s.target, "relation": s.relation, "text": s.text,
                             "hubs": []} for s in steps]
    result = CliRunner().invoke(cli, ["path", "u1", "u7", "--data", str(data_dir), "--until", "2024-03-01T10:05:00Z",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"a": "u1", "b": "u7", "linked": False, "steps": [],
                                         "hub_cap": 50}


def test_expand_json_gives_every_account_reached_for_scripts(data_dir, tmp_path):
    out = tmp_path / "u8.html"
    scores = tmp_path / "scores.csv"
    pl.DataFrame({"user_id": ["u8", "h2"], "score": [0.52, 0.6], "ring_id": ["R0002", "R0002"]}).write_csv(scores)
    result = CliRunner().invoke(cli, ["expand", "u8", "--data", str(data_dir), "--hops", "1", "--scores",
                                      str(scores), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # stdout is JSON only
    ev = evidence_graph(tables(), ["u8"], hops=1, hub_cap=50)
    assert [a["user_id"] for a in doc["accounts"]] == ev.accounts().get_column("user_id").to_list()
    by_id = {a["user_id"]: a for a in doc["accounts"]}
    assert by_id["h2"]["score"] == 0.6 and by_id["h2"]["ring_id"] == "R0002" and by_id["u8"]["hops"] == 0
    assert set(by_id["h2"]) >= {"user_id", "hops", "how", "coins_sent", "coins_received", "score", "ring_id"}
    assert (doc["nodes"], doc["edges"]) == (ev.nodes.height, ev.edges.height)
    assert doc["notes"] == list(ev.notes) and doc["out"] == str(out) and out.is_file()
    assert doc["popular_hosts_skipped"] == []


# --------------------------------------------------------------------------- popular hosts (issue 18 item 18)

_T0 = "2024-01-01T00:00:00Z"


def _with_popular_host(*, device_route: bool = True, fans: int = 60, chain: int = 1, ring: int = 0) -> Tables:
    """Accounts a and b each sent 1 coin to host P, whom ``fans`` other accounts also gift (more than
    hub_cap = 50 and more than any other receiver: a popular host). With ``device_route``, a shares a
    device with x1, x1 a device with x2, ... (``chain`` accounts, each device used by exactly 2 accounts),
    and the last x gifted b 500 coins: a route one hop longer than a -> P <- b when ``chain`` is 1.
    With ``ring``, that many members m1, m2, ... gifted b 1,000 coins each: b is their beneficiary."""
    fan_ids = [f"f{i:03d}" for i in range(fans)]
    members = [f"m{i}" for i in range(1, ring + 1)]
    senders = ["a", "b", *fan_ids, *members]
    receivers = ["P"] * (fans + 2) + ["b"] * ring
    coins = [1.0, 1.0] + [100.0] * fans + [1000.0] * ring
    devices = {"user_id": [], "device_id": []}
    if device_route:
        xs = [f"x{i}" for i in range(1, chain + 1)]
        for i, (u, v) in enumerate(zip(["a", *xs], xs)):
            devices["user_id"] += [u, v]
            devices["device_id"] += [f"d{i}", f"d{i}"]
        senders, receivers, coins = senders + [xs[-1]], receivers + ["b"], coins + [500.0]
    gifts = pl.DataFrame({"sender_id": senders, "receiver_id": receivers, "coins": coins,
                          "sent_at": [_T0] * len(senders)})
    if not devices["user_id"]:
        return Tables.from_frames(gifts=gifts)
    return Tables.from_frames(gifts=gifts, devices=pl.DataFrame(devices))


@pytest.mark.parametrize("chain", [1, 4])
def test_path_takes_devices_of_two_accounts_rather_than_a_popular_host_even_when_longer(chain):
    t = _with_popular_host(chain=chain)
    steps = evidence_path(t, "a", "b")
    assert len(steps) == 2 * chain + 1  # a -d0- x1 ... -> b, not the 2 steps a -> P <- b
    assert "account:P" not in {s.source for s in steps} | {s.target for s in steps}
    assert steps[0].text == "a used device d0" and steps[-1].text == f"x{chain} gifted 500 coins to b in 1 gift"
    assert all(s.hubs == () for s in steps)


def test_path_through_a_popular_host_when_no_other_route_exists_says_so_at_each_step():
    t = _with_popular_host(device_route=False)
    steps = evidence_path(t, "a", "b")
    assert [(s.source, s.target) for s in steps] == [("account:a", "account:P"), ("account:P", "account:b")]
    assert [s.hubs for s in steps] == [("account:P",), ("account:P",)]
    assert [s.text for s in steps] == [
        "a gifted 1 coin to P in 1 gift (via popular host P: 62 senders)",
        "b gifted 1 coin to P in 1 gift (via popular host P: 62 senders)",
    ]


def test_a_popular_host_as_an_end_of_the_path_is_not_flagged():
    steps = evidence_path(_with_popular_host(device_route=False), "a", "P")
    assert [(s.text, s.hubs) for s in steps] == [("a gifted 1 coin to P in 1 gift", ())]


def test_path_command_says_when_the_chain_goes_through_a_popular_host(tmp_path):
    _with_popular_host(device_route=False).gifts.write_csv(tmp_path / "gifts.csv")
    result = CliRunner().invoke(cli, ["path", "a", "b", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1. a gifted 1 coin to P in 1 gift (via popular host P: 62 senders)" in result.output
    assert "no chain avoids popular hosts" in result.output
    result = CliRunner().invoke(cli, ["path", "a", "b", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert [s["hubs"] for s in json.loads(result.stdout)["steps"]] == [["account:P"], ["account:P"]]


def test_popular_hosts_are_the_baselines_popular_receivers_with_more_senders_than_hub_cap():
    t = _with_popular_host(device_route=False, fans=60)
    popular = popular_hosts(entity_edges(t), hub_cap=50)
    assert popular.filter(pl.col("popular")).get_column("node_id").to_list() == ["account:P"]
    assert popular.filter(pl.col("node_id") == "account:P").item(0, "senders") == 62
    # the busiest receiver of a small extract is in its top 1% without being popular
    assert not popular_hosts(entity_edges(t), hub_cap=62).get_column("popular").any()
    # 62 senders where 200 other receivers have 70 each (the 99th percentile is 70): they are popular, not P
    n = 70
    crowd = pl.DataFrame({"sender_id": [f"s{i}" for i in range(n)] * 200,
                          "receiver_id": [f"h{j:03d}" for j in range(200) for _ in range(n)],
                          "coins": [1.0] * (200 * n), "sent_at": [_T0] * (200 * n)})
    busy = popular_hosts(entity_edges(Tables.from_frames(gifts=pl.concat([t.gifts.select(crowd.columns).with_columns(
        pl.lit(_T0).alias("sent_at")), crowd]))), hub_cap=50)
    assert busy.filter(pl.col("node_id") == "account:P").item(0, "popular") is False
    assert busy.filter(pl.col("node_id") != "account:P").get_column("popular").all()


def test_expand_of_a_beneficiary_shows_a_popular_host_but_does_not_walk_through_it():
    t = _with_popular_host(device_route=False, ring=3)
    ev = evidence_graph(t, ["b"], hops=2)
    assert set(ev.accounts().get_column("user_id")) == {"b", "m1", "m2", "m3", "P"}
    host = ev.nodes.filter(pl.col("node_id") == "account:P")
    assert host.select("hops", "popular", "senders").row(0) == (1, True, 62)
    assert ev.skipped.select("node_id", "senders", "unreached").rows() == [("account:P", 62, 61)]
    assert any("popular host" in n and "P (62 senders; 61 accounts linked to it not reached)" in n
               for n in ev.notes)
    old = evidence_graph(t, ["b"], hops=2, through_popular_hosts=True)
    assert old.accounts().height == 66 and old.skipped.is_empty()
    # a popular host given as the starting point is expanded; one reached at the last hop is not "skipped"
    assert evidence_graph(t, ["P"], hops=1).accounts().height == 63
    assert evidence_graph(t, ["b"], hops=1).skipped.is_empty()


def test_expand_command_skips_popular_hosts_unless_asked(tmp_path):
    _with_popular_host(device_route=False).gifts.write_csv(tmp_path / "gifts.csv")
    base = ["expand", "b", "--data", str(tmp_path), "--hops", "2", "--out", str(tmp_path / "b.html")]
    result = CliRunner().invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert "2 accounts reached" in result.output and "popular host" in result.output
    assert "--through-popular-hosts" in result.output
    assert "61 accounts linked to it not reached" in (tmp_path / "b.html").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, base + ["--through-popular-hosts"])
    assert result.exit_code == 0, result.output
    assert "63 accounts reached" in result.output and "popular host" not in result.output
    doc = json.loads(CliRunner().invoke(cli, base + ["--json"]).stdout)
    assert doc["popular_hosts_skipped"] == [{"node_id": "account:P", "senders": 62, "unreached": 61}]
    assert len(doc["accounts"]) == 2 and any("popular host" in n for n in doc["notes"])


def test_gifts_of_zero_coins_are_the_weakest_links_but_still_link():
    gifts = pl.DataFrame({"sender_id": ["a", "b", "b"], "receiver_id": ["h", "h", "c"], "coins": [0.0, 0.0, 5.0],
                          "sent_at": [_T0] * 3})
    t = Tables.from_frames(gifts=gifts, devices=pl.DataFrame({"user_id": ["a", "x", "x", "c"],
                                                              "device_id": ["d1", "d1", "d2", "d2"]}))
    assert [s.text for s in evidence_path(Tables.from_frames(gifts=gifts), "a", "b")] == [
        "a gifted 0 coins to h in 1 gift", "b gifted 0 coins to h in 1 gift"]
    # a -d1- x -d2- c -> b (5 links) is stronger than a -> h <- b over gifts of 0 coins (2 links)
    assert len(evidence_path(t, "a", "b")) == 5


def test_expand_a_ring_of_a_report_starts_from_all_its_members(tmp_path, fixtures_dir):
    """graphkit expand R0002 --report OUT draws the ring (issue 18 item 17)."""
    import json as _json

    from click.testing import CliRunner

    from graphkit_cli.main import cli

    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(cli, ["report", str(fixtures_dir / "demo"), "--out", str(out), "--no-html", "-q"])
    assert result.exit_code == 0, result.output
    ring = _json.loads((out / "rings.json").read_text())["rings"][1]
    result = runner.invoke(cli, ["expand", ring["ring_id"], "--data", str(fixtures_dir / "demo"), "--report", str(out),
                                 "--out", str(tmp_path / "ring.html"), "--json"])
    assert result.exit_code == 0, result.output
    accounts = _json.loads(result.output)["accounts"]
    seeds = {a["user_id"] for a in accounts if a["hops"] == 0}
    assert seeds == set(ring["members"])
    assert {a["ring_id"] for a in accounts if a["hops"] == 0} == {ring["ring_id"]}  # scores from the report
    assert max(a["hops"] for a in accounts) == 1  # a ring is drawn one link out unless --hops says otherwise
    assert (tmp_path / "ring.html").is_file()
    result = runner.invoke(cli, ["expand", "ring:R0999", "--data", str(fixtures_dir / "demo"), "--report", str(out),
                                 "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "R0999 is not a ring of" in result.output and not (tmp_path / "x.html").exists()


def test_expand_and_path_with_report_alone_read_the_data_that_report_read(tmp_path, fixtures_dir):
    """`graphkit expand R0002 --report OUT` (issue 18 item 17, as written): the report records where its data
    is (graph/source.json); without it, or when the data is gone, one line says to pass --data."""
    import json as _json
    import shutil

    from click.testing import CliRunner

    from graphkit_cli.main import cli

    runner = CliRunner()
    data, out = tmp_path / "demo", tmp_path / "out"
    shutil.copytree(fixtures_dir / "demo", data)
    assert runner.invoke(cli, ["report", str(data), "--out", str(out), "--no-html", "-q"]).exit_code == 0
    assert _json.loads((out / "graph" / "source.json").read_text())["data_dir"] == str(data.resolve())
    ring = _json.loads((out / "rings.json").read_text())["rings"][1]
    result = runner.invoke(cli, ["expand", ring["ring_id"], "--report", str(out), "--out", str(tmp_path / "r.html"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert {a["user_id"] for a in _json.loads(result.output)["accounts"] if a["hops"] == 0} == set(ring["members"])
    a, b = ring["members"][:2]
    result = runner.invoke(cli, ["path", a, b, "--report", str(out), "--json"])
    assert result.exit_code == 0 and _json.loads(result.output)["linked"], result.output
    shutil.rmtree(data)
    # the report's store answers without the data (issue 15); another window, or no store, needs the data
    assert runner.invoke(cli, ["path", a, b, "--report", str(out)]).exit_code == 0
    result = runner.invoke(cli, ["path", a, b, "--report", str(out), "--since", "2024-05-10"])
    assert result.exit_code == 2 and "is not there any more; pass --data" in result.output
    (out / "graph" / "store.json").unlink()
    result = runner.invoke(cli, ["path", a, b, "--report", str(out)])
    assert result.exit_code == 2 and "is not there any more; pass --data" in result.output
    result = runner.invoke(cli, ["path", a, b])
    assert result.exit_code == 2 and "pass --data DATA_DIR" in result.output
