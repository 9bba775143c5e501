"""Near-duplicate articles: the same story published more than once.

News corpora hold wire copy republished by several outlets and lightly edited or updated
versions of one story; counted naively, each doubles the counts. At build time
:func:`write_duplicates` finds them from the token stream (never the raw text):

1. **Shingles**: every run of ``SHINGLE`` (5) consecutive words of an article, hashed
   to 64 bits. Articles shorter than ``MIN_TOKENS`` words are left out (too short to tell
   a copy from a stock phrase).
2. **MinHash** signatures (``NUM_PERM`` = 96 min-wise hashes, multiply-shift hashing of
   the shingle hashes, computed with numpy over the whole stream), banded as an LSH
   index (datasketch's ``MinHashLSH`` with ``params=(32, 3)`` finds the same pairs) in
   ``BANDS`` = 32 bands of 3 rows: a pair becomes a candidate when all 3 values of a
   band agree, with probability ``1 - (1 - J**3)**32``: 0.99 at Jaccard J = 0.5, 0.75 at
   0.35, 0.0003 at 0.02. The signatures are kept (``minhash.npz``) so that the next
   build hashes only new and changed articles and keeps the verified pairs of the rest.
3. **Verification**: each candidate pair's *exact* Jaccard similarity of its shingle sets
   is computed; pairs at or above ``threshold`` (default ``THRESHOLD`` = 0.5) are kept.
4. **Clusters**: connected components of the kept pairs (union-find). A cluster's
   *first* article is the earliest dated one (ties and undated: lowest docnum); each
   member's similarity is its exact Jaccard to the first.

Stored in the generation as ``duplicates.npz`` (cluster per docnum, -1 for none;
similarity to the first; the verified pairs with their similarity).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._stream import TokenStream, in_scope

__all__ = ["CLUSTER_COLUMNS", "count_once", "duplicate_clusters", "find_duplicates",
           "update_duplicates", "write_duplicates"]

DUPS_FILE = "duplicates.npz"
SIG_FILE = "minhash.npz"
SHINGLE = 5
MIN_TOKENS = 30
NUM_PERM = 96
BANDS = 32
THRESHOLD = 0.5
_CHUNK_TOKENS = 500_000
"""Tokens hashed at a time for the signatures (whole articles). The chunk's shingle hashes
and their temporaries stay in the CPU's caches: at 100k synthetic articles, 500,000 took
5.0 s and +58 MB over the stream (signatures included) against 4,000,000's 9.6 s and +211
MB (``benchmarks/records/duplicates-chunk-100000-session11.txt``); the same signatures."""
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)

CLUSTER_COLUMNS = ("cluster", "size", "doc_id", "outlet", "date", "similarity", "first")
"""Columns of :func:`duplicate_clusters`: cluster number, its size (members in scope),
the member's doc_id, outlet, date, exact Jaccard similarity of its 5-word shingles to the
cluster's first article, and whether it is that first (earliest) article."""

_rng = np.random.default_rng(20260517)
_SHINGLE_MULT = (_rng.integers(1, 2**63, SHINGLE, dtype=np.uint64) * np.uint64(2) + np.uint64(1))
_PERM_A = (_rng.integers(1, 2**63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1))
_PERM_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits of a linear combination."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _shingles(ids: np.ndarray) -> np.ndarray:
    """Hashes of every ``SHINGLE``-word window of one token array (no article bounds)."""
    m = len(ids) - SHINGLE + 1
    if m <= 0:
        return np.zeros(0, np.uint64)
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(SHINGLE):
            h += ids[j : j + m].astype(np.uint64) * _SHINGLE_MULT[j]
        return _mix(h)


