"""Time drawing HTML views in headless Chromium (Debian's chromium; ``make browser``).

Renders random evidence-like networks of 300, 2,000 and 10,000 nodes (three
edges per node) with :func:`graphkit.viz.render_network`, opens each file
offline and measures, from navigation start, the time until vis-network's
first ``afterDrawing`` (``window.gkFirstDrawn``) and until the view is ready
(stabilised when physics is on). Views above ``max_nodes`` are capped, so the
10,000-node run is also measured uncapped.

A ring page of 2,000 nodes (60 members, the rest context in four groups, gift
edges with coins and timeline bins, scored accounts) is measured on its own
(:func:`measure_ring_page`): time to the first draw and to ready, then how long
the page takes to show its context, apply a filter (minimum coins), apply a
timeline brush and clear them.

Run: ``.venv/bin/python -m benchmarks.bench_views`` (or ``python -m benchmarks views``);
the ring page alone: ``.venv/bin/python -m benchmarks.bench_views ring``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from graphkit.viz import render_network

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TYPES = np.array(["account", "account", "account", "device", "ip", "stream"])


def network(n: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"n{i}" for i in range(n)])
    nodes = pl.DataFrame({"id": ids, "label": ids, "type": rng.choice(TYPES, n), "group": rng.choice(TYPES, n),
                          "size": rng.uniform(8, 40, n), "tooltip": [f"account n{i}\nscore 0.5" for i in range(n)],
                          "importance": rng.random(n)})
    m = 3 * n
    edges = pl.DataFrame({"source": ids[rng.integers(0, n, m)], "target": ids[rng.integers(0, n, m)],
                          "relation": rng.choice(["gifted", "used_device", "used_ip"], m),
                          "width": rng.uniform(1, 6, m), "tooltip": ["gift"] * m})
    return nodes, edges


def measure(cases: list[tuple[int, int]] | None = None) -> list[dict]:
    """Render and draw each ``(nodes, max_nodes)`` case; one dict of timings per case."""
    from playwright.sync_api import sync_playwright

    cases = cases or [(300, 2000), (2000, 2000), (10_000, 2000), (10_000, 10_000)]
    out = Path(tempfile.mkdtemp(prefix="gk-bench-views-"))
    found = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for n, cap in cases:
            nodes, edges = network(n)
            t0 = time.perf_counter()
            page = render_network(nodes, edges, title=f"bench {n}", max_nodes=cap)
            render_s = time.perf_counter() - t0
            path = out / f"view-{n}-{cap}.html"
            path.write_text(page, encoding="utf-8")
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            tab.route("**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_())
            tab.goto(path.as_uri())
            tab.wait_for_function("window.gkReady === true", timeout=300_000)
            found.append({
                "nodes": n, "max_nodes": cap, "drawn": tab.evaluate("window.gkNetwork.body.data.nodes.length"),
                "render_s": round(render_s, 3), "html_mb": round(len(page) / 1e6, 2),
                "first_draw_s": round(tab.evaluate("window.gkFirstDrawn") / 1000, 3),
                "ready_s": round(tab.evaluate("performance.now()") / 1000, 3),
            })
            tab.close()
        browser.close()
    return found


def ring_network(n: int = 2000, focus: int = 60, seed: int = 0):
    """Frames of a ring page like graphkit's: ``focus`` members, the rest context; and its timeline."""
    from graphkit.viz.timeline import Timeline

    rng = np.random.default_rng(seed)
    ids = np.array([f"account:n{i}" for i in range(n)])
    kinds = np.array(["devices", "IPs", "streams", "other accounts"])
    types = np.where(np.arange(n) < focus, "account", rng.choice(["account", "device", "ip", "stream"], n))
    context = [None] * focus + list(kinds[rng.integers(0, 4, n - focus)])
    nodes = pl.DataFrame({"id": ids, "label": [i.split(":")[1] for i in ids], "type": types,
                          "group": np.where(np.arange(n) < focus, "member", "account"),
                          "size": rng.uniform(8, 24, n), "tooltip": [f"account {i}\nscore 0.5" for i in ids],
                          "importance": rng.random(n), "pinned": np.arange(n) < focus,
                          "context": context},
                         ).with_columns(pl.Series("score", [float(v) if t == "account" else None
                                                            for v, t in zip(rng.random(n), types)], dtype=pl.Float64))
    m = 3 * n
    relation = rng.choice(["gifted", "gifted_in", "used_device", "used_ip"], m)
    gift = np.isin(relation, ["gifted", "gifted_in"])
    bins = [sorted(set(rng.integers(0, 120, rng.integers(1, 4)).tolist())) if g else None for g in gift]
    edges = pl.DataFrame({"source": ids[rng.integers(0, focus, m)], "target": ids[rng.integers(0, n, m)],
                          "relation": relation, "width": rng.uniform(1, 6, m), "tooltip": ["gift"] * m,
                          "bins": bins}).with_columns(
        pl.Series("coins", [float(c) if g else None for c, g in zip(rng.uniform(1, 5000, m).round(2), gift)],
                  dtype=pl.Float64))
    coins = rng.uniform(0, 5000, 120).round(2)
    timeline = Timeline(start=1_714_521_600, step=21600, bins=120,
                        series=(("beneficiary", tuple(coins / 4)), ("member", tuple(coins))), marks=((40, 41, "burst"),))
    return nodes, edges, timeline


