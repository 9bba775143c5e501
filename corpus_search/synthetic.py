"""Synthetic news corpora: deterministic, realistic in shape, invented in content.

For benchmarks, tests and teaching (a dated corpus to chart over time). The words are
invented; only the shape is realistic.

Same seed and size -> byte-identical output. At 100k articles: a Zipfian vocabulary of
60,000 invented words under ~200 real function words, 20 outlets with skewed sizes and
staggered start dates (so some outlet-months are empty), dates over 2021-10..2022-12,
lognormal lengths around 600 words, person/organisation/place names drawn with skew, and
a few topic words whose rate changes by month.

    python -m corpus_search.synthetic 10000 > benchmarks/data/10k.jsonl
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np

__all__ = ["generate", "write"]

FUNCTION_WORDS = (
    "the of and to a in that is for it on was with he as at by said from his be have an "
    "are they not this but had has were been who their more will which would its she her "
    "up out about there after one all also new can than two other into over last first "
    "some could year we them when only years said what our time people if no so "
    "government minister president officials state country military forces security week "
    "month day told report statement talks deal plan support against between during under "
    "while since before because where how many most such may just like now then even "
    "still back well three any very much own made make take get see know think way war "
    "peace border troops attack defence defense sanctions economy prices energy gas oil "
    "market bank election party vote leader police court law news media press"
).split()
TOPICS = ("sanctions", "invasion", "ceasefire", "inflation", "refugees", "pipeline")
OUTLETS = [f"Outlet {c}" for c in "ABCDEFGHIJKLMNOPQRST"]
FIRST = (
    "Anna Boris Carla Dmitri Elena Frank Greta Hugo Irina Jonas Karin Lars Maria Nikolai "
    "Olga Pavel Rosa Sergei Tomas Ursula Viktor Wanda Yuri Zofia"
).split()
LAST = (
    "Petrov Novak Schmidt Kowalski Ivanova Larsen Rossi Dubois Horvat Meyer Sokolov Berg "
    "Kovacs Nilsen Popescu Weber Moreau Fischer Lindqvist Marek"
).split()
PLACES = (
    "Kyiv Moscow Warsaw Berlin Paris London Washington Brussels Minsk Kharkiv Odesa Riga "
    "Vilnius Tallinn Prague Vienna Budapest Bucharest Helsinki Stockholm Ankara Beijing "
    "Tokyo Delhi Cairo"
).split()
ORGS = (
    "NATO|European Union|United Nations|Red Cross|World Bank|Gazprom|Kremlin|Pentagon|IMF|"
    "OSCE|Amnesty International|European Commission|Bundestag|Reuters|WHO"
).split("|")
START, END = date(2021, 10, 1), date(2022, 12, 31)


def _vocab(rng: np.random.Generator, size: int) -> list[str]:
    syll = [a + b for a in "bcdfgklmnprstvz" for b in "aeiou"] + ["an", "el", "or", "is", "um"]
    words: dict[str, None] = dict.fromkeys(FUNCTION_WORDS)
    while len(words) < size:
        n = int(rng.integers(2, 5))
        words.setdefault("".join(syll[i] for i in rng.integers(0, len(syll), n)), None)
    return list(words)


def _zipf(n: int, s: float, shift: float) -> np.ndarray:
    p = 1.0 / (np.arange(n) + shift) ** s
    return p / p.sum()


def _cdf(p: np.ndarray) -> np.ndarray:
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int | None = None):
    """``rng.choice(len(cdf), size, p=p)`` for ``cdf = _cdf(p)``: the same values."""
    return cdf.searchsorted(rng.random(size), side="right")


def generate(n: int, seed: int = 20221) -> Iterator[dict]:
    """Yield ``n`` article records (id, title, text, outlet, date, url)."""
    rng = np.random.default_rng(seed)
    vocab = np.array(_vocab(rng, min(60_000, max(5_000, 3 * n))))
    p_word = _zipf(len(vocab), 1.07, 2.7)
    people = np.array([f"{f} {la}" for f in FIRST for la in LAST])
    p_people = _zipf(len(people), 1.2, 1.5)
    p_place = _zipf(len(PLACES), 1.0, 1.5)
    p_org = _zipf(len(ORGS), 1.0, 1.5)
    p_outlet = _zipf(len(OUTLETS), 0.9, 1.0)
    days = (END - START).days + 1
    # Outlets start at staggered dates, so early outlet-months are empty.
    outlet_start = rng.integers(0, 200, len(OUTLETS)) * (np.arange(len(OUTLETS)) % 3 == 2)
    # ``Generator.choice(k, size, p=p)`` is ``cdf(p).searchsorted(random(size), "right")``
    # with the cumulative sum made anew on every call (60,000 words): made once here, the
    # same draws from the same random stream, ~5x faster.
    c_word, c_people, c_place, c_org, c_outlet = (
        _cdf(p) for p in (p_word, p_people, p_place, p_org, p_outlet))
    for i in range(n):
        o = int(_draw(rng, c_outlet))
        d = START + timedelta(days=int(rng.integers(outlet_start[o], days)))
        length = int(np.clip(rng.lognormal(np.log(560), 0.45), 80, 4000))
        words = vocab[_draw(rng, c_word, length)].tolist()
        month_index = (d.year - START.year) * 12 + d.month - START.month
        for t, topic in enumerate(TOPICS):
            rate = 0.002 * (1 + np.sin((month_index + 3 * t) / 2.5))
            for pos in rng.integers(0, length, rng.poisson(rate * length)):
                words[pos] = topic
        names = [*people[_draw(rng, c_people, 3)],
                 *np.array(PLACES)[_draw(rng, c_place, 3)],
                 *np.array(ORGS)[_draw(rng, c_org, 2)]]
        for name in names:
            words[int(rng.integers(0, length))] = str(name)
        sentences, pos = [], 0
        while pos < length:
            k = int(rng.integers(8, 26))
            chunk = words[pos : pos + k]
            sentences.append(" ".join(chunk)[:1].upper() + " ".join(chunk)[1:] + ".")
            pos += k
        paras = [" ".join(sentences[j : j + 4]) for j in range(0, len(sentences), 4)]
        title = " ".join(vocab[_draw(rng, c_word, 7)].tolist()).capitalize()
        yield {"id": f"a{i:07d}", "title": f"{title} {names[0]}",
               "text": "\n\n".join(paras), "outlet": OUTLETS[o],
               "date": f"{d.isoformat()}T{int(rng.integers(0, 24)):02d}:00:00Z",
               "url": f"https://{OUTLETS[o].lower().replace(' ', '-')}.example/{i}"}


def write(path: str | Path, n: int, seed: int = 20221) -> Path:
    """Write ``n`` articles to ``path`` as JSONL (``corpus-search build`` reads it)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")  # a killed run leaves no short corpus
    with open(tmp, "w", encoding="utf-8") as fh:
        for rec in generate(n, seed):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for rec in generate(size):
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
