"""An update carries the previous generation's arrays over: columns, token stream and
near-duplicate clusters equal those of a full build of the same final corpus, and only
new and changed articles are tokenised and hashed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHashLSH

import corpus_search as cs
from corpus_search import _build as build_module
from corpus_search import _corpus, _dups, _sourcefiles, _stream, synthetic
from corpus_search._boilerplate import find_boilerplate
from corpus_search._sourcefiles import SourceFiles
from corpus_search._stream import load_stream

N_BASE = 40


def _records() -> list[dict]:
    """Synthetic articles, some republished (a few words changed) under other ids."""
    recs = list(synthetic.generate(N_BASE + 12, seed=7))
    for r in recs:
        r["text"] = " ".join(r["text"].split()[:150])  # short: a quick build
    for k, (src, dst) in enumerate([(5, 6), (0, 42), (1, 43), (2, 44), (42, 45), (46, 47)]):
        words = recs[src]["text"].split()
        words[10 + k] = "changedword"
        recs[dst]["text"] = " ".join(words)
    return recs


def _write(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), "utf-8")
    return path


def _by_doc(index_dir: Path) -> dict:
    """Everything the carried arrays hold, keyed by doc_id (docnums differ by build)."""
    ix = cs.open_index(index_dir).snapshot()
    try:
        stream = load_stream(ix.gen_path)
        dups = _dups._load(ix)
        with np.load(ix.gen_path / "columns.npz") as cols:
            tptr, tids, tpos = cols["title_indptr"], cols["title_ids"], cols["title_pos"]
        terms = json.loads((ix.gen_path / "vocab.json").read_text("utf-8"))["title_terms"]
        out: dict = {}
        for d, i in ix.docnum.items():
            a, b = ix.ent_indptr[i], ix.ent_indptr[i + 1]
            t0, t1 = tptr[i], tptr[i + 1]
            c = int(dups["cluster"][i])
            out[d] = {
                "outlet": ix.outlets[ix.outlet_code[i]] if ix.outlet_code[i] >= 0 else None,
                "month": ix.months[ix.month_code[i]] if ix.month_code[i] >= 0 else None,
                "day": int(ix.day[i]), "tokens": int(ix.tokens[i]),
                "entities": sorted(tuple(ix.entities[e]) for e in ix.ent_ids[a:b]),
                "title": [(terms[t], int(p)) for t, p in
                          zip(tids[t0:t1], tpos[t0:t1], strict=True)],
                "words": [stream.words[w] for w in stream.doc(i)],
                "cluster_first": ix.doc_ids[c] if c >= 0 else None,
                "similarity": round(float(dups["similarity"][i]), 6) if c >= 0 else None}
        freq = dict(zip(stream.words, stream.word_freq.tolist(), strict=True))
        stems = {w: stream.stems[s] for w, s in zip(stream.words, stream.word_stem.tolist(),
                                                    strict=True)}
        vocab = {"outlets": sorted(ix.outlets), "months": sorted(ix.months),
                 "title_terms": sorted(terms), "words": sorted(stream.words),
                 "stems": sorted(stream.stems)}
        pairs = {tuple(sorted((ix.doc_ids[a], ix.doc_ids[b]))): round(float(s), 6)
                 for (a, b), s in zip(dups["pairs"].tolist(),
                                      dups["pair_similarity"].tolist(), strict=True)}
        return {"docs": out, "freq": freq, "stems": stems, "vocab": vocab, "pairs": pairs}
    finally:
        ix.close()


@pytest.fixture
def corpora(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A first corpus, the same corpus with one article changed and one removed, and a
    second file of new articles (some near-copies of the first corpus's)."""
    recs = _records()
    first = _write(tmp_path / "a.jsonl", recs[:N_BASE])
    later = [dict(r) for r in recs[:N_BASE]]
    later[3]["text"] = later[3]["text"].replace(" ", " extra ", 5)
    del later[-1]  # (a line removed mid-file shifts the source lines after it)
    return first, later, _write(tmp_path / "b.jsonl", recs[N_BASE:])


