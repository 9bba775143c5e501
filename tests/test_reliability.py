"""Bad input, killed builds, readers during builds, and safe exports (issue 6)."""

from __future__ import annotations

import codecs
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index

import corpus_search as cs
from corpus_search._build import PARALLEL_MIN_ARTICLES
from corpus_search._corpus import load_corpus
from corpus_search._export import neutralise
from corpus_search._store import make_schema
from corpus_search.synthetic import generate

GOOD = "Good title {n}\n\nA good body about Kyiv and NATO, number {n}."


def _messy_folder(root: Path) -> tuple[set[str], dict[str, str]]:
    """Write good and bad inputs; return good ids and {bad path: expected reason part}."""
    good, bad = set(), {}

    def txt(name: str, data: bytes | str) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return path

    for n in range(3):
        txt(f"good{n}.txt", GOOD.format(n=n))
        good.add(f"good{n}")
    txt("crlf.txt", "CRLF title\r\n\r\nBody with\r\nWindows line ends.\r\n")
    good.add("crlf")
    txt("latin1.txt", "Caf\xe9 news\n\nA body in latin-1, na\xefve.".encode("latin-1"))
    good.add("latin1")
    txt("cp1252.txt", "Smart \u201cquotes\u201d\n\nIt\u2019s cp1252.".encode("cp1252"))
    good.add("cp1252")
    txt("utf16.txt", codecs.BOM_UTF16_LE + "UTF-16 title\n\nBody \u0416.".encode("utf-16-le"))
    good.add("utf16")
    txt("notitle.txt", "x " * 400 + "a body whose first line is far too long to be a title.")
    good.add("notitle")
    txt("sub/deep/nested.txt", GOOD.format(n="nested"))
    good.add("sub/deep/nested")
    bad[str(txt("empty.txt", b""))] = "empty file"
    bad[str(txt("binary.txt", bytes(range(256)) * 4))] = "binary file"
    bad[str(txt("nul.txt", b"Title\n\nBody\x00with\x00NULs\x00" * 3))] = "binary file"
    bad[str(txt("huge.txt", b"Huge\n\n" + b"word " * 2_100_000))] = "over-size file"
    bad[str(txt("title-only.txt", "Only a title\n"))] = "no body text"
    bad[str(txt("image.png", b"\x89PNG\r\n\x1a\n"))] = "not a .txt, .csv or .jsonl"
    dup = txt("good0_copy.txt", GOOD.format(n=0))  # sorts after good0.txt: the copy
    bad[str(dup)] = "exact duplicate of good0"
    # The same article as text and as JSONL: indexed once (the first in path order).
    txt("same.txt", "Same story\n\nThe same story in two formats.")
    bad[str(root / "same.txt")] = "exact duplicate of export.jsonl:1"
    with open(root / "export.jsonl", "w") as fh:
        fh.write(json.dumps({"title": "Same story", "text": "The same story in two formats."})
                 + "\n")
        fh.write('{"title": "broken", "text": \n')
        fh.write(json.dumps(["not", "an", "object"]) + "\n")
        fh.write(json.dumps({"headline": "J", "body": "JSONL body.", "date": "garbage"}) + "\n")
    good.add("export.jsonl:1")
    bad[f"{root / 'export.jsonl'}:2"] = "broken JSON"
    bad[f"{root / 'export.jsonl'}:3"] = "not a JSON object"
    good.add("export.jsonl:4")
    with open(root / "table.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Title", "Content", "Source", "Published"])
        w.writerow(["Quoted, \"title\"", "Line one\nline two with \"quotes\"", "RT", "2022-01-09"])
        w.writerow(["Ragged", "Has too many cells", "X", "2022-01-10", "extra", "more"])
        w.writerow(["Short row"])
        w.writerow(["No body", "", "X", "2022-01-11"])
    good |= {"table.csv#2", "table.csv#3"}
    bad[f"{root / 'table.csv'}#4"] = "no body text"
    bad[f"{root / 'table.csv'}#5"] = "no body text"
    (root / "nocols.csv").write_text("a,b\n1,2\n")
    bad[str(root / "nocols.csv")] = "no text column"
    return good, bad


