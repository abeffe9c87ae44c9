"""Detection: from graphs to scored, explained rings.

- :mod:`~graphkit.detect.communities`: Leiden (CPM or modularity), Louvain,
  label propagation, components, with oversized communities split again.
- :mod:`~graphkit.detect.centrality`: PageRank, strength, HITS, k-core, betweenness.
- :mod:`~graphkit.detect.dense`: FRAUDAR-style dense blocks (batch peeling).
- :mod:`~graphkit.detect.candidates`: the candidate groups of every detector.
- :mod:`~graphkit.detect.signals`: per-account activity, the platform's
  baseline, and the signals of every group.
- :mod:`~graphkit.detect.rings`: one ring per account, merged pieces,
  beneficiaries, money loops, the ring bar.
- :mod:`~graphkit.detect.evidence`: the evidence neighbourhood and paths
  behind ``graphkit expand`` and ``graphkit path``.

:func:`graphkit.analyze` runs them in order; the notebooks show each step.
"""