def doc_shingles(stream: TokenStream, docnum: int) -> np.ndarray:
    """The sorted, distinct shingle hashes of one article."""
    return np.unique(_shingles(np.asarray(stream.doc(docnum))))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted sets of shingle hashes."""
    if not len(a) and not len(b):
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def _signatures(stream: TokenStream, docs: np.ndarray) -> np.ndarray:
    """MinHash signatures (``len(docs)`` x ``NUM_PERM``, uint32) of the articles ``docs``
    (increasing docnums, each at least ``SHINGLE`` tokens long)."""
    sig = np.empty((len(docs), NUM_PERM), dtype=np.uint32)
    lengths = stream.lengths[docs]
    start = 0
    while start < len(docs):
        stop = start
        total = 0
        while stop < len(docs) and (total < _CHUNK_TOKENS or stop == start):
            total += int(lengths[stop])
            stop += 1
        chunk = docs[start:stop]
        base = int(stream.indptr[chunk[0]])
        ids = np.asarray(stream.ids[base:int(stream.indptr[chunk[-1] + 1])])
        parts = [_shingles(ids[stream.indptr[d] - base:stream.indptr[d + 1] - base])
                 for d in chunk.tolist()]
        counts = np.array([len(p) for p in parts])
        h = np.concatenate(parts)
        del ids, parts
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        with np.errstate(over="ignore"):
            for i in range(NUM_PERM):
                v = (h * _PERM_A[i] + _PERM_B[i]) >> np.uint64(32)
                sig[start:stop, i] = np.minimum.reduceat(v, offsets)
        start = stop
    return sig


_ROWS = NUM_PERM // BANDS
_BAND_MULT = (_rng.integers(1, 2**63, _ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(1))


def _candidates(sig: np.ndarray, new: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Pairs of rows ``(i, j)``, ``i < j``, whose signatures agree on every value of at
    least one band (``BANDS`` bands of ``NUM_PERM // BANDS`` rows): the candidate pairs of
    an LSH index of these signatures (datasketch's ``MinHashLSH`` with
    ``params=(BANDS, NUM_PERM // BANDS)`` finds the same). With ``new`` (bool per row),
    only pairs with at least one new row."""
    found: set[tuple[int, int]] = set()
    n = len(sig)
    if n < 2 or (new is not None and not new.any()):
        return []
    for b in range(BANDS):
        rows = sig[:, b * _ROWS:(b + 1) * _ROWS].astype(np.uint64)
        with np.errstate(over="ignore"):
            key = _mix((rows * _BAND_MULT).sum(axis=1, dtype=np.uint64))
        sel = (np.flatnonzero(np.isin(key, key[new])) if new is not None
               else np.arange(n))
        order = np.argsort(key[sel], kind="stable")
        sel, k = sel[order], key[sel][order]
        edge = np.flatnonzero(k[1:] != k[:-1]) + 1
        starts = np.concatenate([[0], edge])
        stops = np.concatenate([edge, [len(k)]])
        for a, z in zip(starts[stops - starts > 1].tolist(),
                        stops[stops - starts > 1].tolist(), strict=True):
            members = sel[a:z].tolist()
            for x, i in enumerate(members):
                for j in members[x + 1:]:
                    if new is not None and not (new[i] or new[j]):
                        continue
                    pair = (i, j) if i < j else (j, i)
                    if pair not in found and (rows[i] == rows[j]).all():
                        found.add(pair)
    return sorted(found)


def _verified(stream: TokenStream, docs: np.ndarray, cands: list[tuple[int, int]],
              threshold: float) -> list[tuple[int, int, float]]:
    """The candidate pairs (rows of ``docs``) whose exact Jaccard similarity is at least
    ``threshold``, as (docnum, docnum, similarity)."""
    cache: dict[int, np.ndarray] = {}

    def shingles(i: int) -> np.ndarray:
        if i not in cache:
            cache[i] = doc_shingles(stream, int(docs[i]))
        return cache[i]

    pairs = []
    for i, j in cands:
        sim = jaccard(shingles(i), shingles(j))
        if sim >= threshold:
            a, b = int(docs[i]), int(docs[j])
            pairs.append((min(a, b), max(a, b), sim))
    return pairs


def _eligible(stream: TokenStream) -> np.ndarray:
    """Docnums long enough to be judged, ascending."""
    return np.flatnonzero(stream.lengths >= max(MIN_TOKENS, SHINGLE))