def test_messy_folder_loses_nothing(tmp_path: Path) -> None:
    """Every good article is indexed; every bad input is reported with path and reason."""
    good, bad = _messy_folder(tmp_path / "c")
    report = cs.build([tmp_path / "c"], tmp_path / "ix", progress=False, entities=False)
    index = cs.open_index(tmp_path / "ix")
    assert good == set(index.snapshot().docnum)
    reported = {s.path: s.reason for s in [*report.skipped, *report.duplicates]}
    for path, reason in bad.items():
        assert reason in reported.get(path, ""), path
    assert len(good) == report.added
    notes = {Path(n.path.split(":")[0].split("#")[0]).name: n.reason for n in report.notes}
    assert "cp1252" in notes["latin1.txt"] and "UTF-16" in notes["utf16.txt"]
    assert "not a date" in notes["export.jsonl"]
    print(f"bad inputs tried: {len(bad)}; good articles: {len(good)}, all indexed")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.tuples(st.sampled_from([".txt", ".csv", ".jsonl"]),
                                st.binary(max_size=400)), min_size=1, max_size=6))
def test_loading_random_bytes_never_raises(tmp_path_factory: pytest.TempPathFactory,
                                           files: list[tuple[str, bytes]]) -> None:
    """Any bytes in any supported file: loading finishes and accounts for every file."""
    root = tmp_path_factory.mktemp("fuzz")
    for i, (suffix, data) in enumerate(files):
        (root / f"f{i}{suffix}").write_bytes(data)
    report = load_corpus([root])
    sources = {Path(a.source.split(":")[0].split("#")[0]).name for a in report.articles}
    accounted = sources | {Path(s.path.split(":")[0].split("#")[0]).name
                           for s in [*report.skipped, *report.duplicates, *report.notes]}
    for i, (suffix, _) in enumerate(files):
        name = f"f{i}{suffix}"
        assert name in accounted or suffix != ".txt", name


@settings(max_examples=300, deadline=None)
@given(query=st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(['"', "(", ")", "[", "]", "{", "}", "*", "?", "~", "^", ":",
                              "AND", "OR", "NOT", "NATO", "person:", "date:", "to", "-",
                              "Зеленський", "🙂", "\x00", " "]), max_size=12).map("".join)))
def test_fuzzed_queries_answer_or_explain(seed_index: cs.Index, query: str) -> None:
    """Any query string gives results or a one-line QueryError, quickly."""
    started = time.perf_counter()
    try:
        res = seed_index.search(query)
        assert 0 <= res.total <= 5
    except cs.QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
    assert time.perf_counter() - started < 2


def test_wildcards_on_large_vocabulary(tmp_path: Path) -> None:
    """A short prefix over a large vocabulary is refused fast with a message."""
    corpus = tmp_path / "big.jsonl"
    with open(corpus, "w") as fh:
        for rec in generate(1500, seed=7):
            fh.write(json.dumps(rec) + "\n")
    cs.build([corpus], tmp_path / "ix", progress=False, entities=False)
    index = cs.open_index(tmp_path / "ix")
    for q in ["b*", "k*", "*a*", "?a*"]:  # invented words start with consonants
        started = time.perf_counter()
        with pytest.raises(cs.QueryError, match="more than 256 different words"):
            index.search(q)
        assert time.perf_counter() - started < 1


# --- faults -------------------------------------------------------------------------------

QUERIES = ["sanctions", '"said the"', "outlet:\"Outlet B\" AND ceasefire", "*"]


def _answers(index_dir: Path) -> dict[str, tuple[int, list[str]]]:
    index = cs.open_index(index_dir)
    out = {}
    for q in QUERIES:
        res = index.search(q, limit=5)
        out[q] = (res.total, res.hits["doc_id"].tolist())
    index.close()
    return out


def _write_jsonl(path: Path, n: int, seed: int) -> None:
    with open(path, "w") as fh:
        for rec in generate(n, seed=seed):
            rec["id"] = f"s{seed}-{rec['id']}"
            fh.write(json.dumps(rec) + "\n")


