"""Segments written in bulk from arrays hold what Whoosh's add_document writes."""

from __future__ import annotations

import contextlib
import json
import pickle
import pickletools
import platform
import tempfile
import time
import types
import zlib
from datetime import datetime
from pathlib import Path

import dask
import numpy as np
import psutil
import pytest
from whoosh import formats
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.filedb import filetables
from whoosh.filedb.structfile import StructFile
from whoosh.qparser import FuzzyTermPlugin, MultifieldParser, QueryParser
from whoosh.util.numeric import length_to_byte

from corpus_search import _analysis, _enrich, _postings, _segwriter
from corpus_search._build import _Documents
from corpus_search._corpus import Article, load_corpus
from corpus_search._store import common_stems, make_schema
from corpus_search.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = ["Anna Petrov", "Boris Novak", "Carla Rossi", "Dmitri Weber", ""]
ODD = [  # analysis corner cases: one-letter tokens first, dotted words, Unicode, empties
    Article("odd-1", "A b c Title of it", "x y The U.S. and e.g. İstanbul straße ÉCOLE"),
    Article("odd-2", "", "a"),
    Article("odd-3", "Only a title", ""),
    Article("odd-4", "The the the", " ".join(["the"] * 1500) + " far " * 3),
    Article("odd-5", "Long gaps", "x " * 70_000 + "the end"),  # first position 70,000
]


def _doc(art: Article, i: int) -> dict:
    """An article as the build hands it to the writer."""
    body = _analysis.strip_furniture(art.body)
    doc = dict(
        doc_id=art.doc_id,
        title=art.title,
        body=body,
        pairs=body,
        text=art.body,
        outlet=art.outlet,
        url=art.url,
        source=art.source,
        entities=json.dumps([["x", "PERSON"]] if i % 3 else []),
        person=",".join(p for p in PEOPLE[i % 5 : i % 5 + 2] if p),
        org="NATO" if i % 2 else "",
        place="Kyiv,Paris" if i % 4 == 0 else "",
    )
    if art.date:
        doc["date"] = art.date
    return doc


def _articles(tmp: Path, n: int, seed: int) -> list[Article]:
    with open(tmp / f"s{seed}.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in generate(n, seed=seed))
    return load_corpus([tmp / f"s{seed}.jsonl"]).articles


def _whoosh_commit(writer, docs: list[dict]) -> None:
    """The old way: one add_document per article, flat postings teed from the pool."""
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()


def _write(folder: Path, schema, batches: list[tuple[list[str], list[dict]]], bulk: bool) -> Path:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), schema)
    for deleted, docs in batches:
        writer = ix.writer(limitmb=64, compound=False)
        _postings.record(writer)
        for d in deleted:
            writer.delete_by_term("doc_id", d)
        if bulk:
            _segwriter.commit(writer, docs)
        else:
            _whoosh_commit(writer, docs)
    return folder


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """The same batches written both ways, after the first batch and after an update
    (60 articles deleted, 20 of them changed and re-added, 40 new)."""
    tmp = tmp_path_factory.mktemp("segwriter")
    arts = load_corpus([ROOT / "corpus"]).articles + ODD + _articles(tmp, 200, seed=7)
    docs = [_doc(a, i) for i, a in enumerate(arts)]
    common = common_stems(_surface_dfs(docs), len(docs))
    schema = make_schema(common)
    gone = [d["doc_id"] for d in docs[10:70]]
    changed = [
        dict(d, body=d["body"] + " sanctions talks", pairs=d["body"] + " of the")
        for d in docs[10:30]
    ]
    new = [_doc(a, i) for i, a in enumerate(_articles(tmp, 40, seed=8))]
    for d in new:
        d["doc_id"] = "new-" + d["doc_id"]
    first = [([], docs)]
    both = [*first, (gone, changed + new)]
    out = {}
    for stage, batches in (("first", first), ("updated", both)):
        out[stage] = (
            _write(tmp / f"{stage}-whoosh", schema, batches, bulk=False),
            _write(tmp / f"{stage}-bulk", schema, batches, bulk=True),
        )
    return out


def _surface_dfs(docs: list[dict]) -> list[tuple[str, int]]:
    df: dict[str, int] = {}
    for d in docs:
        for w in set(_analysis.surface_words(d["body"])):
            df[w] = df.get(w, 0) + 1
    return list(df.items())


STAGES = ["first", "updated"]


