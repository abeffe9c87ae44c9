"""The pipeline a careful analyst would write by hand: pandas + networkx.

Read the tables with pandas; build one undirected networkx graph of gifts
(one edge per pair of accounts that gifted each other, weighted by the
number of gifts, log-scaled) plus shared devices and IPs (pairs of accounts
on the same device/IP, skipping identifiers used by more than ``hub_cap``
accounts, like graphkit's default); networkx Louvain; rank the communities
of ``min_size`` .. ``max_size`` accounts by edge density and account age
(the mean of the density and the share of the platform's accounts older
than the community's median account); write the contract's ``rings.json``
and ``scores.csv`` (every account gets its community's score, 0 outside
ranked communities) so that :func:`graphkit.evaluate.evaluate_output`
judges both tools the same way.

Loops over communities are deliberate: that is how such notebooks are written.
"""

from __future__ import annotations

import json
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = ["run_baseline", "read_table"]

GENERATOR = "baseline pandas + networkx Louvain"


def read_table(data_dir: Path, name: str, mapping: dict[str, Any]) -> pd.DataFrame | None:
    """``NAME.parquet`` / ``NAME.csv`` (or the mapping's file) as pandas, columns renamed to canonical names."""
    spec = mapping.get("tables", {}).get(name, {})
    candidates = [spec["file"]] if "file" in spec else [f"{name}.parquet", f"{name}.csv"]
    for file in candidates:
        path = data_dir / file
        if path.is_file():
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
            rename = {src: canonical for canonical, src in spec.get("columns", {}).items()}
            return frame.rename(columns=rename)
    return None


def run_baseline(data_dir: Path, out_dir: Path, *, columns: Path | None = None, seed: int = 0,
                 hub_cap: int = 50, min_size: int = 5, max_size: int = 500) -> dict[str, Any]:
    """Run the baseline on ``data_dir``; write rings.json and scores.csv to ``out_dir``; return stage times."""
    mapping = tomllib.loads(columns.read_text(encoding="utf-8")) if columns else {}
    stages: dict[str, float] = {}
    start = time.perf_counter()

    users = read_table(data_dir, "users", mapping)
    gifts = read_table(data_dir, "gifts", mapping)
    devices = read_table(data_dir, "devices", mapping)
    gifts["sender_id"] = gifts["sender_id"].astype(str)
    gifts["receiver_id"] = gifts["receiver_id"].astype(str)
    if users is not None:
        users["user_id"] = users["user_id"].astype(str)
    stages["read"] = time.perf_counter() - start

    t = time.perf_counter()
    pairs = gifts[gifts["sender_id"] != gifts["receiver_id"]]
    a = np.where(pairs["sender_id"] < pairs["receiver_id"], pairs["sender_id"], pairs["receiver_id"])
    b = np.where(pairs["sender_id"] < pairs["receiver_id"], pairs["receiver_id"], pairs["sender_id"])
    gift_edges = pd.DataFrame({"a": a, "b": b}).groupby(["a", "b"]).size().rename("n").reset_index()
    gift_edges["weight"] = np.log1p(gift_edges["n"])
    edge_parts = [gift_edges[["a", "b", "weight"]]]
    if devices is not None:
        devices["user_id"] = devices["user_id"].astype(str)
        for col in ("device_id", "ip"):
            if col not in devices.columns:
                continue
            links = devices[["user_id", col]].dropna().drop_duplicates()
            counts = links.groupby(col)["user_id"].transform("size")
            links = links[(counts > 1) & (counts <= hub_cap)]
            shared = links.merge(links, on=col)
            shared = shared[shared["user_id_x"] < shared["user_id_y"]]
            edge_parts.append(pd.DataFrame({"a": shared["user_id_x"].to_numpy(), "b": shared["user_id_y"].to_numpy(),
                                            "weight": 1.0}))
    edges = pd.concat(edge_parts).groupby(["a", "b"], as_index=False)["weight"].sum()
    graph = nx.from_pandas_edgelist(edges, "a", "b", edge_attr="weight")
    accounts = pd.concat([gifts["sender_id"], gifts["receiver_id"]] +
                         ([devices["user_id"]] if devices is not None else []) +
                         ([users["user_id"]] if users is not None else [])).unique()
    graph.add_nodes_from(accounts)
    stages["build"] = time.perf_counter() - t

    t = time.perf_counter()
    communities = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    stages["communities"] = time.perf_counter() - t

    t = time.perf_counter()
    age_pct = _age_percentile(users, gifts)
    ranked = []
    for members in communities:
        if not min_size <= len(members) <= max_size:
            continue
        density = nx.density(graph.subgraph(members))
        if age_pct is None:
            score = density
        else:
            youth = 1.0 - float(np.nanmedian(age_pct.reindex(list(members)).to_numpy(dtype=float)))
            score = 0.5 * density + 0.5 * (youth if np.isfinite(youth) else 0.0)
        ranked.append((score, sorted(members)))
    ranked.sort(key=lambda r: (-r[0], r[1][0]))
    stages["rank"] = time.perf_counter() - t

    t = time.perf_counter()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    rings = [{"ring_id": f"B{i:04d}", "rank": i, "score": round(s, 4), "members": m, "size": len(m)}
             for i, (s, m) in enumerate(ranked, start=1)]
    doc = {"schema_version": 1, "generator": GENERATOR, "params": {"seed": seed, "hub_cap": hub_cap},
           "summary": {"users": graph.number_of_nodes(), "gifts": len(gifts), "rings": len(rings)}, "rings": rings}
    (out_dir / "rings.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    score_of = {u: (r["score"], r["ring_id"]) for r in rings for u in r["members"]}
    scores = pd.DataFrame({"user_id": list(graph.nodes)})
    scores["score"] = [score_of.get(u, (0.0, ""))[0] for u in scores["user_id"]]
    scores["ring_id"] = [score_of.get(u, (0.0, ""))[1] for u in scores["user_id"]]
    scores.sort_values(["score", "user_id"], ascending=[False, True]).to_csv(out_dir / "scores.csv", index=False)
    stages["writing"] = time.perf_counter() - t
    return {
        "tool": "baseline",
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "total_s": round(time.perf_counter() - start, 3),
        "users": graph.number_of_nodes(),
        "gifts": len(gifts),
        "rings": len(rings),
    }


def _age_percentile(users: pd.DataFrame | None, gifts: pd.DataFrame) -> pd.Series | None:
    """Per account: the share of accounts created after it (0 = youngest, 1 = oldest); None without created_at."""
    if users is None or "created_at" not in users.columns:
        return None
    created = pd.to_datetime(users["created_at"], utc=True, errors="coerce")
    if created.isna().all():
        return None
    return pd.Series(created.rank(pct=True, ascending=False).to_numpy(), index=users["user_id"])
