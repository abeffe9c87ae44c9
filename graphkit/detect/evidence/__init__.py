"""The evidence around accounts: the typed entity graph, its neighbourhoods and paths.

An escalation starts from one account (or device, IP, stream) and needs the
network around it, with every link explained.

- :mod:`~graphkit.detect.evidence.entity`: the typed entity graph of the input
  tables (accounts, devices, IPs, streams and their relations), node facts,
  hubs, popular hosts, and looking ids up.
- :mod:`~graphkit.detect.evidence.neighbourhood`: :func:`evidence_graph`, the
  network around seeds, hop by hop (``graphkit expand``).
- :mod:`~graphkit.detect.evidence.paths`: :func:`evidence_path`, the strongest
  chain of evidence between two accounts (``graphkit path``).
"""

from graphkit.detect.evidence.entity import (
    KINDS,
    RELATION_CODES,
    RELATIONS,
    CodedEdges,
    coded_entity_edges,
    entity_edges,
    identifier_hubs,
    neighbourhood_edges,
    node_facts,
    popular_hosts,
    resolve_ids,
)
from graphkit.detect.evidence.neighbourhood import Evidence, evidence_graph
from graphkit.detect.evidence.paths import PathLinks, PathStep, evidence_path, path_links

__all__ = [
    "KINDS",
    "RELATION_CODES",
    "RELATIONS",
    "CodedEdges",
    "coded_entity_edges",
    "Evidence",
    "PathLinks",
    "PathStep",
    "entity_edges",
    "evidence_graph",
    "evidence_path",
    "identifier_hubs",
    "neighbourhood_edges",
    "node_facts",
    "path_links",
    "popular_hosts",
    "resolve_ids",
]
