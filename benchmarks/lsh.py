"""LSH banding of MinHash signatures: datasketch's ``MinHashLSH`` against the numpy
banding in ``corpus_search._dups._candidates``, same signatures, same candidate pairs.

    .venv/bin/python -m benchmarks.lsh

Random 96-value signatures with 2% of rows copied from a neighbour (near-duplicates);
datasketch is timed inserting every signature and querying each (what a build that finds
all pairs does), numpy over all rows and over the newest 1% only (an update).
"""

from __future__ import annotations

import time

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from corpus_search._dups import BANDS, NUM_PERM, _candidates


def main() -> None:
    rng = np.random.default_rng(0)
    for n in (10_000, 100_000):
        sig = rng.integers(0, 2**32, (n, NUM_PERM), dtype=np.uint64).astype(np.uint32)
        dup = rng.choice(n, n // 50, replace=False)
        sig[dup] = sig[(dup + 1) % n]
        t = time.perf_counter()
        ours = _candidates(sig)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, NUM_PERM // BANDS))
        hashes = [LeanMinHash(seed=1, hashvalues=sig[i].astype(np.uint64), scheme="affine32")
                  for i in range(n)]
        with lsh.insertion_session() as session:
            for i, h in enumerate(hashes):
                session.insert(i, h)
        theirs = sorted({(min(i, j), max(i, j)) for i, h in enumerate(hashes)
                         for j in lsh.query(h) if j != i})
        t_theirs = time.perf_counter() - t
        new = np.zeros(n, bool)
        new[-n // 100:] = True
        t = time.perf_counter()
        _candidates(sig, new)
        t_new = time.perf_counter() - t
        print(f"{n:,} signatures: numpy bands {t_ours:.2f} s, datasketch MinHashLSH "
              f"{t_theirs:.2f} s, same pairs: {ours == theirs}; numpy, newest 1% only "
              f"{t_new:.2f} s")


if __name__ == "__main__":
    main()