def measure_ring_page(n: int = 2000) -> dict:
    """Draw a ``n``-node ring page offline in Chromium; the times of its first draw and of each interaction."""
    from playwright.sync_api import sync_playwright

    nodes, edges, timeline = ring_network(n)
    t0 = time.perf_counter()
    page = render_network(nodes, edges, title=f"ring page {n}", max_nodes=n, timeline=timeline, reasons=["burst"])
    render_s = time.perf_counter() - t0
    path = Path(tempfile.mkdtemp(prefix="gk-bench-ring-")) / f"ring-{n}.html"
    path.write_text(page, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.route("**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_())
        tab.goto(path.as_uri())
        tab.wait_for_function("window.gkReady === true", timeout=300_000)
        found = {"nodes": n, "edges": edges.height, "render_s": round(render_s, 3), "html_mb": round(len(page) / 1e6, 2),
                 "first_draw_s": round(tab.evaluate("window.gkFirstDrawn") / 1000, 3),
                 "ready_s": round(tab.evaluate("performance.now()") / 1000, 3)}
        steps = {
            "show_context_s": "document.getElementById('gk-context').click()",
            "min_coins_s": """(() => { const el = document.getElementById('gk-min-coins');
                el.value = '2500'; el.dispatchEvent(new Event('input')); })()""",
            "brush_s": """(() => { const c = document.getElementById('gk-timeline'), r = c.getBoundingClientRect();
                const at = (type, x) => (type === 'mouseup' ? window : c).dispatchEvent(new MouseEvent(type,
                    {clientX: r.left + x, clientY: r.top + 30, bubbles: true}));
                at('mousedown', 100); at('mousemove', 300); at('mouseup', 300); })()""",
            "reset_s": "document.getElementById('gk-reset').click()",
        }
        for name, script in steps.items():
            found[name] = round(tab.evaluate(f"""() => {{
                const t0 = performance.now(); {script}; window.gkNetwork.redraw();
                return performance.now() - t0; }}""") / 1000, 3)
        found["visible_edges_after_reset"] = tab.evaluate("window.gkVisibleEdges()")
        tab.close()
        browser.close()
    return found


def main() -> None:
    import sys

    if sys.argv[1:] == ["ring"]:
        for key, value in measure_ring_page().items():
            print(f"{key:>26} {value}")
        return
    print(f"{'nodes':>7} {'drawn':>7} {'render s':>9} {'html MB':>8} {'first draw s':>13} {'ready s':>8}")
    for r in measure():
        print(f"{r['nodes']:>7,} {r['drawn']:>7,} {r['render_s']:>9.2f} {r['html_mb']:>8.2f} "
              f"{r['first_draw_s']:>13.2f} {r['ready_s']:>8.2f}")


if __name__ == "__main__":
    main()