def _segment_files(folder: Path) -> list[list[tuple[str, bytes]]]:
    """Each segment's files (TOC order) as (extension, content), the random id left out."""
    ix = whoosh_index.open_dir(str(folder))
    out = []
    for seg in ix._segments():
        name = seg.make_filename("")
        files = sorted(
            (f.name[len(name) :], f.read_bytes())
            for f in folder.iterdir()
            if f.name.startswith(name + ".")
        )
        out.append(files)
    return out


@pytest.mark.parametrize("stage", STAGES)
def test_segment_files_are_byte_identical(pair: dict, stage: str) -> None:
    """Every segment file but the postings, the term file pointing into them and the
    stored fields (deflated by ISA-L; read back by the next test) has the bytes
    add_document's has: columns, lengths, flat postings."""
    old, new = pair[stage]
    expected, got = _segment_files(old), _segment_files(new)
    assert [[e for e, _ in seg] for seg in expected] == [[e for e, _ in seg] for seg in got]
    assert len(expected[0]) >= 11  # .trm .pst, 5 columns, 4 flat postings files
    compared = 0
    for exp_seg, got_seg in zip(expected, got, strict=True):
        for (ext, exp_bytes), (_, got_bytes) in zip(exp_seg, got_seg, strict=True):
            if ext not in (".pst", ".trm", "._stored.col"):
                assert exp_bytes == got_bytes, ext
                compared += 1
    assert compared >= 8 * len(expected)


def _blocks(folder: Path) -> dict[tuple, list[tuple]]:
    """Per segment and term, its posting blocks as read back: (info without the
    compression level, data tuple, level, the data's bytes as stored)."""
    from whoosh.reading import SegmentReader  # noqa: PLC0415

    ix = whoosh_index.open_dir(str(folder))
    out: dict[tuple, list[tuple]] = {}
    for k, seg in enumerate(ix._segments()):
        reader = SegmentReader(ix.storage, ix.schema, seg)
        try:
            for field, text in reader.all_terms():
                m = reader.postings(field, text)
                m = getattr(m, "child", m)  # the leaf under the deletions' filter
                blocks = []
                while True:
                    raw = m._postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
                    m._read_data()
                    info = (m._blocklength, m._maxid, m._maxweight, m._minlength,
                            m._maxlength)
                    blocks.append((info, m._data, m._compression, raw))
                    if m._lastblock:
                        break
                    m._next_block()
                out[(k, field, text)] = blocks
        finally:
            reader.close()
    return out


def _calls(pickled: bytes) -> list[str]:
    """The opcodes of a pickle that look up or call anything."""
    return [op.name for op, _, _ in pickletools.genops(pickled)
            if op.name in ("GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD", "INST", "OBJ",
                           "NEWOBJ", "NEWOBJ_EX")]


@pytest.mark.parametrize("stage", STAGES)
def test_every_posting_block_holds_whoosh_s_data(pair: dict, stage: str) -> None:
    """Every term's blocks, each read back: the same block info and unpickled data as
    add_document's; stored uncompressed exactly when the pickle is under 100 bytes,
    else deflated (zlib's format); the bulk writer's pickles call nothing."""
    old, new = pair[stage]
    expected, got = _blocks(old), _blocks(new)
    assert list(expected) == list(got)
    level_of = _segwriter._COMPRESSION
    levels = {0: 0, level_of: 0}
    protocols = set()
    for term, exp_blocks in expected.items():
        got_blocks = got[term]
        # repr: the same types too (a weight 2 for 2.0 would pass ==, and break Whoosh)
        expected_data = repr([(i, d) for i, d, _, _ in exp_blocks])
        assert expected_data == repr([(i, d) for i, d, _, _ in got_blocks])
        for _, _, level, raw in got_blocks:
            pickled = raw if level == 0 else zlib.decompress(raw)
            assert (0 if len(pickled) < _segwriter._MIN_COMPRESS else level_of) == level, term
            assert not _calls(pickled), term
            protocols.add(pickled[:2])
            levels[level] += 1
    assert min(levels.values()) > 100  # both kinds are there
    assert {_segwriter._PROTOCOL} == protocols