def test_update_equals_full_build(tmp_path: Path, corpora, monkeypatch) -> None:
    """Columns, stream and clusters after an update equal a full build's, and only the
    new and changed articles were tokenised and hashed."""
    first, later, more = corpora
    inc = tmp_path / "inc"
    cs.build([first], inc, entities=False, progress=False)
    _write(first, later)
    tokenised: list[str] = []  # texts cut into tokens by the surface pass
    again: list[str] = []  # texts cut again elsewhere (the token stream)
    hashed: list[int] = []
    real_tokens, real_sigs = _stream._word_ids, _dups._signatures
    real_run = build_module._surface_run
    inside = [False]

    def surface_run(texts):
        texts = list(texts)
        tokenised.extend(t for t, _ in texts)
        inside[0] = True
        try:
            return real_run(texts)
        finally:
            inside[0] = False

    def word_ids(text, vocab, raw, toks=None):
        if not inside[0]:
            again.append(text)
        return real_tokens(text, vocab, raw, toks)

    monkeypatch.setattr(build_module, "_surface_run", surface_run)
    monkeypatch.setattr(_stream, "_word_ids", word_ids)
    monkeypatch.setattr(_dups, "_signatures",
                        lambda s, d: hashed.append(len(d)) or real_sigs(s, d))
    report = cs.build([first, more], inc, entities=False, progress=False)
    monkeypatch.undo()
    assert (report.added, report.updated, report.removed) == (12, 1, 1)
    assert (len(tokenised), again) == (13, [])
    assert sum(hashed) == 13
    full = tmp_path / "full"
    cs.build([first, more], full, entities=False, progress=False)
    got, want = _by_doc(inc), _by_doc(full)
    assert got["docs"] == want["docs"]
    assert got == want
    assert any(v["cluster_first"] for v in got["docs"].values())


def test_update_after_merges_and_removals(tmp_path: Path, corpora) -> None:
    """Several updates in a row (Whoosh merges small segments and renumbers docnums)
    still equal a full build."""
    first, later, more = corpora
    inc = tmp_path / "inc"
    recs = [json.loads(line) for line in first.read_text("utf-8").splitlines()]
    for k in range(4):
        _write(first, recs[:N_BASE - 4 + k])
        cs.build([first], inc, entities=False, progress=False)
    _write(first, later)
    cs.build([first, more], inc, entities=False, progress=False)
    full = tmp_path / "full"
    cs.build([first, more], full, entities=False, progress=False)
    assert _by_doc(inc) == _by_doc(full)


def test_candidates_match_datasketch() -> None:
    """The numpy LSH bands give the candidate pairs of datasketch's MinHashLSH."""
    rng = np.random.default_rng(3)
    sig = rng.integers(0, 2**32, (300, _dups.NUM_PERM), dtype=np.uint64).astype(np.uint32)
    for i in range(0, 300, 7):  # plant shared bands
        j = int(rng.integers(0, 300))
        b = int(rng.integers(0, _dups.BANDS)) * 3
        sig[j, b:b + 3] = sig[i, b:b + 3]
    lsh = MinHashLSH(num_perm=_dups.NUM_PERM, params=(_dups.BANDS, _dups.NUM_PERM //
                                                      _dups.BANDS))
    hashes = [LeanMinHash(seed=1, hashvalues=sig[i].astype(np.uint64), scheme="affine32")
              for i in range(len(sig))]
    for i, mh in enumerate(hashes):
        lsh.insert(i, mh, check_duplication=False)
    expected = sorted({(i, j) for i, mh in enumerate(hashes) for j in lsh.query(mh) if j > i})
    assert _dups._candidates(sig) == expected
    new = np.zeros(len(sig), dtype=bool)
    new[::5] = True
    assert _dups._candidates(sig, new) == [p for p in expected if new[p[0]] or new[p[1]]]


def test_previous_signatures_of_another_shape_are_hashed_again(tmp_path: Path,
                                                                corpora) -> None:
    """Signatures the previous generation kept in another shape are not used: the
    clusters are found in full (same result)."""
    first, _, more = corpora
    inc = tmp_path / "inc"
    cs.build([first, more], inc, entities=False, progress=False)
    gen = cs.open_index(inc).snapshot()
    gen_path = gen.gen_path
    gen.close()
    stream = load_stream(gen_path)
    with np.load(gen_path / _dups.SIG_FILE) as f, np.load(gen_path / _dups.DUPS_FILE) as g:
        old = {"sig_docs": f["sig_docs"], "sig": f["sig"][:, :10], "pairs": g["pairs"],
               "pair_similarity": g["pair_similarity"]}
        want = g["cluster"]
    carry = np.arange(len(stream.indptr) - 1)
    with pytest.raises(ValueError, match="number of hashes"):
        _dups.update_duplicates(stream, None, old, carry)
    out = tmp_path / "out"
    out.mkdir()
    (out / "columns.npz").write_bytes((gen_path / "columns.npz").read_bytes())
    prev = tmp_path / "prev"
    prev.mkdir()
    np.savez(prev / _dups.SIG_FILE, **{k: old[k] for k in ("sig_docs", "sig")})
    np.savez(prev / _dups.DUPS_FILE, pairs=old["pairs"], pair_similarity=old["pair_similarity"])
    _dups.write_duplicates(out, stream, previous=prev, carry=carry)
    with np.load(out / _dups.DUPS_FILE) as g:
        assert np.array_equal(g["cluster"], want)


