"""The numbers an investigator reads about a ring agree with each other and with the raw gifts.

Expected values are recomputed here from the gift rows (within the time
window), not taken from the pipeline.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import graphkit
from graphkit import Config, analyze, read_tables
from graphkit.report.markdown import render_markdown

DEMO = Path(graphkit.__file__).resolve().parent.parent / "fixtures" / "demo"
SINCE = "2024-05-15"


@pytest.fixture(scope="module")
def tables():
    return read_tables(DEMO)


@pytest.fixture(scope="module")
def demo(tables):
    return analyze(tables, Config(), workers=1)


@pytest.fixture(scope="module")
def windowed(tables):
    return analyze(tables, Config(since=SINCE), workers=1)


def _gifts_in_window(tables, since: str | None) -> pl.DataFrame:
    gifts = tables.gifts
    if since is not None:
        gifts = gifts.filter(pl.col("sent_at") >= datetime.fromisoformat(since).replace(tzinfo=timezone.utc))
    return gifts


@pytest.mark.parametrize("which", ["demo", "windowed"])
def test_a_beneficiarys_share_of_the_ring_is_of_the_coins_its_members_sent(which, request, tables):
    report = request.getfixturevalue(which)
    gifts = _gifts_in_window(tables, SINCE if which == "windowed" else None)
    assert report.rings
    for ring in report.rings:
        members = pl.Series(ring.members)
        sent = gifts.filter(pl.col("sender_id").is_in(members.implode()))
        coins_total = sent["coins"].sum()
        assert ring.coins_total == pytest.approx(coins_total), ring.ring_id
        for b in ring.beneficiaries:
            coins_in = sent.filter((pl.col("receiver_id") == b.user_id) & (pl.col("sender_id") != b.user_id))["coins"].sum()
            assert b.coins_in == pytest.approx(coins_in), (ring.ring_id, b.user_id)
            assert b.share_of_ring == pytest.approx(coins_in / coins_total, abs=1e-9), (ring.ring_id, b.user_id)


@pytest.mark.parametrize("which", ["demo", "windowed"])
def test_beneficiary_shares_add_up_to_the_reason_beside_them(which, request):
    report = request.getfixturevalue(which)
    markdown = render_markdown(report)
    for ring in report.rings:
        if not ring.beneficiaries:
            continue
        [reason] = [r for r in ring.reasons if "of the ring's" in r and "coins went to" in r]
        stated = int(re.match(r"(\d+)% of the ring's", reason).group(1))
        assert round(100 * sum(b.share_of_ring for b in ring.beneficiaries)) == stated, (ring.ring_id, reason)
        for b in ring.beneficiaries:
            assert f"({b.share_of_ring:.0%} of the ring's coins" in markdown
        assert all(b.share_of_ring <= stated / 100 + 0.005 for b in ring.beneficiaries), ring.ring_id
