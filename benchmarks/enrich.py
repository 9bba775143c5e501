"""Entity extraction on dask: 1 vs 2 workers, overhead per chunk, and a 1M estimate.

    .venv/bin/python -m benchmarks.enrich [--size 2225] [--out benchmarks/records/enrich.json]

Texts: the BBC 2005 corpus (``../shared/corpora/bbc-2005``, 2,225 articles) when present,
else synthetic articles. Measured, in this order, in one process:

1. ``in-process``: ``Extractor.extract`` here, model already loaded, chunks of 64 texts;
2. ``cluster-1`` and ``cluster-2``: a LocalCluster of 1 and 2 worker processes, each
   worker's model loaded before the clock starts, all texts through ``extract_mentions``
   (chunks of ``CHUNK_SIZE``); the mentions must equal the in-process ones;
3. ``end-to-end``: ``extract_mentions(texts, Extractor(), n_workers=2)`` as a build calls
   it, cluster start, model loads and shutdown included;
4. overhead per chunk: 2,000 one-text chunks of a no-op extractor through
   ``extract_chunks`` on the 2-worker cluster (our submit loop), and 2,000 no-op tasks
   through plain ``client.map`` (dask alone).

The load average (``os.getloadavg``) is recorded before and after each step: the machine's
two cores are shared, and a 2-worker speed-up means nothing if something else ran.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import platform
import time
from pathlib import Path

from benchmarks.run import ROOT

BBC = ROOT.parent / "shared" / "corpora" / "bbc-2005"


class NoopExtractor:
    """Finds nothing, instantly: what remains of a chunk's time is dask's overhead."""

    def extract(self, texts: list[str], progress: bool = False) -> list[list]:
        """No mentions for any text."""
        return [[] for _ in texts]


def _noop(x: int) -> int:
    return x


def _warm(extractor: object) -> bool:
    """Run on each worker: load the model into the worker's cache, as a first chunk would."""
    from corpus_search import _enrich

    _enrich._WORKER_MODELS.setdefault(pickle.dumps(extractor), extractor).nlp  # noqa: B018
    return True


def _cpu_seconds() -> float:
    """Run on each worker: the CPU time its process has used so far."""
    import psutil

    t = psutil.Process().cpu_times()
    return t.user + t.system


def _rss_mb() -> float:
    """Run on each worker: its resident memory, model loaded, in MB."""
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20)


def _texts(size: int) -> tuple[list[str], str]:
    if BBC.is_dir():
        files = sorted(BBC.glob("*/*.txt"))[:size]
        return [f.read_text("latin-1") for f in files], f"BBC 2005 ({BBC})"
    from corpus_search.synthetic import generate

    return [r["text"] for r in generate(size, seed=1)], "synthetic.generate(seed=1)"


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2225)
    p.add_argument("--tiny-chunks", type=int, default=2000)
    p.add_argument("--skip-in-process", action="store_true",
                   help="no in-process step (1-worker mentions are the reference)")
    p.add_argument("--skip-end-to-end", action="store_true")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                   help="LocalCluster sizes, in this order (must include 1 and 2)")
    p.add_argument("--out", type=Path, help="JSON results (default: print only)")
    args = p.parse_args(argv)

    from distributed import Client, LocalCluster

    from corpus_search._enrich import CHUNK_SIZE, extract_chunks, extract_mentions
    from corpus_search._entities import Extractor

    texts, source = _texts(args.size)
    chars = sum(map(len, texts))
    res: dict = {"size": len(texts), "source": source, "mean_chars": round(chars / len(texts)),
                 "chunk_size": CHUNK_SIZE, "cpus": os.cpu_count(),
                 "python": platform.python_version(), "steps": {}}

    def step(name: str, seconds: float, before: float, **extra: object) -> None:
        res["steps"][name] = {"seconds": round(seconds, 2),
                              "articles_per_second": round(len(texts) / seconds, 1),
                              "load_before": before, "load_after": _load(), **extra}
        print(f"{name:12s} {seconds:7.1f} s  {len(texts) / seconds:6.1f} art/s  "
              f"load {before} -> {_load()}  {extra or ''}", flush=True)

    reference = None
    if not args.skip_in_process:
        ex = Extractor()
        t = time.perf_counter()
        _ = ex.nlp
        res["model_load_seconds"] = round(time.perf_counter() - t, 2)
        before = _load()
        t = time.perf_counter()
        reference = [m for i in range(0, len(texts), CHUNK_SIZE)
                     for m in ex.extract(texts[i : i + CHUNK_SIZE])]
        step("in-process", time.perf_counter() - t, before,
             mentions=sum(map(len, reference)))

    for n in args.workers:
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=":0", memory_limit=0,
                          silence_logs=logging.CRITICAL) as cluster, \
                Client(cluster, set_as_default=False) as client:
            client.run(_warm, Extractor())
            before = _load()
            cpu0 = client.run(_cpu_seconds)
            t = time.perf_counter()
            got = extract_mentions(texts, Extractor(), client=client, min_cluster_texts=0)
            seconds = time.perf_counter() - t
            cpu = sum(client.run(_cpu_seconds).values()) - sum(cpu0.values())
            rss = client.run(_rss_mb)
            if reference is None:
                reference = got
            # CPU seconds the workers got: on a shared machine, wall time / CPU time shows
            # how much of their cores they actually had.
            step(f"cluster-{n}", seconds, before, identical=got == reference,
                 worker_rss_mb=sorted(rss.values()), worker_cpu_seconds=round(cpu, 1),
                 articles_per_cpu_second=round(len(texts) / cpu, 1),
                 cores_used=round(cpu / seconds, 2))
            if n == 2:
                m = args.tiny_chunks
                before = _load()
                t = time.perf_counter()
                extract_chunks(((i, "x") for i in range(m)), NoopExtractor(),
                               on_chunk=lambda pairs: None, client=client, chunk_size=1,
                               min_cluster_texts=0)
                ours = time.perf_counter() - t
                t = time.perf_counter()
                client.gather(client.map(_noop, range(m), pure=False))
                plain = time.perf_counter() - t
                res["overhead"] = {
                    "chunks": m, "workers": 2, "load_before": before,
                    "extract_chunks_ms_per_chunk": round(ours / m * 1000, 3),
                    "client_map_ms_per_task": round(plain / m * 1000, 3),
                    "load_after": _load()}
                print(f"overhead: {ours / m * 1000:.2f} ms per 1-text chunk through "
                      f"extract_chunks, {plain / m * 1000:.2f} ms per task through "
                      f"client.map ({m} each, load {before} -> {_load()})", flush=True)

    if not args.skip_end_to_end:
        before = _load()
        t = time.perf_counter()
        got = extract_mentions(texts, Extractor(), n_workers=2)
        step("end-to-end", time.perf_counter() - t, before, identical=got == reference)

    s = res["steps"]
    res["speedup_2_vs_1"] = round(s["cluster-1"]["seconds"] / s["cluster-2"]["seconds"], 2)
    print(f"2 workers vs 1: x{res['speedup_2_vs_1']}")
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    main()