def find_duplicates(stream: TokenStream, day: np.ndarray | None = None, *,
                    threshold: float = THRESHOLD) -> dict[str, np.ndarray]:
    """Near-duplicate clusters of the articles in ``stream`` (see the module docstring).

    Parameters
    ----------
    stream
        The token stream of the generation.
    day
        Days since 1970 per docnum (``INT32_MIN`` when undated), to pick each cluster's
        first article; None: the lowest docnum is first.
    threshold
        Minimum exact Jaccard similarity of shingle sets for a pair to be kept.

    Returns
    -------
    dict
        ``cluster`` (int32 per docnum, -1 for none, clusters numbered by their first
        article's docnum), ``similarity`` (float32 per docnum, to the cluster's first;
        NaN outside clusters), ``pairs`` (int32, k x 2 docnums), ``pair_similarity``,
        ``candidates`` (candidate pairs checked), and the MinHash signatures
        ``sig_docs`` / ``sig`` of the judged articles (kept for the next build).
    """
    docs = _eligible(stream)
    sig = _signatures(stream, docs)
    cands = _candidates(sig)
    return _result(stream, day, threshold, _verified(stream, docs, cands, threshold),
                   len(cands), docs, sig)


def update_duplicates(stream: TokenStream, day: np.ndarray | None,
                      previous: dict[str, np.ndarray], carry: np.ndarray, *,
                      threshold: float = THRESHOLD) -> dict[str, np.ndarray]:
    """:func:`find_duplicates` for a stream whose articles are partly carried over from
    the previous generation's (``carry``: per docnum, its docnum there or -1).

    ``previous`` holds the previous generation's ``pairs``, ``pair_similarity``,
    ``sig_docs`` and ``sig``. Only the articles that are not carried get signatures; they
    are compared with every article through the LSH bands, and the previous verified
    pairs between carried articles are kept: the clusters are those of a full run
    (candidate pairs are the same, see :func:`_candidates`).
    """
    if previous["sig"].ndim != 2 or previous["sig"].shape[1] != NUM_PERM:
        raise ValueError("the previous signatures have another number of hashes")
    n_old = int(max(previous["sig_docs"].max(initial=-1),
                    previous["pairs"].max(initial=-1), carry.max(initial=-1))) + 1
    old2new = np.full(n_old, -1, dtype=np.int64)
    has = np.flatnonzero(carry >= 0)
    old2new[carry[has]] = has
    docs = _eligible(stream)
    kept_sig = old2new[previous["sig_docs"]] if len(previous["sig_docs"]) else \
        np.zeros(0, np.int64)
    ok = kept_sig >= 0
    fresh = docs[carry[docs] < 0] if len(carry) else docs
    all_docs = np.concatenate([kept_sig[ok], fresh]).astype(np.int64)
    sig = np.concatenate([previous["sig"][ok].astype(np.uint32),
                          _signatures(stream, fresh)])
    order = np.argsort(all_docs, kind="stable")
    all_docs, sig = all_docs[order], sig[order]
    if not np.array_equal(all_docs, docs):
        raise ValueError("carried signatures do not match the stream's judged articles")
    new = np.zeros(len(docs), dtype=bool)
    new[np.searchsorted(docs, fresh)] = True
    cands = _candidates(sig, new)
    pairs = _verified(stream, docs, cands, threshold)
    old_pairs = previous["pairs"].astype(np.int64).reshape(-1, 2)
    if len(old_pairs):
        a, b = old2new[old_pairs[:, 0]], old2new[old_pairs[:, 1]]
        both = (a >= 0) & (b >= 0)
        pairs += [(min(x, y), max(x, y), s) for x, y, s in zip(
            a[both].tolist(), b[both].tolist(),
            previous["pair_similarity"][both].astype(float).tolist(), strict=True)]
    pairs.sort()
    return _result(stream, day, threshold, pairs, len(cands), docs, sig)


