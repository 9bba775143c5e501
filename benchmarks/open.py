"""Time opening an index in a fresh process: ``cs.open_index`` (checks, snapshot) and the
first query after it (what a notebook waits for before its first result).

    .venv/bin/python -m benchmarks.open benchmarks/data/100000/cs-index --repeat 5

Each round is a new Python process (imports not counted), so nothing is cached in the
process; the files are in the OS page cache after the first round, as on a machine that
has used the index before. Prints the median and the range of the rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
import corpus_search as cs
t0 = time.perf_counter()
index = cs.open_index(sys.argv[1])
index.snapshot()
t1 = time.perf_counter()
index.search("sanctions", snippets=False)
t2 = time.perf_counter()
print(json.dumps({"open": t1 - t0, "first_query": t2 - t1, "articles": len(index)}))
"""


def main(argv: list[str] | None = None) -> dict:
    """Open the index ``--repeat`` times in fresh processes; print and return medians."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index", type=Path)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    rounds = []
    for _ in range(args.repeat):
        proc = subprocess.run([sys.executable, "-c", CHILD, str(args.index)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"opening {args.index} failed: "
                             f"{(proc.stderr.strip().splitlines() or ['?'])[-1]}")
        rounds.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    result = {"articles": rounds[0]["articles"], "rounds": len(rounds)}
    for key in ("open", "first_query"):
        values = [r[key] * 1000 for r in rounds]
        result[f"{key}_ms"] = {"median": round(statistics.median(values), 1),
                               "min": round(min(values), 1), "max": round(max(values), 1)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
