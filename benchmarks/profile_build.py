"""Profile a build without entities (cProfile, top functions by own time).

    .venv/bin/python -m benchmarks.profile_build --size 10000
    .venv/bin/python -m benchmarks.profile_build --size 10000 --add 100

With ``--add N``, the full build runs unprofiled and what is profiled is the rebuild
after adding ``N`` new articles (``more-N.jsonl``, written if missing), as the benchmark's
incremental line does.

Uses the benchmark's synthetic corpus (``benchmarks/data/<size>/corpus.jsonl``, written
if missing). Only this process is profiled: when the build writes the second half of the
articles on a dask worker (batches of 1,000 or more), that half's time shows as the
parent waiting for the worker's result, not as the worker's functions.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    """Build the synthetic corpus of ``--size`` articles under cProfile and print the
    ``--top`` functions by own time."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=10_000)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--work", type=Path, default=HERE / "data")
    p.add_argument("--add", type=int, default=0,
                   help="profile the rebuild after adding this many articles instead")
    args = p.parse_args(argv)

    import corpus_search as cs
    from corpus_search import synthetic

    work = args.work / str(args.size)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    if not corpus.exists():
        synthetic.write(corpus, args.size)
    out = work / "profile-index"
    shutil.rmtree(out, ignore_errors=True)
    sources = [corpus]
    if args.add:
        cs.build(sources, out, entities=False, progress=False)
        more = work / f"more-{args.add}.jsonl"
        if not more.exists():
            with open(more, "w", encoding="utf-8") as fh:
                for rec in synthetic.generate(args.add, seed=99):
                    fh.write(json.dumps(dict(rec, id="extra-" + rec["id"])) + "\n")
        sources.append(more)
    prof = cProfile.Profile()
    started = time.perf_counter()
    prof.enable()
    cs.build(sources, out, entities=False, progress=False)
    prof.disable()
    what = f"rebuild of {args.size:,} + {args.add:,}" if args.add else f"build of {args.size:,}"
    print(f"{what} articles under cProfile: {time.perf_counter() - started:.1f} s")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(args.top)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
