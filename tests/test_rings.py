"""Ring assembly by hand: loops through alt accounts, merging pieces, one ring per account."""

from __future__ import annotations

import numpy as np
import polars as pl

from graphkit.rings import assign_members, merge_by_beneficiary, money_loop
from graphkit.detect.signals import person_of

U32 = pl.UInt32


def _flow(rows):
    return pl.DataFrame({"src": [r[0] for r in rows], "dst": [r[1] for r in rows], "coins": [float(r[2]) for r in rows]},
                        schema={"src": U32, "dst": U32, "coins": pl.Float64})


def _links(rows):
    return pl.DataFrame({"uid": [r[0] for r in rows], "identifier": [r[1] for r in rows],
                         "kind": ["device"] * len(rows), "hub": [False] * len(rows)},
                        schema={"uid": U32, "identifier": pl.Utf8, "kind": pl.Utf8, "hub": pl.Boolean})


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