@pytest.mark.parametrize("values", ["none", "frequencies", "positions"])
def test_block_pickles_load_as_whoosh_s_tuples(values: str) -> None:
    """Blocks pickled with numpy (1 to 130 postings; ids of one, two and four bytes;
    weights all 1, all equal, mixed; frequencies with bytes from 0x80 and 4 x n over 255;
    position values over 255 bytes) load as the (ids, weights, values) Whoosh pickles."""
    rng = np.random.default_rng(3)
    sizes = [1, 2, 3, 4, 63, 64, 65, 127, 128, 130, 1, 5, 128]
    n = sum(sizes)
    ends = np.cumsum(sizes)
    at = ends - sizes
    ids = rng.choice([0, 1, 5, 255, 256, 65535, 65536, 2**31 - 1], n)
    weights = rng.choice(np.array([1, 2.5, 1e30, 70_000], dtype=np.float32), n)
    wkind = np.array([k % 3 for k in range(len(sizes))], dtype=np.int8)
    for b, k in enumerate(wkind.tolist()):
        if k == 0:
            weights[at[b]:ends[b]] = 1
        elif k == 1:
            weights[at[b]:ends[b]] = weights[at[b]]
    freqs = rng.choice([1, 2, 128, 255, 70_000, 0x80FF80FF], n)
    lists = [sorted(rng.choice(300_000, int(rng.integers(1, 200)), replace=False).tolist())
             for _ in range(n)]
    rows = freqs.astype(">u4").view(np.uint8).reshape(-1, 4)
    arg = {"none": None, "frequencies": rows, "positions": True}[values]
    data, bounds = _segwriter._block_pickles(ids, at, ends, wkind, weights, arg)
    if values == "positions":
        starts = np.cumsum([0] + [len(x) for x in lists])
        pos = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])
        vdata, vb = _segwriter._encode_positions(starts, pos, framed=True)
        vbl = vb.tolist()
    got, expected = [], []
    for b in range(len(sizes)):
        i, j = int(at[b]), int(ends[b])
        pickled = data[bounds[b]:bounds[b + 1]]
        if values == "positions":
            pickled += vdata[vbl[i]:vbl[j]] + _segwriter._VALUES_TAIL
        assert not _calls(pickled)
        got.append(pickle.loads(pickled))
        ws = [float(w) for w in weights[i:j].tolist()]
        w = None if wkind[b] == 0 else ws[0] if wkind[b] == 1 else tuple(ws)
        vs = {"none": None,
              "frequencies": b"".join(int(f).to_bytes(4, "big") for f in freqs[i:j]),
              "positions": tuple(formats.Positions().encode(x) for x in lists[i:j])}[values]
        expected.append((tuple(ids[i:j].tolist()), w, vs))
    assert repr(expected) == repr(got)  # the same types too
    longest = max(len(v) for x in expected
                  for v in (x[2] if isinstance(x[2], tuple) else [x[2] or b""]))
    assert values == "none" or longest > 255  # BINBYTES as well as SHORT_BINBYTES
    with pytest.raises(ValueError, match="only ints"):
        _segwriter._block_pickles(np.array([2**31]), np.array([0]), np.array([1]),
                                  np.array([0], dtype=np.int8), np.ones(1, np.float32), None)


@pytest.mark.parametrize("stage", STAGES)
def test_toc_segments_agree(pair: dict, stage: str) -> None:
    """Same segments in the TOC: document counts, deletions and total field lengths."""
    old, new = (whoosh_index.open_dir(str(p)) for p in pair[stage])

    def info(ix) -> list:
        return [
            (s.doc_count_all(), sorted(s.deleted_docs()), dict(s._fieldlengths))
            for s in ix._segments()
        ]

    assert info(old) == info(new)
    assert (2 if stage == "updated" else 1) == len(info(new))


@pytest.mark.parametrize("stage", STAGES)
def test_documents_columns_and_lengths_agree(pair: dict, stage: str) -> None:
    """Stored fields, the doc_id column and every field length, document by document."""
    old, new = (whoosh_index.open_dir(str(p)) for p in pair[stage])
    with old.reader() as a, new.reader() as b:
        assert a.doc_count() == b.doc_count()
        assert list(a.all_doc_ids()) == list(b.all_doc_ids())
        assert list(a.all_stored_fields()) == list(b.all_stored_fields())
        assert list(a.column_reader("doc_id")) == list(b.column_reader("doc_id"))
        for field in ("title", "body", "pairs"):
            assert a.field_length(field) == b.field_length(field)
            assert [a.doc_field_length(d, field) for d in range(a.doc_count_all())] == [
                b.doc_field_length(d, field) for d in range(b.doc_count_all())
            ]


