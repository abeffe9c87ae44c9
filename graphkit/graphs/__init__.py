"""Graphs from the input tables: id index, entity graph, gift flow, shared-identifier
and co-gifting projections (:func:`build_graphs`).

The names below are imported on first use (PEP 562): ``from graphkit.graphs
import GRAPH_NAMES`` (a command's option choices) does not load igraph,
networkx or scipy; ``build_graphs`` and the others load their module when
first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.util.lazy import lazy_exports

if TYPE_CHECKING:
    from graphkit.graphs.build import Graphs, build_graphs, graph_from_edges
    from graphkit.graphs.ids import IdIndex, build_index
    from graphkit.graphs.projections import cogift_projection, gift_flow, shared_projection
    from graphkit.graphs.window import TimeWindow, apply_window, check_window, time_window

GRAPH_NAMES = ("gifts", "shared", "cogift")
"""The user graphs that can be exported (:meth:`Graphs.frames`)."""

__all__ = [
    "GRAPH_NAMES",
    "Graphs",
    "IdIndex",
    "TimeWindow",
    "apply_window",
    "check_window",
    "build_graphs",
    "build_index",
    "cogift_projection",
    "gift_flow",
    "graph_from_edges",
    "shared_projection",
    "time_window",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Graphs": "graphkit.graphs.build",
    "build_graphs": "graphkit.graphs.build",
    "graph_from_edges": "graphkit.graphs.build",
    "IdIndex": "graphkit.graphs.ids",
    "build_index": "graphkit.graphs.ids",
    "cogift_projection": "graphkit.graphs.projections",
    "gift_flow": "graphkit.graphs.projections",
    "shared_projection": "graphkit.graphs.projections",
    "TimeWindow": "graphkit.graphs.window",
    "apply_window": "graphkit.graphs.window",
    "check_window": "graphkit.graphs.window",
    "time_window": "graphkit.graphs.window",
})
