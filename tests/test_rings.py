"""Ring assembly by hand: loops through alt accounts, merging pieces, one ring per account."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from graphkit.rings import assign_members, merge_by_beneficiary, money_loop
from graphkit.detect.signals import person_of

U32 = pl.UInt32


def _flow(rows):
    return pl.DataFrame({"src": [r[0] for r in rows], "dst": [r[1] for r in rows], "coins": [float(r[2]) for r in rows]},
                        schema={"src": U32, "dst": U32, "coins": pl.Float64})


def _links(rows):
    return pl.DataFrame({"uid": [r[0] for r in rows], "identifier": [r[1] for r in rows],
                         "kind": ["device"] * len(rows), "hub": [False] * len(rows),
                         "placeholder": [False] * len(rows)},
                        schema={"uid": U32, "identifier": pl.Utf8, "kind": pl.Utf8, "hub": pl.Boolean,
                                "placeholder": pl.Boolean})


def test_a_loop_through_alt_accounts_with_its_funder_first():
    # hosts 0 and 1; alt 2 is on host 0's phone, alt 3 on host 1's; funder 4 pays host 0
    links = _links([(0, "device:a"), (2, "device:a"), (1, "device:b"), (3, "device:b")])
    flow = _flow([(4, 0, 900), (2, 1, 500), (3, 0, 400)])
    person = person_of(links, 5)
    assert person[2] == person[0] and person[3] == person[1] and person[0] != person[1]
    loop = money_loop(flow, person)
    assert loop == [(4, "start"), (0, "gift"), (2, "device"), (1, "gift"), (3, "device"), (0, "gift")]


def test_no_loop_without_coins_coming_back():
    assert money_loop(_flow([(0, 1, 5), (1, 2, 5)]), np.arange(3)) == []


def test_each_account_goes_to_its_best_candidate():
    cands = pl.DataFrame({"cand": [1, 1, 1, 2, 2], "uid": [0, 1, 2, 2, 3], "source": ["x"] * 5},
                         schema={"cand": pl.Int64, "uid": U32, "source": pl.Utf8})
    scores = pl.DataFrame({"group": [1, 2], "score": [0.2, 0.9], "size": [3, 2]})
    assigned = assign_members(cands, scores).sort("uid")
    assert assigned.rows() == [(1, 0), (1, 1), (2, 2), (2, 3)]


def test_pieces_paying_the_same_beneficiary_merge_but_honest_fans_do_not():
    members = pl.DataFrame({"group": [1, 1, 1, 2, 2, 3, 3], "uid": [0, 1, 9, 2, 3, 4, 5]},
                           schema={"group": pl.Int64, "uid": U32})
    # group 1 holds host 9; group 2 (a piece of the same farm) pays 9; group 3 (honest fans) pays 9 too
    flow = _flow([(0, 9, 100), (1, 9, 100), (2, 9, 80), (3, 9, 80), (4, 9, 50), (5, 9, 50)])
    suspicious = pl.DataFrame({"group": [1, 2]}, schema={"group": pl.Int64})
    merged, renamed = merge_by_beneficiary(members, flow, among=suspicious)
    groups = dict(merged.group_by("group").agg(pl.col("uid").sort()).rows())
    assert sorted(groups[1]) == [0, 1, 2, 3, 9]
    assert sorted(groups[3]) == [4, 5]
    assert dict(renamed.rows()) == {1: 1, 2: 1, 3: 3}


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9)), min_size=1, max_size=40, unique=True),
       st.randoms(use_true_random=False))
def test_each_account_goes_to_the_same_candidate_whatever_the_row_order(pairs, rnd):
    """Ring assignment is a function of the candidates and their scores, not of the order of the rows."""
    cands = pl.DataFrame({"cand": [c for c, _ in pairs], "uid": [u for _, u in pairs], "source": ["x"] * len(pairs)},
                         schema={"cand": pl.Int64, "uid": U32, "source": pl.Utf8})
    groups = sorted({c for c, _ in pairs})
    scores = pl.DataFrame({"group": groups, "score": [0.5 if g % 2 else 0.7 for g in groups],  # ties on purpose
                           "size": [3] * len(groups)})
    shuffled = cands.sample(fraction=1.0, shuffle=True, seed=rnd.randint(0, 2**31))
    assert assign_members(shuffled, scores).rows() == assign_members(cands, scores).rows()
    # among tied candidates, the lower id wins
    best = assign_members(cands, scores).rows()
    for group, uid in best:
        mine = [c for c, u in pairs if u == uid]
        top = max(0.5 if c % 2 else 0.7 for c in mine)
        assert group == min(c for c in mine if (0.5 if c % 2 else 0.7) == top)


def test_ring_assembly_shares_are_config_settings_that_reach_the_report(fixtures_dir):
    """``beneficiary_listed_min_share`` decides who is listed as a ring's beneficiary: at 0.5 at most two
    members can take half of what the ring's members sent each other, and every one listed does."""
    from graphkit import Config, analyze, read_tables

    tables = read_tables(fixtures_dir / "demo")
    default = analyze(tables, Config(), workers=1)
    strict = analyze(tables, Config(beneficiary_listed_min_share=0.5), workers=1)
    assert [r.members for r in strict.rings] == [r.members for r in default.rings]
    assert all(len(r.beneficiaries) <= 2 for r in strict.rings)
    assert sum(len(r.beneficiaries) for r in strict.rings) < sum(len(r.beneficiaries) for r in default.rings)
    assert strict.params["beneficiary_listed_min_share"] == 0.5
