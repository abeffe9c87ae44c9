"""Every tunable of graphkit in one frozen dataclass.

A :class:`Config` is built from its defaults, updated from the ``[params]``
table of a ``graphkit.toml`` file and then from CLI flags. Its values are
written into ``rings.json`` under ``params`` so that a result can always be
traced back to the settings that shaped it.

Each field declares its type and allowed values once, next to its default and
its meaning (``hub_cap: int = _int(50, min=2)``; ``_float``, ``_bool``,
``_choice``, ``_time``, ``_texts`` for the other kinds); :class:`Config` checks every
field against that declaration when it is built, so no setting out of range,
NaN or infinity reaches the pipeline. A new setting is one line plus its
docstring; a field without a declaration fails at import.

Examples
--------
>>> from graphkit.config import Config
>>> cfg = Config()
>>> cfg.hub_cap
50
>>> cfg.replace(hub_cap=20).hub_cap
20
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from graphkit.errors import ConfigError

__all__ = ["Config", "LEARNED_SETTINGS", "Setting", "TRAIN_SETTINGS", "load_config"]


@dataclass(frozen=True)
class Setting:
    """The type and the allowed values of one :class:`Config` field.

    Attributes
    ----------
    kind : {"int", "float", "bool", "choice", "time", "texts"}
        ``int``: a whole number (not a bool); ``float``: a finite number (an
        int is taken as a float); ``bool``: true or false; ``choice``: one of
        ``choices``; ``time``: text, epoch seconds or a datetime (kept as
        ISO-8601 text), or None (unbounded); ``texts``: a list of at most
        ``max`` strings of at most 200 characters each (kept as a tuple). Whether text is a time is
        decided where times are parsed (:func:`graphkit.graphs.window.parse_bound`,
        with the input's rules: the config sits below ``graphkit.io``).
    min, max : float, optional
        Bounds, inclusive unless ``min_open`` / ``max_open``.
    also : tuple
        Values allowed besides the range (``leiden_iterations = -1``).
    choices : tuple of str
        For ``choice``.

    Examples
    --------
    >>> Setting("int", min=1).check("top", 5)
    5
    >>> Setting("float", min=0, max=1).check("min_score", 1)
    1.0
    >>> Setting("float", min=0, max=1).check("min_score", float("nan"))
    Traceback (most recent call last):
    ...
    graphkit.errors.ConfigError: min_score = nan is not allowed; min_score must be a number from 0 to 1
    >>> Setting("texts", max=10).check("placeholder_device_ids", ["unknown", "0"])
    ('unknown', '0')
    """

    kind: str
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    also: tuple[Any, ...] = ()
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """What is allowed, in plain English: ``a whole number >= 1``, ``a number from 0 to 1``."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "time":
            return "a time (ISO-8601 or epoch seconds)"
        if self.kind == "texts":
            return f"a list of at most {_g(self.max)} strings of at most {_TEXT_MAX} characters"
        noun = "a whole number" if self.kind == "int" else "a number"
        lo, hi = _g(self.min), _g(self.max)
        if self.min is not None and self.max is not None and not (self.min_open or self.max_open):
            text = f"{noun} from {lo} to {hi}"
        elif self.min is not None and self.max is not None:
            text = f"{noun} {'>' if self.min_open else '>='} {lo} and {'<' if self.max_open else '<='} {hi}"
        elif self.min is not None:
            text = f"{noun} {'>' if self.min_open else '>='} {lo}"
        elif self.max is not None:
            text = f"{noun} {'<' if self.max_open else '<='} {hi}"
        else:
            text = noun
        return ", or ".join([*(_g(a) for a in self.also), text])

    def check(self, name: str, value: Any) -> Any:
        """``value`` as the field holds it (an int as a float, a datetime as ISO-8601 text), or raise.

        Raises
        ------
        ConfigError
            ``NAME = VALUE is not allowed; NAME must be ...`` (one line).
        """
        if self.kind == "time":
            if value is None:
                return None
            if isinstance(value, datetime):
                value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
                return value.isoformat()
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return value
            raise self._refuse(name, value)
        if self.kind == "texts":
            if (isinstance(value, (list, tuple)) and all(isinstance(v, str) and len(v) <= _TEXT_MAX for v in value)
                    and (self.max is None or len(value) <= self.max)):
                return tuple(value)
            raise self._refuse(name, value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise self._refuse(name, value)
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise self._refuse(name, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._refuse(name, value)
        if self.kind == "int" and not isinstance(value, int):
            raise self._refuse(name, value)
        if self.kind == "float":
            value = float(value)
        if value in self.also:
            return value
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refuse(name, value)
        if self.min is not None and (value < self.min or (self.min_open and value == self.min)):
            raise self._refuse(name, value)
        if self.max is not None and (value > self.max or (self.max_open and value == self.max)):
            raise self._refuse(name, value)
        return value

    def _refuse(self, name: str, value: Any) -> ConfigError:
        shown = str(value).lower() if isinstance(value, bool) else repr(value) if isinstance(value, str) else value
        return ConfigError(f"{name} = {shown} is not allowed; {name} must be {self.describe()}")


_TEXT_MAX = 200
"""The longest string a ``texts`` setting holds."""


def _g(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _int(default: int, *, min: int | None = None, max: int | None = None, also: tuple[int, ...] = ()) -> Any:
    return field(default=default, metadata={"setting": Setting("int", min=min, max=max, also=also)})


def _float(default: float, *, min: float | None = None, max: float | None = None, min_open: bool = False,
           max_open: bool = False) -> Any:
    return field(default=default, metadata={"setting": Setting("float", min, max, min_open, max_open)})


def _bool(default: bool) -> Any:
    return field(default=default, metadata={"setting": Setting("bool")})


def _choice(default: str, choices: tuple[str, ...]) -> Any:
    return field(default=default, metadata={"setting": Setting("choice", choices=choices)})


def _time() -> Any:
    return field(default=None, metadata={"setting": Setting("time")})


def _texts(default: tuple[str, ...], *, max: int) -> Any:
    return field(default=default, metadata={"setting": Setting("texts", max=max)})


@dataclass(frozen=True)
class Config:
    """Settings that shape a graphkit run.

    Attributes are grouped by stage; each declares its type and allowed
    values (:class:`Setting`, checked when a Config is built) and documents
    its unit and why it has its default.
    """

    # --- reproducibility -------------------------------------------------
    seed: int = _int(0, min=0)
    """Seed for every random choice (Leiden, sampled betweenness, layouts)."""

    # --- io ---------------------------------------------------------------
    max_bad_share: float = _float(0.05, min=0, max=1)
    """Fail a table when more than this share of its rows is rejected."""
    since: str | None = _time()
    """Keep only events at or after this time (ISO-8601 or epoch seconds)."""
    until: str | None = _time()
    """Keep only events before this time (ISO-8601 or epoch seconds)."""
    max_coins: float = _float(1e12, min=0, min_open=True, max=1e15)
    """The largest ``coins`` of one gift; larger values are rejected rows
    (``coins above max_coins``). A real gift is worth at most some 10^6 coins,
    and 10^12 leaves room for any platform's unit while a corrupt value such as
    1e308 cannot turn the totals into infinity. At most 10^15: above 2^53
    (9e15) float coins are no longer whole numbers, and 10^15 x 10^9 gifts is
    still far from float overflow."""
    dedupe_exact_rows: bool = _bool(False)
    """Gifts without a ``gift_id`` that repeat an earlier row in every column are
    always counted and reported; ``True`` also drops them (as rejected rows with
    the reason ``exact duplicate row``). Off by default: two identical gifts in
    the same second can be real, and graphkit never drops data silently."""

    # --- build ------------------------------------------------------------
    hub_cap: int = _int(50, min=2)
    """Devices/IPs seen with more accounts than this are left out of the
    shared-identifier projection (carrier NAT, campus hubs). Measured on `graphkit synth`
    (100k users, benchmarks/bench_graphs.py hubcap): 50 loses 2% of in-ring shared pairs,
    100 none, while campus (~300) and carrier NAT (400-3,700) IPs stay out either way
    and 500 puts 26% of the platform into one component. End to end (ring precision
    over seeds 1-3, 20k users) 50 did better than 100: internet cafes and busy shared
    IPs of 50-100 accounts otherwise glue unrelated accounts into candidate rings.
    A ring does not hide behind the cap: the accounts behind each hub are one candidate
    group of their own (the ``crowded_identifier`` detector, graphkit.detect.big)."""
    placeholder_device_ids: tuple[str, ...] = _texts(
        ("", "0", "000000000000000", "00000000-0000-0000-0000-000000000000", "unknown", "null", "none", "n/a",
         "undefined", "default"), max=1000)
    """Device ids that are defaults or blanks, not a device (an Android emulator's zero IMEI, the
    zero advertising id, an SDK's "unknown"): compared as written after trimming and lower-casing.
    Thousands of honest accounts report them, so they are never shared evidence (left out
    like hubs, whatever their size) and never a crowded device of their own; the report names
    them (rings.json ``summary.placeholder_devices``)."""
    cogift_window_s: int = _int(120, min=1)
    """Two accounts co-gift when they gift the same stream within this many seconds."""
    cogift_stream_cap: int = _int(50, min=2)
    """Per stream and per window-long time bucket, at most this many gifters take part
    in co-gifting pairs (the ones with the most gifts in that bucket); a 10k-viewer
    stream does not explode into all pairs, and a burst in a quiet minute of a big
    stream is still seen. 50 bounds the pairs of one bucket at 1,225: at 10^6 gifts the
    default of 200 built 3x the memory and 5x the build time for no change in ring
    recall (benchmarks/RESULTS.md); the lockstep signal itself reads the raw gifts. A bucket
    with more gifters far above its stream's rate is one candidate group as a whole (the
    ``burst_bucket`` detector, ``burst_min_excess``)."""
    cogift_min_streams: int = _int(2, min=1)
    """Pairs that co-gift in fewer distinct streams than this are left out of the co-gifting
    projection: one shared moment is weak evidence, and on `graphkit synth` data 82% of
    co-gifting pairs have only one (fans of the same host): at 10^6 gifts keeping them
    makes the user graph 10x larger and the run 1.5x slower, 2.4x the memory."""
    weight_gift: float = _float(1.0, min=0)
    """Weight of the gift-flow relation in the combined user graph."""
    weight_shared: float = _float(1.0, min=0)
    """Weight of the shared-identifier relation in the combined user graph."""
    weight_cogift: float = _float(1.0, min=0)
    """Weight of the co-gifting relation in the combined user graph."""

    # --- communities ----------------------------------------------------
    community_method: str = _choice("leiden", ("leiden", "louvain", "label_propagation", "components"))
    """One of ``leiden``, ``louvain``, ``label_propagation``, ``components``."""
    leiden_objective: str = _choice("CPM", ("CPM", "modularity"))
    """``CPM`` (finds small dense groups in big graphs) or ``modularity``."""
    resolution: float = _float(0.05, min=0, min_open=True)
    """Leiden resolution (CPM density threshold, or modularity's gamma)."""
    sync_resolution: float = _float(0.2, min=0, min_open=True)
    """CPM resolution that cuts the repeated co-gifting graph into lockstep groups
    (co-gifting ties weigh 0..1; 0.2 asks for groups at least that tightly knit)."""
    leiden_iterations: int = _int(1, min=1, also=(-1,))
    """Leiden iterations, for the communities and the lockstep groups. One pass (half the
    time of igraph's default 2) finds the same rings on ``graphkit synth`` data over 3 seeds
    at 10^6 gifts (benchmarks/RESULTS.md); -1 runs until no vertex moves."""
    max_community_size: int = _int(500, min=2)
    """Communities larger than this are split again at a higher resolution (and lockstep groups
    and dense blocks larger than this, and money loops of more persons than this, are not
    candidates: a loop counts persons, so a host's hundreds of alts on its phone do not count
    against it). Hub crowds, burst buckets and fan-in groups have no such ceiling."""
    loop_min_out_share: float = _float(0.05, min=0, max=1)
    """A gift tie between two persons joins a money loop (the ``money_loop`` detector) when it
    carries at least this share of the sender's coins (and ``loop_min_in_share`` of the
    receiver's). A host's alts that pass coins on to every other host of a loop of k hosts give
    each about 1/(k - 1) of their coins: 0.05 follows loops of up to about 20 hosts, camouflage
    included (0.1, the value before, lost the laundering loops of 20 hosts on a
    ``--ring-size-max 2000`` synth)."""
    loop_min_in_share: float = _float(0.02, min=0, max=1)
    """A gift tie joins a money loop when it carries at least this share of the receiver's
    income (see ``loop_min_out_share``): the odd gift of one host to a popular other does not
    chain the platform together."""
    min_ring_size: int = _int(3, min=2)
    """Smaller groups are not reported as rings."""
    dense_max_blocks: int = _int(20, min=0)
    """At most this many dense blocks per matrix (sender x stream, sender x receiver)."""
    burst_min_excess: float = _float(4.0, min=1)
    """A stream's time bucket (``cogift_window_s`` long) with more gifters than ``cogift_stream_cap``
    is a candidate group as a whole (the ``burst_bucket`` detector) when it holds at least this
    many times the gifters the stream's busiest bucket would hold by chance (its other buckets'
    rate; see graphkit.detect.big). A busy stream's steady crowd stays near 1x; a burst of
    hundreds in a stream of a few gifters a minute is 10-100x."""

    # --- money flow (graphkit.detect.flow, graphkit.graphs.relays) -------
    flow_max_delay_s: int = _int(3600, min=0)
    """A relay hop passes coins on within this many seconds of receiving them (and a fan-out pays its
    receivers within one bucket this long). An hour: laundering hops on a gifting platform follow each
    other within minutes, while a host's own gifts to others come days apart. Time steps read as their
    seconds (``[tables.gifts.units]``): with AMLSim's one-day step, 3600 means "the same step"."""
    flow_amount_tolerance: float = _float(0.1, min=0, max=1)
    """A relayed amount is within this share of the amount received (98 coins passed on for 100
    received, a 2% fee), and a fan-out's amounts spread by at most this share of their median."""
    flow_max_amount_chance: float = _float(0.025, min=0, max=1)
    """A relay or fan-out amount is evidence only when at most this share of the platform's gifts lies
    within ``flow_amount_tolerance`` of it: a 1-coin rose passed on after a 1-coin rose is a price
    list's chance (a third of ``graphkit synth``'s gifts are roses), 2,999 coins after 3,000 is not.
    2.5% keeps ``graphkit synth``'s three biggest gifts (999 coins: about 2.1% of its gifts) and leaves
    out 499 and below (3% and more)."""
    flow_min_branches: int = _int(2, min=2)
    """A scatter-gather reaches one sink through at least this many middles; a gather-scatter
    collects from and pays out to at least this many accounts each."""
    flow_max_middle_degree: int = _int(50, min=1)
    """A middle of a scatter-gather has at most this many distinct senders and receivers each: a
    popular host is no intermediary (and its fans x its receivers would make a huge join)."""
    flow_balance_tolerance: float = _float(0.2, min=0, max=1)
    """A gather-scatter's collector pays out within this share of what it collected (a host that
    cashes out pays little on)."""
    flow_min_fan: int = _int(4, min=2)
    """An equal-amount fan: one account pays (fan-out), or is paid by (fan-in), at least this many
    distinct accounts the same uncommon amount within ``flow_max_delay_s`` (popular hosts left out)."""

    # --- centrality -------------------------------------------------------
    pagerank_damping: float = _float(0.85, min=0, max=1, min_open=True, max_open=True)
    betweenness_exact_max_nodes: int = _int(5000, min=0)
    """Exact betweenness up to this many nodes, sampled sources above."""
    betweenness_samples: int = _int(256, min=1)

    # --- scoring ----------------------------------------------------------
    new_account_days: float = _float(30.0, min=0, min_open=True)
    """Upper bound of the young-account age: the platform's own 10th percentile
    of age at first gift is used when it is lower (graphkit.detect.signals.Baseline)."""
    weight_shared_identifiers: float = _float(0.3, min=0, max=1)
    """How much coordination a group shows when all its members crowd on shared devices/IPs."""
    weight_young_crowd: float = _float(0.6, min=0, max=1)
    """... when they crowd on shared devices/IPs and are young or were created together (a farm)."""
    weight_new_accounts: float = _float(0.35, min=0, max=1)
    """... when all its members were young at their first gift."""
    weight_creation_burst: float = _float(0.3, min=0, max=1)
    """... when all its members were created within 24 hours."""
    weight_synchrony: float = _float(0.75, min=0, max=1)
    """... when all its stream gifts fall in lockstep bursts."""
    weight_one_shot: float = _float(0.6, min=0, max=1)
    """... when all its senders sent one or two large gifts only."""
    weight_cycles: float = _float(0.5, min=0, max=1)
    """... when all its internal coins go round in loops."""
    weight_fan: float = _float(0.7, min=0, max=1)
    """... when all the coins its members sent moved between members in equal-amount fans (one member
    paying, or paid by, many members the same uncommon amount within ``flow_max_delay_s``)."""
    weight_relay: float = _float(0.7, min=0, max=1)
    """... when all the coins its members sent were relayed: passed on by a member at a near-equal
    amount within ``flow_max_delay_s`` of arriving from another member. 0.7 (and 0.7 for
    ``weight_fan``), tuned on ``graphkit synth --flows`` seed 1 (20k users): at 0.5 the chains of
    aged accounts (relay share about 0.85, little else) stayed just under the bar."""
    weight_learned: float = _float(0.4, min=0, max=1)
    """... when all its members have probability 1 from the trained model of ``report --model``
    (the ``learned_score`` signal: the members' mean probability). Used, and written to
    ``params``, only with a model."""
    weight_exposure: float = _float(0.5, min=0, max=0.5)
    """How far an account's exposure (the noisy-or of the evidence of the accounts it exchanged gifts
    with, :func:`graphkit.score.exposure`) orders the accounts outside the rings that have equal
    evidence: it adds at most this share of the score's 4-decimal step (0.0001), so the score
    rounded to 4 decimals is the score without it, and an account never passes one with more
    evidence of its own. 0 turns it off. 0.5 is the most (scores.csv's 6 decimals then hold 50 levels)."""
    model_reasons: int = _int(3, min=1, max=10)
    """With ``report --model``: how many of an account's feature contributions become its reasons.
    Used, and written to ``params``, only with a model."""
    # --- learning (graphkit train; recorded in the model file, never in rings.json) ---
    learn_folds: int = _int(5, min=2, max=20)
    """Grouped cross-validation folds of ``graphkit train`` (``--cv``): quality per fold, and the out-of-fold
    scores the probabilities are calibrated on."""
    learn_max_iter: int = _int(200, min=1, max=5000)
    """Boosting iterations (trees) of the HistGradientBoostingClassifier."""
    learn_rate: float = _float(0.1, min=0, max=1, min_open=True)
    """Its learning rate."""
    learn_max_leaf_nodes: int = _int(31, min=2, max=1024)
    """Leaves per tree."""
    learn_min_samples_leaf: int = _int(20, min=1)
    """Accounts a leaf needs at least."""
    learn_l2: float = _float(1.0, min=0)
    """L2 regularisation of the leaf values."""
    incentive_floor: float = _float(0.3, min=0, max=1)
    """Share of its coordination score a group keeps when no money concentrates
    on a beneficiary (families, internet cafes); 1 ignores the money."""
    size_half: float = _float(4.0, min=0, min_open=True)
    """Groups of size 1 + size_half keep 63% of their score: tiny groups are less certain."""
    min_score: float = _float(0.1, min=0, max=1)
    """Groups scoring below this are never reported as rings (an absolute floor,
    for data where most groups score zero and the outlier bar below is zero too)."""
    outlier_z: float = _float(10.0, min=0)
    """Groups are reported as rings when their score stands this many robust
    deviations (MAD) above the median group of the same data: the bar is set
    by the platform's own groups, not by a constant. Measured over synthetic
    platforms of 10^4-10^6 gifts and several seeds: 8 let a few internet cafes
    in at the bottom of the list, 12 began to lose rings."""
    top: int = _int(50, min=1)
    """How many rings to report (and draw)."""

    # --- ring assembly ----------------------------------------------------
    funder_min_share: float = _float(0.8, min=0, max=1, min_open=True)
    """A young account that sends at least this share of all its coins to a candidate's members
    joins the candidate as its funder (stolen-card coins paid into a loop, a farm's top-up
    account); old fans and young accounts spreading their coins around do not."""
    beneficiary_min_share: float = _float(0.2, min=0, max=1, min_open=True)
    """A receiver joins a candidate as its beneficiary when it gets at least this share of the
    coins the candidate's members send ..."""
    beneficiary_min_income_share: float = _float(0.25, min=0, max=1, min_open=True)
    """... and the candidate is at least this share of the receiver's whole income, so a popular
    host that ring accounts gift as camouflage does not join."""
    merge_min_share: float = _float(0.3, min=0, max=1, min_open=True)
    """A suspicious group whose top receiver takes at least this share of the coins it sends, and
    sits in another suspicious group, is merged with that group: pieces of one operation paying
    one beneficiary are one ring."""
    beneficiary_listed_min_share: float = _float(0.05, min=0, max=1)
    """A ring's members receiving at least this share of the coins its members sent each other
    are listed as its beneficiaries (rings.json, rings.csv, report.md)."""

    # --- investigators' decisions (report --labels, --previous) ------------
    decision_min_jaccard: float = _float(0.5, min=0, max=1, min_open=True)
    """A decision about a ring applies to a group of this report when the group and the members the
    investigator decided on overlap this much (Jaccard; for decisions about accounts, the share of the
    group's members that were decided on). At least half by default: an account belongs to one group,
    so at most one group can hold most of a decided ring."""
    benign_max_growth: float = _float(0.2, min=0)
    """A group matched to a benign decision is held back (not reported as a ring) only while it
    stays materially the same: at most this many new accounts per decided account (0.2: 20 of a
    cleared group of 100). A cleared group that grew more is reported again, saying so."""
    # --- known bad (the flags table) --------------------------------------
    flag_weight_chargeback: float = _float(1.0, min=0, max=1)
    """Seed weight of a ``chargeback`` flag (times the flag's own ``weight``, 1 when absent): a card
    owner said the money was stolen, the incentive behind most rings."""
    flag_weight_ban: float = _float(1.0, min=0, max=1)
    """Seed weight of a ``ban``: the platform's own enforcement."""
    flag_weight_report: float = _float(0.3, min=0, max=1)
    """Seed weight of a user ``report``: many are mistaken or retaliatory."""
    flag_weight_refund: float = _float(0.5, min=0, max=1)
    """Seed weight of a ``refund``: often honest, sometimes friendly fraud."""
    flag_weight_manual: float = _float(1.0, min=0, max=1)
    """Seed weight of a ``manual`` flag: an investigator's decision."""
    flag_weight_other: float = _float(0.5, min=0, max=1)
    """Seed weight of any other kind (a mapping's ``negative_rating``)."""
    flag_damping: float = _float(0.7, min=0, max=1, min_open=True, max_open=True)
    """Known-bad propagation: the chance that the walk from an account goes on at each step (a
    personalised PageRank's damping). 0.7 stops after 2.3 steps on average: flags speak for their
    ring, not for the whole platform (graphkit.detect.known_bad)."""
    flag_min_gift_tie: float = _float(0.2, min=0, max=1)
    """A gift tie carries flags when at least this share of the sender's coins went to the receiver
    (and the receiver is not a hub host, with more than ``hub_cap`` senders)."""
    flag_share_full: float = _float(0.25, min=0, max=1, min_open=True)
    """``known_bad`` is 1 when this much of an account's neighbourhood is flagged (the expected
    seed weight where its walk stops, ``near_flags``); a planted ring with a fifth of its members
    charged back reaches it."""
    flag_min_members: int = _int(2, min=1)
    """A group's ``known_bad`` counts only when at least this many of its members have flags of their
    own: one flagged account and its honest friends are not a flagged ring (on `graphkit synth --flags`
    at 20k users, 1 let a group of 7 honest accounts and one charged-back member above the bar)."""
    weight_known_bad: float = _float(0.6, min=0, max=1)
    """How much coordination a group shows when all its members are ``known_bad`` (in the ring
    score's noisy-or; 0 without a flags table)."""
    flag_rate_prior: float = _float(2.0, min=0)
    """An account's flag rate is its weighted flags over those flags plus the distinct accounts that
    gifted it, plus this prior (the rule of the share signals, graphkit.detect.signals.share; 2 as
    theirs): 5 negative ratings of weight 0.5 and no gift weigh 2.5 / 4.5 = 0.56, the same five
    against gifts from 300 accounts 2.5 / 304.5 = 0.008 (graphkit.detect.known_bad.flag_rates)."""
    flag_rate_full: float = _float(0.25, min=0, max=1, min_open=True)
    """An account's own flags are full evidence when its flag rate reaches this (one chargeback
    and gifts from one account: 1 / 4 = 0.25)."""
    weight_flag_rate_account: float = _float(1.0, min=0, max=1)
    """How much an account's own flags add to its evidence (noisy-or; the account scores): its flag
    rate over ``flag_rate_full``, at most 1, times this weight. Many accounts gifting it dilute a few
    flags (an honest trader with 300 positive and 5 negative ratings is not a scammer with 5)."""
    weight_near_flags_account: float = _float(0.5, min=0, max=1)
    """How much an account's ``known_bad`` (its nearness to flagged accounts) adds to its evidence,
    when it has no flag of its own (its own flags speak through its flag rate)."""

    # --- over time (report --previous, graphkit diff) --------------------
    match_min_jaccard: float = _float(0.3, min=0, max=1, min_open=True)
    """A ring continues an earlier one (and keeps its id) when their members overlap by at least
    this Jaccard similarity, matched one to one (graphkit.history.diff_rings)."""
    match_min_piece: float = _float(0.2, min=0, max=1, min_open=True)
    """The least share of an earlier ring's members that makes a substantial piece of it: a ring
    holding such pieces of two earlier rings merged them, an earlier ring in two such pieces split."""
    match_min_change: float = _float(0.2, min=0, max=1, min_open=True)
    """A continued ring whose size changed by at least this share grew or shrank; less is stable."""
    reform_min_identifiers: int = _int(2, min=1)
    """A ring with new accounts is an earlier ring ``re-formed`` when it shares at least this many
    devices and IPs with it (each used by two or more members of both rings, hubs and placeholder
    device ids left out)..."""
    reform_memory: int = _int(7, min=0, max=1000)
    """With ``report --previous``: a ring that went quiet is remembered, with its devices and IPs,
    for this many later reports (rings.json ``quiet_rings``), so that a farm banned on Monday that
    comes back on its emulators with new accounts on Thursday is ``re-formed``, not new. 0 looks at
    the previous report's rings only."""
    reform_min_share: float = _float(0.5, min=0, max=1, min_open=True)
    """... and those make at least this share of the shared devices and IPs of the ring that has
    fewer of them. Two farms that happen to pass through one internet café are not one farm."""

    # --- views ------------------------------------------------------------
    view_max_nodes: int = _int(2000, min=1)
    """At most this many nodes in one HTML view; the rest is counted on the page."""
    physics_max_nodes: int = _int(300, min=0)
    """Views with more nodes than this use a precomputed layout, physics off."""

    # -------------------------------------------------------------------
    def __post_init__(self) -> None:
        for f in fields(self):
            value = f.metadata["setting"].check(f.name, getattr(self, f.name))
            if value is not getattr(self, f.name):
                object.__setattr__(self, f.name, value)  # an int as a float, a datetime as ISO-8601 text

    @classmethod
    def setting(cls, name: str) -> Setting:
        """The declared type and range of one field (raises :class:`ConfigError` for an unknown name)."""
        _check_names([name])
        return {f.name: f.metadata["setting"] for f in fields(cls)}[name]

    def replace(self, **changes: Any) -> "Config":
        """Return a copy with ``changes`` applied (checked like the constructor; unknown names raise
        :class:`ConfigError`)."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_params(self, *, learned: bool = False) -> dict[str, Any]:
        """All settings as a plain, JSON-serialisable dict, sorted by name.

        The settings of a trained model (:data:`LEARNED_SETTINGS`) shape a
        result only with ``report --model``: they are left out unless ``learned``.
        The training settings (:data:`TRAIN_SETTINGS`) go into the model file
        that ``graphkit train`` writes, never into a report.

        Examples
        --------
        >>> "weight_learned" in Config().to_params(), Config().to_params(learned=True)["weight_learned"]
        (False, 0.4)
        """
        params = {name: value for name, value in dataclasses.asdict(self).items() if name not in TRAIN_SETTINGS}
        if not learned:
            params = {name: value for name, value in params.items() if name not in LEARNED_SETTINGS}
        return dict(sorted(params.items()))


TRAIN_SETTINGS = ("learn_folds", "learn_max_iter", "learn_rate", "learn_max_leaf_nodes", "learn_min_samples_leaf", "learn_l2")
"""The :class:`Config` fields of ``graphkit train`` (written into the model file)."""
LEARNED_SETTINGS = ("weight_learned", "model_reasons")
"""The :class:`Config` fields used only with a trained model (``report --model``, :mod:`graphkit.learn`)."""


_UNDECLARED = [f.name for f in fields(Config) if "setting" not in f.metadata]
if _UNDECLARED:  # a new field written as `name: int = 5`: fail at import, saying how to declare it
    raise TypeError(
        f"Config.{_UNDECLARED[0]} declares no type and range; write it as `{_UNDECLARED[0]}: int = _int(5, min=1)` "
        "(or _float, _bool, _choice, _time) so that Config can check its values"
    )


def _check_names(names: Any, where: str = "") -> None:
    known = [f.name for f in fields(Config)]
    for name in sorted(names):
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {near[0]}?" if near else f"the settings are: {', '.join(sorted(known))}"
            raise ConfigError(f"{where}{name} is not a graphkit setting; {hint}")


def load_config(path: str | Path | None = None, base: Config | None = None, **overrides: Any) -> Config:
    """Build a :class:`Config` from a ``graphkit.toml`` file and overrides.

    Parameters
    ----------
    path : path, optional
        A TOML file. Its ``[params]`` table holds settings (``hub_cap = 20``);
        its ``[tables]`` table is the column mapping (see
        :func:`graphkit.io.load_mapping`) and is ignored here.
    base : Config, optional
        Start from this instead of the defaults.
    **overrides
        Settings that win over the file (CLI flags). ``None`` values are ignored.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        When the file is not valid TOML, or a setting is unknown, of the wrong
        type or out of its range; the message names the file, the key, the
        value and what is allowed.

    Examples
    --------
    >>> load_config(None, hub_cap=10).hub_cap
    10
    >>> load_config(None, top=0)
    Traceback (most recent call last):
    ...
    graphkit.errors.ConfigError: top = 0 is not allowed; top must be a whole number >= 1
    """
    cfg = base or Config()
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or leave it out") from None
        unknown = sorted(set(doc) - {"params", "tables"})
        if unknown:
            hint = difflib.get_close_matches(unknown[0], ["params", "tables"], n=1)
            if not isinstance(doc[unknown[0]], dict):
                raise ConfigError(f"{path}: {unknown[0]} = ... is outside any table; settings go under [params]")
            raise ConfigError(
                f"{path}: [{unknown[0]}] is not a table graphkit reads"
                + (f"; did you mean [{hint[0]}]?" if hint else "; settings go in [params], column names in [tables]")
            )
        params = doc.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: [params] must be a table of settings")
        where = f"{path}: [params] "
        _check_names(params, where)
        for name, value in params.items():
            try:
                values[name] = Config.setting(name).check(name, value)
            except ConfigError as exc:
                raise ConfigError(f"{where}{exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cfg.replace(**values)
