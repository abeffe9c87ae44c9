"""A shareable copy of a report: every id replaced by its keyed pseudonym (``--redact-key``).

:func:`redact_report` returns the :class:`~graphkit.model.Report` that the
writers turn into ``OUT_DIR/redacted/``: ring members, beneficiaries, money
paths, reasons, account scores and the rejected rows carry pseudonyms
(``acct-3f9a1c02b7``, ``dev-...``, ``ip-...``, ``strm-...``, ``gift-...``)
instead of the ids of the data, and the tables it keeps hold only what
``report.md`` describes (the members of the rings it draws), redacted too.
The HTML views of that folder are drawn from the real report with the same
redactor (:func:`graphkit.viz.write_views`), so pseudonyms agree across every
file of the folder and with ``graphkit expand --redact`` under the same key.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Iterable

import polars as pl

from graphkit.io.schema import TABLES
from graphkit.model import Decision, HeldBack, Report, Ring

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.io import Tables
    from graphkit.viz import Redactor

__all__ = ["ID_KINDS", "redact_frame", "redact_report"]

ID_KINDS: dict[str, str] = {
    "user_id": "account",
    "host_id": "account",
    "sender_id": "account",
    "receiver_id": "account",
    "device_id": "device",
    "ip": "ip",
    "stream_id": "stream",
    "gift_id": "gift",
}
"""Each id column of the input tables (CONTRACT.md) -> the kind of entity its values name."""


def redact_frame(frame: pl.DataFrame, table: str, redactor: "Redactor", *, keep: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with every id column of ``table`` pseudonymised and columns outside the contract dropped.

    Parameters
    ----------
    frame : polars.DataFrame
        Rows of input table ``table`` (accepted, or rejected with ``row`` and ``reason``).
    table : str
        ``users``, ``streams``, ``devices`` or ``gifts``.
    redactor : graphkit.viz.Redactor
    keep : iterable of str
        Other columns to keep as they are (``row``, ``reason``); extra columns
        of the data (free text, warehouse fields) are dropped, since nothing
        says what they hold.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.viz import Redactor
    >>> gifts = pl.DataFrame({"sender_id": ["u1"], "receiver_id": ["h1"], "coins": [5.0], "note": ["hi u1"]})
    >>> out = redact_frame(gifts, "gifts", Redactor(b"k" * 32))
    >>> out.columns, out["sender_id"][0].startswith("acct-"), out["coins"][0]
    (['sender_id', 'receiver_id', 'coins'], True, 5.0)
    """
    names = [*keep, *TABLES[table].names]
    columns = [c for c in frame.columns if c in names]
    return frame.select(
        redactor.series(frame.get_column(c).cast(pl.Utf8), ID_KINDS[c]) if c in ID_KINDS else pl.col(c)
        for c in columns
    )


def redact_report(report: Report, redactor: "Redactor", *, top: int | None = None) -> Report:
    """The shareable copy of ``report``: the same rings, scores and counts, with pseudonyms for ids.

    Parameters
    ----------
    report : Report
        The result of :func:`graphkit.pipeline.analyze`.
    redactor : graphkit.viz.Redactor
        The keyed pseudonyms (:func:`graphkit.viz.load_or_create_key`).
    top : int, optional
        The rings ``report.md`` describes; the tables kept are cut down to their members.

    Returns
    -------
    Report
        Rings (members, beneficiaries, money path, reasons), ``user_scores``
        and the rejected rows redacted; ``tables`` holds the redacted rows of
        the described members only (for ``report.md``'s members tables) and
        no source path; ``graphs`` and ``user_features`` are left out.

    Examples
    --------
    >>> import polars as pl
    >>> from graphkit.model import Decision, HeldBack, Report, Ring
    >>> from graphkit.viz import Redactor
    >>> red = Redactor(b"k" * 32)
    >>> ring = Ring("R0001", 1, 0.9, ("a", "h"), 10.0, reasons=("a paid h 10 coins",))
    >>> scores = pl.DataFrame({"user_id": ["a", "h"], "score": [0.9, 0.9], "ring_id": ["R0001"] * 2})
    >>> shared = redact_report(Report((ring,), scores, {}, {}), red).rings[0]
    >>> shared.members == tuple(sorted(red.pseudonym(m) for m in ("a", "h")))
    True
    >>> shared.reasons[0] == f"{red.pseudonym('a')} paid {red.pseudonym('h')} 10 coins"
    True
    """
    tables = report.tables
    around = _ids_around(report.rings, tables)
    rings = tuple(_redact_ring(ring, redactor, around.get(ring.ring_id, [])) for ring in report.rings)
    scores = report.user_scores
    if "user_id" in scores.columns:
        scores = scores.with_columns(redactor.series(scores.get_column("user_id").cast(pl.Utf8), "account"))
    shown = report.rings if top is None else report.rings[:top]
    quiet = report.quiet_rings
    if quiet is not None:
        quiet = tuple({**q, "shared_devices": sorted(redactor.pseudonym(d, "device") for d in q.get("shared_devices", [])),
                       "shared_ips": sorted(redactor.pseudonym(i, "ip") for i in q.get("shared_ips", []))}
                      for q in quiet)
    return dataclasses.replace(
        report,
        rings=rings,
        held_back=tuple(_redact_held_back(h, redactor) for h in report.held_back),
        decisions=None if report.decisions is None else tuple(_redact_decision(d, redactor) for d in report.decisions),
        quiet_rings=quiet,
        user_scores=scores,
        tables=_redact_tables(tables, shown, redactor) if tables is not None else None,
        graphs=None,
        user_features=None,
    )


