"""Time to first query of a first build with entities (search first) against the build
time without entities, on the same synthetic corpus, in one run.

    .venv/bin/python -m benchmarks.search_first --size 10000

1. ``no-entities``: ``cs.build(corpus, dir, entities=False)`` in a fresh process.
2. ``search-first``: in a fresh process and a fresh index folder (so the entity cache is
   empty and every article needs the model), ``cs.build_in_background(corpus, dir)``;
   the clock stops when a separate :class:`Index` opened on the folder answers a query
   (polled every 0.1 s). The facets' note and the progress after a further
   ``--watch`` seconds are recorded, then the build is cancelled (extracting entities for
   every article is measured by ``benchmarks.enrich``; it is not what this measures).

The two steps run back to back; the load average is recorded around each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.run import HERE, ROOT

NO_ENTITIES = r"""
import sys, time, corpus_search as cs
t = time.perf_counter()
cs.build([sys.argv[1]], sys.argv[2], entities=False, progress=False)
print("SECONDS", time.perf_counter() - t)
"""

SEARCH_FIRST = r"""
import json, sys, time, corpus_search as cs
corpus, index_dir, watch = sys.argv[1], sys.argv[2], float(sys.argv[3])
t = time.perf_counter()
job = cs.build_in_background([corpus], index_dir, progress=False)
first = None
while first is None:
    time.sleep(0.1)
    if job.done():
        job.wait()  # raises what the build raised
    try:
        index = cs.open_index(index_dir)
    except cs.IndexNotFoundError:
        continue
    total = index.search("said", facets=False).total
    first = time.perf_counter() - t
note = index.facets("person").attrs["note"]
time.sleep(watch)
later = str(index.entity_status())
job.cancel()
try:
    job.wait(600)
except cs.BuildCancelled:
    pass
print("RESULT", json.dumps({"first_query_seconds": first, "hits": total,
                            "note_at_first_query": note, "status_after_watch": later}))
"""


def _child(code: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    return proc.stdout


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=10_000)
    p.add_argument("--watch", type=float, default=30.0,
                   help="seconds to let entity extraction run after the first query")
    p.add_argument("--work", type=Path, default=HERE / "data")
    p.add_argument("--out", type=Path, help="JSON results (default: print only)")
    args = p.parse_args(argv)

    from corpus_search import synthetic

    work = args.work / str(args.size)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    if not corpus.exists():
        synthetic.write(corpus, args.size)
    results: dict = {"size": args.size, "machine": {"python": platform.python_version(),
                                                     "cpus": os.cpu_count()}}
    plain, first = work / "sf-plain", work / "sf-first"
    for d in (plain, first):
        shutil.rmtree(d, ignore_errors=True)
    load = os.getloadavg()[0]
    out = _child(NO_ENTITIES, str(corpus), str(plain))
    results["no_entities"] = {"seconds": round(float(out.split("SECONDS")[1]), 2),
                              "load": [load, os.getloadavg()[0]]}
    load = os.getloadavg()[0]
    out = _child(SEARCH_FIRST, str(corpus), str(first), str(args.watch))
    results["search_first"] = {**json.loads(out.split("RESULT", 1)[1]),
                               "load": [load, os.getloadavg()[0]]}
    ratio = results["search_first"]["first_query_seconds"] / results["no_entities"]["seconds"]
    results["ratio"] = round(ratio, 3)
    for d in (plain, first):
        shutil.rmtree(d, ignore_errors=True)
    print(f"{args.size:,} articles: build without entities "
          f"{results['no_entities']['seconds']:.1f} s; first query of a search-first build "
          f"with entities {results['search_first']['first_query_seconds']:.1f} s "
          f"(x{ratio:.2f})")
    print(f"  note at first query: {results['search_first']['note_at_first_query']}")
    print(f"  {args.watch:.0f} s later: {results['search_first']['status_after_watch']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
