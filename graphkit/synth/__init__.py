"""A synthetic livestream platform with planted abuse rings and their ground truth.

:func:`generate` returns a :class:`Platform` (users, streams, devices and
gifts frames plus a ``truth`` dict); :meth:`Platform.write` writes it as a
data directory that ``graphkit report`` reads, with ``truth.json`` for
``graphkit eval``. :func:`generate_days` (``graphkit synth --days N``) observes one
platform day by day, with farms that grow, split, go quiet and re-form, and a
:class:`Timeline` of which farm (and which persistent fan club) is which on each day.
"""

from graphkit.synth._planted import BIG_LOOKALIKE_KINDS, FLOW_KINDS, LOOKALIKE_KINDS, RING_KINDS
from graphkit.synth._world import PRICES
from graphkit.synth.days import CLUB_KIND, MAX_DAYS, TIMELINE_FILE, Timeline, day_folder, generate_days
from graphkit.synth.generator import DEFAULT_START, MIN_USERS, generate
from graphkit.synth.platform import FORMATS, TRUTH_FILE, Platform

__all__ = ["BIG_LOOKALIKE_KINDS", "CLUB_KIND", "DEFAULT_START", "FLOW_KINDS", "FORMATS", "LOOKALIKE_KINDS", "MAX_DAYS", "MIN_USERS",
           "PRICES", "RING_KINDS", "TIMELINE_FILE", "TRUTH_FILE", "Platform", "Timeline", "day_folder", "generate",
           "generate_days"]
