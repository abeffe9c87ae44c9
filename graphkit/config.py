"""Every tunable of graphkit in one frozen dataclass.

A :class:`Config` is built from its defaults, updated from the ``[params]``
table of a ``graphkit.toml`` file and then from CLI flags. Its values are
written into ``rings.json`` under ``params`` so that a result can always be
traced back to the settings that shaped it.

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
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from graphkit.errors import ConfigError

__all__ = ["Config", "load_config"]


@dataclass(frozen=True)
class Config:
    """Settings that shape a graphkit run.

    Attributes are grouped by stage; each documents its unit and why it has
    its default.
    """

    # --- reproducibility -------------------------------------------------
    seed: int = 0
    """Seed for every random choice (Leiden, sampled betweenness, layouts)."""

    # --- io ---------------------------------------------------------------
    max_bad_share: float = 0.05
    """Fail a table when more than this share of its rows is rejected."""
    since: str | None = None
    """Keep only events at or after this time (ISO-8601 or epoch seconds)."""
    until: str | None = None
    """Keep only events before this time (ISO-8601 or epoch seconds)."""

    # --- build ------------------------------------------------------------
    hub_cap: int = 50
    """Devices/IPs seen with more accounts than this are left out of the
    shared-identifier projection (carrier NAT, campus hubs). Measured on `graphkit synth`
    (100k users, benchmarks/bench_graphs.py hubcap): 50 loses 2% of in-ring shared pairs,
    100 none, while campus (~300) and carrier NAT (400-3,700) IPs stay out either way
    and 500 puts 26% of the platform into one component. End to end (ring precision
    over seeds 1-3, 20k users) 50 did better than 100: internet cafes and busy shared
    IPs of 50-100 accounts otherwise glue unrelated accounts into candidate rings."""
    cogift_window_s: int = 120
    """Two accounts co-gift when they gift the same stream within this many seconds."""
    cogift_stream_cap: int = 50
    """Per stream and per window-long time bucket, at most this many gifters take part
    in co-gifting pairs (the ones with the most gifts in that bucket); a 10k-viewer
    stream does not explode into all pairs, and a burst in a quiet minute of a big
    stream is still seen. 50 bounds the pairs of one bucket at 1,225: at 10^6 gifts the
    default of 200 built 3x the memory and 5x the build time for no change in ring
    recall (benchmarks/RESULTS.md); the lockstep signal itself reads the raw gifts."""
    cogift_min_streams: int = 2
    """Pairs that co-gift in fewer distinct streams than this are left out of the co-gifting
    projection: one shared moment is weak evidence, and on `graphkit synth` data 82% of
    co-gifting pairs have only one (fans of the same host): at 10^6 gifts keeping them
    makes the user graph 10x larger and the run 1.5x slower, 2.4x the memory."""
    weight_gift: float = 1.0
    """Weight of the gift-flow relation in the combined user graph."""
    weight_shared: float = 1.0
    """Weight of the shared-identifier relation in the combined user graph."""
    weight_cogift: float = 1.0
    """Weight of the co-gifting relation in the combined user graph."""

    # --- communities ----------------------------------------------------
    community_method: str = "leiden"
    """One of ``leiden``, ``louvain``, ``label_propagation``, ``components``."""
    leiden_objective: str = "CPM"
    """``CPM`` (finds small dense groups in big graphs) or ``modularity``."""
    resolution: float = 0.05
    """Leiden resolution (CPM density threshold, or modularity's gamma)."""
    sync_resolution: float = 0.2
    """CPM resolution that cuts the repeated co-gifting graph into lockstep groups
    (co-gifting ties weigh 0..1; 0.2 asks for groups at least that tightly knit)."""
    leiden_iterations: int = 1
    """Leiden iterations, for the communities and the lockstep groups. One pass (half the
    time of igraph's default 2) finds the same rings on ``graphkit synth`` data over 3 seeds
    at 10^6 gifts (benchmarks/RESULTS.md); -1 runs until no vertex moves."""
    max_community_size: int = 500
    """Communities larger than this are split again at a higher resolution."""
    min_ring_size: int = 3
    """Smaller groups are not reported as rings."""
    dense_max_blocks: int = 20
    """At most this many dense blocks per matrix (sender x stream, sender x receiver)."""

    # --- centrality -------------------------------------------------------
    pagerank_damping: float = 0.85
    betweenness_exact_max_nodes: int = 5000
    """Exact betweenness up to this many nodes, sampled sources above."""
    betweenness_samples: int = 256

    # --- scoring ----------------------------------------------------------
    new_account_days: float = 30.0
    """Upper bound of the young-account age: the platform's own 10th percentile
    of age at first gift is used when it is lower (graphkit.detect.signals.Baseline)."""
    weight_shared_identifiers: float = 0.3
    """How much coordination a group shows when all its members crowd on shared devices/IPs."""
    weight_young_crowd: float = 0.6
    """... when they crowd on shared devices/IPs and are young or were created together (a farm)."""
    weight_new_accounts: float = 0.35
    """... when all its members were young at their first gift."""
    weight_creation_burst: float = 0.3
    """... when all its members were created within 24 hours."""
    weight_synchrony: float = 0.75
    """... when all its stream gifts fall in lockstep bursts."""
    weight_one_shot: float = 0.6
    """... when all its senders sent one or two large gifts only."""
    weight_cycles: float = 0.5
    """... when all its internal coins go round in loops."""
    incentive_floor: float = 0.3
    """Share of its coordination score a group keeps when no money concentrates
    on a beneficiary (families, internet cafes); 1 ignores the money."""
    size_half: float = 4.0
    """Groups of size 1 + size_half keep 63% of their score: tiny groups are less certain."""
    min_score: float = 0.1
    """Groups scoring below this are never reported as rings (an absolute floor,
    for data where most groups score zero and the outlier bar below is zero too)."""
    outlier_z: float = 10.0
    """Groups are reported as rings when their score stands this many robust
    deviations (MAD) above the median group of the same data: the bar is set
    by the platform's own groups, not by a constant. Measured over synthetic
    platforms of 10^4-10^6 gifts and several seeds: 8 let a few internet cafes
    in at the bottom of the list, 12 began to lose rings."""
    top: int = 50
    """How many rings to report (and draw)."""

    # --- views ------------------------------------------------------------
    view_max_nodes: int = 2000
    """At most this many nodes in one HTML view; the rest is counted on the page."""
    physics_max_nodes: int = 300
    """Views with more nodes than this use a precomputed layout, physics off."""

    # -------------------------------------------------------------------
    def replace(self, **changes: Any) -> "Config":
        """Return a copy with ``changes`` applied (unknown names raise :class:`ConfigError`)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(self, **changes)

    def to_params(self) -> dict[str, Any]:
        """All settings as a plain, JSON-serialisable dict, sorted by name."""
        return dict(sorted(dataclasses.asdict(self).items()))


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
        When the file is not valid TOML, a setting is unknown or has the wrong type.

    Examples
    --------
    >>> load_config(None, hub_cap=10).hub_cap
    10
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
        params = doc.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: [params] must be a table of settings")
        values.update(params)
    values.update({k: v for k, v in overrides.items() if v is not None})
    types = {f.name: f.type for f in fields(Config)}
    for name, value in values.items():
        if name in types:
            _check_type(name, value, getattr(cfg, name), path)
            if isinstance(getattr(cfg, name), float) and isinstance(value, int):
                values[name] = float(value)
    return cfg.replace(**values)


def _check_type(name: str, value: Any, default: Any, path: Path | None) -> None:
    where = f"{path}: " if path else ""
    if default is None or value is None:
        return
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(
            f"{where}setting {name} = {value!r} should be a {expected.__name__} (default {default!r})"
        )