FOOTER = "Copyright Daily Example News Ltd. All rights reserved worldwide."
WEEKLY = "Subscribe to the Weekly Example newsletter for more stories."


def _bp_rows(tag: str, outlet: str, n: int, footer: str, every: int) -> list[dict]:
    """``n`` short synthetic articles of ``outlet``; every ``every``-th ends with ``footer``."""
    recs = list(synthetic.generate(n, seed=len(tag) + n))
    out = []
    for i, r in enumerate(recs):
        text = " ".join(r["text"].split()[:60])
        if every and i % every == 0:
            text += "\n\n" + footer
        out.append(dict(r, id=f"{tag}{i}", outlet=outlet, text=text))
    return out


def _quiet(*paths: Path) -> None:
    """Date files a minute back (a file written just now is read again by the next build)."""
    for p in paths:
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))


def _same_report(a: cs.BuildReport, b: cs.BuildReport) -> None:
    assert a.boilerplate.equals(b.boilerplate)
    assert a.outlets.equals(b.outlets)
    for name in ("skipped", "notes", "duplicates", "warnings"):
        assert getattr(a, name) == getattr(b, name)


@pytest.fixture
def bp_corpus(tmp_path: Path) -> Path:
    """A file of two outlets, one with a footer on every other article, one with another
    footer on four articles (too few to be boilerplate); a broken line and an exact
    duplicate."""
    rows = _bp_rows("d", "Daily", 40, FOOTER, 2) + _bp_rows("w", "Weekly", 60, WEEKLY, 15)
    path = tmp_path / "a.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text + "{broken\n" + json.dumps(dict(rows[3], id="copy")) + "\n", "utf-8")
    return path


def test_unchanged_file_is_not_read_again(tmp_path: Path, bp_corpus: Path,
                                          monkeypatch) -> None:
    """A rebuild after adding a file reads only that file: the unchanged file's articles,
    skipped lines, duplicates and boilerplate counts come from the previous generation,
    and the index and report equal a full build's."""
    more = _write(tmp_path / "b.jsonl", _bp_rows("n", "Daily", 6, FOOTER, 1))
    _quiet(bp_corpus, more)
    inc = tmp_path / "inc"
    first = cs.build([bp_corpus], inc, entities=False, progress=False)
    assert first.boilerplate["line"].tolist() == [FOOTER]
    read: list[str] = []
    real = _corpus._jsonl_records
    monkeypatch.setattr(_corpus, "_jsonl_records",
                        lambda p, fh, ctx: read.append(p.name) or real(p, fh, ctx))
    report = cs.build([bp_corpus, more], inc, entities=False, progress=False)
    monkeypatch.undo()
    assert read == ["b.jsonl"]
    assert (report.added, report.updated, report.unchanged) == (6, 0, 100)
    full = cs.build([bp_corpus, more], tmp_path / "full", entities=False, progress=False)
    assert report.boilerplate["articles"].tolist() == [26]
    _same_report(report, full)
    assert _by_doc(inc) == _by_doc(tmp_path / "full")


def test_boilerplate_change_reads_unchanged_file_again(tmp_path: Path, bp_corpus: Path,
                                                       monkeypatch) -> None:
    """When new articles make a line boilerplate of an outlet, that outlet's articles in
    the unchanged file are read again and re-indexed: the result equals a full build."""
    more = _write(tmp_path / "b.jsonl", _bp_rows("n", "Weekly", 2, WEEKLY, 1))
    _quiet(bp_corpus, more)
    inc = tmp_path / "inc"
    cs.build([bp_corpus], inc, entities=False, progress=False)
    report = cs.build([bp_corpus, more], inc, entities=False, progress=False)
    assert (report.added, report.updated) == (2, 60)
    assert sorted(report.boilerplate["line"]) == sorted([FOOTER, WEEKLY])
    full = cs.build([bp_corpus, more], tmp_path / "full", entities=False, progress=False)
    _same_report(report, full)
    assert _by_doc(inc) == _by_doc(tmp_path / "full")
    _write(more, _bp_rows("n", "Daily", 1, FOOTER, 1))  # the Weekly footer goes again
    _quiet(more)
    again = cs.build([bp_corpus, more], inc, entities=False, progress=False)
    full2 = cs.build([bp_corpus, more], tmp_path / "full2", entities=False, progress=False)
    _same_report(again, full2)
    assert _by_doc(inc) == _by_doc(tmp_path / "full2")


def test_boilerplate_from_line_hashes_equals_find_boilerplate() -> None:
    """Counting boilerplate from line hashes gives find_boilerplate's table, at and
    around the thresholds (lines in 4, 5, 6 articles; shares near 5%)."""
    rng = np.random.default_rng(11)
    footers = [f"Footer number {k} of this outlet, repeated verbatim." for k in range(8)]
    arts = []
    for i in range(400):
        outlet = ["A", "B", "C", ""][i % 4]
        lines = [f"Article {i} says something unique about topic {i * 7}."]
        lines += [f for k, f in enumerate(footers) if rng.random() < 0.004 * (k + 1) * 3]
        arts.append(_corpus.Article(doc_id=str(i), title="t", body="\n\n".join(lines),
                                    outlet=outlet))
    want = find_boilerplate((a.outlet, a.body) for a in arts).table
    got = SourceFiles().boilerplate(arts).table
    assert len(want) > 3
    assert got.equals(want)


def test_recently_modified_file_is_checked_by_digest(tmp_path: Path, bp_corpus: Path,
                                                    monkeypatch) -> None:
    """A file modified just before a build is recorded with its digest: the next build
    does not read it again while its bytes are the same, and does when they changed
    though its size and time did not (a write in the same clock tick)."""
    monkeypatch.setattr(_sourcefiles, "QUIET_NS", 600_000_000_000)  # "just now" on a busy machine
    inc = tmp_path / "inc"
    cs.build([bp_corpus], inc, entities=False, progress=False)  # written just now
    read: list[str] = []
    real = _corpus._jsonl_records
    monkeypatch.setattr(_corpus, "_jsonl_records",
                        lambda p, fh, ctx: read.append(p.name) or real(p, fh, ctx))
    more = _write(tmp_path / "b.jsonl", _bp_rows("n", "Daily", 2, FOOTER, 1))
    cs.build([bp_corpus, more], inc, entities=False, progress=False)
    assert read == ["b.jsonl"]
    st = bp_corpus.stat()
    text = bp_corpus.read_text("utf-8")
    bp_corpus.write_text(text.replace("Daily", "Dally", 1), "utf-8")  # same size
    os.utime(bp_corpus, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same time
    assert bp_corpus.stat().st_size == st.st_size
    report = cs.build([bp_corpus, more], inc, entities=False, progress=False)
    assert read == ["b.jsonl", "a.jsonl"]
    assert report.updated == 1


def test_places_survive_merges_and_reused_ids(monkeypatch) -> None:
    """Where articles are is found before and after the pending places are merged into
    the sorted arrays, and an id reused by a later article points at the later one."""
    places = _sourcefiles._Places()
    monkeypatch.setattr(_sourcefiles._Places, "MERGE_MIN", 5)  # merge often
    arts = [_corpus.Article(doc_id=str(i), title="", body="x") for i in range(40)]
    for f in range(4):
        places.add(f"file{f}", 0, arts[10 * f:10 * f + 10])
    assert [(f"file{i // 10}", i % 10) for i in range(40)] == [places.get(a) for a in arts]
    assert places.get(_corpus.Article(doc_id="new", title="", body="x")) is None
    assert places._ids.dtype == np.int64  # a Python int searched in uint64 goes via float64
    places.add("again", 3, arts[:6])  # the same objects, read again from another file
    assert [*(("again", 3 + i) for i in range(6)), ("file0", 6)] == [
        places.get(a) for a in arts[:7]]


def test_sources_answer_from_the_record_only_for_the_same_article(tmp_path: Path) -> None:
    """Content and text hashes come from a file's record for the articles read from it,
    and are computed for an equal article that was not (or for a renamed copy)."""
    path = _write(tmp_path / "a.jsonl", _records()[:5])
    files = SourceFiles.open(None)
    report = _corpus.read_corpus([path], None, "", follow_links=False, reads=files)
    art = report.articles[2]
    files._files[str(path)].content[2] = b"f" * 40  # what the record says, to tell apart
    copy = _corpus.Article(doc_id=art.doc_id, title=art.title, body=art.body,
                           outlet=art.outlet, date=art.date, url=art.url, source=art.source,
                           outlet_from=art.outlet_from)
    assert ("f" * 40, art.content_hash) == (files.content_hash(art), files.content_hash(copy))
    assert files.text_hash(art) == copy.text_hash
