"""``Config`` checks every setting against its declared type and range, in one place.

A value out of range, NaN, infinity, a wrong type or an unknown key in a
``graphkit.toml`` is one line naming the file, the key, the value and what is
allowed; the same checks hold for ``Config(...)`` and ``Config.replace``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.config import Config, Setting, load_config
from graphkit.errors import ConfigError
from graphkit_cli.main import cli


def write(tmp_path, text: str):
    path = tmp_path / "graphkit.toml"
    path.write_text(f"[params]\n{text}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "allowed"),
    [
        ("top = 0", "a whole number >= 1"),
        ("min_score = nan", "a number from 0 to 1"),
        ("min_score = inf", "a number from 0 to 1"),
        ("max_bad_share = 2.5", "a number from 0 to 1"),
        ("view_max_nodes = 0", "a whole number >= 1"),
        ("hub_cap = 1", "a whole number >= 2"),
        ("resolution = 0", "a number > 0"),
        ("resolution = -0.5", "a number > 0"),
        ("seed = -1", "a whole number >= 0"),
        ("top = 2.5", "a whole number >= 1"),
        ("top = true", "a whole number >= 1"),
        ("top = '50'", "a whole number >= 1"),
        ("leiden_iterations = 0", "-1, or a whole number >= 1"),
        ("community_method = 'leiden2'", "one of 'leiden', 'louvain', 'label_propagation', 'components'"),
        ("weight_cycles = 1.5", "a number from 0 to 1"),
        ("pagerank_damping = 1.0", "a number > 0 and < 1"),
        ("since = [2024, 5]", "a time (ISO-8601 or epoch seconds)"),
        ("until = true", "a time (ISO-8601 or epoch seconds)"),
        ("placeholder_device_ids = 'unknown'", "a list of at most 1000 strings of at most 200 characters"),
        ("placeholder_device_ids = [0, 1]", "a list of at most 1000 strings of at most 200 characters"),
        ("burst_min_excess = 0.5", "a number >= 1"),
    ],
)
def test_a_bad_setting_names_file_key_value_and_allowed_range(tmp_path, line, allowed):
    path = write(tmp_path, line)
    key, value = (s.strip() for s in line.split("=", 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: [params] {key} = ")
    assert value.strip("'").replace(" ", "") in message.replace(" ", "")
    assert f"{key} must be {allowed}" in message
    assert "should be a int" not in message


def test_an_unknown_key_is_refused_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"\[params\] hubcap is not a graphkit setting; did you mean hub_cap\?"):
        load_config(write(tmp_path, "hubcap = 20"))


def test_an_unknown_key_without_a_near_name_lists_the_settings(tmp_path):
    with pytest.raises(ConfigError, match=r"zzz is not a graphkit setting; the settings are: .*hub_cap"):
        load_config(write(tmp_path, "zzz = 1"))


@pytest.mark.parametrize(("line", "message"), [
    ("since = '2024-06-01'\nuntil = '2024-05-01'", "must be before until"),
    ("since = 'yesterday'", "since = 'yesterday' is not a time"),
])
def test_a_window_that_is_not_one_is_refused_before_any_graph_is_built(tmp_path, line, message):
    """Times are parsed with the input's rules (graphkit.graphs.window), one layer above the config."""
    result = CliRunner().invoke(cli, ["report", "fixtures/demo", "--out", str(tmp_path / "out"), "--config",
                                      str(write(tmp_path, line)), "-q"])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr


def test_good_values_are_kept_and_whole_floats_become_floats(tmp_path):
    cfg = load_config(write(tmp_path, "top = 7\nmin_score = 0\nresolution = 1\nsince = 2024-05-01T00:00:00Z"))
    assert (cfg.top, cfg.min_score, cfg.resolution) == (7, 0.0, 1.0)
    assert isinstance(cfg.min_score, float) and isinstance(cfg.resolution, float)
    assert cfg.since == "2024-05-01T00:00:00+00:00"  # a TOML datetime, as ISO-8601 text (rings.json params)


