"""A synthetic livestream platform with planted abuse rings and their ground truth.

:func:`generate` returns a :class:`Platform` (users, streams, devices and
gifts frames plus a ``truth`` dict); :meth:`Platform.write` writes it as a
data directory that ``graphkit report`` reads, with ``truth.json`` for
``graphkit eval``.
"""

from graphkit.synth._planted import BIG_LOOKALIKE_KINDS, FLOW_KINDS, LOOKALIKE_KINDS, RING_KINDS
from graphkit.synth._world import PRICES
from graphkit.synth.generator import DEFAULT_START, MIN_USERS, generate
from graphkit.synth.platform import FORMATS, TRUTH_FILE, Platform

__all__ = ["BIG_LOOKALIKE_KINDS", "DEFAULT_START", "FLOW_KINDS", "FORMATS", "LOOKALIKE_KINDS", "MIN_USERS", "PRICES", "RING_KINDS", "TRUTH_FILE",
           "Platform", "generate"]
