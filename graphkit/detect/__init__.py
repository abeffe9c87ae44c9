"""Detection: from graphs to candidate groups and their signals.

- :mod:`~graphkit.detect.communities`: Leiden (CPM or modularity), Louvain,
  label propagation, components, with oversized communities split again.
- :mod:`~graphkit.detect.centrality`: PageRank, strength, HITS, k-core, betweenness.
- :mod:`~graphkit.detect.dense`: FRAUDAR-style dense blocks (batch peeling).
- :mod:`~graphkit.detect.candidates`: the candidate groups of every detector.
- :mod:`~graphkit.detect.signals`: per-account activity, the platform's
  baseline, and the signals of every group.
- :mod:`~graphkit.detect.evidence`: the evidence neighbourhood and paths
  behind ``graphkit expand`` and ``graphkit path``.

:mod:`graphkit.score` turns the signals into scores and reasons, and
:mod:`graphkit.rings` assembles the rings; :func:`graphkit.analyze` runs them
in order, and the notebooks show each step.
"""
