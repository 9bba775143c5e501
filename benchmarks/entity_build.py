"""Build time with and without entity extraction, on the same articles, in one run.

    .venv/bin/python -m benchmarks.entity_build --size 1000 [--corpus FILE.jsonl]

Takes the first ``--size`` articles of a synthetic corpus (the 100k benchmark corpus if it
exists, else a freshly generated one), builds a fresh index of them twice in separate
processes, once with ``entities=False`` and once with entity extraction (one process, and
optionally ``--processes 2``), and reports seconds, articles per second and the ratio. The
extrapolation to 100,000 articles is printed and labelled as such: a real 100k build with
entities takes hours at these rates, too long for a benchmark run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tempfile
from pathlib import Path

from benchmarks.run import HERE, _run_child

BUILD = r"""
import sys, corpus_search as cs
from corpus_search._entities import Extractor
entities = sys.argv[3] != "0"
ex = Extractor(n_process=int(sys.argv[3])) if entities else None
r = cs.build([sys.argv[1]], sys.argv[2], entities=entities, extractor=ex, progress=False)
print(r.added)
"""


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--corpus", type=Path, default=HERE / "data" / "100000" / "corpus.jsonl")
    p.add_argument("--processes", type=int, nargs="+", default=[1],
                   help="NER process counts to measure (e.g. 1 2)")
    p.add_argument("--out", type=Path, help="JSON results (default: print only)")
    args = p.parse_args(argv)

    from corpus_search import synthetic

    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample.jsonl"
        if args.corpus.exists():
            with open(args.corpus, encoding="utf-8") as src, open(sample, "w") as dst:
                dst.writelines(itertools.islice(src, args.size))
            source = str(args.corpus)
        else:
            with open(sample, "w", encoding="utf-8") as dst:
                for rec in synthetic.generate(args.size, seed=1):
                    dst.write(json.dumps(rec) + "\n")
            source = "synthetic.generate(seed=1)"
        results: dict = {"size": args.size, "source": source, "builds": {}}
        for procs in [0, *args.processes]:
            index_dir = Path(tmp) / f"index-{procs}"
            secs, peak, out = _run_child(BUILD, str(sample), str(index_dir), str(procs))
            shutil.rmtree(index_dir)
            name = "without entities" if procs == 0 else f"with entities, {procs} NER process(es)"
            results["builds"][name] = {"seconds": round(secs, 2), "peak_rss_mb": peak,
                                       "articles": int(out.split()[0]),
                                       "articles_per_second": round(args.size / secs, 1)}
    base = results["builds"]["without entities"]["seconds"]
    print(f"{args.size:,} articles from {source}")
    for name, b in results["builds"].items():
        per_100k_h = b["seconds"] / args.size * 100_000 / 3600
        print(f"  {name:34s} {b['seconds']:7.1f} s  {b['articles_per_second']:6.1f} art/s  "
              f"x{b['seconds'] / base:5.1f}  peak {b['peak_rss_mb']:.0f} MB  "
              f"(extrapolated to 100k: {per_100k_h:.1f} h)")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
