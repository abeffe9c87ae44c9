"""Connected components of a Spark edge frame: the work units of the Spark engine.

Three implementations, chosen by :func:`connected_components`: when the links
are few enough to collect (:data:`DRIVER_MAX_EDGES`), scipy on the driver;
else GraphFrames' ``connectedComponents`` when its jar is on the classpath,
else the alternating large-star / small-star algorithm of Kiveris et al. on
plain DataFrames, checkpointed every few rounds so that its lineage stays
short. All three give every vertex the smallest id of its component, so the
work units do not depend on the method.

References
----------
R. Kiveris, S. Lattanzi, V. Mirrokni, V. Rastogi, S. Vassilvitskii,
"Connected Components in MapReduce and Beyond", SoCC 2014.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["COMPONENT_METHODS", "DRIVER_MAX_EDGES", "connected_components", "driver_components",
           "graphframes_available", "star_components"]

COMPONENT_METHODS = ("auto", "driver", "graphframes", "star")
"""``auto``: ``driver`` for at most :data:`DRIVER_MAX_EDGES` distinct links, else GraphFrames when its jar is on
the classpath, else ``star``."""

DRIVER_MAX_EDGES = 5_000_000
"""``auto`` collects the distinct links to the driver and finds the components there (scipy) when there are at most
this many: 80 MB of id pairs and about a second of scipy, where each of the star algorithm's rounds is several
Spark jobs (on the demo's 25k linked vertices, about 20 rounds took minutes on two cores: ``docs/spark.md``)."""

_CHECKPOINT_EVERY = 3
"""Rounds (one large-star and one small-star each) between checkpoints."""
_MAX_ROUNDS = 200
"""More than enough: the algorithm converges in O(log^2 n) rounds."""


def graphframes_available(spark: "SparkSession") -> bool:
    """Whether GraphFrames (its Python package and its jar) can run in ``spark``."""
    import importlib.util

    if importlib.util.find_spec("graphframes") is None:
        return False
    try:
        spark.sparkContext._jvm.java.lang.Class.forName("org.graphframes.GraphFrame")  # type: ignore[union-attr]
    except Exception:  # a Py4J error: the class is not on the classpath
        return False
    return True


def connected_components(vertices: "DataFrame", edges: "DataFrame", *, method: str = "auto",
                         driver_max_edges: int = DRIVER_MAX_EDGES) -> tuple["DataFrame", str]:
    """The component of every vertex.

    Parameters
    ----------
    vertices : pyspark.sql.DataFrame
        ``id`` (long), one row per vertex (vertices without edges are their own component).
    edges : pyspark.sql.DataFrame
        ``src``, ``dst`` (long): undirected; loops and repeats allowed.
    method : {"auto", "driver", "graphframes", "star"}
        ``driver`` collects the distinct links and finds the components with
        scipy on the driver; ``graphframes`` fails when the GraphFrames jar is
        not on the classpath; ``star`` runs the large-star / small-star
        rounds on DataFrames. ``auto`` takes ``driver`` when there are at
        most ``driver_max_edges`` distinct links, else GraphFrames when its
        jar is there, else ``star``.
    driver_max_edges : int
        ``auto``'s limit for ``driver`` (:data:`DRIVER_MAX_EDGES`).

    Returns
    -------
    (pyspark.sql.DataFrame, str)
        ``id``, ``component`` (the smallest vertex id of the component), and
        the method used.
    """
    from pyspark.sql import functions as F

    if method not in COMPONENT_METHODS:
        raise ConfigError(f"components method {method!r} is not one of {', '.join(COMPONENT_METHODS)}")
    spark = vertices.sparkSession
    if method == "graphframes" and not graphframes_available(spark):
        raise ConfigError("components method 'graphframes' needs the graphframes package and its jar on the "
                          "classpath (--spark-conf spark.jars.packages=...); use 'star' or 'auto' without it")
    if method == "graphframes":
        return _graphframes(vertices, edges), "graphframes"
    pairs = _checkpoint(_undirected(edges))
    if method == "auto":
        if pairs.count() <= driver_max_edges:
            method = "driver"
        else:
            method = "graphframes" if graphframes_available(spark) else "star"
    if method == "graphframes":
        pairs.unpersist()
        return _graphframes(vertices, edges), "graphframes"
    roots = driver_components(pairs) if method == "driver" else _star_rounds(pairs)
    found = vertices.select("id").join(roots, on="id", how="left").select(
        "id", F.coalesce("component", "id").alias("component"))
    return found, method


def _graphframes(vertices: "DataFrame", edges: "DataFrame") -> "DataFrame":
    from graphframes import GraphFrame

    found = GraphFrame(vertices.select("id"), edges.select("src", "dst")).connectedComponents()
    return found.select("id", "component")


def _undirected(edges: "DataFrame") -> "DataFrame":
    """``src, dst`` -> the distinct links ``a < b`` (loops dropped)."""
    from pyspark.sql import functions as F

    return (edges.select(F.least("src", "dst").alias("a"), F.greatest("src", "dst").alias("b"))
            .where(F.col("a") != F.col("b")).distinct())


def driver_components(pairs: "DataFrame") -> "DataFrame":
    """The components of the links ``pairs`` (``a``, ``b``: long), found with scipy on the driver.

    Returns
    -------
    pyspark.sql.DataFrame
        ``id``, ``component`` (the smallest id of its component) for every
        vertex of a link, as :func:`star_components` gives them.
    """
    import numpy as np
    import pyarrow as pa
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    links = pairs.toArrow()
    a = links.column("a").to_numpy().astype(np.int64, copy=False)
    b = links.column("b").to_numpy().astype(np.int64, copy=False)
    ids, ends = np.unique(np.concatenate([a, b]), return_inverse=True)
    if ids.size:
        adjacency = coo_matrix((np.ones(a.size, dtype=np.int8), (ends[:a.size], ends[a.size:])),
                               shape=(ids.size, ids.size))
        _, label = scipy_components(adjacency, directed=False)
        # the ids are sorted, so the first vertex of each label is its component's smallest id
        component = ids[np.unique(label, return_index=True)[1]][label]
    else:
        component = ids
    return pairs.sparkSession.createDataFrame(pa.table({"id": ids, "component": component}))


def star_components(edges: "DataFrame") -> "DataFrame":
    """Large-star / small-star connected components of ``edges`` (``src``, ``dst``: long).

    Returns
    -------
    pyspark.sql.DataFrame
        ``id``, ``component`` (the smallest id of its component) for every
        vertex with at least one edge to another vertex.

    Notes
    -----
    Each round is a large-star step (every vertex links its larger
    neighbours to the smallest id of its neighbourhood) and a small-star step
    (every vertex links itself and its smaller neighbours to the smallest of
    them); both keep the components and shrink their diameter, and the edges
    stop changing when every vertex links straight to its component's
    smallest id. Every ``_CHECKPOINT_EVERY`` rounds the edge frame is
    checkpointed (reliably when the SparkContext has a checkpoint folder,
    else locally).
    """
    return _star_rounds(_checkpoint(_undirected(edges)))


def _star_rounds(current: "DataFrame") -> "DataFrame":
    """:func:`star_components` of the distinct links ``a < b`` (checkpointed)."""
    from pyspark.sql import functions as F

    seen = _fingerprint(current)
    for round_ in range(1, _MAX_ROUNDS + 1):
        following = _small_star(_large_star(current))
        following = _checkpoint(following) if round_ % _CHECKPOINT_EVERY == 0 else following.cache()
        now = _fingerprint(following)
        current.unpersist()
        current = following
        if now == seen:  # no edge changed
            break
        seen = now
    else:  # pragma: no cover - the algorithm converges in O(log^2 n) rounds
        raise RuntimeError(f"connected components did not converge in {_MAX_ROUNDS} rounds")
    # now every edge is (root, member) with root the smallest id of the component
    members = current.select(F.col("b").alias("id"), F.col("a").alias("component"))
    roots = current.select(F.col("a").alias("id"), F.col("a").alias("component")).distinct()
    return members.unionByName(roots).groupBy("id").agg(F.min("component").alias("component"))


def _large_star(edges: "DataFrame") -> "DataFrame":
    """(a < b) edges -> for each vertex u, its larger neighbours linked to min(u, N(u))."""
    from pyspark.sql import functions as F

    both = edges.select(F.col("a").alias("u"), F.col("b").alias("v")).unionByName(
        edges.select(F.col("b").alias("u"), F.col("a").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.first("u")).alias("m"))
    return (both.join(smallest, on="u").where(F.col("v") > F.col("u"))
            .select(F.least("v", "m").alias("a"), F.greatest("v", "m").alias("b"))
            .where(F.col("a") != F.col("b")).distinct())


def _small_star(edges: "DataFrame") -> "DataFrame":
    """(a < b) edges -> for each vertex u, u and its smaller neighbours linked to the smallest of them."""
    from pyspark.sql import functions as F

    down = edges.select(F.col("b").alias("u"), F.col("a").alias("v"))
    smallest = down.groupBy("u").agg(F.min("v").alias("m"))
    linked = down.join(smallest, on="u").select(F.col("v").alias("x"), "m").unionByName(
        smallest.select(F.col("u").alias("x"), "m"))
    return (linked.select(F.least("x", "m").alias("a"), F.greatest("x", "m").alias("b"))
            .where(F.col("a") != F.col("b")).distinct())


def _fingerprint(edges: "DataFrame") -> tuple[int, int, int]:
    """The edge count and two order-free 64-bit sums of the edges' hashes: equal for equal edge sets, and in
    practice only for them (one action, where comparing the sets would take two joins)."""
    from pyspark.sql import functions as F

    row = edges.agg(F.count("*").alias("n"),
                    F.sum(F.xxhash64("a", "b").cast("decimal(38,0)")).alias("h1"),
                    F.sum(F.hash("b", "a").cast("decimal(38,0)")).alias("h2")).first()
    return int(row["n"]), int(row["h1"] or 0), int(row["h2"] or 0)


def _checkpoint(frame: "DataFrame") -> "DataFrame":
    reliable = frame.sparkSession.sparkContext.getCheckpointDir() is not None
    return frame.checkpoint(eager=True) if reliable else frame.localCheckpoint(eager=True)