@pytest.mark.parametrize("stage", STAGES)
def test_terms_statistics_and_postings_agree(pair: dict, stage: str) -> None:
    """Every term of every field: statistics, postings, weights and positions."""
    old, new = (whoosh_index.open_dir(str(p)) for p in pair[stage])
    with old.reader() as a, new.reader() as b:
        terms = list(a.all_terms())
        assert terms == list(b.all_terms())
        assert len(terms) > 1000
        for field, text in terms[::3]:  # a third of them (all are compared as bytes)
            ta, tb = a.term_info(field, text), b.term_info(field, text)
            assert (
                ta.weight(),
                ta.doc_frequency(),
                ta.min_length(),
                ta.max_length(),
                ta.max_weight(),
                ta.min_id(),
                ta.max_id(),
            ) == (
                tb.weight(),
                tb.doc_frequency(),
                tb.min_length(),
                tb.max_length(),
                tb.max_weight(),
                tb.min_id(),
                tb.max_id(),
            ), (field, text)
            ma, mb = a.postings(field, text), b.postings(field, text)
            assert list(
                ma.items_as("positions" if field in ("title", "body") else "weight")
            ) == list(mb.items_as("positions" if field in ("title", "body") else "weight"))


def _parser(schema):
    qp = MultifieldParser(["title", "body"], schema)
    qp.add_plugin(FuzzyTermPlugin())
    return qp


QUERIES = [
    "sanctions",
    "talks",
    "said",
    "the",
    "sanctions OR ceasefire",
    "talks NOT kyiv",
    '"prime minister"',
    '"of the"',
    '"said the"',
    '"of the president"',
    '"the war"',
    'title:"anna petrov"',
    "title:talks",
    "sanct*",
    "pe*",
    "talkz~1",
    "petrof~2",
    'outlet:"outlet b" talks',
    "person:'anna petrov'",
    "org:nato AND sanctions",
    "place:kyiv",
    "istanbul",
    "u.s.",
    "e.g.",
    "straße",
    "école",
    "far",
    "end",
    "doc_id:odd-4",
    'pairs:"of the"',
    "title:the",
]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("query", QUERIES)
def test_whoosh_search_gives_same_hits_and_scores(pair: dict, stage: str, query: str) -> None:
    """Whoosh's query parser and searcher: the same documents with the same scores, all
    hits and the top ten (which uses the blocks' maximum weights to skip)."""
    old, new = (whoosh_index.open_dir(str(p)) for p in pair[stage])
    q = _parser(old.schema).parse(query)
    with old.searcher() as a, new.searcher() as b:
        expected = [(h.docnum, h.score) for h in a.search(q, limit=None)]
        assert expected == [(h.docnum, h.score) for h in b.search(q, limit=None)]
        assert [(h.docnum, h.score) for h in a.search(q, limit=10)] == [
            (h.docnum, h.score) for h in b.search(q, limit=10)
        ]
    if query not in ("istanbul", "title:talks"):
        assert expected, query  # the query finds something, so the comparison means much


@pytest.mark.parametrize("stage", STAGES)
def test_date_filters_give_same_hits(pair: dict, stage: str) -> None:
    """A date range alone and as a filter of a term query."""
    old, new = (whoosh_index.open_dir(str(p)) for p in pair[stage])
    dates = wq.DateRange("date", datetime(2022, 1, 1), datetime(2022, 6, 30))
    talks = QueryParser("body", old.schema).parse("talks")
    with old.searcher() as a, new.searcher() as b:
        for q, flt in ((dates, None), (talks, dates)):
            expected = [(h.docnum, h.score) for h in a.search(q, limit=None, filter=flt)]
            assert len(expected) > 10
            assert expected == [(h.docnum, h.score) for h in b.search(q, limit=None, filter=flt)]


@pytest.mark.parametrize("stage", STAGES)
def test_project_fast_paths_agree(pair: dict, stage: str) -> None:
    """The project's postings (flat files first) and BM25F arrays: identical answers."""
    old, new = (whoosh_index.open_dir(str(p)) for p in pair[stage])
    qp = _parser(old.schema)
    with old.searcher() as a, new.searcher() as b:
        ra, rb = a.reader(), b.reader()
        flat = [_postings._flat(leaf) for leaf, _ in rb.leaf_readers()]
        assert all(f is not None for f in flat) and flat[0].terms("body")
        for field in ("body", "pairs", "title"):
            for text in list(ra.lexicon(field))[::7]:
                ea, eb = _postings.postings(ra, field, text), _postings.postings(rb, field, text)
                assert ea[0].tolist() == eb[0].tolist() and ea[1].tolist() == eb[1].tolist()
        n = ra.doc_count_all()
        for query in ("sanctions OR ceasefire", "talks NOT kyiv", "said", "title:talks"):
            q = qp.parse(query)
            ga, gb = _postings.ranked(a, q, n), _postings.ranked(b, q, n)
            assert ga is not None
            assert np.flatnonzero(ga[0]).tolist() == np.flatnonzero(gb[0]).tolist()
            assert ga[1].tolist() == gb[1].tolist()


