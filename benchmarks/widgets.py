"""Widget update latency on the BBC corpus: a query typed into SearchExplorer, end to end.

    .venv/bin/python -m benchmarks.widgets [--bbc ../shared/corpora/bbc-2005]

Reports the median and p95 of a full widget update (set the query; results, facets and
page all redrawn) against the library call alone (``index.search`` with the same
arguments) measured in the same run, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = ["Blair", "election", "film OR music", "the", 'person:"Tony Blair"', "economy",
           '"prime minister"', "chelsea", "mobile phone", "oil AND prices", "champion*",
           "Brown NOT Blair"]


def _stats(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"p50 {statistics.median(ms):6.1f} ms, p95 {ms[round(0.95 * (len(ms) - 1))]:6.1f} ms"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bbc", type=Path, default=HERE.parent.parent / "shared" / "corpora" /
                   "bbc-2005")
    p.add_argument("--index", type=Path, default=HERE / "data" / "bbc-index")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()

    import corpus_search as cs
    from corpus_search.widgets import SearchExplorer

    started = time.perf_counter()
    cs.build([args.bbc], args.index, outlet="BBC News", progress=True)
    print(f"index ready in {time.perf_counter() - started:.1f} s")
    index = cs.open_index(args.index)
    app = SearchExplorer(index)
    widget_ms, library_ms = [], []
    for _ in range(args.repeat):
        for q in QUERIES:
            app.query.value = ""
            t = time.perf_counter()
            app.query.value = q
            widget_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            index.search(q, facet_limit=25, limit=10)
            library_ms.append((time.perf_counter() - t) * 1000)
    app.query.value = "election"
    t_pick = []
    for _ in range(args.repeat):
        for person in ["Tony Blair", "Michael Howard", "Gordon Brown"]:
            t = time.perf_counter()
            app.facet_pickers["person"].value = (person,)
            t_pick.append((time.perf_counter() - t) * 1000)
    print(f"{len(index):,} articles, {len(QUERIES)} queries x {args.repeat}")
    print(f"widget update (query typed):  {_stats(widget_ms)}")
    print(f"library call alone:           {_stats(library_ms)}")
    print(f"widget update (facet picked): {_stats(t_pick)}")
    print(f"ratio widget/library p50: "
          f"{statistics.median(widget_ms) / statistics.median(library_ms):.2f}")


if __name__ == "__main__":
    main()
