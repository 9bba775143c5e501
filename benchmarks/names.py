"""An entity extractor for the synthetic corpus: its invented names, found by string matching.

The synthetic generator (:mod:`corpus_search.synthetic`) writes each article's people,
places and organisations from fixed lists. Running the spaCy model over 100k articles to
time a view over entities would take hours; :class:`NameMatcher` finds exactly those
listed names instead, so the benchmark can build an entity-bearing index in seconds and
time the co-mention network on a real-sized entity table. It is a benchmark device, not
an entity model: it knows only the generator's names.

It plugs into ``build(..., extractor=NameMatcher())`` as :class:`~corpus_search._entities.
Extractor` does: ``extract(texts)`` gives each text's ``(mention, spaCy label)`` pairs.
It runs in the build's process (``n_process=1``), and it pickles as settings only (the
compiled pattern is rebuilt on first use), so it would run on dask workers too, given
``benchmarks`` on their path. Build the index it feeds in a folder of its own: the build
caches mentions keyed by the model's version, and these are not the model's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from corpus_search import synthetic
from corpus_search._entities import Extractor

__all__ = ["NameMatcher", "synthetic_names"]


def synthetic_names() -> dict[str, str]:
    """Every name the generator can write, with the spaCy label it stands for."""
    names = {f"{f} {la}": "PERSON" for f in synthetic.FIRST for la in synthetic.LAST}
    names.update(dict.fromkeys(synthetic.PLACES, "GPE"))
    names.update(dict.fromkeys(synthetic.ORGS, "ORG"))
    return names


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    """One pattern for every name, grouped by first word (``Anna (?: (?:Petrov|...))``):
    ten times faster than a flat alternation of 500 names, and the same matches."""
    groups: dict[str, list[str]] = {}
    for name in synthetic_names():
        first, _, rest = name.partition(" ")
        groups.setdefault(first, []).append(rest)
    parts = []
    for first in sorted(groups, key=len, reverse=True):
        rests = sorted((r for r in groups[first] if r), key=len, reverse=True)
        tail = ("(?: (?:" + "|".join(re.escape(r) for r in rests) + "))" +
                ("?" if "" in groups[first] else "")) if rests else ""
        parts.append(re.escape(first) + tail)
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b")


class NameMatcher(Extractor):
    """Finds the synthetic generator's names in texts (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(batch_size=256, n_process=1)

    def extract(self, texts: Sequence[str], progress: bool = False) -> list[list[tuple[str, str]]]:
        """The ``(name, label)`` mentions of each text, in order of appearance."""
        labels, rx = synthetic_names(), _pattern()
        return [[(m.group(), labels[m.group()]) for m in rx.finditer(t)] for t in texts]
