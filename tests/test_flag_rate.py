"""An account's flag rate: its own flags weighed against the accounts that gifted it (issue 20, Bitcoin OTC).

A flag is not evidence whatever else the account received: an honest trader with
300 positive and 5 negative ratings must not weigh like a scammer with the same 5
negative ratings and nothing else. Expected values are computed here from the rule
``weighted flags / (weighted flags + distinct senders + flag_rate_prior)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit import Config, Tables, analyze
from graphkit.detect.known_bad import account_flags, flag_rates, known_bad
from graphkit.detect.signals import user_activity
from graphkit.errors import ConfigError
from graphkit.graphs import build_graphs
from graphkit.score import flag_rate_reasons, user_evidence

from tests.test_user_evidence import BASELINE

UTC = timezone.utc
T0 = datetime(2024, 1, 1, tzinfo=UTC)
U32 = pl.UInt32


def _flow(senders_of: dict[int, int]) -> pl.DataFrame:
    """``src, dst, coins, count``: receiver ``dst`` gifted by ``senders_of[dst]`` distinct accounts, numbered from 1000."""
    src, dst = [], []
    base = 1000
    for receiver, k in senders_of.items():
        src += list(range(base, base + k))
        dst += [receiver] * k
        base += k
    return pl.DataFrame({"src": src, "dst": dst, "coins": [1.0] * len(src), "count": [1] * len(src)},
                        schema={"src": U32, "dst": U32, "coins": pl.Float64, "count": U32})


def _seeds(weights_of: dict[int, list[float]]) -> pl.DataFrame:
    uids = [u for u, ws in weights_of.items() for _ in ws]
    return pl.DataFrame({"uid": uids, "weight": [w for ws in weights_of.values() for w in ws]},
                        schema={"uid": U32, "weight": pl.Float64})


def _rate(weights: list[float], senders: int, prior: float = 2.0) -> float:
    flagged = sum(weights)
    return flagged / (flagged + senders + prior) if flagged > 0 else 0.0


def test_the_flag_rate_on_hand_built_accounts():
    # 0: no flag, gifts from 7 accounts; 1: 5 flags of weight 1, nothing received;
    # 2: the same 5 flags, gifts from 300 accounts; 3: 5 flags of weight 0.5 (negative ratings), nothing received
    weights = {1: [1.0] * 5, 2: [1.0] * 5, 3: [0.5] * 5}
    rates = flag_rates(4, _seeds(weights), _flow({0: 7, 2: 300}), prior=2.0)
    got = dict(zip(rates["uid"].to_list(), rates["flag_rate"].to_list()))
    assert got[0] == 0.0, "no flag: a rate of 0 whatever it received"
    assert got[1] == pytest.approx(5 / 7)
    assert got[2] == pytest.approx(5 / 307)
    assert got[3] == pytest.approx(2.5 / 4.5)
    assert rates["senders"].to_list() == [7, 0, 300, 0]
    assert rates["flags_received"].to_list() == [0.0, 5.0, 5.0, 2.5]


def test_senders_are_distinct_accounts_and_self_gifts_do_not_count():
    flow = pl.DataFrame({"src": [5, 5, 6, 0], "dst": [0, 0, 0, 0], "coins": [1.0, 9.0, 1.0, 3.0], "count": [1, 4, 1, 1]},
                        schema={"src": U32, "dst": U32, "coins": pl.Float64, "count": U32})
    rates = flag_rates(7, _seeds({0: [1.0]}), flow, prior=2.0)
    assert rates["senders"][0] == 2
    assert rates["flag_rate"][0] == pytest.approx(1 / (1 + 2 + 2))


def test_kind_weights_and_the_prior_reach_the_flag_rate_through_the_config():
    gifts = pl.DataFrame({"sender_id": ["v1", "v2", "v3"], "receiver_id": ["t", "t", "t"], "coins": [1.0, 2.0, 3.0],
                          "sent_at": ["2024-01-02T00:00:00Z"] * 3})
    flags = pl.DataFrame({"user_id": ["t", "t", "v1"], "kind": ["report", "chargeback", "refund"],
                          "at": ["2024-01-01"] * 3, "weight": ["0.5", "", ""]})
    tables = Tables.from_frames(gifts=gifts, flags=flags)
    graphs = build_graphs(tables)
    for config in (Config(), Config(flag_rate_prior=0.5, flag_weight_report=1.0)):
        kb = known_bad(graphs, account_flags(tables.flags, graphs, config, as_of=None), config)
        kb = graphs.index.decode(kb, "uid")
        got = dict(zip(kb["uid"].to_list(), kb["flag_rate"].to_list()))
        t_weights = [config.flag_weight_report * 0.5, config.flag_weight_chargeback]
        assert got["t"] == pytest.approx(_rate(t_weights, 3, config.flag_rate_prior))
        assert got["v1"] == pytest.approx(_rate([config.flag_weight_refund], 0, config.flag_rate_prior))
        assert got["v2"] == 0.0


def test_the_flag_rate_settings_are_range_checked_and_reach_the_params():
    for bad in ({"flag_rate_prior": -1.0}, {"flag_rate_full": 0.0}, {"flag_rate_full": 1.5},
                {"weight_flag_rate_account": 1.2}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            Config(**bad)
    params = Config().to_params()
    assert params["flag_rate_prior"] == 2.0
    assert params["flag_rate_full"] == 0.25
    assert params["weight_flag_rate_account"] == 1.0


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.floats(0.01, 1.0), min_size=0, max_size=8),
    extra_weight=st.floats(0.01, 1.0),
    senders=st.integers(0, 400),
    more_senders=st.integers(1, 400),
    prior=st.floats(0.0, 10.0),
)
def test_more_senders_never_raise_the_rate_and_more_flags_never_lower_it(weights, extra_weight, senders, more_senders, prior):
    def rate(ws: list[float], k: int) -> float:
        return flag_rates(1, _seeds({0: ws}), _flow({0: k}), prior=prior)["flag_rate"][0]

    base = rate(weights, senders)
    assert 0.0 <= base <= 1.0
    assert rate(weights, senders + more_senders) <= base + 1e-12, "more accounts gifting it raised its flag rate"
    assert rate(weights + [extra_weight], senders) >= base - 1e-12, "one more flag lowered its flag rate"


def _evidence_of_trader_and_scammer(config: Config) -> dict[int, float]:
    """Account 0 (honest trader): gifts from 300 accounts and 5 negative ratings; account 1 (scammer): the same
    5 negative ratings and nothing else; both with the same (no) graph evidence and the same ``known_bad``."""
    n = 302
    gifts = pl.DataFrame({"src": list(range(2, 302)), "dst": [0] * 300, "coins": [1.0] * 300,
                          "sent_at": [T0 + timedelta(hours=i) for i in range(300)], "sid": [None] * 300},
                         schema={"src": U32, "dst": U32, "coins": pl.Float64, "sent_at": pl.Datetime("us", "UTC"),
                                 "sid": U32})
    users = pl.DataFrame({"uid": range(n), "created_at": [None] * n}, schema={"uid": U32, "created_at": pl.Datetime("us", "UTC")})
    activity = user_activity(gifts, users, n)
    flow = gifts.group_by("src", "dst").agg(pl.col("coins").sum(), pl.len().cast(U32).alias("count"))
    rates = flag_rates(n, _seeds({0: [0.5] * 5, 1: [0.5] * 5}), flow, prior=config.flag_rate_prior)
    flags = rates.with_columns(pl.lit(1.0).alias("flagged"), pl.lit(1.0).alias("known_bad"))
    links = pl.DataFrame(schema={"uid": U32, "identifier": pl.Utf8, "kind": pl.Utf8, "hub": pl.Boolean,
                                 "placeholder": pl.Boolean})
    cogift = pl.DataFrame(schema={"a": U32, "b": U32, "weight": pl.Float64, "streams": U32})
    relays = pl.DataFrame(schema={"a": U32, "m": U32, "c": U32})
    ev = user_evidence(activity, links, cogift, flow, BASELINE, config, relays=relays, flags=flags)
    assert ev["evidence_without_flags"][0] == ev["evidence_without_flags"][1] == 0.0
    return dict(zip(ev["uid"].to_list(), ev["evidence"].to_list()))


def test_the_honest_trader_scores_below_the_scammer():
    config = Config()
    evidence = _evidence_of_trader_and_scammer(config)
    rate_trader, rate_scammer = _rate([0.5] * 5, 300), _rate([0.5] * 5, 0)
    assert evidence[1] == pytest.approx(min(rate_scammer / config.flag_rate_full, 1.0) * config.weight_flag_rate_account)
    assert evidence[0] == pytest.approx(rate_trader / config.flag_rate_full * config.weight_flag_rate_account)
    assert evidence[0] < 0.1 < 0.9 < evidence[1]
    # an account's own flags speak through its rate: its nearness to flags (its own among them) adds nothing
    # while an account without a flag gets its nearness to flags (known_bad = 1 here for every account)
    without_near = _evidence_of_trader_and_scammer(Config(weight_near_flags_account=0.0))
    assert (without_near[0], without_near[1]) == (evidence[0], evidence[1])
    assert evidence[2] == pytest.approx(config.weight_near_flags_account) and without_near[2] == 0.0


def test_the_report_ranks_the_trader_below_the_scammer_and_says_why():
    # viewers v000..v299 each gift the trader t and three hosts (four small gifts: no one-shot senders);
    # the scammer s receives nothing; t and s each got five negative ratings (kind negative_rating, weight 0.5)
    viewers = [f"v{i:03d}" for i in range(300)]
    rows = [(v, "t", 2.0 + i % 5, T0 + timedelta(minutes=7 * i)) for i, v in enumerate(viewers)]
    rows += [(v, f"h{k}", 1.0 + (i + k) % 4, T0 + timedelta(minutes=7 * i + 2 + k)) for i, v in enumerate(viewers)
             for k in range(3)]
    rows += [("s", "h0", 3.0, T0 + timedelta(days=1))]
    gifts = pl.DataFrame({"sender_id": [r[0] for r in rows], "receiver_id": [r[1] for r in rows],
                          "coins": [r[2] for r in rows], "sent_at": [r[3] for r in rows]})
    flags = pl.DataFrame({"user_id": ["t"] * 5 + ["s"] * 5, "kind": ["negative_rating"] * 10,
                          "at": [T0 + timedelta(hours=i) for i in range(10)]})
    report = analyze(Tables.from_frames(gifts=gifts, flags=flags), Config(seed=0), workers=1)
    scores = {u: (s, r) for u, s, r in report.user_scores.select("user_id", "score", "flag_reason").iter_rows()}
    assert not report.rings
    assert scores["t"][0] < scores["s"][0]
    assert scores["t"][1] == "flag rate 0.8%: 5 negative_rating flags against gifts from 300 distinct accounts"
    assert scores["s"][1] == "flag rate 55.6%: 5 negative_rating flags and no gift received"
    assert scores["v000"][1] is None


def test_the_flag_reason_counts_kinds_most_frequent_first():
    seeds = pl.DataFrame({"uid": [4, 4, 4, 4], "kind": ["ban", "chargeback", "chargeback", "a<b>"]},
                         schema={"uid": U32, "kind": pl.Utf8})
    rates = pl.DataFrame({"uid": [4], "senders": [1], "flag_rate": [0.5]}, schema={"uid": U32, "senders": pl.Int64,
                                                                                     "flag_rate": pl.Float64})
    assert flag_rate_reasons(seeds, rates).rows() == [
        (4, "flag rate 50.0%: 4 flags (2 chargeback, 1 a<b>, 1 ban) against gifts from 1 distinct account")]