def test_a_list_of_placeholder_device_ids_is_kept_as_a_tuple_and_written_as_a_list(tmp_path):
    cfg = load_config(write(tmp_path, 'placeholder_device_ids = ["unknown", "ffffffff"]'))
    assert cfg.placeholder_device_ids == ("unknown", "ffffffff")
    assert json.loads(json.dumps(cfg.to_params()))["placeholder_device_ids"] == ["unknown", "ffffffff"]


def test_the_constructor_and_replace_check_too():
    with pytest.raises(ConfigError, match="top = 0"):
        Config(top=0)
    with pytest.raises(ConfigError, match="min_score = nan"):
        Config().replace(min_score=math.nan)
    with pytest.raises(ConfigError, match="did you mean view_max_nodes"):
        Config().replace(view_max_node=5)


def test_every_setting_declares_its_type_and_range():
    for f in dataclasses.fields(Config):
        setting = f.metadata.get("setting")
        assert isinstance(setting, Setting), f"Config.{f.name} has no declared type and range"
        setting.check(f.name, f.default)  # the default is allowed


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from([f.name for f in dataclasses.fields(Config)]),
    value=st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.text(max_size=8), st.none(), st.datetimes(timezones=st.just(timezone.utc))),
)
def test_any_value_is_either_kept_within_its_range_or_refused_with_config_error(name, value):
    try:
        cfg = Config().replace(**{name: value})
    except ConfigError as exc:
        assert name in str(exc) and "\n" not in str(exc)
        return
    kept = getattr(cfg, name)
    setting = dataclasses.fields(Config)[[f.name for f in dataclasses.fields(Config)].index(name)].metadata["setting"]
    assert setting.check(name, kept) == kept
    if isinstance(kept, float):
        assert math.isfinite(kept)
    assert not isinstance(kept, datetime)  # params go to rings.json as JSON


def test_report_with_a_bad_config_is_one_line_exit_2(tmp_path):
    path = write(tmp_path, "view_max_nodes = 0")
    result = CliRunner().invoke(cli, ["report", "fixtures/demo", "--out", str(tmp_path / "out"), "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"graphkit: error: {path}: [params] view_max_nodes = 0 is not allowed; view_max_nodes must be a whole "
        "number >= 1"
    ]
    assert not (tmp_path / "out").exists()


def test_cli_options_take_their_range_from_config(tmp_path):
    result = CliRunner().invoke(cli, ["export", "fixtures/demo", "--graph", "shared", "--out",
                                      str(tmp_path / "x.graphml"), "--hub-cap", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("graphkit: error: --hub-cap: 1 is not in the range x>=2")


@pytest.mark.parametrize("value", [1, 0, "true", None, 1.0])
def test_a_true_or_false_setting_takes_only_booleans(value):
    """For settings like dedupe_exact_rows: TOML true/false only, never 1 or "yes"."""
    with pytest.raises(ConfigError, match="must be true or false"):
        Setting("bool").check("flag", value)
    assert Setting("bool").check("flag", True) is True


def test_an_option_value_outside_the_setting_is_refused_by_the_option_too():
    result = CliRunner().invoke(cli, ["validate", "fixtures/bad/negative_coins", "--max-bad-share", "nan"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "graphkit: error: --max-bad-share: nan is not allowed; it must be a number from 0 to 1 "
        "(see graphkit validate -h)"]


@pytest.mark.parametrize("text, words", [
    ("[parms]\ntop = 3\n", "[parms] is not a table graphkit reads; did you mean [params]?"),
    ("top = 3\n", "top = ... is outside any table; settings go under [params]"),
])
def test_a_config_file_with_a_misspelt_table_or_a_loose_setting_is_refused(tmp_path, text, words):
    """Before, both were read as 'no settings' and the run went on with the defaults."""
    path = tmp_path / "graphkit.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {words}"