def _redact_ring(ring: Ring, redactor: "Redactor", ids: list[tuple[str, str]]) -> Ring:
    name = redactor.pseudonym
    text = redactor.text_replacer(ids)
    return dataclasses.replace(
        ring,
        members=tuple(sorted(name(m) for m in ring.members)),
        beneficiaries=tuple(dataclasses.replace(b, user_id=name(b.user_id)) for b in ring.beneficiaries),
        reasons=tuple(text(r) for r in ring.reasons),
        money_path=tuple(name(u) for u in ring.money_path),
        shared_devices=tuple(sorted(name(d, "device") for d in ring.shared_devices)),
        shared_ips=tuple(sorted(name(i, "ip") for i in ring.shared_ips)),
        new_members=tuple(sorted(name(m) for m in ring.new_members)),
        decisions=None if ring.decisions is None else tuple(_redact_decision(d, redactor) for d in ring.decisions),
    )


def _redact_decision(decision: Decision, redactor: "Redactor") -> Decision:
    """A decision with pseudonyms for its accounts; its note and who decided are left out (free text and an
    investigator's name: nothing says what they hold), its verdict, ring id and time kept."""
    name = redactor.pseudonym
    return dataclasses.replace(
        decision, user_id=None if decision.user_id is None else name(decision.user_id), note=None, by=None,
        members=tuple(sorted(name(m) for m in decision.members)),
    )


def _redact_held_back(held: HeldBack, redactor: "Redactor") -> HeldBack:
    name = redactor.pseudonym
    return dataclasses.replace(
        held, members=tuple(sorted(name(m) for m in held.members)), joined=tuple(sorted(name(m) for m in held.joined)),
        decisions=tuple(_redact_decision(d, redactor) for d in held.decisions),
    )


def _ids_around(rings: tuple[Ring, ...], tables: "Tables | None") -> dict[str, list[tuple[str, str]]]:
    """Per ring, the ``(kind, id)`` pairs its sentences may name, accounts first.

    Its members, the devices and IPs they used, the streams they gifted in or
    hosted, and the hosts of those streams: one vectorised pass for all rings.
    """
    members = pl.DataFrame(
        {"ring_id": [r.ring_id for r in rings for _ in r.members], "user_id": [m for r in rings for m in r.members]},
        schema={"ring_id": pl.Utf8, "user_id": pl.Utf8},
    )
    parts = [members.select("ring_id", pl.lit("account").alias("kind"), pl.col("user_id").alias("id"))]
    if tables is not None:
        used = tables.devices.join(members, on="user_id")
        for kind, column in (("device", "device_id"), ("ip", "ip")):
            parts.append(used.select("ring_id", pl.lit(kind).alias("kind"), pl.col(column).cast(pl.Utf8).alias("id")))
        gifted = tables.gifts.join(members.rename({"user_id": "sender_id"}), on="sender_id").select("ring_id", "stream_id")
        hosted = tables.streams.join(members.rename({"user_id": "host_id"}), on="host_id").select("ring_id", "stream_id")
        streams = pl.concat([gifted, hosted]).drop_nulls().unique()
        hosts = streams.join(tables.streams.select("stream_id", "host_id"), on="stream_id")
        parts.append(streams.select("ring_id", pl.lit("stream").alias("kind"), pl.col("stream_id").alias("id")))
        parts.append(hosts.select("ring_id", pl.lit("account").alias("kind"), pl.col("host_id").alias("id")))
    order = {"account": 0, "device": 1, "ip": 2, "stream": 3}
    found = (
        pl.concat(parts).drop_nulls().unique(maintain_order=True)
        .with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int8).alias("_order"))
        .sort("ring_id", "_order", "id")
    )
    return {
        key[0]: list(zip(frame.get_column("kind").to_list(), frame.get_column("id").to_list()))
        for key, frame in found.group_by("ring_id", maintain_order=True)
    }


def _redact_tables(tables: "Tables", rings: tuple[Ring, ...], redactor: "Redactor") -> "Tables":
    """The rows ``report.md`` reads for the members of ``rings``, and the rejected rows, redacted."""
    who = pl.Series("user_id", sorted({m for r in rings for m in r.members}), dtype=pl.Utf8).implode()
    rows = {
        "users": tables.users.filter(pl.col("user_id").is_in(who)),
        "devices": tables.devices.filter(pl.col("user_id").is_in(who)),
        "gifts": tables.gifts.filter(pl.col("sender_id").is_in(who) | pl.col("receiver_id").is_in(who)),
        "streams": tables.streams.clear(),
        "flags": tables.flags.filter(pl.col("user_id").is_in(who)),
    }
    return dataclasses.replace(
        tables,
        **{name: redact_frame(frame, name, redactor) for name, frame in rows.items()},
        rejected={name: redact_frame(frame, name, redactor, keep=("row", "reason"))
                  for name, frame in tables.rejected.items()},
        source=None,
    )
