"""The flags table (what the platform already knows) and known-bad propagation (issue 20)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone

import networkx as nx
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import Config, Tables, analyze, read_tables
from graphkit.detect.known_bad import account_flags, known_bad, near_flags, propagation_edges
from graphkit.evaluate import held_out_flags, hide_flags
from graphkit.graphs import build_graphs
from graphkit.synth import generate
from graphkit.synth.flags import with_flags
from graphkit_cli.main import cli

from _ratings import RATINGS_MAPPING

UTC = timezone.utc


# --- reading and validating ---------------------------------------------------


def _gifts() -> pl.DataFrame:
    return pl.DataFrame({
        "sender_id": ["a", "b", "c"], "receiver_id": ["h", "h", "h"], "coins": [1.0, 2.0, 3.0],
        "sent_at": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
    })


def test_bad_flags_are_rejected_rows_with_reasons_and_good_ones_are_read():
    flags = pl.DataFrame({
        "user_id": ["a", "zz", "b", "c", "a", "b"],
        "kind": ["Chargeback ", "ban", "two words", "ban", "report", "refund"],
        "at": ["2024-01-01", "2024-01-01", "2024-01-01", "2025-01-01", "2024-01-02", "2024-01-02"],
        "weight": ["0.5", "1", "1", "1", "2", ""],
    })
    tables = Tables.from_frames(gifts=_gifts(), flags=flags)
    assert tables.flags.rows() == [
        ("a", "chargeback", datetime(2024, 1, 1, tzinfo=UTC), 0.5),
        ("b", "refund", datetime(2024, 1, 2, tzinfo=UTC), None),
    ]
    reasons = dict(zip(tables.rejected["flags"]["row"].to_list(), tables.rejected["flags"]["reason"].to_list()))
    assert reasons[2].startswith("unknown user_id")
    assert reasons[3].startswith("bad kind")
    assert reasons[4] == "at after the data's last event"
    assert reasons[5] == "weight outside 0-1"


def test_flags_newer_than_the_data_do_not_fail_the_run_but_unknown_accounts_do(tmp_path):
    _gifts().write_csv(tmp_path / "gifts.csv")
    pl.DataFrame({"user_id": ["a"] * 20, "kind": ["ban"] * 20, "at": ["2030-01-01"] * 20}).write_csv(tmp_path / "flags.csv")
    tables = read_tables(tmp_path)
    assert tables.flags.height == 0 and tables.stats["flags"].rejected == 20
    pl.DataFrame({"user_id": ["nobody"] * 20, "kind": ["ban"] * 20, "at": ["2024-01-01"] * 20}).write_csv(tmp_path / "flags.csv")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "flags.csv: 20 of 20 rows rejected" in result.output and "unknown user_id" in result.output
    assert "Traceback" not in result.output


def test_a_flags_table_without_its_kind_column_is_one_line_naming_the_file_and_column(tmp_path):
    _gifts().write_csv(tmp_path / "gifts.csv")
    pl.DataFrame({"user_id": ["a"], "at": ["2024-01-01"]}).write_csv(tmp_path / "flags.csv")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "flags.csv: required column 'kind' is missing" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_negative_ratings_become_flags_and_positive_ones_gifts_through_the_mapping(tmp_path):
    pl.DataFrame({
        "rater": ["a", "b", "c", "a"], "ratee": ["b", "c", "a", "c"], "rating": ["5", "-10", "2", "-3"],
        "time": ["1289241911.72836", "1289241912", "1289241915", "1289241914"],
    }).write_csv(tmp_path / "ratings.csv")
    (tmp_path / "graphkit.toml").write_text(RATINGS_MAPPING, encoding="utf-8")
    tables = read_tables(tmp_path)
    assert tables.gifts.select("sender_id", "receiver_id", "coins").rows() == [("a", "b", 5.0), ("c", "a", 2.0)]
    assert tables.flags.select("user_id", "kind").rows() == [("c", "negative_rating"), ("c", "negative_rating")]
    # the rows a where leaves out are neither accepted nor rejected; row numbers stay the file's
    assert tables.stats["flags"].rows_read == 2 and not tables.rejected


def test_a_where_naming_a_missing_column_or_not_one_comparison_is_one_line(tmp_path):
    _gifts().write_csv(tmp_path / "gifts.csv")
    (tmp_path / "graphkit.toml").write_text('[tables.gifts]\nwhere = "ratin < 0"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 2 and "column 'ratin' (in where of [tables.gifts]" in result.output
    (tmp_path / "graphkit.toml").write_text('[tables.gifts]\nwhere = "rating < 0 or 1"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 2 and "is not one comparison" in result.output


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.one_of(st.integers(-20, 20).map(str), st.sampled_from(["", "x", " 3 ", "1e1"])), max_size=12),
       op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), bound=st.integers(-5, 5))
def test_a_where_keeps_exactly_the_rows_whose_number_compares_true(values, op, bound):
    from graphkit.io.mapping import RowFilter

    where = RowFilter.parse(f"rating {op} {bound}")
    frame = pl.DataFrame({"rating": values}, schema={"rating": pl.Utf8})
    kept = frame.filter(where.expr())["rating"].to_list()

    def number(text: str) -> float | None:
        try:
            return float(text.strip())
        except ValueError:
            return None

    compare = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__,
               "==": float.__eq__, "!=": float.__ne__}[op]
    assert kept == [v for v in values if number(v) is not None and compare(number(v), float(bound))]


# --- the propagation ------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 9),
    edges=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8), st.floats(0.1, 3.0)), min_size=1, max_size=20),
    seeds=st.dictionaries(st.integers(0, 8), st.floats(0.05, 1.0), min_size=1, max_size=3),
    damping=st.floats(0.3, 0.9),
)
def test_near_flags_is_the_seed_weight_where_a_walk_stops_as_networkx_pagerank_computes_it(n, edges, seeds, damping):
    pairs: dict[tuple[int, int], float] = {}
    for a, b, w in edges:
        if a % n != b % n:
            key = (min(a % n, b % n), max(a % n, b % n))
            pairs[key] = pairs.get(key, 0.0) + w
    seeds = {s % n: w for s, w in seeds.items()}
    frame = pl.DataFrame({"a": [k[0] for k in pairs], "b": [k[1] for k in pairs], "weight": list(pairs.values())},
                         schema={"a": pl.UInt32, "b": pl.UInt32, "weight": pl.Float64})
    got = near_flags(n, frame, pl.DataFrame({"uid": list(seeds), "weight": list(seeds.values())}), damping=damping)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in pairs.items())
    for i in range(n):
        if graph.degree(i) == 0:
            assert got[i] == 0.0
            continue
        # where a walk from i stops: networkx's PageRank personalised on i alone
        stops = nx.pagerank(graph, alpha=damping, personalization={i: 1.0}, weight="weight", tol=1e-12, max_iter=10_000)
        expected = sum(w * stops[s] for s, w in seeds.items())
        assert got[i] == pytest.approx(expected, abs=1e-6)


def test_a_flagged_fan_says_nothing_about_the_other_fans_of_a_hub_host():
    fans = [f"f{i}" for i in range(8)]
    gifts = pl.DataFrame({"sender_id": fans, "receiver_id": ["star"] * 8, "coins": [10.0] * 8,
                          "sent_at": ["2024-01-01T00:00:00Z"] * 8})
    flags = pl.DataFrame({"user_id": ["f0"], "kind": ["ban"], "at": ["2024-01-01"]})
    tables = Tables.from_frames(gifts=gifts, flags=flags)
    for hub_cap, reaches in ((5, False), (50, True)):
        config = Config(hub_cap=hub_cap)
        graphs = build_graphs(tables, config)
        kb = graphs.index.decode(known_bad(graphs, account_flags(tables.flags, graphs, config, as_of=None), config), "uid")
        other_fan = kb.filter(pl.col("uid") == "f1")["near_flags"].item()
        assert (other_fan > 0) is reaches, (hub_cap, other_fan)
        assert propagation_edges(graphs, config).height == (0 if not reaches else 8)


def _platform():
    return with_flags(generate(users=2_000, gifts=10_000, seed=3), seed=3)


@pytest.fixture(scope="module")
def flagged_run():
    platform = _platform()
    tables = platform.tables()
    return platform, tables, analyze(tables, Config(seed=0), workers=1)


def test_a_flag_after_until_or_after_the_data_is_never_used(flagged_run):
    platform, tables, _ = flagged_run
    until = "2024-05-20T00:00:00Z"
    window = Config(seed=0, until=until)
    cut = datetime(2024, 5, 20, tzinfo=UTC)
    before = tables.flags.filter(pl.col("at") < cut)
    assert 0 < before.height < tables.flags.height
    # the same report with only the flags dated before until, and with every flag: nothing leaks
    known = analyze(dataclasses.replace(tables, flags=before), window, workers=1)
    every = analyze(tables, window, workers=1)
    assert every.user_scores.equals(known.user_scores)
    assert [r.to_dict() for r in every.rings] == [r.to_dict() for r in known.rings]
    assert every.summary["flags"]["flags_used"] == before.height


def test_flags_raise_the_scores_of_flagged_rings_and_say_so(flagged_run):
    platform, tables, report = flagged_run
    without = analyze(dataclasses.replace(tables, flags=tables.flags.clear(), present=tables.present - {"flags"}),
                      Config(seed=0), workers=1)
    assert "score_without_flags" not in without.user_scores.columns
    assert "flags" not in without.summary
    assert all("known_bad" not in r.signals for r in without.rings)
    flagged_rings = set(platform.truth["flags"]["rings"])
    truth = {r["ring_id"]: set(r["members"]) for r in platform.truth["rings"] if r["ring_id"] in flagged_rings}
    charged = set(tables.flags.filter(pl.col("kind") == "chargeback")["user_id"])
    reasons = [reason for ring in report.rings for reason in ring.reasons if "chargeback" in reason]
    assert reasons, "no ring says its members had chargebacks"
    ring = next(r for r in report.rings if any("chargeback" in x for x in r.reasons))
    said = next(x for x in ring.reasons if "members had" in x or "members were flagged" in x)
    assert said.startswith(f"{len(charged & set(ring.members))} of {ring.size} members")
    # every flagged planted ring found without flags is found with them too, as high or higher
    def best(rep, members):
        return max((r.score for r in rep.rings if len(members & set(r.members)) * 2 >= len(members)), default=None)
    for members in truth.values():
        if best(without, members) is not None:
            assert best(report, members) is not None and best(report, members) >= best(without, members) - 1e-9


def test_with_flags_account_ranking_improves_and_scores_csv_carries_the_score_without_flags(flagged_run, tmp_path):
    from graphkit.evaluate import average_precision, user_labels
    from graphkit.report import write_report

    platform, tables, report = flagged_run
    scores = report.user_scores
    y = user_labels(scores["user_id"], platform.truth)
    assert average_precision(y, scores["score"].to_numpy()) > average_precision(y, scores["score_without_flags"].to_numpy())
    write_report(report, tmp_path / "out")
    header = (tmp_path / "out" / "scores.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "user_id,score,ring_id,role,score_without_flags,flag_reason"
    written = pl.read_csv(tmp_path / "out" / "scores.csv", schema_overrides={"user_id": pl.Utf8})
    flagged = set(report.graphs.index.decode(account_flags(tables.flags, report.graphs, Config(), as_of=None), "uid")["uid"])
    said = written.filter(pl.col("flag_reason").is_not_null())
    assert set(said["user_id"]) <= flagged and said.height > 0
    assert said["flag_reason"].str.starts_with("flag rate ").all()
    used = report.summary["flags"]
    assert f"{used['flags_used']:,} of {used['flags_read']:,} flags were known" in (
        tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    (tmp_path / "truth.json").write_text(json.dumps(platform.truth), encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "out"), "--truth", str(tmp_path / "truth.json"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["user_average_precision"] > doc["user_average_precision_without_flags"]
    # the same two measures against investigators' decisions (eval --labels)
    bad = sorted({m for ring in platform.truth["rings"] for m in ring["members"]})[:40]
    good = [u for u in scores.sort("user_id")["user_id"].to_list() if u not in set(bad)][:200]
    pl.DataFrame({"user_id": bad + good, "verdict": ["confirmed"] * len(bad) + ["benign"] * len(good)}).write_csv(
        tmp_path / "decisions.csv")
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "out"), "--labels", str(tmp_path / "decisions.csv"), "--json"])
    assert result.exit_code == 0, result.output
    decided = json.loads(result.output)["decisions"]
    assert decided["user_auc"] is not None and decided["user_auc_without_flags"] is not None
    assert decided["user_average_precision"] >= decided["user_average_precision_without_flags"]
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "out"), "--labels", str(tmp_path / "decisions.csv")])
    assert "account average precision without flags" in result.output


def test_held_out_flags_are_found_by_the_visible_half(flagged_run):
    platform, tables, _ = flagged_run
    visible, hidden = hide_flags(tables.flags, seed=1)
    assert hidden.len() and not set(hidden) & set(visible["user_id"])
    report = analyze(dataclasses.replace(tables, flags=visible), Config(seed=0), workers=1)
    near = held_out_flags(report.user_features, tables.flags, hidden, score="known_bad")
    assert near.hidden == hidden.len()
    # chargebacks sit in rings: the visible ones point at the hidden ones far better than chance
    assert near.auc is not None and near.auc > 0.7


def test_synth_writes_flags_only_when_asked(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["synth", str(tmp_path / "p"), "--users", "2000", "--gifts", "10000", "--flags"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "flags.csv").is_file()
    truth = json.loads((tmp_path / "p" / "truth.json").read_text(encoding="utf-8"))
    assert truth["flags"]["ring_accounts"] > 0
    result = runner.invoke(cli, ["synth", str(tmp_path / "q"), "--users", "2000", "--gifts", "10000"])
    assert result.exit_code == 0 and not (tmp_path / "q" / "flags.csv").exists()


def test_the_ring_reason_names_a_flagged_beneficiary_and_its_date():
    from graphkit.score import ring_reasons

    row = {"size": 21, "coins_total": 1000.0, "n_flagged": 3, "part_known_bad": 0.5}
    reasons = ring_reasons(
        row, beneficiaries=[("h3", 800.0, 0.9)], money_path=[], config=Config(), young_days=7.0, large_gift=999.0,
        member_flags={"chargeback": 3}, beneficiary_flags={"h3": ("ban", datetime(2026, 10, 3, tzinfo=UTC))},
    )
    assert reasons[0] == "3 of 21 members had chargebacks"
    assert "the ring paid 80% of its coins to h3, an account banned on 2026-10-03" in reasons


def test_kind_weights_come_from_config_and_scale_the_seed():
    gifts = pl.DataFrame({"sender_id": ["a", "b"], "receiver_id": ["b", "a"], "coins": [5.0, 5.0],
                          "sent_at": ["2024-01-01T00:00:00Z"] * 2})
    flags = pl.DataFrame({"user_id": ["a", "a"], "kind": ["report", "weird"], "at": ["2024-01-01"] * 2,
                          "weight": [None, 0.5]})
    tables = Tables.from_frames(gifts=gifts, flags=flags)
    config = Config(flag_weight_report=0.2, flag_weight_other=0.4)
    graphs = build_graphs(tables, config)
    seeds = account_flags(tables.flags, graphs, config, as_of=None)
    assert sorted(seeds["weight"].to_list()) == [0.2, 0.2]
    kb = known_bad(graphs, seeds, config)
    assert kb["flagged"][0] == pytest.approx(1 - 0.8 * 0.8)
    assert np.all(kb["near_flags"].to_numpy() <= kb["flagged"].max() + 1e-12)


# --- real-data converter, on a tiny file of the same format ---------------------


def test_the_signed_trust_converter_reads_snap_ratings_and_rev2_labels(tmp_path):
    from benchmarks.signed_trust import convert, measure

    # SNAP's soc-sign-bitcoin format: source,target,rating,time (fractional epoch seconds), no header
    rows = []
    t = 1289241911.72836
    goods, bads = [str(i) for i in range(1, 9)], [str(i) for i in range(20, 26)]
    for i, a in enumerate(goods):
        for b in goods[i + 1:i + 4]:
            rows.append(f"{a},{b},{1 + (i % 5)},{t:.5f}")
            t += 61.5
    for i, b in enumerate(bads):
        rows.append(f"{goods[i % len(goods)]},{b},-{3 + i % 7},{t:.5f}")
        rows.append(f"{bads[(i + 1) % len(bads)]},{b},2,{t + 1:.5f}")  # the scammers vouch for each other
        t += 61.5
    rows.append(f"1,2,1,{t + 10:.5f}")  # the last event: no negative rating is newer than the data
    network = tmp_path / "soc-sign-bitcoinotc.csv"
    network.write_text("\n".join(rows) + "\n", encoding="utf-8")
    gt = tmp_path / "otc_gt.csv"
    gt.write_text("".join(f"{u},1\n" for u in goods) + "".join(f"{u},-1\n" for u in bads), encoding="utf-8")
    data = convert(network, gt, tmp_path / "out")
    tables = read_tables(data)
    assert tables.flags.height == len(bads) and set(tables.flags["kind"]) == {"negative_rating"}
    # a negative rating weighs what it says: -3 is 0.3 of a flag, -9 0.9
    assert sorted(tables.flags["weight"].to_list()) == pytest.approx(sorted((3 + i % 7) / 10 for i in range(len(bads))))
    assert tables.gifts["coins"].min() > 0 and not tables.rejected
    found = measure(data, tmp_path / "out" / "labels.csv", seed=0)
    assert found["all"]["reputation"]["auc"] == 1.0
    assert found["all"]["graphkit_with_flags"]["auc"] > found["all"]["graphkit_without_flags"]["auc"]
    assert found["held_out"]["hidden_accounts"] == (len(goods) + len(bads)) // 2
    assert found["rings_with_flags"] == 0


def test_the_flags_benchmark_renders_its_section():
    from benchmarks.bench_flags import render_flags

    side = {"rings": 2, "ring_recall": 1.0, "ring_precision": 0.5, "flagged_rings_found": 1, "user_ap": 0.8, "user_auc": 0.9}
    held = {"auc": 0.7, "average_precision": 0.2, "hidden": 3, "negatives": 90}
    text = "\n".join(render_flags([{"gifts": 100_000, "seed": 0, "planted": 2, "flagged_rings": 1, "flags": 5,
                                    "without": side, "with": side,
                                    "held_out": {"score": held, "known_bad": held, "score_without_any_flags": held}}]))
    assert "| 10^5 | 0 | 1 of 2 | 1.00 / 1.00 | 0.50 / 0.50 | 1 / 1 |" in text


def test_the_shareable_copy_names_no_flagged_account(flagged_run, tmp_path):
    from graphkit.report import write_report
    from graphkit.viz import Redactor

    _, tables, report = flagged_run
    write_report(report, tmp_path / "out", html=False, redactor=Redactor(b"k" * 32))
    shared = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out" / "redacted").rglob("*") if p.is_file())
    assert "had chargebacks" in shared or "had a chargeback" in shared
    assert not [u for u in set(tables.flags["user_id"]) if u in shared]
    # while the report for the team names them (members.csv), so the check above has something to find
    team = (tmp_path / "out" / "members.csv").read_text(encoding="utf-8")
    assert [u for u in set(tables.flags["user_id"]) if u in team]


def test_a_score_without_flags_that_is_not_a_number_is_one_clear_error(tmp_path):
    from graphkit.errors import InputError
    from graphkit.report.reader import read_scores

    path = tmp_path / "scores.csv"
    path.write_text("user_id,score,ring_id,role,score_without_flags\na,0.5,,,0.4\n", encoding="utf-8")
    assert read_scores(path)["score_without_flags"].to_list() == [0.4]
    path.write_text("user_id,score,ring_id,role,score_without_flags\na,0.5,,,high\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'score_without_flags' holds values that are not numbers"):
        read_scores(path)
