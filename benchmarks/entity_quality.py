"""Entity facets against the gold set, before and after corpus-level resolution.

Reads a corpus, takes each article's model output from an index folder's entity cache
(running the model only for texts it lacks), then scores the gold articles twice:

- ``before``: per-article ``normalise`` plus corpus type voting (``vote_types``), what
  builds did until now;
- ``after``: ``normalise`` plus ``resolve_entities`` with the whole corpus as evidence,
  without and with the text rules (stop-entities, propagation), in memory;
- ``built index``: the facets of the index that ``build`` makes in the index folder (the
  case evidence from its manifest, the phrases from its text and postings), which is
  what a user gets.

Usage (about 30 s on the BBC set once its cache is warm)::

    python -m benchmarks.entity_quality ../shared/corpora/bbc-2005 /tmp/gold-bbc-index \\
        --gold tests/data/gold/entities.jsonl --outlet "BBC News"
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd

from corpus_search import _analysis, build, open_index
from corpus_search._corpus import load_corpus
from corpus_search._entities import (
    ENTITY_TYPES,
    RULES,
    Entity,
    EntityCache,
    Extractor,
    PhraseDocs,
    entities_for,
    find_phrases,
    normalise,
    resolve_entities,
    vote_types,
)
from corpus_search._evaluate import (
    entity_errors,
    load_gold,
    score_entities,
    snapshot_entities,
)

_VOCAB = re.compile(r"\w+")


def corpus_entities(paths: list[str], index_dir: Path, outlet: str = ""
                    ) -> tuple[dict[str, list[Entity]], dict[str, str], int]:
    """Per-article normalised entities and NER texts (model output from the cache)."""
    loaded = load_corpus(paths, outlet=outlet)
    arts = loaded.articles
    texts = [_analysis.strip_furniture(f"{a.title}\n\n{a.body}") for a in arts]
    index_dir.mkdir(parents=True, exist_ok=True)
    cache = EntityCache(index_dir / "entity-cache.sqlite")
    try:
        raw, runs = entities_for(texts, cache, Extractor())
    finally:
        cache.close()
    per_doc = {a.doc_id: normalise(m) for a, m in zip(arts, raw, strict=True)}
    return per_doc, {a.doc_id: t for a, t in zip(arts, texts, strict=True)}, runs


def phrase_finder(texts: dict[str, str]) -> PhraseDocs:
    """``{phrase: ids to leave out} -> {phrase: ids of the other texts holding it}`` over
    texts in memory (:func:`find_phrases`), for scoring without an index."""

    def find(wanted: Mapping[str, Collection[str]]) -> dict[str, set[str]]:
        found = find_phrases(texts.items(), list(wanted))
        return {p: ds - set(wanted[p]) for p, ds in found.items()}

    return find


def typed(per_doc: dict[str, list[Entity]], types: dict[str, str]) -> dict[str, dict]:
    """Article id -> type -> names, as the build stores them."""
    out = {}
    for d, ents in per_doc.items():
        row: dict[str, list[str]] = {t: [] for t in ENTITY_TYPES}
        for e in ents:
            row[types.get(e.name, e.type)].append(e.name)
        out[d] = row
    return out


def top_facets(rows: dict[str, dict], n: int = 20) -> pd.DataFrame:
    """The top ``n`` names of each facet by article count, side by side."""
    cols = {}
    for t in ENTITY_TYPES:
        c = Counter(name for row in rows.values() for name in set(row[t]))
        cols[t] = [f"{k} ({v})" for k, v in c.most_common(n)]
    return pd.DataFrame(cols)


def _line(label: str, table: pd.DataFrame) -> str:
    t = table.set_index("type")
    cells = [f"{k} {t.loc[k, 'precision']:.3f}/{t.loc[k, 'recall']:.3f}/{t.loc[k, 'f1']:.3f}"
             for k in ("person", "org", "place", "micro", "macro")]
    return f"{label:<22} " + "  ".join(cells)


def main() -> None:
    """Score before and after (and with each rule left out); print the tables."""
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("index_dir")
    ap.add_argument("--gold", default="tests/data/gold/entities.jsonl")
    ap.add_argument("--outlet", default="")
    ap.add_argument("--ablation", action="store_true", help="score with each rule left out")
    ap.add_argument("--errors", action="store_true", help="list missed and extra names")
    ap.add_argument("--top", action="store_true", help="print the top 20 of each facet")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)

    started = time.perf_counter()
    per_doc, texts, runs = corpus_entities(args.corpus, Path(args.index_dir), args.outlet)
    gold = {d: g for d, g in load_gold(args.gold).items() if d in per_doc}
    print(f"{len(per_doc)} articles ({runs} through the model), {len(gold)} gold articles, "
          f"{time.perf_counter() - started:.1f} s")
    print("P/R/F1 per type; micro; macro")

    before = typed(per_doc, vote_types(per_doc.values()))
    print(_line("before", score_entities(before, gold)))
    vocab = Counter(w for t in texts.values() for w in _VOCAB.findall(t))
    finder = phrase_finder(texts)
    started = time.perf_counter()
    plain = resolve_entities(per_doc)
    seconds = time.perf_counter() - started
    print(_line("after, no text rules", score_entities(typed(plain.articles, plain.types),
                                                        gold)) + f"  ({seconds:.1f} s)")
    started = time.perf_counter()
    res = resolve_entities(per_doc, vocabulary=vocab, phrase_docs=finder)
    seconds = time.perf_counter() - started
    after = typed(res.articles, res.types)
    print(_line("after, all rules", score_entities(after, gold)) + f"  ({seconds:.1f} s)")
    started = time.perf_counter()
    report = build(args.corpus, args.index_dir, outlet=args.outlet, progress=False)
    built = snapshot_entities(open_index(args.index_dir).snapshot())
    print(_line("built index", score_entities(built, gold))
          + f"  ({time.perf_counter() - started:.1f} s, {report.model_runs} model runs)")
    if args.ablation:
        for rule in RULES[1:]:
            r = resolve_entities(per_doc, vocabulary=vocab, phrase_docs=finder,
                                 rules=[x for x in RULES if x != rule])
            print(_line(f"  without {rule}", score_entities(typed(r.articles, r.types), gold)))
    print("\nscores, all rules\n", score_entities(after, gold).round(3).to_string(index=False))
    print("\nresolution report: rows and articles touched per rule\n",
          res.report.groupby("rule", sort=False)["articles"].agg(["count", "sum"]).to_string())
    if args.errors:
        print(entity_errors(built, gold).to_string(index=False))
    if args.top:
        print("\ntop 20 before\n", top_facets(before).to_string(index=False))
        print("\ntop 20 after\n", top_facets(after).to_string(index=False))


if __name__ == "__main__":
    main()
