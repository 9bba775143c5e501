"""Entity extraction on dask.distributed (private); and ``run_halves``, the build's
two-process runs (surface words, segments) on a local cluster of one worker (or two).

The spaCy model runs on dask workers: by default a ``LocalCluster`` of one process per CPU
core (one thread each), started and closed by the call; or an existing cluster, given as
a ``client``, a scheduler address, or the ``CORPUS_SEARCH_SCHEDULER`` environment
variable (a lab server, or a SLURM allocation started with dask-jobqueue). Workers get
article texts in chunks and send back raw ``(text, label)`` mentions only: no shared
filesystem is needed. Each worker process loads the model once, on its first chunk, and
keeps it (``_WORKER_MODELS``).

Results do not depend on the number of workers: the texts are cut into the same chunks
whatever runs them, and each chunk goes through ``Extractor.extract`` exactly as it would
in this process. Small inputs (fewer than ``MIN_CLUSTER_TEXTS`` texts, or a machine with
one core) run here, in the same chunks, without a cluster.

Kill safety. A local worker process exits as soon as this process dies, however it dies:
distributed starts it with a pipe from its parent and a thread that calls ``os._exit``
when the pipe closes (``distributed.process.AsyncProcess``); the test suite checks it with
SIGKILL. Its scratch folder (``dask-scratch-space``: lock files, spill storage) cannot be
removed by a process killed with SIGKILL, so it lives in a fresh temporary folder watched
by a small janitor process (``_Janitor``), started in its own session so that Ctrl-C in a
terminal does not reach it: it waits for this process to close a pipe, and if that
happens without a "done" message (this process died), removes the folder and exits.
Ctrl-C (``KeyboardInterrupt``) cancels the submitted chunks, closes the cluster, removes
the folder and re-raises with a one-line message.
"""

from __future__ import annotations

import contextlib
import copy
import io
import itertools
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tqdm.auto import tqdm

from ._errors import ClusterError

if TYPE_CHECKING:  # annotations only: _entities imports this module
    from ._entities import Extractor, RawMention

__all__ = [
    "CHUNK_SIZE",
    "MIN_CLUSTER_TEXTS",
    "SCHEDULER_ENV",
    "extract_chunks",
    "extract_mentions",
]

SCHEDULER_ENV = "CORPUS_SEARCH_SCHEDULER"
"""Environment variable holding a dask scheduler address (``tcp://host:8786``) to use."""

CHUNK_SIZE = 64
"""Texts per task: about two seconds of model time for a news article of 2,000 characters,
long enough that the scheduler's overhead per chunk (milliseconds) does not count."""

CONNECT_TIMEOUT = "20s"
"""How long to try reaching a scheduler address before giving up with ``ClusterError``."""

MIN_CLUSTER_TEXTS = 64
"""Fewer texts than this run in this process: starting a cluster and loading the model in
each worker costs seconds."""

K = TypeVar("K")

_WORKER_MODELS: dict[bytes, Any] = {}
"""In each worker process: the extractors seen so far, keyed by their pickled settings, so
that the model is loaded once per worker and not once per chunk."""


def _extract_chunk(extractor: Extractor, texts: list[str]) -> list[list[RawMention]]:
    """Run on a worker: the mentions of each text of one chunk."""
    try:
        key = pickle.dumps(extractor)
    except (pickle.PicklingError, AttributeError, TypeError):  # a class defined in __main__
        import cloudpickle  # noqa: PLC0415 - dask's own serialiser, only for __main__ classes

        key = cloudpickle.dumps(extractor)
    model = _WORKER_MODELS.setdefault(key, extractor)
    return model.extract(texts)


class _Janitor:
    """A process that removes ``path`` if this process dies before saying it is done."""

    CODE = (
        "import os, shutil, signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "if sys.stdin.buffer.read() != b'done':\n"
        "    for _ in range(40):\n"  # the workers exit within milliseconds of their parent
        "        shutil.rmtree(sys.argv[1], ignore_errors=True)\n"
        "        time.sleep(0.25)\n"
        "        if not os.path.exists(sys.argv[1]):\n"
        "            break\n"
    )

    def __init__(self, path: str) -> None:
        self.path = path
        self._proc = subprocess.Popen([sys.executable, "-c", self.CODE, path],
                                      stdin=subprocess.PIPE, start_new_session=True)

    def done(self) -> None:
        """Remove the folder here and let the janitor exit."""
        shutil.rmtree(self.path, ignore_errors=True)
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.write(b"done")
            self._proc.stdin.close()
        self._proc.wait(timeout=30)


