"""Two articles side by side: shared entities, shared distinctive terms, similarity and
sentences that the two share (quotes, wire copy).

Distinctive terms are weighted by tf-idf against the whole index (idf = ln(N / df));
the similarity is the cosine of the two tf-idf vectors. Sentences are paired when their
normalised texts are at least ``min_ratio`` similar (rapidfuzz ratio, 0-100).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

from . import _analysis as analysis
from . import _render as render
from ._provenance import write_sidecar
from ._search import Article, show
from ._snapshot import Snapshot

__all__ = ["Comparison", "compare"]

_SENTENCE_END = re.compile(r"(?<=[.!?…])[”\"’']?\s+(?=[“\"‘'(\[]?[A-Z0-9А-ЯЁ])|\n+")


@dataclass
class Comparison:
    """The result of :func:`compare`; shows itself as two columns in Jupyter."""

    a: Article
    b: Article
    entities: pd.DataFrame
    """name, type, count_a, count_b, shared"""
    terms: pd.DataFrame
    """term (the word as written), stem, tfidf_a, tfidf_b, score: shared terms, most
    distinctive first"""
    similarity: float
    sentences: pd.DataFrame
    """a_start, a_end, b_start, b_end, ratio, a_text, b_text"""

    def __repr__(self) -> str:
        return (f"<Comparison {self.a.doc_id} vs {self.b.doc_id}: similarity "
                f"{self.similarity:.3f}, {int(self.entities['shared'].sum())} shared entities, "
                f"{len(self.terms)} shared terms, {len(self.sentences)} matching sentences>")

    def shared_entities(self, type_: str | None = None) -> list[str]:
        """Names of entities in both articles (of one type, or all)."""
        df = self.entities[self.entities["shared"]]
        if type_:
            df = df[df["type"] == type_]
        return df["name"].tolist()

    def to_dict(self) -> dict:
        """The JSON form the CLI prints."""
        ents = {}
        for t in ("person", "org", "place"):
            sub = self.entities[self.entities["type"] == t]
            ents[t] = {"shared": sub[sub["shared"]]["name"].tolist(),
                       "only_a": sub[(sub["count_a"] > 0) & ~sub["shared"]]["name"].tolist(),
                       "only_b": sub[(sub["count_b"] > 0) & ~sub["shared"]]["name"].tolist()}
        return {"a": self.a.doc_id, "b": self.b.doc_id,
                "similarity": round(self.similarity, 4), "entities": ents,
                "terms": self.terms[["term", "score"]].round(4).to_dict(orient="records"),
                "sentences": self.sentences[["a_text", "b_text", "ratio"]].round(1).to_dict(
                    orient="records")}

    def _repr_html_(self) -> str:
        return render.comparison_html(self)

    def save_html(self, path: str | Path, *, provenance: Mapping | None = None) -> Path:
        """Write a standalone HTML page of the comparison.

        Parameters
        ----------
        path : str or Path
            The HTML file.
        provenance : mapping or None, default None
            Where the comparison comes from (``index.provenance(...)``); written beside
            the page as ``<file>.provenance.json`` (None: no sidecar).

        Returns
        -------
        Path
            The HTML file.
        """
        path = Path(path)
        title = render.esc(f"{self.a.title} | {self.b.title}")
        body = render.comparison_html(self)
        path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}"
                        f"</title></head><body>{body}</body></html>", "utf-8")
        if provenance is not None:
            write_sidecar(path, dict(provenance))
        return path


def _tfidf(snap: Snapshot, text: str, furniture: frozenset[str]
           ) -> tuple[dict[str, float], dict[str, Counter[str]]]:
    reader = snap.searcher.reader()
    n = max(len(snap), 1)
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for surface, stem, _, _ in analysis.article_tokens(text, furniture):
        counts[stem] += 1
        forms.setdefault(stem, Counter())[surface] += 1
    vec = {}
    for stem, tf in counts.items():
        df = reader.doc_frequency("body", stem)
        vec[stem] = tf * math.log((n + 1) / (df + 1))
    return vec, forms


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _matching_sentences(a: str, b: str, min_ratio: float, min_chars: int) -> pd.DataFrame:
    sa = [s for s in _sentences(a) if s[1] - s[0] >= min_chars]
    sb = [s for s in _sentences(b) if s[1] - s[0] >= min_chars]
    cols = ["a_start", "a_end", "b_start", "b_end", "ratio", "a_text", "b_text"]
    if not sa or not sb:
        return pd.DataFrame(columns=cols)

    def norm(t: str) -> str:
        return " ".join(re.findall(r"\w+", t.lower()))

    scores = process.cdist([norm(a[s:e]) for s, e in sa], [norm(b[s:e]) for s, e in sb],
                           scorer=fuzz.ratio, score_cutoff=min_ratio)
    pairs = sorted(((float(scores[i, j]), i, j) for i in range(len(sa)) for j in range(len(sb))
                    if scores[i, j] >= min_ratio), reverse=True)
    used_a, used_b, rows = set(), set(), []
    for ratio, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        rows.append((*sa[i], *sb[j], ratio, a[sa[i][0]:sa[i][1]], b[sb[j][0]:sb[j][1]]))
    return pd.DataFrame(sorted(rows), columns=cols)


def compare(snap: Snapshot, doc_a: str, doc_b: str, *, n_terms: int = 15,
            min_ratio: float = 75, min_chars: int = 30) -> Comparison:
    """Compare two articles side by side.

    Parameters
    ----------
    snap : Snapshot
        The generation both articles are read from.
    doc_a, doc_b : str
        The two articles' ids.
    n_terms : int, default 15
        Shared distinctive terms to list (tf-idf against the whole index).
    min_ratio : float, default 75
        How alike (rapidfuzz ratio, 0-100) two sentences must be to be paired.
    min_chars : int, default 30
        Shorter sentences are not paired.

    Returns
    -------
    Comparison
        Shows itself in Jupyter as two columns.
    """
    a, b = show(snap, doc_a), show(snap, doc_b)
    ea = {(r.name, r.type): r.count for r in a.entities.itertuples(index=False)}
    eb = {(r.name, r.type): r.count for r in b.entities.itertuples(index=False)}
    rows = [(name, t, ea.get((name, t), 0), eb.get((name, t), 0))
            for name, t in dict.fromkeys([*ea, *eb])]
    ents = pd.DataFrame(rows, columns=["name", "type", "count_a", "count_b"])
    ents["shared"] = (ents["count_a"] > 0) & (ents["count_b"] > 0)
    ents = ents.sort_values(["shared", "type", "name"], ascending=[False, True, True],
                            kind="stable").reset_index(drop=True)

    va, fa = _tfidf(snap, a.text, a.furniture)
    vb, fb = _tfidf(snap, b.text, b.furniture)
    dot = sum(w * vb[t] for t, w in va.items() if t in vb)
    na, nb = math.sqrt(sum(w * w for w in va.values())), math.sqrt(sum(w * w for w in vb.values()))
    similarity = dot / (na * nb) if na and nb else 0.0
    shared = [(t, (fa[t] + fb[t]).most_common(1)[0][0], va[t], vb[t], min(va[t], vb[t]))
              for t in va if t in vb and va[t] > 0 and vb[t] > 0 and len(t) > 2]
    terms = pd.DataFrame(shared, columns=["stem", "term", "tfidf_a", "tfidf_b", "score"])
    terms = terms.sort_values(["score", "stem"], ascending=[False, True]).head(n_terms)
    terms = terms[["term", "stem", "tfidf_a", "tfidf_b", "score"]]
    sentences = _matching_sentences(a.text, b.text, min_ratio, min_chars)
    return Comparison(a, b, ents, terms.reset_index(drop=True), similarity, sentences)
