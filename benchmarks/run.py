"""Benchmark corpus_search against SQLite FTS5 on the same synthetic corpus, in one run.

    .venv/bin/python -m benchmarks.run --size 10000          # quick
    .venv/bin/python -m benchmarks.run --size 100000         # for the record

Prints a table and writes ``benchmarks/results/<size>.json``. Every line gives the median
(p50) and 95th percentile (p95) of repeated runs for both engines and the ratio of the
medians (corpus_search / FTS5; below 1 means corpus_search is faster). The FTS5 baseline
uses Python's own sqlite3 with the porter tokenizer and a plain table of outlet and month
for facets. Builds run in subprocesses, so their peak memory can be read. Nothing here is a
test: CI runs it once at a tiny size to prove that it works.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


_PEAK = ("\nimport resource as _r\n"
         "print('PEAK_RSS_KB', _r.getrusage(_r.RUSAGE_SELF).ru_maxrss)\n")
# (Not RUSAGE_CHILDREN for the dask workers: a spawned child's ru_maxrss starts from its
# parent's high-water mark, inherited when it execs: at 1M it reported the build process's
# 1,441 MB for workers whose own RSS never passed ~0.9 GB. CS_BUILD samples them instead.
# Each child's own figure starts from this harness's peak too, which stays small until the
# builds are done: the queries run here after them.)


def _run_child(code: str, *args: str) -> tuple[float, float, str]:
    """Run Python code in a fresh process; returns (seconds, its peak RSS in MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + _PEAK, *args], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    out, _, peak = proc.stdout.rpartition("PEAK_RSS_KB ")
    return seconds, round(int(peak) / 1024, 1), out


# --- the FTS5 baseline -----------------------------------------------------------------------

FTS5_BUILD = r"""
import json, sqlite3, sys
corpus, db_path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(db_path)
db.executescript('''
CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='porter unicode61');
CREATE TABLE docs (rowid INTEGER PRIMARY KEY, doc_id TEXT, outlet TEXT, month TEXT, date TEXT);
''')
with open(corpus, encoding='utf-8') as fh:
    rows = (json.loads(line) for line in fh)
    batch = []
    for i, r in enumerate(rows, start=1):
        batch.append((i, r['title'], r['text'], r['id'], r['outlet'], r['date'][:7], r['date']))
        if len(batch) == 5000:
            db.executemany('INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)',
                           [(b[0], b[1], b[2]) for b in batch])
            db.executemany('INSERT INTO docs VALUES (?, ?, ?, ?, ?)',
                           [(b[0], b[3], b[4], b[5], b[6]) for b in batch])
            batch = []
    db.executemany('INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)',
                   [(b[0], b[1], b[2]) for b in batch])
    db.executemany('INSERT INTO docs VALUES (?, ?, ?, ?, ?)',
                   [(b[0], b[3], b[4], b[5], b[6]) for b in batch])
db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'instance')")
db.execute("CREATE INDEX docs_date ON docs(date)")
db.commit()
db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
db.commit()
"""

CS_BUILD = r"""
import sys, threading, psutil, corpus_search as cs
_me, _tree, _kid, _done = psutil.Process(), [0], [0], threading.Event()
def _sample():  # the peaks of the largest child and of all processes together
    while not _done.wait(0.5):
        try:
            kids = [p.memory_info().rss for p in _me.children(recursive=True)]
            _kid[0] = max(_kid[0], *kids, 0)
            _tree[0] = max(_tree[0], _me.memory_info().rss + sum(kids))
        except psutil.Error:
            pass
threading.Thread(target=_sample, daemon=True).start()
r = cs.build([sys.argv[1]], sys.argv[2], entities=False, progress=False)
_done.set()
print(r.added, r.unchanged)
print("TREE_PEAK_MB", round(_tree[0] / 2**20, 1), "KID_PEAK_MB", round(_kid[0] / 2**20, 1))
"""

