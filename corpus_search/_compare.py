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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import _analysis as analysis
from . import _render as render
from ._index import Index
from ._search import Article, show

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
    """term, form, tfidf_a, tfidf_b, score: shared terms, most distinctive first"""
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
                "terms": self.terms[["form", "score"]].round(4).to_dict(orient="records"),
                "sentences": self.sentences[["a_text", "b_text", "ratio"]].round(1).to_dict(
                    orient="records")}

    def _repr_html_(self) -> str:
        return comparison_html(self)

    def save_html(self, path: str | Path) -> Path:
        """Write a standalone HTML page of the comparison."""
        path = Path(path)
        title = render.esc(f"{self.a.title} | {self.b.title}")
        path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}"
                        f"</title></head><body>{comparison_html(self)}</body></html>", "utf-8")
        return path


def _tfidf(index: Index, text: str) -> tuple[dict[str, float], dict[str, Counter[str]]]:
    reader = index.searcher.reader()
    n = max(len(index), 1)
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for surface, stem, _, _ in analysis.article_tokens(text):
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
    from rapidfuzz import fuzz, process

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


def compare(index: Index, doc_a: str, doc_b: str, n_terms: int = 15, min_ratio: float = 75,
            min_chars: int = 30) -> Comparison:
    """Compare two articles of ``index`` (by doc_id)."""
    a, b = show(index, doc_a), show(index, doc_b)
    ea = {(r.name, r.type): r.count for r in a.entities.itertuples(index=False)}
    eb = {(r.name, r.type): r.count for r in b.entities.itertuples(index=False)}
    rows = [(name, t, ea.get((name, t), 0), eb.get((name, t), 0))
            for name, t in dict.fromkeys([*ea, *eb])]
    ents = pd.DataFrame(rows, columns=["name", "type", "count_a", "count_b"])
    ents["shared"] = (ents["count_a"] > 0) & (ents["count_b"] > 0)
    ents = ents.sort_values(["shared", "type", "name"], ascending=[False, True, True],
                            kind="stable").reset_index(drop=True)

    va, fa = _tfidf(index, a.text)
    vb, fb = _tfidf(index, b.text)
    dot = sum(w * vb[t] for t, w in va.items() if t in vb)
    na, nb = math.sqrt(sum(w * w for w in va.values())), math.sqrt(sum(w * w for w in vb.values()))
    similarity = dot / (na * nb) if na and nb else 0.0
    shared = [(t, (fa[t] + fb[t]).most_common(1)[0][0], va[t], vb[t], min(va[t], vb[t]))
              for t in va if t in vb and va[t] > 0 and vb[t] > 0 and len(t) > 2]
    terms = pd.DataFrame(shared, columns=["term", "form", "tfidf_a", "tfidf_b", "score"])
    terms = terms.sort_values(["score", "term"], ascending=[False, True]).head(n_terms)
    sentences = _matching_sentences(a.text, b.text, min_ratio, min_chars)
    return Comparison(a, b, ents, terms.reset_index(drop=True), similarity, sentences)


# --- HTML ---------------------------------------------------------------------------------

_CSS = ("<style>.cs-cmp{font-family:Georgia,serif;line-height:1.5}.cs-cmp .cs-cols{display:"
        "grid;grid-template-columns:1fr 1fr;gap:1.5em}.cs-cmp mark{padding:0 .1em;border-radius"
        ":3px}.cs-cmp .cs-q{background:#f1f5f9;border-bottom:2px solid #64748b}.cs-cmp sup a"
        "{text-decoration:none;color:#334155;font-family:sans-serif}.cs-cmp .cs-meta{color:#555"
        ";font-family:sans-serif;font-size:.85em}.cs-furn{color:#9ca3af}</style>")


def comparison_html(cmp: Comparison) -> str:
    """Two columns; each shared entity in one colour on both sides, shared distinctive
    terms underlined, matching sentences linked to each other. All text is escaped."""
    colours = {name: render.PALETTE[i % len(render.PALETTE)]
               for i, name in enumerate(cmp.shared_entities())}
    term_stems = set(cmp.terms["term"])

    def side(art: Article, key: str, other: str) -> str:
        ents = art.entities
        names = [(r.name, r.surfaces, colours[r.name], f"{r.type}: {r.name} (in both)")
                 for r in ents.itertuples(index=False) if r.name in colours]
        furniture = analysis.furniture_ranges(art.text)
        inner = [sp for sp in render.entity_spans(art.text, names)
                 if not any(a <= sp[0] < b for a, b in furniture)]
        taken = [(s, e) for s, e, _, _ in inner]
        for _surface, stem, s, e in analysis.article_tokens(art.text):
            if stem in term_stems and not any(a <= s < b for a, b in taken):
                inner.append((s, e, "style:background:none;text-decoration:underline 2px "
                              "#b45309", f"shared distinctive term: {stem}"))
        outer = []
        for i, row in enumerate(cmp.sentences.itertuples(index=False), start=1):
            s, e = (row.a_start, row.a_end) if key == "a" else (row.b_start, row.b_end)
            outer.append((s, e, f'<span class="cs-q" id="cs-{key}-{i}">',
                          f'</span><sup><a href="#cs-{other}-{i}" title="the matching sentence'
                          f' in the other article">&#8596;{i}</a></sup>'))
        outer.extend(render.furniture_spans(art.text))
        meta = " · ".join(x for x in (render.esc(art.outlet), render.esc(art.doc_id),
                                      render.esc(art.date and art.date.date().isoformat()))
                          if x)
        link = render.safe_link(art.url, "source") if art.url else ""
        return (f"<div><h3>{render.esc(art.title) or '(untitled)'}</h3><div class='cs-meta'>"
                f"{meta} {link}</div>{render.mark_nested(art.text, outer, inner)}</div>")

    legend = " ".join(f'<mark style="background:{c}">{render.esc(n)}</mark>'
                      for n, c in colours.items())
    terms = ", ".join(render.esc(f) for f in cmp.terms["form"])
    return (f"{_CSS}<div class='cs-cmp'><div class='cs-meta'>Similarity (tf-idf cosine): "
            f"<b>{cmp.similarity:.2f}</b> · {len(cmp.sentences)} matching sentences<br>"
            f"Shared entities: {legend or 'none'}<br>Shared distinctive terms: "
            f"{terms or 'none'}</div><div class='cs-cols'>{side(cmp.a, 'a', 'b')}"
            f"{side(cmp.b, 'b', 'a')}</div></div>")
