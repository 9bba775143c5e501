"""Time a build step by step, with the peak memory of each step.

    .venv/bin/python -m benchmarks.phases benchmarks/data/10000/corpus.jsonl /tmp/ix
    .venv/bin/python -m benchmarks.phases corpus.jsonl more.jsonl /tmp/copy --keep

Builds ``SOURCES`` into ``INDEX`` without entities. It prints one line per step of
``_build`` (reading, surface words, segments, columns, stream and duplicates,
publishing...) as it ends: its seconds; the peak RSS of this process and of its largest
child (a dask worker) during the step, sampled every 0.5 s; this process's RSS at its
end; the peak of this process's anonymous memory (``RssAnon`` in ``/proc/<pid>/status``,
Linux: RSS also counts pages of files the process maps, the token stream, segment files
being read, which the system can drop and re-read); and ("all") the peak of the sum of
this process's and all its children's RSS, the whole build (two segment workers from
``_segwriter.WORKERS_ONLY_MIN_DOCS`` articles on).
``--keep`` builds into an existing index (a rebuild) instead of removing it first. It
writes no records: copy its output into ``benchmarks/records/``.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import threading
import time
from pathlib import Path

import psutil

STEPS = ("read_corpus", "_Keys", "_start", "_surfaces", "_enrich", "_resolve_entities",
         "_write_index", "_layout", "_write_columns", "_write_stream_and_duplicates",
         "_publish")


def _anon(pid: int) -> int:
    """The process's resident anonymous memory in bytes (0 where /proc has no figure)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Meter:
    """Peak RSS of this process, of its largest child and of all of them together, and
    peak anonymous memory of this process, sampled in a thread."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.started = time.perf_counter()
        self.peak_self = self.peak_kids = self.peak_anon = self.peak_tree = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self.stopped.wait(0.5):
            try:
                rss = self.me.memory_info().rss
                anon = _anon(self.me.pid)
                each = [c.memory_info().rss for c in self.me.children(recursive=True)]
            except psutil.Error:
                continue
            with self.lock:
                self.peak_self = max(self.peak_self, rss)
                self.peak_anon = max(self.peak_anon, anon)
                self.peak_kids = max(self.peak_kids, max(each or [0]))
                self.peak_tree = max(self.peak_tree, rss + sum(each))

    def stop(self) -> None:
        """Stop sampling."""
        self.stopped.set()

    def mark(self, label: str) -> None:
        """Print the step just ended and start the next one."""
        now = time.perf_counter()
        rss, anon = self.me.memory_info().rss, _anon(self.me.pid)
        with self.lock:
            elapsed = now - self.started
            peak_self, peak_kids = max(self.peak_self, rss), self.peak_kids
            peak_anon, peak_tree = max(self.peak_anon, anon), max(self.peak_tree, rss)
            self.started, self.peak_self, self.peak_kids = now, rss, 0
            self.peak_anon, self.peak_tree = anon, rss
        if label.startswith("(") and elapsed < 0.05:
            return  # nothing worth a line between two steps
        print(f"{label:32s} {elapsed:8.1f} s  peak {peak_self / 2**20:7.0f} MB"
              f"  worker {peak_kids / 2**20:7.0f} MB  at end {rss / 2**20:7.0f} MB"
              f"  anon peak {peak_anon / 2**20:7.0f} MB  all {peak_tree / 2**20:7.0f} MB",
              flush=True)


def main(argv: list[str] | None = None) -> None:
    """Build with each step of ``_build`` timed and its memory sampled."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="+", type=Path, help="the corpus files, then the index")
    p.add_argument("--keep", action="store_true", help="rebuild the index, do not remove it")
    args = p.parse_args(argv)
    *sources, index = args.paths
    if not sources:
        p.error("give at least one corpus file and the index folder")

    import corpus_search as cs
    from corpus_search import _build

    meter = _Meter()
    originals = {name: getattr(_build, name) for name in STEPS}
    for name in STEPS:
        step = getattr(_build, name)

        @functools.wraps(step)
        def timed(*a: object, _step=step, _name=name, **k: object) -> object:
            meter.mark("(between steps)")
            try:
                return _step(*a, **k)
            finally:
                meter.mark(_name)

        setattr(_build, name, timed)
    if not args.keep:
        shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    try:
        report = cs.build(sources, index, entities=False, progress=False)
    finally:
        for name, step in originals.items():
            setattr(_build, name, step)
        meter.stop()
    meter.mark("(end)")
    print(f"total {time.perf_counter() - started:.1f} s: {report.added:,} added, "
          f"{report.unchanged:,} unchanged")


if __name__ == "__main__":
    main()
