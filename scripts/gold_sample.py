"""The BBC article ids of the entity gold set: a seeded random sample (tests/data/gold)."""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

QUOTA = {"politics": 22, "business": 20, "tech": 7, "entertainment": 6, "sport": 5}
MAX_WORDS = 400
SEED = 15


def sample(root: Path) -> list[str]:
    """Ids like ``politics/012`` drawn with ``random.Random(SEED)`` per section, in order."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    out = []
    for section, k in QUOTA.items():
        pool = []
        for f in sorted((root / section).glob("*.txt")):
            raw = f.read_bytes()
            digest = hashlib.sha1(raw).hexdigest()
            if digest in seen:
                continue  # a byte-identical copy of an earlier file
            seen.add(digest)
            if len(raw.decode("utf-8", "replace").split()) <= MAX_WORDS:
                pool.append(f"{section}/{f.stem}")
        out.extend(sorted(rng.sample(pool, k)))
    return out


if __name__ == "__main__":
    print("\n".join(sample(Path(sys.argv[1]))))