# The index the co-mention lines read: entities found by benchmarks.names.NameMatcher (the
# generator's own names, by string matching), not by the model, which would take hours at
# 100k. Its own folder: the build caches mentions under the model's version.
CS_ENTITY_BUILD = r"""
import sys, corpus_search as cs
from benchmarks.names import NameMatcher
r = cs.build([sys.argv[1]], sys.argv[2], extractor=NameMatcher(), progress=False)
print(r.added, r.unchanged)
"""


class FTS5:
    """The same questions asked of SQLite FTS5."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)

    def top10(self, match: str) -> list:
        return self.db.execute(
            "SELECT rowid, bm25(fts, 2.0, 1.0) AS s FROM fts WHERE fts MATCH ? ORDER BY s "
            "LIMIT 10", (match,)).fetchall()

    def total(self, match: str) -> int:
        return self.db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]

    def facets(self, match: str) -> tuple:
        top = self.top10(match)
        total = self.total(match)
        by_outlet = self.db.execute(
            "SELECT d.outlet, count(*) FROM fts JOIN docs d ON d.rowid = fts.rowid "
            "WHERE fts MATCH ? GROUP BY d.outlet", (match,)).fetchall()
        by_month = self.db.execute(
            "SELECT d.month, count(*) FROM fts JOIN docs d ON d.rowid = fts.rowid "
            "WHERE fts MATCH ? GROUP BY d.month", (match,)).fetchall()
        return top, total, by_outlet, by_month

    def snippets(self, match: str) -> list:
        return self.db.execute(
            "SELECT rowid, snippet(fts, 1, '**', '**', ' … ', 24), bm25(fts, 2.0, 1.0) AS s "
            "FROM fts WHERE fts MATCH ? ORDER BY s LIMIT 10", (match,)).fetchall()

    def everything(self) -> tuple:
        total = self.db.execute("SELECT count(*) FROM docs").fetchone()[0]
        top = self.db.execute("SELECT rowid FROM docs ORDER BY date DESC LIMIT 10").fetchall()
        return total, top

    def counts_outlet_month(self) -> list:
        return self.db.execute(
            "SELECT outlet, month, count(*) FROM docs GROUP BY 1, 2").fetchall()

    def term_outlet_month(self, term: str) -> list:
        return self.db.execute(
            "SELECT d.outlet, d.month, count(*) FROM vocab v JOIN docs d ON d.rowid = v.doc "
            "WHERE v.term = ? AND v.col = 'body' GROUP BY 1, 2", (term,)).fetchall()


# --- timing --------------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int, arg_list: list) -> list[float]:
    """Milliseconds of each call, over ``repeat`` rounds of every argument."""
    out = []
    for _ in range(repeat):
        for arg in arg_list:
            started = time.perf_counter()
            try:
                fn(arg)
            except Exception as exc:  # a refusal is an answer; its time counts
                if type(exc).__name__ != "QueryError":
                    raise
            out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> dict:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50": round(statistics.median(ms), 3), "p95": round(p95, 3), "n": len(ms)}


def pick_terms(index, count: int) -> dict[str, list[str]]:
    """Query words by document frequency, from the corpus itself (deterministic)."""
    words, dfs = index.vocabulary()
    n = len(index)
    alpha = [(w, int(d)) for w, d in zip(words, dfs, strict=True)
             if re.fullmatch(r"[a-z]{4,}", w)]
    common = [w for w, d in alpha if 0.05 * n <= d <= 0.5 * n][:count]
    rare = [w for w, d in alpha if 3 <= d <= max(4, n // 2000)][:count] or [
        w for w, _ in sorted(alpha, key=lambda x: x[1])[:count]]
    mid = [w for w, d in alpha if 0.01 * n <= d < 0.05 * n][: 3 * count]
    # The words in closest to 10% of the articles (the co-mention target's query).
    tenth = [w for w, _ in sorted(alpha, key=lambda x: (abs(x[1] - 0.1 * n), x[0]))[:2]]
    return {"common": common, "rare": rare, "mid": mid, "tenth": tenth}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=5, help="rounds over each query set")
    p.add_argument("--work", type=Path, default=HERE / "data",
                   help="where corpora and indexes are kept between runs")
    p.add_argument("--out", type=Path, help="JSON results (default benchmarks/results/N.json)")
    p.add_argument("--ner-sample", type=int, default=200,
                   help="articles for the entity extraction rate (0 to skip)")
    p.add_argument("--no-rebuild", action="store_true", help="reuse built indexes if present")
    p.add_argument("--skip-entity-lines", action="store_true",
                   help="no co-mention lines (their name-matched entity build takes ~8x the "
                        "keyword build: hours at 1M)")
    args = p.parse_args(argv)

    import corpus_search as cs
    from corpus_search import synthetic

    n = args.size
    work = args.work / str(n)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    if not corpus.exists():
        started = time.perf_counter()
        synthetic.write(corpus, n)
        print(f"generated {n:,} articles in {time.perf_counter() - started:.1f} s")
    with open(corpus, "rb") as fh:
        lines = sum(1 for _ in fh)
    if lines != n:  # e.g. left short by an older, killed run
        raise SystemExit(f"{corpus} holds {lines:,} articles, not {n:,}; delete it and rerun")
    results: dict = {"size": n, "machine": {"python": platform.python_version(),
                                             "cpus": os.cpu_count(),
                                             "platform": platform.platform()},
                     "build": {}, "queries": {}}

    # Builds ---------------------------------------------------------------------------------
    cs_dir, fts_path = work / "cs-index", work / "fts5.sqlite"
    if not args.no_rebuild or not (cs_dir / "CURRENT").exists():
        shutil.rmtree(cs_dir, ignore_errors=True)
        secs, peak, out = _run_child(CS_BUILD, str(corpus), str(cs_dir))
        if out.split()[:2] != [str(n), "0"]:  # added, unchanged
            raise SystemExit(f"the build indexed {out.strip()!r} (added, unchanged), not "
                             f"{n:,} articles: see its report")
        results["build"]["corpus_search"] = {"seconds": round(secs, 2), "peak_rss_mb": peak,
                                             "worker_peak_rss_mb": float(
                                                 out.split("KID_PEAK_MB")[1].split()[0]),
                                             "all_processes_peak_rss_mb": float(
                                                 out.split("TREE_PEAK_MB")[1].split()[0]),
                                             "index_mb": round(_du(cs_dir) / 1e6, 1)}
    if not args.no_rebuild or not fts_path.exists():
        fts_path.unlink(missing_ok=True)
        secs, peak, _ = _run_child(FTS5_BUILD, str(corpus), str(fts_path))
        results["build"]["fts5"] = {"seconds": round(secs, 2), "peak_rss_mb": peak,
                                    "index_mb": round(fts_path.stat().st_size / 1e6, 1)}
    for engine, b in results["build"].items():
        worker = (f" (its largest dask worker: {b['worker_peak_rss_mb']:.0f} MB; all its "
                  f"processes together: {b['all_processes_peak_rss_mb']:.0f} MB; both "
                  "sampled every 0.5 s)"
                  if "worker_peak_rss_mb" in b else "")
        print(f"build {engine}: {b['seconds']:.1f} s, peak RSS {b['peak_rss_mb']:.0f} MB"
              f"{worker}, index {b['index_mb']:.0f} MB")
    ent_dir = work / "cs-entities"
    if not args.skip_entity_lines and (not args.no_rebuild
                                       or not (ent_dir / "CURRENT").exists()):
        shutil.rmtree(ent_dir, ignore_errors=True)
        secs, peak, _ = _run_child(CS_ENTITY_BUILD, str(corpus), str(ent_dir))
        results["build"]["entities_by_name_matching"] = {"seconds": round(secs, 2),
                                                         "peak_rss_mb": peak}
        print(f"build with entities found by name matching (for the co-mention lines): "
              f"{secs:.1f} s")

    # Incremental rebuild after adding 1% (at least 10, at most 1,000) articles ----------------
    extra = max(10, min(1000, n // 100))
    if not args.no_rebuild:
        more = work / "more.jsonl"
        with open(more, "w", encoding="utf-8") as fh:
            for rec in synthetic.generate(extra, seed=99):
                rec["id"] = "extra-" + rec["id"]
                fh.write(json.dumps(rec) + "\n")
        inc_dir = work / "cs-incremental"
        shutil.rmtree(inc_dir, ignore_errors=True)
        # Hard links: a build never changes a file of a generation in place (readers may
        # hold it), so the copy is as good as a full one, without doubling the disk used.
        shutil.copytree(cs_dir, inc_dir, copy_function=os.link)
        code = ("import sys, corpus_search as cs\n"
                "r = cs.build(sys.argv[1:3], sys.argv[3], entities=False, progress=False)\n"
                "print(r.added, r.unchanged)")
        secs, _, out = _run_child(code, str(corpus), str(more), str(inc_dir))
        results["build"]["incremental"] = {"added": extra, "seconds": round(secs, 2),
                                           "report": out.strip()}
        print(f"rebuild after adding {extra:,} articles: {secs:.1f} s ({out.strip()})")
        shutil.rmtree(inc_dir, ignore_errors=True)

    # Entity extraction rate -------------------------------------------------------------------
    if args.ner_sample:
        from corpus_search._analysis import strip_furniture
        from corpus_search._entities import Extractor

        recs = []
        for rec in synthetic.generate(args.ner_sample, seed=5):
            recs.append(strip_furniture(rec["title"] + "\n\n" + rec["text"]))
        ex = Extractor()
        ex.extract(recs[:8])  # load the model first
        started = time.perf_counter()
        ex.extract(recs)
        rate = len(recs) / (time.perf_counter() - started)
        results["build"]["ner_articles_per_second"] = round(rate, 1)
        results["build"]["ner_processes"] = 1  # Extractor.extract runs in this process
        print(f"entity extraction: {rate:.1f} articles/s (1 process, ner component only; "
              "several: python -m benchmarks.enrich)")

    # Queries ------------------------------------------------------------------------------------
    import psutil

    rss_before = psutil.Process().memory_info().rss
    index = cs.open_index(cs_dir)
    fts = FTS5(fts_path)
    terms = pick_terms(index.snapshot(), 10)
    common, rare, mid, tenth = terms["common"], terms["rare"], terms["mid"], terms["tenth"]
    pairs = [f"{a} {b}" for a, b in zip(mid[0::2], mid[1::2], strict=False)][:10]
    triples = [f"{a} OR {b} OR {c}" for a, b, c in zip(mid[0::3], mid[1::3], mid[2::3],
                                                         strict=False)][:10]
    phrases = ['"said the"', '"the government"', '"minister said"', '"of the"',
               '"security forces"', '"prime minister"', '"last week"', '"the president"']
    topic = ["sanctions", "ceasefire", "inflation", "refugees", "pipeline", "invasion"]
    # (name, corpus_search call, FTS5 call, arguments, FTS5 arguments)
    ops: list[tuple[str, Callable, Callable, list, list]] = [
        ("common term, top-10", lambda q: index.search(q, facets=False, snippets=False),
         fts.top10, common, common),
        ("rare term, top-10", lambda q: index.search(q, facets=False, snippets=False),
         fts.top10, rare, rare),
        ("two-term AND, top-10", lambda q: index.search(q, facets=False, snippets=False),
         fts.top10, pairs, pairs),
        ("phrase, top-10", lambda q: index.search(q, facets=False, snippets=False),
         fts.top10, phrases, phrases),
        ("OR of three, top-10", lambda q: index.search(q, facets=False, snippets=False),
         fts.top10, triples, triples),
        ("query + facet counts, top-10", lambda q: index.search(q, snippets=False,
                                                                facet_limit=None),
         fts.facets, common + pairs, common + pairs),
        ("top-10 with highlighted snippets", lambda q: index.search(q, facets=False),
         fts.snippets, common, common),
        ("article counts by outlet x month", lambda _q: index.crosstab("outlet", "month"),
         lambda _q: fts.counts_outlet_month(), [None], [None]),
        ("term frequency by outlet x month",
         lambda t: index.term_frequency(t, by=("outlet", "month")),
         fts.term_outlet_month, topic + common[:4], topic + common[:4]),
        ("* (every article), top-10", lambda q: index.search(q, facets=False, snippets=False),
         lambda _q: fts.everything(), ["*"], ["*"]),
        ("n* (prefix)", lambda q: index.search(q, facets=False, snippets=False),
         fts.top10, ["n*", "s*", "co*"], ["n*", "s*", "co*"]),
        ('stop-ish terms ("the", "said")',
         lambda q: index.search(q, facets=False, snippets=False), fts.top10,
         ["the", "said"], ["the", "said"]),
    ]
    # The corpus-linguistics views (issue 17's targets at 100k): FTS5 has no equivalent, so
    # their lines report corpus_search alone (FTS5 column: -).
    outlet0 = index.snapshot().outlets[0]
    entities = None if args.skip_entity_lines else cs.open_index(ent_dir)
    if entities is not None:
        # What the co-mention lines run on, so an empty network cannot pass for a fast one.
        in_scope = [entities.search(q, limit=1, facets=False, snippets=False).total
                    for q in tenth]
        pairs = entities.comentions(query=tenth[0], limit=None)
        results["comentions"] = {"queries": tenth, "articles": in_scope,
                                 "entities": len(entities.snapshot().entities),
                                 "pairs": len(pairs), "drawn": min(len(pairs), 30)}
        if pairs.empty:
            raise SystemExit(f"the entity index {ent_dir} gives no co-mentions; rebuild it")
        print(f"co-mention lines: {results['comentions']['entities']:,} entities; queries "
              f"{tenth} match {in_scope} of {n:,} articles; {len(pairs):,} pairs for the "
              "first")
    else:
        print("co-mention lines: skipped (--skip-entity-lines)")
    views: list[tuple[str, Callable, list]] = [
        ("collocates of a common word", lambda w: index.collocates(w), common[:3]),
        ("collocates of a rare word", lambda w: index.collocates(w), rare[:3]),
        ("clusters (n-grams) for one outlet",
         lambda _w: index.ngrams(n=(2, 3), filters={"outlet": outlet0}), [None]),
        ("dispersion plot of 3 terms",
         lambda ts: index.plot_dispersion(ts).to_png(), [topic[:3]]),
    ]
    if entities is not None:
        views += [("co-mention network, query of ~10% of articles",
                   lambda q: entities.plot_comentions(query=q).to_png(), tenth),
                  ("co-mention table, every article", lambda _q: entities.comentions(), [None])]
    index.term_frequency("sanctions", by="outlet")  # warm the surface-form table
    print(f"\n{'operation':<36}{'corpus_search p50/p95 ms':>26}{'FTS5 p50/p95 ms':>22}"
          f"{'ratio p50':>11}")
    for name, ours, theirs, ours_args, their_args in ops:
        a = summary(timed(ours, args.repeat, ours_args))
        b = summary(timed(theirs, args.repeat, their_args))
        ratio = round(a["p50"] / b["p50"], 2) if b["p50"] else None
        results["queries"][name] = {"corpus_search": a, "fts5": b, "ratio_p50": ratio}
        print(f"{name:<36}{a['p50']:>14.1f} /{a['p95']:>9.1f}{b['p50']:>11.1f} /"
              f"{b['p95']:>8.1f}{ratio if ratio is not None else float('nan'):>11.2f}")
    for name, ours, ours_args in views:
        a = summary(timed(ours, args.repeat, ours_args))
        results["queries"][name] = {"corpus_search": a, "fts5": None, "ratio_p50": None}
        print(f"{name:<36}{a['p50']:>14.1f} /{a['p95']:>9.1f}{'-':>11} /{'-':>8}{'-':>11}")
    results["serving_rss_mb"] = round((psutil.Process().memory_info().rss - rss_before) / 1e6, 1)
    fts.db.close()
    index.close()
    if entities is not None:
        entities.close()
    results["terms"] = terms
    print(f"\nmemory of an open index after all queries: +{results['serving_rss_mb']} MB RSS")
    out = args.out or HERE / "results" / f"{n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results written to {out}")
    return results


if __name__ == "__main__":
    main()
