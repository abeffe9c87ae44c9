"""Property tests for the readers: ids and timestamps survive every format,
and no row is ever lost (accepted + rejected = rows read)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit.io import read_tables
from graphkit.io.parse import TimeUnit, parse_time, parse_time_checked, parse_time_value

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ids as warehouses export them: leading zeros, 19-digit numbers, unicode,
# commas, quotes, newlines and surrounding spaces that need CSV quoting
_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=12)
_ids = st.one_of(
    _text,
    st.from_regex(r"0[0-9]{1,18}", fullmatch=True),
    st.integers(10**18, 10**19 - 1).map(str),
    st.sampled_from(['a,b', 'say "hi"', ' padded ', "line\nbreak", "crlf\r\nid", "é中🙂", "-0", "1e5", "NaN", "null"]),
)


def _write(frame: pl.DataFrame, directory: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.write_csv(directory / "gifts.csv")
    elif fmt == "parquet":
        frame.write_parquet(directory / "gifts.parquet")
    else:
        frame.write_ndjson(directory / "gifts.ndjson")


def _gifts(senders: list[str]) -> pl.DataFrame:
    n = len(senders)
    return pl.DataFrame(
        {
            "sender_id": senders,
            "receiver_id": senders[::-1],
            "coins": [1.5] * n,
            "sent_at": ["2024-05-01T10:00:00Z"] * n,
            "gift_id": [f"g{i}" for i in range(n)],
        }
    )


@SETTINGS
@given(ids=st.lists(_ids, min_size=1, max_size=20), fmt=st.sampled_from(["csv", "parquet", "ndjson"]))
def test_ids_round_trip_unchanged(ids: list[str], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _write(_gifts(ids), Path(tmp), fmt)
        tables = read_tables(tmp, max_bad_share=0.0)
    assert tables.gifts["sender_id"].to_list() == ids
    assert tables.gifts["receiver_id"].to_list() == ids[::-1]
    assert tables.gifts["gift_id"].to_list() == [f"g{i}" for i in range(len(ids))]


@SETTINGS
@given(
    numbers=st.lists(st.integers(10**18, 2**63 - 1), min_size=1, max_size=20),
    unsigned=st.lists(st.integers(10**18, 10**19 - 1), min_size=1, max_size=20),
    fmt=st.sampled_from(["parquet", "ndjson", "csv"]),
)
def test_19_digit_integer_ids_come_back_as_the_same_decimal_strings(
    numbers: list[int], unsigned: list[int], fmt: str
) -> None:
    n = min(len(numbers), len(unsigned))
    frame = pl.DataFrame(
        {
            "sender_id": pl.Series(numbers[:n], dtype=pl.Int64),
            "receiver_id": pl.Series(unsigned[:n], dtype=pl.UInt64),
            "coins": pl.Series([7] * n, dtype=pl.Int32),
            "sent_at": pl.Series([1714557600] * n, dtype=pl.Int64),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        _write(frame, Path(tmp), fmt)
        gifts = read_tables(tmp).gifts
    assert gifts.schema["sender_id"] == pl.Utf8
    assert gifts["sender_id"].to_list() == [str(x) for x in numbers[:n]]
    assert gifts["receiver_id"].to_list() == [str(x) for x in unsigned[:n]]
    assert gifts["coins"].to_list() == [7.0] * n
    assert gifts["sent_at"].to_list() == [dt.datetime(2024, 5, 1, 10, tzinfo=UTC)] * n


# --- timestamps ----------------------------------------------------------------

# the plausible years: 1970-01-01 .. 2099-12-31 (graphkit.io.parse.EARLIEST, HORIZON); a day of
# margin keeps a local time with an offset inside them too
_instants = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2099, 12, 30)).map(
    lambda d: d.replace(tzinfo=UTC)
)
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timedelta(minutes=m))
FORMATS = ("Z", "+hh:mm", "+hhmm", "+hh", "naive", "epoch", "date", "UTC")


def _render(instant: dt.datetime, offset: dt.timedelta, fmt: str, sep: str) -> tuple[str, dt.datetime]:
    """``instant`` written in ``fmt``, and the instant that text stands for."""
    if fmt == "epoch":
        instant = instant.replace(microsecond=0)
        return str((instant - EPOCH) // dt.timedelta(seconds=1)), instant
    if fmt == "date":
        instant = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        return f"{instant:%Y-%m-%d}" if instant.year >= 1000 else instant.date().isoformat(), instant
    if fmt in ("Z", "naive", "UTC"):
        offset = dt.timedelta(0)
    if fmt == "+hh":
        offset = dt.timedelta(hours=round(offset.total_seconds() / 3600))
    local = (instant + offset).replace(tzinfo=None)
    text = local.isoformat(sep=sep)
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    suffix = {
        "Z": "Z",
        "naive": "",
        "+hh:mm": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
        "+hhmm": f"{sign}{minutes // 60:02d}{minutes % 60:02d}",
        "+hh": f"{sign}{minutes // 60:02d}",
        "UTC": " UTC",  # BigQuery's CSV export
    }[fmt]
    return text + suffix, instant


@SETTINGS
@given(
    st.lists(
        st.tuples(_instants, _offsets, st.sampled_from(FORMATS), st.sampled_from(["T", " "])),
        min_size=1,
        max_size=30,
    )
)
def test_timestamps_in_every_accepted_format_parse_to_the_same_utc_instant(cases) -> None:
    rendered = [_render(*case) for case in cases]
    texts = [text for text, _ in rendered]
    parsed = pl.select(parse_time(pl.Series("t", texts))).to_series().to_list()
    assert parsed == [instant for _, instant in rendered], texts
    # the same rule for one value given on the command line (--since)
    assert parse_time_value(texts[0]) == rendered[0][1]


@SETTINGS
@given(st.lists(st.tuples(_instants, _offsets, st.sampled_from(FORMATS), st.just("T")), min_size=1, max_size=10))
def test_timestamps_survive_csv_and_ndjson(cases) -> None:
    rendered = [_render(*case) for case in cases]
    frame = pl.DataFrame(
        {"sender_id": "a", "receiver_id": "b", "coins": 1, "sent_at": [text for text, _ in rendered]}
    )
    for fmt in ("csv", "ndjson"):
        with tempfile.TemporaryDirectory() as tmp:
            _write(frame, Path(tmp), fmt)
            gifts = read_tables(tmp, max_bad_share=0.0).gifts
        assert gifts["sent_at"].to_list() == [instant for _, instant in rendered]


_ns_instants = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2099, 12, 31, 23, 59)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@SETTINGS
@given(
    st.lists(_ns_instants, min_size=1, max_size=10),
    st.sampled_from([None, "UTC", "Asia/Kolkata", "America/New_York"]),
    st.sampled_from(["ns", "us", "ms"]),
)
def test_native_parquet_datetimes_are_normalised_to_utc(instants, zone, unit) -> None:
    if unit == "ms":
        instants = [i.replace(microsecond=i.microsecond // 1000 * 1000) for i in instants]
    column = pl.Series("sent_at", [i.replace(tzinfo=None) for i in instants]).cast(pl.Datetime(unit))
    if zone is not None:  # tz-aware: the wall-clock time of the zone, which stands for the same instant
        column = column.dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    n = len(instants)
    frame = pl.DataFrame({"sender_id": ["a"] * n, "receiver_id": ["b"] * n, "coins": [1.0] * n, "sent_at": column})
    with tempfile.TemporaryDirectory() as tmp:
        frame.write_parquet(Path(tmp) / "gifts.parquet")
        gifts = read_tables(tmp, max_bad_share=0.0).gifts
    assert gifts.schema["sent_at"] == pl.Datetime("us", "UTC")
    assert gifts["sent_at"].to_list() == instants


# --- nothing lost -----------------------------------------------------------------

_row = st.fixed_dictionaries(
    {
        "sender_id": st.sampled_from(["u1", "u2", "0042", "", " "]),
        "receiver_id": st.sampled_from(["h1", "h2", ""]),
        "coins": st.sampled_from(["5", "0", "2.5", "1e3", "-1", "-0.5", "abc", "", "nan", "inf", " 7 "]),
        "sent_at": st.sampled_from(
            ["2024-05-01T10:00:00Z", "1714557600", "2024-05-01", "yesterday", "", "2024-13-01", "1714557600000",
             "2024-05-01 10:00:00 UTC", "0001-01-01"]
        ),
        "gift_id": st.sampled_from(["g1", "g2", "g3", "g4", ""]),
    }
)


def _expected_reason(row: dict[str, str], column_unit: str) -> str | None:
    """An independent statement of the contract's row checks, in the reader's order.

    ``column_unit`` is the epoch unit of the sent_at column: the unit of the
    lower median of its numbers (seconds for 1714557600, milliseconds for 1714557600000).
    """
    import math

    if not row["sender_id"]:
        return "missing sender_id"
    if not row["receiver_id"]:
        return "missing receiver_id"
    if not row["coins"]:
        return "missing coins"
    try:
        coins = float(row["coins"])
    except ValueError:
        return "coins not a number"
    if coins < 0:
        return "negative coins"
    if math.isnan(coins) or math.isinf(coins):
        return "coins not a number"
    if not row["sent_at"]:
        return "missing sent_at"
    if row["sent_at"] in ("yesterday", "2024-13-01"):
        return "unparseable sent_at"
    if row["sent_at"] == "0001-01-01":
        return "sent_at outside the years 1970-2099"
    unit = {"1714557600": "seconds", "1714557600000": "milliseconds"}.get(row["sent_at"])
    if unit is not None and unit != column_unit:
        return f"sent_at looks like epoch {unit} in a column of epoch {column_unit}"
    return None


def _column_unit(values: list[str]) -> str:
    units = sorted(["seconds", "milliseconds"].index(u) for u in (
        {"1714557600": "seconds", "1714557600000": "milliseconds"}.get(v) for v in values) if u is not None)
    return ["seconds", "milliseconds"][units[(len(units) - 1) // 2]] if units else "seconds"


@SETTINGS
@given(rows=st.lists(_row, min_size=1, max_size=40), fmt=st.sampled_from(["csv", "ndjson", "parquet"]))
def test_accepted_plus_rejected_is_rows_read(rows: list[dict[str, str]], fmt: str) -> None:
    schema = dict.fromkeys(["sender_id", "receiver_id", "coins", "sent_at", "gift_id"], pl.Utf8)
    frame = pl.DataFrame(rows, schema=schema)
    if fmt != "csv":  # CSV reads an empty field as missing; the other formats say so with null
        frame = frame.with_columns(pl.all().replace("", None))
    with tempfile.TemporaryDirectory() as tmp:
        _write(frame, Path(tmp), fmt)
        tables = read_tables(tmp, max_bad_share=1.0)
    stats = tables.stats["gifts"]
    assert stats.rows_read == len(rows)
    assert stats.accepted + stats.rejected == stats.rows_read
    assert tables.gifts.height == stats.accepted
    rejected = tables.rejected.get("gifts", pl.DataFrame({"row": [], "reason": []}))
    assert rejected.height == stats.rejected

    expected, seen = {}, set()
    column_unit = _column_unit([row["sent_at"] for row in rows])
    for number, row in enumerate(rows, start=1):
        reason = _expected_reason(row, column_unit)
        if reason is None and row["gift_id"]:
            reason = "duplicate gift_id" if row["gift_id"] in seen else None
            seen.add(row["gift_id"])
        if reason is not None:
            expected[number] = reason
    assert dict(zip(rejected["row"].to_list(), rejected["reason"].to_list())) == expected
    assert stats.rejected_by_reason == {
        r: list(expected.values()).count(r) for r in sorted(set(expected.values()))
    }
    # ids and values of the accepted rows are the file's, unchanged
    kept = [row for number, row in enumerate(rows, start=1) if number not in expected]
    assert tables.gifts["sender_id"].to_list() == [row["sender_id"] for row in kept]
    assert tables.gifts["coins"].to_list() == [float(row["coins"]) for row in kept]


# --- epoch numbers: the unit from the size, one unit per column (graphkit.io.parse.TIME_RULE) -----

HORIZON_US = (dt.datetime(2100, 1, 1, tzinfo=UTC) - EPOCH) // dt.timedelta(microseconds=1)
UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")


def _oracle_band(n: int) -> int:
    """The unit of an epoch number by its size, written out independently of the reader."""
    return next((i for i, limit in enumerate((10**11, 10**14, 10**17)) if abs(n) < limit), 3)


def _oracle_us(n: int, band: int) -> int:
    """``n`` in unit ``band`` as microseconds since the epoch (floor division for nanoseconds)."""
    return n * (1_000_000, 1_000, 1)[band] if band < 3 else (n // 1_000 if n >= 0 else -((-n) // 1_000))


def _us(instant: dt.datetime) -> int:
    return (instant - EPOCH) // dt.timedelta(microseconds=1)


# milliseconds, microseconds and nanoseconds before 1973-03-03 are small enough to look like
# seconds: only from then on does the size tell the unit (README, Input)
_late_instants = st.datetimes(min_value=dt.datetime(1973, 3, 4), max_value=dt.datetime(2099, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def _render_epoch(instant: dt.datetime, unit: str, fraction: bool, extra_ns: int) -> tuple[str, dt.datetime]:
    """``instant`` as an epoch number in ``unit`` (with a fraction, or extra nanoseconds), and what it stands for."""
    us = _us(instant)
    if unit == "seconds":
        if not fraction:
            return str(us // 1_000_000), EPOCH + dt.timedelta(seconds=us // 1_000_000)
        return f"{us // 1_000_000}.{us % 1_000_000:06d}".rstrip("0").rstrip("."), instant
    if unit == "milliseconds":
        if not fraction:
            return str(us // 1_000), EPOCH + dt.timedelta(milliseconds=us // 1_000)
        return f"{us // 1_000}.{us % 1_000:03d}", instant
    if unit == "microseconds":
        return str(us), instant
    return str(us * 1_000 + extra_ns), instant


@SETTINGS
@given(
    unit=st.sampled_from(UNITS),
    fraction=st.booleans(),
    cases=st.lists(st.tuples(_late_instants, st.integers(0, 999)), min_size=1, max_size=20),
)
def test_epoch_numbers_round_trip_in_every_unit(unit: str, fraction: bool, cases) -> None:
    rendered = [_render_epoch(instant, unit, fraction, extra) for instant, extra in cases]
    texts = [text for text, _ in rendered]
    parsed = parse_time(pl.Series("t", texts)).to_list()
    assert parsed == [instant for _, instant in rendered], texts


@SETTINGS
@given(st.lists(st.tuples(_instants, st.integers(0, 999_999)), min_size=1, max_size=20))
def test_fractional_epoch_seconds_keep_their_microseconds(cases) -> None:
    texts, expected = [], []
    for instant, micros in cases:
        instant = instant.replace(microsecond=micros)
        texts.append(f"{_us(instant) // 1_000_000}.{micros:06d}")
        expected.append(instant)
    assert parse_time(pl.Series("t", texts)).to_list() == expected
    # the same numbers from a Parquet float column: what float64 holds, to the microsecond or so
    floats = pl.Series("t", [float(t) for t in texts])
    for got, want in zip(parse_time(floats).to_list(), expected):
        assert abs((got - want).total_seconds()) < 1e-5


@SETTINGS
@given(st.one_of(
    st.integers(-10**12, 10**20),
    st.sampled_from([0, -1, -(2**63), -(2**63) + 1, 10**11 - 1, 10**11, 10**14 - 1, 10**14, 10**17 - 1, 10**17, 2**63 - 1, 2**63,
                     4_102_444_799, 4_102_444_800, 4_102_444_799_999, 4_102_444_800_000,
                     4_102_444_799_999_999, 4_102_444_800_000_000, 4_102_444_799_999_999_999]),
))
def test_one_epoch_number_is_accepted_exactly_when_its_unit_puts_it_in_1970_to_2099(n: int) -> None:
    band = _oracle_band(n)
    us = _oracle_us(n, band)
    checked = parse_time_checked(pl.Series("t", [str(n)]), name="sent_at")
    time, problem = checked.struct.field("time")[0], checked.struct.field("problem")[0]
    if 0 <= us < HORIZON_US:
        assert problem is None and time == EPOCH + dt.timedelta(microseconds=us), (n, problem)
    else:
        assert time is None
        assert problem == f"sent_at outside the years 1970-2099 when read as epoch {UNITS[band]}", (n, problem)


def test_digits_of_other_scripts_are_not_epoch_numbers() -> None:
    checked = parse_time_checked(pl.Series("t", ["\u0661\u0667\u0661\u0664", "\uff11\uff17\uff11\uff14"]), name="t")
    assert checked.struct.field("problem").to_list() == ["unparseable t", "unparseable t"]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(UNITS), _late_instants), min_size=1, max_size=15))
def test_a_column_takes_the_unit_of_its_median_number_and_rejects_the_others(cases) -> None:
    texts = [_render_epoch(instant, unit, False, 0)[0] for unit, instant in cases]
    bands = sorted(UNITS.index(unit) for unit, _ in cases)
    column = UNITS[bands[(len(bands) - 1) // 2]]
    checked = parse_time_checked(pl.Series("t", texts), name="sent_at")
    problems = checked.struct.field("problem").to_list()
    assert problems == [
        None if unit == column else f"sent_at looks like epoch {unit} in a column of epoch {column}"
        for unit, _ in cases
    ]
    # ISO values in the same column do not take part in the vote
    mixed = parse_time_checked(pl.Series("t", [*texts, "2024-05-01T10:00:00Z"] * 2), name="sent_at")
    assert mixed.struct.field("problem").to_list()[: len(texts)] == problems


@SETTINGS
@given(
    step=st.sampled_from([1, 60, 3600, 86400, 0.5]),
    origin=st.sampled_from([None, "2024-01-01", "2010-11-08T18:00:00Z"]),
    steps=st.lists(st.integers(0, 10_000), min_size=1, max_size=20),
)
def test_steps_of_n_seconds_from_an_origin(step: float, origin: str | None, steps: list[int]) -> None:
    start = parse_time_value(origin) if origin else EPOCH
    unit = TimeUnit(step_seconds=step, **({"origin": start} if origin else {}))
    parsed = parse_time(pl.Series("t", [str(n) for n in steps]), unit=unit).to_list()
    assert parsed == [start + dt.timedelta(seconds=n * step) for n in steps]


@SETTINGS
@given(st.lists(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9998, 12, 30)), min_size=1, max_size=20))
def test_iso_times_are_accepted_exactly_in_the_plausible_years(instants) -> None:
    texts = [i.isoformat() + "Z" for i in instants]
    checked = parse_time_checked(pl.Series("t", texts), name="created_at")
    for instant, time, problem in zip(instants, checked.struct.field("time"), checked.struct.field("problem")):
        if 1970 <= instant.year < 2100:
            assert problem is None and time == instant.replace(tzinfo=UTC)
        else:
            assert time is None and problem == "created_at outside the years 1970-2099"


def test_native_parquet_datetimes_outside_the_plausible_years_are_rejected() -> None:
    column = pl.Series("sent_at", [dt.datetime(1969, 12, 31, 23), dt.datetime(2024, 5, 1), dt.datetime(2200, 1, 1)])
    frame = pl.DataFrame({"sender_id": ["a"] * 3, "receiver_id": ["b"] * 3, "coins": [1.0] * 3, "sent_at": column})
    with tempfile.TemporaryDirectory() as tmp:
        frame.write_parquet(Path(tmp) / "gifts.parquet")
        tables = read_tables(tmp, max_bad_share=1.0)
    assert tables.gifts["sent_at"].to_list() == [dt.datetime(2024, 5, 1, tzinfo=UTC)]
    assert tables.stats["gifts"].rejected_by_reason == {"sent_at outside the years 1970-2099": 2}
