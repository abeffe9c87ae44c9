"""Graphs from the input tables: id index, entity graph, gift flow, shared-identifier
and co-gifting projections (:func:`build_graphs`)."""

from graphkit.graphs.build import GRAPH_NAMES, Graphs, build_graphs, graph_from_edges
from graphkit.graphs.ids import IdIndex, build_index
from graphkit.graphs.projections import cogift_projection, gift_flow, shared_projection
from graphkit.graphs.window import TimeWindow, apply_window, check_window, time_window

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