def _processes(pattern: str, *options: str) -> list[str]:
    """Pids of processes whose command line holds ``pattern`` (pgrep; an error fails)."""
    cmd = ["pgrep", *options] + (["-f", "--", pattern] if pattern else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr  # 1: none found
    return done.stdout.split()


def _build_cmd(corpus: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "corpus_search", "build", str(corpus), "--index",
            str(index_dir), "--no-entities"]


@pytest.fixture(scope="module")
def fault_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A corpus before and after adding articles, with the answers each should give."""
    root = tmp_path_factory.mktemp("faults")
    corpus = root / "corpus"
    corpus.mkdir()
    _write_jsonl(corpus / "a.jsonl", 300, seed=1)
    cs.build([corpus], root / "before", progress=False, entities=False)
    before = _answers(root / "before")
    _write_jsonl(corpus / "b.jsonl", 300, seed=2)
    shutil.copytree(root / "before", root / "after")
    started = time.perf_counter()
    subprocess.run(_build_cmd(corpus, root / "after"), check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = _answers(root / "after")
    (corpus / "b.jsonl").rename(root / "b.jsonl")
    return {"root": root, "corpus": corpus, "before": before, "after": after,
            "seconds": seconds}


def test_sigkill_during_build_keeps_previous_index(fault_corpus: dict, tmp_path: Path) -> None:
    """Killing builds at random moments never breaks the index; the next build completes."""
    corpus, before, after = fault_corpus["corpus"], fault_corpus["before"], fault_corpus["after"]
    index_dir = tmp_path / "ix"
    # Killed during a first build: there is no index yet, and the message says so.
    proc = subprocess.Popen(_build_cmd(corpus, index_dir), stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not (index_dir / "CURRENT").exists():
        with pytest.raises(cs.IndexNotFoundError):
            cs.open_index(index_dir)
    cs.build([corpus], index_dir, progress=False, entities=False)
    assert before == _answers(index_dir)

    (fault_corpus["root"] / "b.jsonl").rename(corpus / "b.jsonl")
    try:
        rng = random.Random(6)
        outcomes = []
        for i in range(8):
            proc = subprocess.Popen(_build_cmd(corpus, index_dir), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            # Spread over the build, 40% to 110% of its length: loading, indexing,
            # committing, writing arrays, switching CURRENT, and just after.
            time.sleep(fault_corpus["seconds"] * (0.4 + 0.1 * i + rng.uniform(-0.04, 0.04)))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            got = _answers(index_dir)
            assert got in (before, after)
            outcomes.append("after" if got == after else "before")
            if got == after:  # the build had finished: start again from before
                (corpus / "b.jsonl").rename(fault_corpus["root"] / "b.jsonl")
                cs.build([corpus], index_dir, progress=False, entities=False)
                (fault_corpus["root"] / "b.jsonl").rename(corpus / "b.jsonl")
        report = cs.build([corpus], index_dir, progress=False, entities=False)
        assert after == _answers(index_dir)
        assert list(index_dir.glob("gen-*.tmp*")) == []
        print(f"8 kills at random moments of a {fault_corpus['seconds']:.1f} s build: "
              f"{outcomes}; final build added {report.added}")
    finally:
        if (corpus / "b.jsonl").exists():
            (corpus / "b.jsonl").rename(fault_corpus["root"] / "b.jsonl")


def test_readers_see_old_or_new_never_a_mix(fault_corpus: dict, tmp_path: Path) -> None:
    """While a build runs, an open index answers from the old or the new generation."""
    corpus = fault_corpus["corpus"]
    index_dir = tmp_path / "ix"
    cs.build([corpus], index_dir, progress=False, entities=False)
    index = cs.open_index(index_dir)
    old = index.search("sanctions").total
    (fault_corpus["root"] / "b.jsonl").rename(corpus / "b.jsonl")
    try:
        proc = subprocess.Popen(_build_cmd(corpus, index_dir), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        seen, answered = set(), 0
        while proc.poll() is None or answered < 5:
            res = index.search("sanctions", facets=["outlet"], facet_limit=None)
            assert res.total == int(res.facets["outlet"]["count"].sum())
            seen.add(res.total)
            answered += 1
        assert proc.returncode == 0
        new = index.search("sanctions").total
        assert seen <= {old, new}
        assert new == fault_corpus["after"]["sanctions"][0]
        print(f"{answered} queries answered during the build; totals seen {sorted(seen)}")
    finally:
        (corpus / "b.jsonl").rename(fault_corpus["root"] / "b.jsonl")


def test_concurrent_build_is_refused(fault_corpus: dict, tmp_path: Path) -> None:
    """A second build while one runs fails with a one-line message (exit 2)."""
    corpus = fault_corpus["corpus"]
    index_dir = tmp_path / "ix"
    (fault_corpus["root"] / "b.jsonl").rename(corpus / "b.jsonl")
    try:
        first = subprocess.Popen(_build_cmd(corpus, index_dir), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (index_dir / ".build.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        second = subprocess.run(_build_cmd(corpus, index_dir), capture_output=True, text=True)
        first.wait()
        if second.returncode == 2:
            assert "another build is writing" in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
        else:  # the first build was already done; the second found nothing to do
            assert second.returncode == 0
    finally:
        (corpus / "b.jsonl").rename(fault_corpus["root"] / "b.jsonl")


# --- safety -------------------------------------------------------------------------------


def test_csv_export_neutralises_formulas(tmp_path: Path) -> None:
    """Cells a spreadsheet would run as formulas are written as text."""
    recs = [{"title": "=HYPERLINK(\"http://evil\",\"x\")", "text": "NATO body one"},
            {"title": "+1 and -2 and @SUM", "text": "NATO body two"},
            {"title": "Plain", "text": "NATO body three"}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    cs.build([tmp_path / "a.jsonl"], tmp_path / "ix", progress=False, entities=False)
    out = tmp_path / "hits.csv"
    cs.open_index(tmp_path / "ix").search("NATO").to_csv(out)
    with open(out, newline="") as fh:
        titles = sorted(row["title"] for row in csv.DictReader(fh))
    assert titles == ["'+1 and -2 and @SUM", "'=HYPERLINK(\"http://evil\",\"x\")", "Plain"]
    assert (neutralise("-x"), neutralise(3), neutralise("plain")) == ("'-x", 3, "plain")


def test_index_from_elsewhere_is_refused(tmp_path: Path) -> None:
    """A Whoosh index this package did not build is never opened (it would unpickle)."""


    whoosh_index.create_in(str(tmp_path), make_schema())
    with pytest.raises(cs.UnsafeIndexError, match="did not write"):
        cs.open_index(tmp_path)
    (tmp_path / "CURRENT").write_text("../../etc\n")
    with pytest.raises(cs.UnsafeIndexError):
        cs.open_index(tmp_path)
    assert os.listdir(tmp_path)  # nothing was deleted


def _writing_worker(pid: int, index_dir: Path) -> psutil.Process | None:
    """A dask worker process under ``pid`` with a file of ``index_dir`` open."""
    for p in _descendants(pid):
        if "spawn_main" in _cmdline(p):
            try:
                if any(f.path.startswith(str(index_dir)) for f in p.open_files()):
                    return p
            except psutil.Error:  # gone meanwhile
                continue
    return None


def test_sigkill_while_segments_are_written_on_dask(tmp_path: Path) -> None:
    """A build killed while a dask worker writes half of the new segments leaves no
    process, no temporary file (dask's scratch folder; the forked writer's result file
    used to stay in $TMPDIR) and the previous index intact."""
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_jsonl(corpus / "a.jsonl", 50, seed=3)
    index_dir = tmp_path / "ix"
    cs.build([corpus], index_dir, progress=False, entities=False)
    before = _answers(index_dir)
    _write_jsonl(corpus / "b.jsonl", PARALLEL_MIN_ARTICLES + 200, seed=4)
    for delay in (0.0, 0.4):  # after the worker is seen writing into the index folder
        proc = subprocess.Popen(_build_cmd(corpus, index_dir), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
        deadline, worker = time.monotonic() + 600, None  # 5,200 articles to read first
        while worker is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            worker = _writing_worker(proc.pid, index_dir)
        time.sleep(delay)
        family = _descendants(proc.pid)  # the worker, dask's janitor, anything started since
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, alive = psutil.wait_procs(family, timeout=10)
        deadline = time.monotonic() + 10
        while list(private_tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftovers = _processes(f"--index {index_dir}")
        assert (worker is not None, alive, leftovers) == (True, [], [])
        assert [p.name for p in private_tmp.iterdir()] == []
        assert _answers(index_dir) == before
    report = cs.build([corpus], index_dir, progress=False, entities=False)
    assert (report.added, len(cs.open_index(index_dir))) == (PARALLEL_MIN_ARTICLES + 200,
                                                              PARALLEL_MIN_ARTICLES + 250)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


def test_sigkill_during_entity_extraction_on_dask(tmp_path: Path) -> None:
    """A build killed while dask workers run the NER model leaves no process and no file."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_jsonl(corpus / "a.jsonl", 300, seed=5)
    index_dir = tmp_path / "ix"
    tmp = tmp_path / "tmp"  # the build's /tmp: dask's scratch folder goes there
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    cmd = _build_cmd(corpus, index_dir)[:-1]  # with entities
    for _ in range(2):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        deadline, workers = time.monotonic() + 90, []
        while len(workers) < 2 and time.monotonic() < deadline:  # wait for both workers
            time.sleep(0.2)
            family = _descendants(proc.pid)
            workers = [p for p in family if "spawn_main" in _cmdline(p)]
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, alive = psutil.wait_procs(family, timeout=10)
        deadline = time.monotonic() + 10
        while list(tmp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftovers = _processes(f"--index {index_dir}")
        assert (len(workers), alive, leftovers, list(tmp.iterdir())) == (2, [], [], [])
        assert not (index_dir / "CURRENT").exists()