def test_position_values_encode_as_whoosh_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Positions values (pickled deltas: one-, two- and four-byte items, more than 1,000
    items) are byte for byte Positions.encode's."""
    rng = np.random.default_rng(1)
    lists = [
        [0],
        [5],
        [255],
        [256],
        [65535],
        [65536],
        [3, 300, 70_000, 70_001],
        sorted(rng.choice(200_000, 1001, replace=False).tolist()),
        sorted(rng.choice(1000, 999, replace=False).tolist()),
        list(range(2500)),
        list(range(121)),  # encoded in 254, 255 and 256 bytes: framed by C, C and B
        [*range(120), 420],
        list(range(122)),
    ]
    edge_sizes = [254, 255, 256]
    assert edge_sizes == [len(formats.Positions().encode(x)) for x in lists[-3:]]
    starts = np.cumsum([0] + [len(x) for x in lists])
    pos = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])
    monkeypatch.setattr(_segwriter, "_ENCODE_TOKENS", 700)  # several passes
    data, bounds = _segwriter._encode_positions(starts, pos)
    got = [data[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    assert [formats.Positions().encode(x) for x in lists] == got
    data, bounds = _segwriter._encode_positions(starts, pos, framed=True)
    got = [data[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    # pickle.dumps without its PROTO and its BINPUT q\x00 and STOP
    assert [pickle.dumps(formats.Positions().encode(x), 3)[2:-3] for x in lists] == got
    edge_opcodes = [b"C", b"C", b"B"]  # SHORT_BINBYTES up to 255 bytes, then BINBYTES
    assert edge_opcodes == [bytes(g[:1]) for g in got[-3:]]


def test_block_info_parts_pickle_as_pickle_does() -> None:
    """Ints pickled with numpy (one-, two- and four-byte opcodes) and length bytes are
    pickle's and length_to_byte's."""
    values = np.array([0, 1, 255, 256, 65535, 65536, 2**31 - 1, 123_456_789])
    data, bounds = _segwriter._rows([_segwriter._pickled_ints(values)])
    got = [data[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    assert [pickle.dumps(v, 2)[2:-1] for v in values.tolist()] == got
    lengths = np.array([1, 2, 3, 7, 100, 1000, 99_684, 99_685, 106_373, 106_374, 10**9])
    expected = [length_to_byte(x) for x in lengths.tolist()]
    assert expected == _segwriter._length_bytes(lengths).tolist()


def test_term_records_and_hash_tables_are_whoosh_s(tmp_path: Path) -> None:
    """Term records added in bulk (positions past 2**16 retype the key index) give the
    term file Whoosh's OrderedHashWriter writes, hash tables included."""
    rng = np.random.default_rng(2)
    keys = sorted({rng.bytes(int(rng.integers(1, 30))) for _ in range(6000)})
    values = rng.bytes(35 * len(keys))
    out = {}
    for how in ("whoosh", "bulk"):
        with open(tmp_path / how, "wb") as fh:
            tindex = filetables.OrderedHashWriter(StructFile(fh))
            for field, part in ((b"\x00\x00", keys[:3000]), (b"\x00\x01", keys[3000:])):
                vals = values[: 35 * len(part)]
                if how == "whoosh":
                    for i, k in enumerate(part):
                        tindex.add(field + k, vals[35 * i : 35 * i + 35])
                else:
                    _segwriter._add_terms(tindex, field, part, vals, 35)
                    tindex._write_hashes = types.MethodType(_segwriter._write_hashes, tindex)
            tindex.close()
        out[how] = (tmp_path / how).read_bytes()
    assert out["whoosh"] == out["bulk"]


def test_fields_written_in_many_chunks_have_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment's files do not depend on how many postings, blocks and positions are
    handled at a time (each field's terms in chunks of a few blocks, Python lists per
    chunk; positions encoded a few hundred at a time)."""
    arts = load_corpus([ROOT / "corpus"]).articles + ODD + _articles(tmp_path, 60, seed=3)
    docs = [_doc(a, i) for i, a in enumerate(arts)]
    schema = make_schema(common_stems(_surface_dfs(docs), len(docs)))
    one = _write(tmp_path / "one", schema, [([], docs)], bulk=True)
    monkeypatch.setattr(_segwriter, "_FIELD_TERMS", 7)
    monkeypatch.setattr(_segwriter, "_FIELD_POSTINGS", 300)
    monkeypatch.setattr(_segwriter, "_ENCODE_TOKENS", 500)
    many = _write(tmp_path / "many", schema, [([], docs)], bulk=True)
    expected, got = _segment_files(one), _segment_files(many)
    assert len(expected[0]) >= 11
    assert expected == got


def test_documents_bringing_their_tokens_give_the_same_bytes(tmp_path: Path) -> None:
    """Bodies given already cut (``_tokens``: word ids, first position, shared words, as
    the build's surface pass makes them) give the segment of bodies cut here (one-letter
    tokens first, a first position of 70,000, dotted words, Unicode that lower-cases
    longer)."""
    from corpus_search._build import _surface_run  # noqa: PLC0415

    arts = load_corpus([ROOT / "corpus"]).articles + ODD + _articles(tmp_path, 60, seed=4)
    docs = [_doc(a, i) for i, a in enumerate(arts)]
    schema = make_schema(common_stems(_surface_dfs(docs), len(docs)))
    run = _surface_run((d["body"], frozenset()) for d in docs)
    ends = np.cumsum(run.lengths)
    cut = []
    for d, first, end, n in zip(docs, run.firsts, ends.tolist(), run.lengths.tolist(),
                                strict=True):
        d = dict(d)
        if first >= 0:
            d["_tokens"] = {"body": (run.ids[end - n:end], first, run.words)}
        cut.append(d)
    assert [first for first in run.firsts if first][:2] == [2, 70_000]  # odd-1, odd-5
    expected = _segment_files(_write(tmp_path / "texts", schema, [([], docs)], bulk=True))
    got = _segment_files(_write(tmp_path / "cut", schema, [([], cut)], bulk=True))
    assert sum("_tokens" in d for d in cut) == len(docs)
    assert expected == got


def test_small_commits_merged_by_whoosh_lose_nothing(tmp_path: Path) -> None:
    """Whoosh's merge policy folds small bulk segments into its own; a later bulk commit
    keeps them (eight small commits, then a large one)."""
    arts = _articles(tmp_path, 120, seed=9)
    docs = [_doc(a, i) for i, a in enumerate(arts)]
    schema = make_schema(frozenset({"the", "of"}))
    batches = [([], docs[i : i + 1]) for i in range(8)] + [([docs[0]["doc_id"]], docs[8:])]
    bulk = whoosh_index.open_dir(str(_write(tmp_path / "bulk", schema, batches, bulk=True)))
    old = whoosh_index.open_dir(str(_write(tmp_path / "old", schema, batches, bulk=False)))
    with bulk.searcher() as b, old.searcher() as a:
        assert b.doc_count() == 119
        assert sorted(f["doc_id"] for f in a.all_stored_fields()) == sorted(
            f["doc_id"] for f in b.all_stored_fields()
        )
        q = QueryParser("body", schema).parse("the")
        assert len(b.search(q, limit=None)) == 119
        assert sorted(h["doc_id"] for h in a.search(q, limit=None)) == sorted(
            h["doc_id"] for h in b.search(q, limit=None)
        )
        assert all(_postings._flat(leaf) is not None for leaf, _ in b.reader().leaf_readers())
    assert pickle.dumps(sorted(bulk.schema.names())) == pickle.dumps(sorted(schema.names()))


@pytest.mark.parametrize("workers_only", [False, True], ids=["halves", "workers-only"])
def test_halves_written_on_a_dask_worker_equal_halves_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers_only: bool
) -> None:
    """``commit(two_processes=True)``: the segments the dask worker writes for the second
    half (or two workers for every run, from ``WORKERS_ONLY_MIN_DOCS``) have the bytes
    this process writes for them, with this process's settings (flat postings threshold,
    segment size), in docnum order."""
    monkeypatch.setattr(_segwriter, "WORKERS_ONLY_MIN_DOCS", 1 if workers_only else 10**9)
    monkeypatch.setattr(_postings, "FLAT_MIN_DF", 5)  # not the worker's default
    monkeypatch.setattr(_segwriter, "SEGMENT_MAX_DOCS", 60)  # three segments per half
    docs = [_doc(a, i) for i, a in enumerate(_articles(tmp_path, 300, seed=10) + ODD)]
    schema = make_schema(common_stems(_surface_dfs(docs), len(docs)))

    def write(folder: Path) -> Path:
        folder.mkdir()
        writer = whoosh_index.create_in(str(folder), schema).writer(compound=False)
        _segwriter.commit(writer, docs, two_processes=True)
        return folder

    if workers_only:  # then this process writes no segment at all
        real = _segwriter.write_segment

        def nowhere(*args: object) -> None:
            raise AssertionError("a segment written in this process")

        monkeypatch.setattr(_segwriter, "write_segment", nowhere)
    on_dask = _segment_files(write(tmp_path / "dask"))
    if workers_only:
        monkeypatch.setattr(_segwriter, "write_segment", real)
    assert "comm" in dask.config.get("distributed")  # dask's defaults survive the cluster

    def here(storage, schema, indexname, docs):  # the same runs, written in this process
        if workers_only:
            return _segwriter.write_segments(storage, schema, indexname, docs)
        half = (len(docs) + 1) // 2
        return [*_segwriter.write_segments(storage, schema, indexname, docs[:half]),
                *_segwriter.write_segments(storage, schema, indexname, docs[half:])]

    monkeypatch.setattr(_segwriter, "_write_on_dask", here)
    expected = _segment_files(write(tmp_path / "here"))
    assert len(on_dask) == 6
    assert [[e for e, _ in seg] for seg in expected] == [[e for e, _ in seg] for seg in on_dask]
    for exp_seg, got_seg in zip(expected, on_dask, strict=True):
        for (ext, exp_bytes), (_, got_bytes) in zip(exp_seg, got_seg, strict=True):
            assert exp_bytes == got_bytes, ext


def test_ctrl_c_while_halves_are_written_stops_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KeyboardInterrupt while this process writes its half: a one-line message, the
    writer is released, and no dask process or scratch folder is left."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    docs = [_doc(a, i) for i, a in enumerate(_articles(tmp_path, 20, seed=11))]
    (tmp_path / "ix").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "ix"), make_schema(frozenset({"the"})))

    def interrupted(*args: object) -> list:
        raise KeyboardInterrupt

    before = set(psutil.Process().children(recursive=True))
    monkeypatch.setattr(_segwriter, "write_segment", interrupted)  # here, not on the worker
    writer = ix.writer(compound=False)
    with pytest.raises(KeyboardInterrupt, match=r"^writing the index segments was interrupted"):
        _segwriter.commit(writer, docs, two_processes=True)
    left = {p for p in set(psutil.Process().children(recursive=True)) - before
            if "resource_tracker" not in " ".join(p.cmdline())}
    assert (writer.is_closed, left, list(scratch.iterdir())) == (True, set(), [])
    ix.writer().cancel()  # the lock was released


def test_the_worker_is_sent_its_runs_as_it_goes_not_its_whole_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``commit(two_processes=True)`` makes the worker's documents a run at a time, two
    ahead of it (not the whole second half before this process starts writing), and lets
    each go when the worker is done with it: its file removed, its future dropped."""
    monkeypatch.setattr(_segwriter, "SEGMENT_MAX_DOCS", 20)  # eight runs per half
    docs = [_doc(a, i) for i, a in enumerate(_articles(tmp_path, 320, seed=12))]
    schema = make_schema(common_stems(_surface_dfs(docs), len(docs)))
    made = [0]
    seen: list[int] = []
    real = _segwriter.write_segment

    held: list[int] = []
    files: list[int] = []
    clients: list = []
    scratches: list[Path] = []
    open_client = _enrich._local_cluster

    @contextlib.contextmanager
    def capture(*args: object, **kwargs: object):
        with open_client(*args, **kwargs) as (client, scratch):
            clients.append(client)
            scratches.append(Path(scratch))
            yield client, scratch

    monkeypatch.setattr(_enrich, "_local_cluster", capture)

    def mine(storage, schema, indexname, run):  # this process's runs
        seen.append(made[0] - 20 * len(seen))  # made for the worker so far
        held.append(len(clients[0].futures))
        files.append(len(list(scratches[0].glob("run-*.pickle"))))
        deadline = time.monotonic() + 60  # let the worker finish a run meanwhile
        while len(seen) > 1 and time.monotonic() < deadline and not any(
                f.status == "finished" for f in clients[0].futures.values()):
            time.sleep(0.05)
        return real(storage, schema, indexname, run)

    monkeypatch.setattr(_segwriter, "write_segment", mine)
    (tmp_path / "ix").mkdir()
    writer = whoosh_index.create_in(str(tmp_path / "ix"), schema).writer(compound=False)
    def make(doc: dict) -> dict:  # as the build makes each document when it is read
        made[0] += 1
        return doc

    _segwriter.commit(writer, _Documents(docs, lambda doc, words: make(doc), lambda arts: None),
                      two_processes=True)
    assert len(seen) == 8
    assert seen[0] == 40  # two runs sent before this process starts its first, not 160
    # A finished run's future is let go (the scheduler keeps a task's documents while a
    # future refers to it): the two runs in flight, and at most one being let go (the
    # client tells the scheduler asynchronously). Keeping them all gave 8.
    assert max(held) <= 3
    assert max(files) == 2  # the runs waiting for the worker, and no taken run's file
    assert not scratches[0].exists()
    assert whoosh_index.open_dir(str(tmp_path / "ix")).doc_count() == 320


def test_two_workers_are_sent_runs_as_they_go_and_write_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``WORKERS_ONLY_MIN_DOCS`` on, a two-worker cluster writes every run: at most
    two runs waiting per worker (their files), each file removed when taken, the scratch
    folder removed, every document indexed in docnum order."""
    monkeypatch.setattr(_segwriter, "SEGMENT_MAX_DOCS", 20)  # sixteen runs
    monkeypatch.setattr(_segwriter, "WORKERS_ONLY_MIN_DOCS", 1)
    docs = [_doc(a, i) for i, a in enumerate(_articles(tmp_path, 320, seed=12))]
    schema = make_schema(common_stems(_surface_dfs(docs), len(docs)))
    sizes: list[int] = []
    files: list[int] = []
    scratches: list[Path] = []
    open_client = _enrich._local_cluster

    @contextlib.contextmanager
    def capture(n_workers: int, config: dict | None = None):
        sizes.append(n_workers)
        with open_client(n_workers, config=config) as (client, scratch):
            scratches.append(Path(scratch))
            yield client, scratch

    real_init = _enrich._Packed.__init__

    def packed(self, run, path=None) -> None:  # count the files waiting before each run
        files.append(len(list(scratches[0].glob("run-*.pickle"))))
        real_init(self, run, path)

    monkeypatch.setattr(_enrich, "_local_cluster", capture)
    monkeypatch.setattr(_enrich._Packed, "__init__", packed)
    (tmp_path / "ix").mkdir()
    writer = whoosh_index.create_in(str(tmp_path / "ix"), schema).writer(compound=False)
    _segwriter.commit(writer, docs, two_processes=True)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    with ix.searcher() as s:
        numbers = [s.stored_fields(n)["doc_id"] for n in range(ix.doc_count_all())]
    # files waiting when each run is packed: three, so never more than four at a time
    assert (sizes, len(files), max(files)) == ([2], 16, 3)
    assert [d["doc_id"] for d in docs] == numbers
    assert not scratches[0].exists()


def test_merge_policy_does_not_merge_many_large_segments(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoosh's MERGE_SMALL would fold the 26 smaller of 40 segments of 25,000 articles
    into a rebuild's segment (hours of per-posting merging at 1M); the capped policy
    merges nothing there, and still folds tiny segments as MERGE_SMALL does."""
    class Seg:
        def __init__(self, n: int) -> None:
            self.n = n

        def doc_count_all(self) -> int:
            return self.n

    class Writer:
        def __init__(self) -> None:
            self.merged: list[int] = []

        def add_reader(self, reader: object) -> None:
            self.merged.append(reader)

    big = [Seg(25_000) for _ in range(40)]
    assert _segwriter._merge_small(Writer(), big) == big
    tiny = [Seg(10) for _ in range(8)]
    folded: list[int] = []

    def spy(writer: object, segments: list) -> list:
        folded.append(len(segments))
        return segments

    monkeypatch.setattr(_segwriter, "MERGE_SMALL", spy)
    assert _segwriter._merge_small(Writer(), big) == big
    _segwriter._merge_small(Writer(), tiny + big[:2])
    assert folded == [10]  # handed to Whoosh's policy: the tiny ones are its to merge


def test_freed_memory_is_given_back_after_each_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """glibc's malloc_trim runs after each segment written and after the commit."""
    calls: list[int] = []
    monkeypatch.setattr(_segwriter, "_MALLOC_TRIM", calls.append)
    monkeypatch.setattr(_segwriter, "SEGMENT_MAX_DOCS", 4)
    arts = load_corpus([ROOT / "corpus"]).articles + ODD  # 10 articles: 3 segments
    docs = [_doc(a, i) for i, a in enumerate(arts)]
    _write(tmp_path / "ix", make_schema(frozenset()), [([], docs)], bulk=True)
    assert calls == [0, 0, 0, 0]
    if platform.libc_ver()[0] == "glibc":
        assert _segwriter._libc_trim() is not None