def _default_workers() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own warnings and log lines (ports, scratch folders, closing comms) are about
    its internals, which the person running a build cannot act on: hide them."""
    names = ("distributed", "tornado", "asyncio", "bokeh")
    levels = {n: logging.getLogger(n).level for n in names}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"(distributed|tornado|bokeh)(\.|$)")
        for n in names:
            logging.getLogger(n).setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for n, level in levels.items():
                logging.getLogger(n).setLevel(level)


@contextlib.contextmanager
def _open_client(client: Any, scheduler: str | None, n_workers: int,
                 config: dict[str, Any] | None = None) -> Iterator[Any]:
    """The client to use: the one given, one connected to ``scheduler``, or one of a new
    LocalCluster (closed, with its scratch folder, on the way out), started with the dask
    settings ``config`` on top of ours. (Settings are set here, after ``distributed`` is
    imported: a ``dask.config.set`` of a ``distributed.*`` key made before would, on exit,
    drop the defaults that the import added.)"""
    from distributed import Client  # noqa: PLC0415 - heavy (~0.8 s): only when a cluster runs

    if client is not None:
        yield client
        return
    if scheduler:
        try:
            connected = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the dask scheduler at {scheduler!r} "
                               f"({type(exc).__name__}: {exc})".splitlines()[0]) from None
        try:
            yield connected
        finally:
            connected.close()  # the cluster is someone else's: it stays up
        return
    with _local_cluster(n_workers, config) as (local, _scratch):
        yield local


@contextlib.contextmanager
def _local_cluster(n_workers: int, config: dict[str, Any] | None = None
                   ) -> Iterator[tuple[Any, str]]:
    """A client of a new LocalCluster of ``n_workers`` one-thread processes, and its
    scratch folder (a fresh temporary folder that the janitor removes, with everything in
    it, when the cluster closes or this process dies); ``config`` as for
    ``_open_client``."""
    import dask  # noqa: PLC0415 - heavy (~0.8 s): only when a cluster runs
    from distributed import Client, LocalCluster  # noqa: PLC0415 - heavy: only when a cluster runs

    scratch = tempfile.mkdtemp(prefix="cs-dask-")
    janitor = _Janitor(scratch)
    # A nanny sets its workers' "pre-spawn" variables (OMP_NUM_THREADS=1,
    # MALLOC_TRIM_THRESHOLD_...) in this process's os.environ to pass them on: put them back
    # on the way out, so that they do not reach later children (a notebook's, the segment
    # writer's worker) nor this process's own subprocesses.
    environ = {k: os.environ.get(k) for k in dask.config.get(
        "distributed.nanny.pre-spawn-environ", default={})}
    try:
        with dask.config.set({"temporary-directory": scratch,
                              "distributed.worker.memory.spill": False,
                              "distributed.worker.memory.target": False,
                              **(config or {})}):
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                   processes=True, dashboard_address=":0",
                                   local_directory=scratch, memory_limit=0,
                                   silence_logs=logging.CRITICAL)
        try:
            local = Client(cluster, set_as_default=False)
            try:
                yield local, scratch
            finally:
                local.close()
        finally:
            cluster.close()
    finally:
        for k, v in environ.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        janitor.done()


R = TypeVar("R")


def view_bounds(key: slice, start: int, length: int) -> tuple[int, int]:
    """Where the contiguous slice ``key`` of a view of ``length`` items starting at
    ``start`` (of what it views) starts and stops, in what it views."""
    a, b, step = key.indices(length)
    if step != 1:
        raise ValueError("only contiguous slices")
    return start + a, start + max(a, b)


class _Packed(Sequence):
    """A run's items, pickled one at a time as they are made (the run is never held
    whole) and read back one at a time where it is used: on the worker, one item is
    unpickled while the one before it is dropped.

    Sent to dask as one opaque value. Given as a list, dask walks every item of a task's
    arguments looking for futures (150M calls for 5,000 documents sharing their run's word
    list) and serialises a list holding numpy arrays item by item. Objects the items
    share (``run.shared()``, if the run has it: the word list of a run of documents) are
    pickled once, not once per item. Only this build's own bytes are unpickled.

    With ``path``, the items are pickled into that new file (the cluster's scratch folder)
    and the value sent is only its name and the items' offsets: neither this process nor
    dask holds the bytes (a run of 25,000 documents is ~157 MB, and dask's messages held
    about a second copy of each run in flight), and the worker reads one item at a time.
    Whoever sends it removes the file once the result is taken; :meth:`close` closes the
    reading side."""

    def __init__(self, run: Iterable[Any], path: str | None = None) -> None:
        shared = list(run.shared()) if hasattr(run, "shared") else []
        ids = {id(obj): k for k, obj in enumerate(shared)}

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj: Any) -> int | None:
                return ids.get(id(obj))

        with (io.BytesIO() if path is None else open(path, "xb")) as buf:
            pickler = Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
            ends = [0]
            for item in run:
                pickler.dump(item)
                pickler.clear_memo()  # (the memo would hold every item made so far)
                ends.append(buf.tell())
            self._data = buf.getvalue() if path is None else None
        self._path = path
        self._ends = ends
        self._shared = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
        self._start, self._stop = 0, len(ends) - 1

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            view = copy.copy(self)
            view.__dict__.pop("_file", None)  # (its own, when it reads)
            view._start, view._stop = view_bounds(key, self._start, len(self))
            return view
        if not -len(self) <= key < len(self):
            raise IndexError(key)
        i = self._start + key % len(self)
        shared = self._loaded_shared()
        a, b = self._ends[i], self._ends[i + 1]
        if self._data is not None:
            data: bytes | memoryview = memoryview(self._data)[a:b]
        else:
            f = self.__dict__.get("_file")
            if f is None:
                f = self.__dict__["_file"] = open(self._path, "rb")  # noqa: SIM115 - see close
            f.seek(a)
            data = f.read(b - a)
        unpickler = pickle.Unpickler(io.BytesIO(data))
        unpickler.persistent_load = shared.__getitem__
        return unpickler.load()

    def close(self) -> None:
        """Close the file the items are read from, if one is open (so that it can be
        removed on any system)."""
        f = self.__dict__.pop("_file", None)
        if f is not None:
            f.close()

    def _loaded_shared(self) -> list:
        got = self.__dict__.get("_shared_objects")
        if got is None:
            got = self.__dict__["_shared_objects"] = pickle.loads(self._shared)
        return got

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_shared_objects", "_file")}


def _there(there: Callable[..., R], there_args: tuple, packed: _Packed) -> R:
    """Run on the worker: ``there(*there_args, packed)``, its file closed after."""
    try:
        return there(*there_args, packed)
    finally:
        packed.close()


def run_halves(mine: Sequence[Iterable[Any]], theirs: Sequence[Iterable[Any]],
               here: Callable[[Iterable[Any]], R], there: Callable[..., R],
               there_args: tuple, took: Callable[[int, R], None], *, doing: str,
               config: dict[str, Any] | None = None, n_workers: int = 1) -> None:
    """Runs of work on two processes: ``here(run)`` for each run of ``mine``, in order, in
    this process, while the worker of a new one-process ``LocalCluster`` does
    ``there(*there_args, run)`` for each run of ``theirs`` (sent as a :class:`_Packed`
    sequence: pickled an item at a time, read back an item at a time). With ``n_workers``
    above 1, that many workers share ``theirs`` (``mine`` is then usually empty: this
    process only sends runs and takes results).

    Each result goes to ``took(k, result)``, in this process, as soon as it is taken:
    ``k`` numbers ``mine`` then ``theirs``. Ours come in order; theirs are taken after each
    of ours (those finished by then) and at the end, in order. The workers' runs are sent
    at most two ahead of each, each made (lazy items made, texts read) and pickled only when
    sent. Each is pickled into a file of the cluster's scratch folder, removed when its
    result is taken (the folder goes with the cluster, or with this process however it
    ends): neither this process nor dask's messages hold the runs' bytes, so memory is
    bounded by one item, not by the run size nor the work. A taken run's future is
    dropped at once.

    Always a local cluster, whatever scheduler entity extraction was given (the build's
    workers read and write this machine's files), with ``_local_cluster``'s kill safety.
    ``config``: dask settings for it. Ctrl-C stops the worker and raises
    ``KeyboardInterrupt("<doing> was interrupted; its dask worker was stopped")``."""
    futures: list = []  # per run sent: its future, until its result is taken
    key = f"corpus-search-{uuid.uuid4().hex[:12]}"
    with _quiet_dask():
        try:
            with _local_cluster(n_workers, config=config) as (client, scratch):
                ahead = 2 * max(1, n_workers)

                def sent(j: int) -> str:
                    return os.path.join(scratch, f"run-{j}.pickle")

                def take(j: int) -> None:
                    took(len(mine) + j, futures[j].result())
                    futures[j] = None
                    os.remove(sent(j))

                def collect() -> int:
                    for j, fut in enumerate(futures):
                        if fut is not None and fut.done():
                            take(j)
                    return sum(1 for f in futures if f is None)

                def feed(upto: int) -> None:
                    while len(futures) < min(upto, len(theirs)):
                        j = len(futures)
                        futures.append(client.submit(_there, there, there_args,
                                                     _Packed(theirs[j], sent(j)),
                                                     pure=False, key=f"{key}-{j}"))

                try:
                    feed(ahead)
                    for k, run in enumerate(mine):
                        took(k, here(run))
                        feed(collect() + ahead)
                    for j in range(len(theirs)):
                        feed(j + ahead)
                        if futures[j] is not None:
                            take(j)
                except BaseException:
                    for fut in futures:
                        if fut is not None:
                            with contextlib.suppress(Exception):
                                fut.cancel()
                    raise
        except KeyboardInterrupt:
            stopped = "workers were" if n_workers > 1 else "worker was"
            raise KeyboardInterrupt(f"{doing} was interrupted; its dask {stopped} "
                                    "stopped") from None


def _chunks(items: Iterable[tuple[K, str]], size: int) -> Iterator[list[tuple[K, str]]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def extract_chunks(items: Iterable[tuple[K, str]], extractor: Extractor, *,
                   on_chunk: Callable[[list[tuple[K, list[RawMention]]]], None],
                   client: Any = None, scheduler: str | None = None,
                   n_workers: int | None = None, chunk_size: int = CHUNK_SIZE,
                   min_cluster_texts: int = MIN_CLUSTER_TEXTS, total: int | None = None,
                   progress: bool = False) -> int:
    """Run the model over ``(key, text)`` pairs in chunks, reporting each finished chunk.

    Meant for a build that stores results as they arrive: ``on_chunk`` is called in this
    process (the caller's thread) once per chunk, in the order chunks finish, with the
    chunk's ``(key, mentions)`` pairs in their input order. Only a bounded number of chunks
    is in flight at a time, so ``items`` may be a generator over millions of articles.

    Parameters
    ----------
    items : iterable of (key, str)
        The texts, each with a key of the caller's choosing (an article id, a position).
    extractor : Extractor
        The model settings; pickled (without a loaded model) to each worker, which loads
        the model once and keeps it for later chunks.
    on_chunk : callable
        ``on_chunk(pairs)`` for each finished chunk; an exception it raises stops the run
        (chunks in flight are cancelled) and is re-raised.
    client : distributed.Client, optional
        An existing cluster's client. It is used as is and neither closed nor shut down.
    scheduler : str, optional
        A scheduler address such as ``"tcp://host:8786"`` when no ``client`` is given;
        default: the ``CORPUS_SEARCH_SCHEDULER`` environment variable. The cluster is left
        running; only our connection to it is closed.
    n_workers : int, optional
        Worker processes of the LocalCluster started when there is neither ``client`` nor
        scheduler (one thread each); default: the CPU cores this process may use. With
        one, the texts run in this process.
    chunk_size : int, default CHUNK_SIZE
        Texts per task (at least 1).
    min_cluster_texts : int, default MIN_CLUSTER_TEXTS
        Fewer texts than this run in this process, whatever cluster is given. Set 0 to
        always use the cluster.
    total : int, optional
        How many pairs ``items`` holds, for the progress bar; default ``len(items)`` when
        it has a length.
    progress : bool, default False
        Show a tqdm bar (terminal or notebook) advancing as chunks finish.

    Returns
    -------
    int
        The number of texts processed.

    Raises
    ------
    ClusterError
        The scheduler address cannot be reached.
    KeyboardInterrupt
        On Ctrl-C: the chunks in flight are cancelled and a LocalCluster we started is
        closed before it is re-raised with a one-line message.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    if total is None and isinstance(items, Sequence):
        total = len(items)
    it = iter(items)
    head = list(itertools.islice(it, max(min_cluster_texts, 1)))
    rest = itertools.chain(head, it)
    address = None if client is not None else (scheduler or os.environ.get(SCHEDULER_ENV))
    workers = n_workers if n_workers is not None else _default_workers()
    local = len(head) < min_cluster_texts or (client is None and not address
                                                and workers <= 1)
    done = 0
    bar = tqdm(total=total, desc="entities", unit="art", disable=not progress, leave=False)
    try:
        if local:
            for chunk in _chunks(rest, chunk_size):
                mentions = extractor.extract([t for _, t in chunk])
                on_chunk([(k, m) for (k, _), m in zip(chunk, mentions, strict=True)])
                done += len(chunk)
                bar.update(len(chunk))
            return done
        with _quiet_dask():
            try:
                with _open_client(client, address, workers) as cl:
                    done = _run_on(cl, rest, extractor, on_chunk, chunk_size, bar)
            except KeyboardInterrupt:
                raise KeyboardInterrupt(
                    f"entity extraction interrupted after {bar.n:,} texts; "
                    "its dask tasks were cancelled") from None
        return done
    finally:
        bar.close()


def _run_on(client: Any, items: Iterable[tuple[K, str]], extractor: Extractor,
            on_chunk: Callable[[list[tuple[K, list[RawMention]]]], None],
            chunk_size: int, bar: Any) -> int:
    """Submit chunks to ``client``, a bounded number at a time; report each as it ends."""
    from distributed import as_completed  # noqa: PLC0415 - heavy: only when a cluster runs

    run = uuid.uuid4().hex[:12]
    chunks = enumerate(_chunks(items, chunk_size))
    in_flight: dict[str, tuple[Any, list]] = {}  # task key -> (future, the chunk's keys)
    pending = as_completed(loop=client.loop)

    def target() -> int:
        """Chunks to keep in flight: enough to keep every worker busy (workers of an
        adaptive cluster may come and go, so this is asked again now and then)."""
        return max(4, 3 * sum(client.nthreads().values()))

    def top_up(limit: int) -> None:
        while len(in_flight) < limit:
            nxt = next(chunks, None)
            if nxt is None:
                return
            i, chunk = nxt
            fut = client.submit(_extract_chunk, extractor, [t for _, t in chunk],
                                pure=False, key=f"corpus-search-ner-{run}-{i}")
            in_flight[fut.key] = (fut, [k for k, _ in chunk])
            pending.add(fut)

    done = 0
    try:
        limit, asked = target(), time.monotonic()
        top_up(limit)
        for fut in pending:
            mentions = fut.result()
            _, chunk_keys = in_flight.pop(fut.key)
            fut.release()
            on_chunk(list(zip(chunk_keys, mentions, strict=True)))
            done += len(chunk_keys)
            bar.update(len(chunk_keys))
            if time.monotonic() - asked > 5:
                limit, asked = target(), time.monotonic()
            top_up(limit)
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel([f for f, _ in in_flight.values()])
        raise
    return done


def extract_mentions(texts: Sequence[str], extractor: Extractor, *, client: Any = None,
                     scheduler: str | None = None, n_workers: int | None = None,
                     chunk_size: int = CHUNK_SIZE,
                     min_cluster_texts: int = MIN_CLUSTER_TEXTS,
                     progress: bool = False) -> list[list[RawMention]]:
    """The raw ``(text, spaCy label)`` mentions of each text, in input order, on dask.

    The same for any number of workers. See :func:`extract_chunks` for where the work
    runs; this collects its chunks in input order.

    Parameters
    ----------
    texts : sequence of str
        The article texts.
    extractor : Extractor
        The model settings (see :func:`extract_chunks`).
    client : distributed.Client, optional
        An existing cluster's client, used as is and left open.
    scheduler : str, optional
        A scheduler address (``"tcp://host:8786"``); default: ``CORPUS_SEARCH_SCHEDULER``.
    n_workers : int, optional
        Processes of the LocalCluster started otherwise; default: the usable CPU cores.
    chunk_size : int, default CHUNK_SIZE
        Texts per task.
    min_cluster_texts : int, default MIN_CLUSTER_TEXTS
        Fewer texts than this run in this process.
    progress : bool, default False
        Show a tqdm bar as chunks finish.

    Returns
    -------
    list of list of (str, str)
        For each text, its mentions in document order.
    """
    out: list[list[RawMention] | None] = [None] * len(texts)

    def store(pairs: list[tuple[int, list[RawMention]]]) -> None:
        for i, mentions in pairs:
            out[i] = mentions

    extract_chunks(enumerate(texts), extractor, on_chunk=store, client=client,
                   scheduler=scheduler, n_workers=n_workers, chunk_size=chunk_size,
                   min_cluster_texts=min_cluster_texts, total=len(texts), progress=progress)
    return out  # type: ignore[return-value]  # every position was filled
