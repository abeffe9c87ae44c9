"""The ring score: bounded, monotone in every risk signal, explained by its reasons."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import Config
from graphkit.score import COMPONENTS, ring_reasons, score_groups

RISK_SIGNALS = sorted({column for column, _ in COMPONENTS.values()} - {"young_crowding"} | {
    "crowding", "new_account_ratio", "creation_burst", "beneficiary_top3_share", "beneficiary_income_share"})

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
signal_rows = st.fixed_dictionaries({name: unit for name in RISK_SIGNALS} | {"size": st.integers(1, 200)})


def _score(row: dict, config: Config = Config()) -> float:
    return score_groups(pl.DataFrame([{"group": 0, **row}]), config)["score"].item()


@settings(max_examples=300, deadline=None)
@given(signal_rows, st.sampled_from(RISK_SIGNALS), unit)
def test_score_is_in_unit_interval_and_never_falls_when_a_risk_signal_rises(row, name, bump):
    before = _score(row)
    raised = dict(row, **{name: max(row[name], bump)})
    after = _score(raised)
    assert 0.0 <= before <= 1.0 and 0.0 <= after <= 1.0
    assert after >= before - 1e-12


@settings(max_examples=100, deadline=None)
@given(signal_rows, st.integers(1, 200))
def test_bigger_groups_with_the_same_signals_score_at_least_as_high(row, extra):
    assert _score(dict(row, size=row["size"] + extra)) >= _score(row) - 1e-12


def test_a_farm_outscores_a_family_and_an_internet_cafe():
    farm = {"size": 40, "crowding": 1.0, "new_account_ratio": 0.9, "creation_burst": 0.85, "synchrony": 0.1,
            "one_shot_large_ratio": 0.0, "cycle_coin_share": 0.0, "relay_coin_share": 0.0, "fan_coin_share": 0.0, "beneficiary_top3_share": 0.9,
            "beneficiary_income_share": 0.9}
    family = dict(farm, size=4, crowding=0.3, new_account_ratio=0.0, creation_burst=0.2, beneficiary_income_share=0.02)
    cafe = dict(farm, size=35, new_account_ratio=0.03, creation_burst=0.05, beneficiary_top3_share=0.4,
                beneficiary_income_share=0.05)
    scores = [_score(r) for r in (farm, family, cafe)]
    assert scores[0] > 0.6
    assert scores[0] > 3 * scores[1] and scores[0] > 2 * scores[2]


def test_kind_follows_the_strongest_pattern():
    rows = pl.DataFrame([
        {"group": 1, "size": 30, "crowding": 0.0, "new_account_ratio": 0.0, "creation_burst": 0.0, "synchrony": 0.9,
         "one_shot_large_ratio": 0.0, "cycle_coin_share": 0.0, "relay_coin_share": 0.0, "fan_coin_share": 0.0, "beneficiary_top3_share": 0.8, "beneficiary_income_share": 0.5},
        {"group": 2, "size": 30, "crowding": 0.0, "new_account_ratio": 0.2, "creation_burst": 0.0, "synchrony": 0.0,
         "one_shot_large_ratio": 0.9, "cycle_coin_share": 0.0, "relay_coin_share": 0.0, "fan_coin_share": 0.0, "beneficiary_top3_share": 0.8, "beneficiary_income_share": 0.5},
        {"group": 3, "size": 30, "crowding": 0.0, "new_account_ratio": 0.0, "creation_burst": 0.0, "synchrony": 0.0,
         "one_shot_large_ratio": 0.0, "cycle_coin_share": 0.0, "relay_coin_share": 0.0, "fan_coin_share": 0.0, "beneficiary_top3_share": 0.1, "beneficiary_income_share": 0.0},
    ])
    assert score_groups(rows, Config())["kind"].to_list() == ["gifting_burst", "cashout_mules", "mixed"]


def test_weights_come_from_config():
    row = {"size": 30, "crowding": 0.0, "new_account_ratio": 0.0, "creation_burst": 0.0, "synchrony": 1.0,
           "one_shot_large_ratio": 0.0, "cycle_coin_share": 0.0, "relay_coin_share": 0.0, "fan_coin_share": 0.0, "beneficiary_top3_share": 1.0, "beneficiary_income_share": 1.0}
    assert _score(row, Config(weight_synchrony=0.0)) == 0.0
    assert _score(row, Config(weight_synchrony=0.9)) > _score(row, Config(weight_synchrony=0.5))


def test_reasons_quote_the_numbers():
    row = {"size": 31, "n_shared_identifiers": 3, "n_shared_devices": 3, "n_shared_ips": 0, "n_sharing": 31,
           "part_shared_identifiers": 0.3, "part_young_crowd": 0.6, "n_young": 29, "part_new_accounts": 0.3,
           "max_created_24h": 27, "part_creation_burst": 0.25, "sync_streams": 8, "sync_accounts": 27,
           "synchrony": 0.8, "part_synchrony": 0.6, "n_one_shot_large": 0, "part_one_shot": 0.0,
           "coins_on_cycles": 0.0, "part_cycles": 0.0, "coins_total": 48120.0, "camouflage": 0.04}
    reasons = ring_reasons(row, beneficiaries=[("h1", 30000.0, 0.97), ("h2", 15235.0, 0.4)], money_path=[],
                           config=Config(), young_days=7.0, large_gift=499.0)
    assert "31 of 31 accounts share 3 devices" in reasons
    assert "94% of the ring's 48,120 coins went to 2 accounts: h1, h2" in reasons
    assert "27 accounts gifted the same stream within 120 s; 8 streams saw such a burst, far above the stream's normal rate" in reasons
    assert "97% of all the coins h1 received came from this ring" in reasons
    assert "29 of 31 accounts were less than 7 days old at the first gift they sent" in reasons
    named = ring_reasons(row, beneficiaries=[], money_path=[], config=Config(), young_days=6.9, large_gift=499.0,
                         burst=("s42", datetime(2024, 5, 3, 20, 12, 41)))
    assert ("27 accounts gifted stream s42 within 120 s from 2024-05-03 20:12:41 UTC; 8 streams saw such a burst, "
            "far above the stream's normal rate") in named
    assert "29 of 31 accounts were less than 6.9 days old at the first gift they sent" in named
