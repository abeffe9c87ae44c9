"""The result types of a graphkit run: :class:`Ring`, :class:`Beneficiary`, :class:`Report`.

They hold exactly what the output contract (CONTRACT.md, ``rings.json``)
promises, plus the frames and graphs that the views and notebooks build on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import polars as pl

if TYPE_CHECKING:  # pragma: no cover - typing only
    from graphkit.graphs import Graphs
    from graphkit.io import Tables

__all__ = ["Beneficiary", "Decision", "HeldBack", "LearnedScores", "Ring", "Report", "SCHEMA_VERSION", "describe_path",
           "latest_decisions"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Beneficiary:
    """A member who receives the ring's coins."""

    user_id: str
    coins_in: float
    """Coins received from the ring's other members."""
    share_of_ring: float = 0.0
    """coins_in / the ring's coins (``Ring.coins_total``: the coins its members sent, within the window)."""
    share_of_income: float = 0.0
    """coins_in / all coins this account received (how much of its income is the ring)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "coins_in": round(self.coins_in, 2),
            "share_of_ring": round(self.share_of_ring, 4),
            "share_of_income": round(self.share_of_income, 4),
        }


@dataclass(frozen=True)
class Decision:
    """An investigator's decision about one ring or one account (``report --labels``), as the audit trail keeps it.

    Attributes
    ----------
    verdict : str
        ``confirmed``, ``benign`` or ``unsure``.
    ring_id, user_id : str or None
        What was decided on: a ring (by its id in the report that was judged) or an account.
    note, decided_at, by : str or None
        The investigator's note, when (ISO-8601, UTC) and who.
    members : tuple of str
        For a decision about a ring: its members when it was decided on (sorted); the decision
        follows these accounts, whatever id their group has later. Empty for an account.
    """

    verdict: str
    ring_id: str | None = None
    user_id: str | None = None
    note: str | None = None
    decided_at: str | None = None
    by: str | None = None
    members: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any], members: Sequence[str] = ()) -> "Decision":
        """A decision from a row of :attr:`graphkit.io.labels.Labels.decisions` (``decided_at`` a datetime in UTC,
        written as ISO-8601 with ``Z``, microseconds only when there are any).

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> Decision.from_row({"user_id": "u7", "verdict": "benign", "decided_at": datetime(2024, 5, 2, tzinfo=timezone.utc)})
        Decision(verdict='benign', ring_id=None, user_id='u7', note=None, decided_at='2024-05-02T00:00:00Z', by=None, members=())
        """
        ring_id = row.get("ring_id")
        when: datetime | None = row.get("decided_at")
        decided_at = None
        if when is not None:
            decided_at = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"
        return cls(verdict=row["verdict"], ring_id=ring_id, user_id=None if ring_id is not None else row.get("user_id"),
                   note=row.get("note"), decided_at=decided_at, by=row.get("by"),
                   members=tuple(sorted(members)) if ring_id is not None else ())

    @property
    def target(self) -> tuple[str, str]:
        """``("ring", id)`` or ``("user", id)``: what the decision is about."""
        return ("ring", self.ring_id) if self.ring_id is not None else ("user", self.user_id or "")

    def describe(self) -> str:
        """One sentence for reasons and report.md: verdict, who, when, note.

        Examples
        --------
        >>> Decision("benign", ring_id="R0003", note="fan club of h1", decided_at="2024-05-02T00:00:00Z",
        ...          by="ana").describe()
        'R0003 was judged benign by ana on 2024-05-02 ("fan club of h1")'
        """
        what = f"{self.ring_id}" if self.ring_id is not None else f"account {self.user_id}"
        by = f" by {self.by}" if self.by else ""
        when = f" on {self.decided_at[:10]}" if self.decided_at else ""
        note = f' ("{self.note}")' if self.note else ""
        return f"{what} was judged {self.verdict}{by}{when}{note}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **({"ring_id": self.ring_id} if self.ring_id is not None else {"user_id": self.user_id}),
            "verdict": self.verdict, "note": self.note, "decided_at": self.decided_at, "by": self.by,
            **({"members": list(self.members)} if self.ring_id is not None else {}),
        }


def latest_decisions(decisions: Sequence[Decision]) -> dict[tuple[str, str], Decision]:
    """What holds for each ring and account (:attr:`Decision.target`): its latest decision by ``decided_at``
    (undated ones count as the oldest); at equal times the one later in ``decisions``.

    Examples
    --------
    >>> trail = [Decision("benign", user_id="u1", decided_at="2024-05-02T00:00:00Z"),
    ...          Decision("confirmed", user_id="u1", decided_at="2024-05-09T00:00:00Z"), Decision("unsure", user_id="u1")]
    >>> latest_decisions(trail)[("user", "u1")].verdict
    'confirmed'
    """
    order = sorted(range(len(decisions)), key=lambda i: (decisions[i].decided_at or "", i))
    return {decisions[i].target: decisions[i] for i in order}


@dataclass(frozen=True)
class HeldBack:
    """A group that scored as a ring but is not reported as one: a benign decision covers it.

    Attributes
    ----------
    ring_id : str
        The id it would have had (with ``--previous``, carried like a ring's, so it stays the same
        while it is held back).
    score : float
        Its score, as a ring's.
    members : tuple of str
        Its members, sorted.
    coins_total : float
        Coins its members sent.
    decisions : tuple of Decision
        The benign decisions that hold it back.
    overlap : float
        Jaccard of its members with the decided members (for account decisions: the share of its
        members that were decided on).
    joined : tuple of str
        Its members that no decision covered, sorted: accounts that joined since the decision and were
        not held back with the group in the earlier report (``--previous``).
    """

    ring_id: str
    score: float
    members: tuple[str, ...]
    coins_total: float
    decisions: tuple[Decision, ...]
    overlap: float
    joined: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.members)

    def reason(self) -> str:
        """Why it is held back, in one sentence: each decision about a ring, the decisions about its accounts
        in brief.

        Examples
        --------
        >>> users = tuple(Decision("benign", user_id=u, by="ana", decided_at="2024-05-02T09:00:00Z") for u in "abc")
        >>> HeldBack("R0006", 0.3, ("a", "b", "c", "d"), 10.0, users, 0.75, ("d",)).reason()
        '3 of its accounts were judged benign by ana, latest on 2024-05-02; 3 of its 4 accounts were decided on, 1 joined since'
        """
        parts = [d.describe() for d in self.decisions if d.ring_id is not None]
        about_users = [d for d in self.decisions if d.ring_id is None]
        if about_users:
            who = sorted({d.by for d in about_users if d.by})
            dates = sorted(d.decided_at[:10] for d in about_users if d.decided_at)
            parts.append(f"{len(about_users):,} of its accounts were judged benign"
                         + (f" by {', '.join(who[:3])}" + (" and others" if len(who) > 3 else "") if who else "")
                         + (f", latest on {dates[-1]}" if dates else ""))
        return (f"{'; '.join(parts)}; {self.size - len(self.joined):,} of its {self.size:,} accounts were decided on, "
                f"{len(self.joined):,} joined since")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ring_id": self.ring_id,
            "score": round(self.score, 4),
            "members": list(self.members),
            "size": self.size,
            "coins_total": round(self.coins_total, 2),
            "overlap": round(self.overlap, 4),
            "joined": list(self.joined),
            "reason": self.reason(),
            "decisions": [d.to_dict() for d in self.decisions],
        }


@dataclass(frozen=True)
class Ring:
    """One suspected ring, as reported in ``rings.json``.

    Attributes
    ----------
    ring_id : str
        ``R0001``, ``R0002``, ... in rank order.
    rank : int
        1 is the most suspicious.
    score : float
        In [0, 1]; see :mod:`graphkit.score`.
    members : tuple of str
        user_ids, beneficiaries included, sorted.
    coins_total : float
        Coins sent by members (to anyone).
    beneficiaries : tuple of Beneficiary
        Members receiving the ring's coins, most first.
    signals : dict
        Signal name -> value (see :mod:`graphkit.detect.signals`).
    reasons : tuple of str
        Sentences an investigator can paste into a case.
    kind : str
        The pattern the signals point to most: ``account_farm``,
        ``gift_laundering``, ``gifting_burst``, ``cashout_mules`` or ``mixed``.
    sources : tuple of str
        Which detectors proposed the group (``community``, ``dense_block``,
        ``synchrony``, ``money_loop``, ``fan_in``).
    money_path : tuple of str
        For loops: one cycle of user_ids through which coins returned, else empty.
    money_path_hops : tuple of str
        How each entry of ``money_path`` is reached from the one before:
        ``"start"``, ``"gift"``, or ``"device"`` (another account on the same
        device: a host and its alt account). See :meth:`describe_money_path`.
    status : str or None
        With ``report --previous``: how the ring changed since the earlier
        report (:data:`graphkit.history.STATUSES`); None otherwise.
    previous_ids : tuple of str
        With ``report --previous``: the earlier rings it continues.
    first_seen : str or None
        With ``report --previous``: ``as_of`` (the latest event) of the first
        report that listed it; None when that report did not say.
    decisions : tuple of Decision or None
        With ``report --labels`` (or decisions carried by ``--previous``): every
        decision about the earlier rings it continues or about its members,
        superseded ones too, oldest first; None otherwise.
    new_members : tuple of str
        For a ring confirmed earlier: its members that were not in it when it was confirmed.
    shared_devices, shared_ips : tuple of str
        The devices and IPs that at least two members used (sorted), hubs and
        placeholder device ids left out (``Config.hub_cap``,
        ``Config.placeholder_device_ids``): the operation's equipment, by
        which a later report recognises it ``re-formed`` with new accounts
        (:func:`graphkit.history.diff_rings`).
    """

    ring_id: str
    rank: int
    score: float
    members: tuple[str, ...]
    coins_total: float
    beneficiaries: tuple[Beneficiary, ...] = ()
    signals: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    kind: str = "mixed"
    sources: tuple[str, ...] = ()
    money_path: tuple[str, ...] = ()
    money_path_hops: tuple[str, ...] = ()
    contributions: dict[str, float] = field(default_factory=dict)
    """Signal name (a key of ``signals``) -> its share of the score (:func:`graphkit.score.contributions`);
    the top ones go to rings.csv."""
    status: str | None = None
    previous_ids: tuple[str, ...] = ()
    first_seen: str | None = None
    decisions: tuple[Decision, ...] | None = None
    new_members: tuple[str, ...] = ()
    shared_devices: tuple[str, ...] = ()
    shared_ips: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.members)

    def describe_money_path(self, name: Callable[[str], str] = str) -> str:
        """The loop as text (:func:`describe_path`); ``name`` renders each id.

        Examples
        --------
        >>> Ring("R0001", 1, 0.9, ("a", "b", "h1"), 10.0, money_path=("a", "h1", "b", "a"),
        ...      money_path_hops=("start", "gift", "device", "gift")).describe_money_path()
        'a -> h1, then b (same device as h1) -> a'
        """
        return describe_path(zip(map(name, self.money_path), self.money_path_hops or ("gift",) * len(self.money_path)))

    def to_dict(self) -> dict[str, Any]:
        """The ``rings.json`` entry (contract fields first, additions after)."""
        return {
            "ring_id": self.ring_id,
            "rank": self.rank,
            "score": round(self.score, 4),
            "members": list(self.members),
            "size": self.size,
            "coins_total": round(self.coins_total, 2),
            "beneficiaries": [b.to_dict() for b in self.beneficiaries],
            "signals": {k: _round(v) for k, v in sorted(self.signals.items())},
            "reasons": list(self.reasons),
            "kind": self.kind,
            "sources": list(self.sources),
            "money_path": list(self.money_path),
            "money_path_hops": list(self.money_path_hops),
            "shared_devices": list(self.shared_devices),
            "shared_ips": list(self.shared_ips),
            **({"status": self.status, "previous_ids": list(self.previous_ids), "first_seen": self.first_seen}
               if self.status is not None else {}),
            **({"decisions": [d.to_dict() for d in self.decisions], "new_members": list(self.new_members)}
               if self.decisions is not None else {}),
        }


def describe_path(steps: Iterable[tuple[str, str]]) -> str:
    """Render ``(id, how)`` steps so that every arrow starts at the account that paid.

    A gift is ``payer -> receiver``. A same-device hop (``how == "device"``:
    the coins move on from another account on the receiver's device, a host's
    alt account) names that account as the next payer: ``..., then alt (same
    device as host) -> next``. A same-device hop that ends the loop closes it
    on the first account: ``-> host (same device as first)``.

    Examples
    --------
    >>> describe_path([("f", "start"), ("h1", "gift"), ("alt1", "device"), ("h2", "gift"), ("alt2", "device"),
    ...                ("h1", "gift")])
    'f -> h1, then alt1 (same device as h1) -> h2, then alt2 (same device as h2) -> h1'
    >>> describe_path([("a", "start"), ("h", "gift"), ("a", "device")])
    'a -> h (same device as a)'
    """
    steps = list(steps)
    text, previous = "", ""
    for i, (user_id, how) in enumerate(steps):
        if i == 0 or how == "start":
            text += user_id
        elif how == "device" and i == len(steps) - 1:
            text += f" (same device as {user_id})"
        elif how == "device":
            text += f", then {user_id} (same device as {previous})"
        else:
            text += f" -> {user_id}"
        previous = user_id
    return text


def _round(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


@dataclass(frozen=True)
class LearnedScores:
    """What a trained account model gives a run (:func:`graphkit.learn.learned_scorer`).

    Attributes
    ----------
    scores : polars.DataFrame
        ``user_id, probability, reasons``: every account's calibrated
        probability of being bad, and its top feature contributions as one
        sentence (``"; "``-separated), empty when none raised it.
    summary : dict
        What ``rings.json`` ``summary.model`` says about the model (its file's
        digest, features, training counts and cross-validated quality).
    """

    scores: pl.DataFrame
    summary: dict[str, Any]


@dataclass(frozen=True)
class Report:
    """Everything one run of :func:`graphkit.analyze` found.

    Attributes
    ----------
    rings : tuple of Ring
        Sorted by score, highest first (rank order).
    user_scores : polars.DataFrame
        ``user_id, score, ring_id, role`` for every account in the graph,
        sorted by score (desc) then user_id. ``ring_id`` is null outside rings;
        ``role`` is ``beneficiary``, ``funder``, ``member`` or null.
    params : dict
        Every setting that shaped the result (``Config.to_params()``).
    summary : dict
        Counts: users, gifts, devices, streams, rings, rejected_rows, ...
    tables : Tables
        The validated input (for views and the Markdown report).
    graphs : Graphs
        The built graphs and the id index.
    user_features : polars.DataFrame
        Per-user evidence (centrality, coins in/out, account age, ...), by ``user_id``.
    """

    rings: tuple[Ring, ...]
    user_scores: pl.DataFrame
    params: dict[str, Any]
    summary: dict[str, Any]
    tables: "Tables | None" = None
    graphs: "Graphs | None" = None
    user_features: pl.DataFrame | None = None
    ring_counter: int | None = None
    """With ``report --previous``: the highest ring number ever given, so that ids are never reused."""
    held_back: tuple[HeldBack, ...] = ()
    """Groups that scored as rings but that a benign decision covers (:func:`graphkit.history.apply_decisions`)."""
    decisions: tuple[Decision, ...] | None = None
    """With ``report --labels`` or decisions carried by ``--previous``: every decision in effect or
    superseded (the audit trail), oldest first; None when there were none (``rings.json`` then has
    neither ``decisions`` nor ``held_back``)."""
    quiet_rings: tuple[dict[str, Any], ...] | None = None
    """With ``report --previous``: rings of earlier reports that no ring continues, remembered for
    ``Config.reform_memory`` reports: ``ring_id``, ``first_seen``, ``last_seen`` (the ``as_of`` of the
    last report that listed it), ``quiet_reports`` (reports since), ``shared_devices``, ``shared_ips``."""

    def ring(self, ring_id: str) -> Ring:
        for ring in self.rings:
            if ring.ring_id == ring_id:
                return ring
        raise KeyError(ring_id)

    def to_json_dict(self, generator: str) -> dict[str, Any]:
        """The content of ``rings.json`` (CONTRACT.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "generator": generator,
            "params": self.params,
            "summary": self.summary,
            **({"ring_counter": self.ring_counter} if self.ring_counter is not None else {}),
            "rings": [ring.to_dict() for ring in self.rings],
            **({"held_back": [h.to_dict() for h in self.held_back], "decisions": [d.to_dict() for d in self.decisions]}
               if self.decisions is not None else {}),
            **({"quiet_rings": list(self.quiet_rings)} if self.quiet_rings is not None else {}),
        }

    def rings_frame(self) -> pl.DataFrame:
        """One row per ring: the columns of ``rings.csv``."""
        return pl.DataFrame(
            {
                "ring_id": [r.ring_id for r in self.rings],
                "rank": [r.rank for r in self.rings],
                "score": [round(r.score, 4) for r in self.rings],
                "size": [r.size for r in self.rings],
                "coins_total": [round(r.coins_total, 2) for r in self.rings],
                "kind": [r.kind for r in self.rings],
                "beneficiaries": [";".join(b.user_id for b in r.beneficiaries) for r in self.rings],
                "top_signals": [_top_signals(r) for r in self.rings],
                "first_reason": [r.reasons[0] if r.reasons else "" for r in self.rings],
            },
            schema={
                "ring_id": pl.Utf8, "rank": pl.Int64, "score": pl.Float64, "size": pl.Int64,
                "coins_total": pl.Float64, "kind": pl.Utf8, "beneficiaries": pl.Utf8,
                "top_signals": pl.Utf8, "first_reason": pl.Utf8,
            },
        )

    def to_pandas(self):
        """The rings table as a pandas DataFrame (for notebooks)."""
        return self.rings_frame().to_pandas()


def _top_signals(ring: Ring, k: int = 3) -> str:
    """The ``k`` signals that contributed most to the score, as ``name=value`` pairs."""
    weights = ring.contributions or {name: 0.0 for name in ring.signals}
    names = sorted(weights, key=lambda n: (-weights[n], n))[:k]
    return ";".join(f"{n}={_round(ring.signals.get(n, 0.0))}" for n in names)