def _result(stream: TokenStream, day: np.ndarray | None, threshold: float,
            pairs: list[tuple[int, int, float]], candidates: int, sig_docs: np.ndarray,
            sig: np.ndarray) -> dict[str, np.ndarray]:
    n = len(stream.indptr) - 1
    cluster = np.full(n, -1, dtype=np.int32)
    similarity = np.full(n, np.nan, dtype=np.float32)
    pairs = sorted(pairs)
    # Union-find over the kept pairs; then every member must itself be at least
    # ``threshold`` like its cluster's first (earliest) article: single linkage alone
    # chains different stories through a third (A~B, B~C, A!~C). Members that are not
    # are clustered again among themselves, the same way.
    undated = np.iinfo(np.int32).max

    def first_of(group: list[int]) -> int:
        return min((int(day[d]) if day is not None and day[d] != np.iinfo(np.int32).min
                    else undated, d) for d in group)[1]

    todo = [(pairs, sorted({d for p in pairs for d in p[:2]}))]
    while todo:
        kept, nodes = todo.pop()
        parent = {d: d for d in nodes}
        for a, b, _ in kept:
            ra, rb = _root(parent, a), _root(parent, b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        groups: dict[int, list[int]] = {}
        for d in nodes:
            groups.setdefault(_root(parent, d), []).append(d)
        for group in groups.values():
            if len(group) < 2:
                continue
            first = first_of(group)
            base = doc_shingles(stream, first)
            sims = {d: 1.0 if d == first else jaccard(base, doc_shingles(stream, d))
                    for d in group}
            close = [d for d in group if sims[d] >= threshold]
            far = set(group) - set(close)
            if len(close) >= 2:
                cluster[close] = first
                similarity[close] = [sims[d] for d in close]
            if len(far) >= 2:
                todo.append(([p for p in kept if p[0] in far and p[1] in far], sorted(far)))
    arr = np.array([(a, b) for a, b, _ in pairs], dtype=np.int32).reshape(-1, 2)
    return {"cluster": cluster, "similarity": similarity, "pairs": arr,
            "pair_similarity": np.array([s for *_, s in pairs], dtype=np.float32),
            "candidates": np.array(candidates), "sig_docs": sig_docs.astype(np.int32),
            "sig": sig.astype(np.uint32, copy=False)}  # no copy: 384 MB at 1M articles


def _root(parent: dict[int, int], x: int) -> int:
    """Union-find: the root of ``x`` (paths halved on the way)."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


_SIG_KEYS = ("sig_docs", "sig")


def write_duplicates(gen_dir: str | Path, stream: TokenStream, *,
                     threshold: float = THRESHOLD, previous: str | Path | None = None,
                     carry: np.ndarray | None = None) -> int:
    """Find near-duplicate clusters and store them as ``duplicates.npz`` in ``gen_dir``
    (the MinHash signatures go to ``minhash.npz``, read only by the next build).

    Dates come from the generation's ``columns.npz`` (``day``) when it is there. With
    ``previous`` (the previous generation's folder) and ``carry`` (per docnum, its docnum
    there or -1), only articles not carried over are hashed (see
    :func:`update_duplicates`); a previous generation without signatures is ignored.
    Returns the number of articles in clusters.
    """
    gen_dir = Path(gen_dir)
    day = None
    if (gen_dir / "columns.npz").is_file():
        with np.load(gen_dir / "columns.npz", allow_pickle=False) as cols:
            day = cols["day"] if "day" in cols.files else None
    old = None
    if previous is not None and carry is not None:
        prev = Path(previous)
        if (prev / SIG_FILE).is_file() and (prev / DUPS_FILE).is_file():
            with np.load(prev / SIG_FILE, allow_pickle=False) as f, \
                    np.load(prev / DUPS_FILE, allow_pickle=False) as g:
                old = {"sig_docs": f["sig_docs"], "sig": f["sig"], "pairs": g["pairs"],
                       "pair_similarity": g["pair_similarity"]}
    found = None
    if old is not None:
        try:
            found = update_duplicates(stream, day, old, carry, threshold=threshold)
        except ValueError:  # signatures of another shape or set: hashed again in full
            found = None
    if found is None:
        found = find_duplicates(stream, day, threshold=threshold)
    np.savez(gen_dir / SIG_FILE, **{k: found.pop(k) for k in _SIG_KEYS})
    np.savez(gen_dir / DUPS_FILE, **found)
    return int((found["cluster"] >= 0).sum())


def _load(ix) -> dict[str, np.ndarray]:
    found = getattr(ix, "duplicates_arrays", None)
    if found is None:
        path = Path(ix.gen_path) / DUPS_FILE
        if not path.is_file():
            n = len(ix.live)
            return {"cluster": np.full(n, -1, np.int32),
                    "similarity": np.full(n, np.nan, np.float32)}
        with np.load(path, allow_pickle=False) as f:
            found = {k: f[k] for k in f.files}
    return found




def _ordered_members(ix, cluster: np.ndarray, scope: np.ndarray) -> pd.DataFrame:
    docs = np.flatnonzero((cluster >= 0) & scope)
    day = np.asarray(ix.day)[docs].astype(np.int64)
    undated = day == np.iinfo(np.int32).min
    day = np.where(undated, np.iinfo(np.int64).max, day)
    return pd.DataFrame({"docnum": docs, "cluster": cluster[docs], "day": day}).sort_values(
        ["cluster", "day", "docnum"], kind="stable")


def count_once(ix, mask: np.ndarray | None = None) -> np.ndarray:
    """The articles in scope with every near-duplicate cluster counted once.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    mask
        Bool per docnum, the articles in scope; None: every live article.

    Returns
    -------
    numpy.ndarray
        Bool per docnum: the scope minus every cluster member but the earliest one in
        scope (ties: lowest docnum).
    """
    scope = in_scope(ix, mask)
    cluster = _load(ix)["cluster"]
    members = _ordered_members(ix, cluster, scope)
    drop = members["docnum"].to_numpy()[members["cluster"].duplicated().to_numpy()]
    out = scope.copy()
    out[drop] = False
    return out


def duplicate_clusters(ix, *, mask: np.ndarray | None = None, min_size: int = 2) -> pd.DataFrame:
    """Near-duplicate clusters with at least ``min_size`` members in scope.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    mask
        Bool per docnum, the articles in scope; None: every live article.
    min_size
        Smallest cluster (members in scope) to list.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CLUSTER_COLUMNS`, one row per member, clusters largest first, each
        ordered by date (its first article first). ``similarity`` is to the cluster's
        first article over the whole index (found at build time).
    """
    scope = in_scope(ix, mask)
    found = _load(ix)
    members = _ordered_members(ix, found["cluster"], scope)
    sizes = members.groupby("cluster")["docnum"].transform("size")
    members = members[sizes >= min_size].assign(size=sizes[sizes >= min_size])
    docs = members["docnum"].to_numpy()
    outlets = [ix.outlets[c] if c >= 0 else "" for c in np.asarray(ix.outlet_code)[docs]]
    raw_day = np.asarray(ix.day)[docs].astype(np.int64)
    dates = pd.to_datetime(np.where(raw_day == np.iinfo(np.int32).min, np.nan,
                                    raw_day.astype(float)), unit="D")
    out = pd.DataFrame({
        "cluster": members["cluster"].to_numpy(), "size": members["size"].to_numpy(),
        "doc_id": [ix.doc_ids[d] for d in docs], "outlet": outlets, "date": dates,
        "similarity": found["similarity"][docs].astype(float),
        "first": ~members["cluster"].duplicated().to_numpy()})
    if len(out):
        order = out.groupby("cluster", sort=False).ngroup()
        out = (out.assign(_o=order).sort_values(["size", "_o"], ascending=[False, True],
                                                kind="stable").drop(columns="_o"))
        # Renumber clusters 0.. in display order so the numbers read as labels.
        out["cluster"] = pd.factorize(out["cluster"])[0]
    return out.reset_index(drop=True)[list(CLUSTER_COLUMNS)]
