"""Indexing and entity extraction on two cores, deterministically (private).

Whoosh's own multiprocessing writer hands batches to whichever worker is free, so the
order of documents (their docnums) differs from build to build, and with it the order of
tied search results. Here the batch is split in two fixed halves: this process indexes
the first half into one new segment while a forked worker indexes the second half into
another; the two segments are then added after the existing ones, in that order. This is
how Whoosh's ``MpWriter(multisegment=True)`` commits, minus the race.

The forked worker asks the kernel to kill it when its parent dies. (Entity extraction
used :func:`map_in_two_halves` too; it now runs on dask, see ``_enrich``.)
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["map_in_two_halves"]


T = TypeVar("T")
R = TypeVar("R")


def _die_with_parent() -> None:
    """Linux: kill this process when its parent dies (it must not outlive a killed build)."""
    import ctypes  # noqa: PLC0415 - Linux only

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return


def map_in_two_halves(fn: Callable[[Sequence[T], bool], list[R]], items: Sequence[T],
                      progress: bool = False, *, folder: str | None = None) -> list[R]:
    """``fn(items[:half], progress) + fn(items[half:], False)``, the second half computed
    in a forked worker at the same time. ``fn``'s results must pickle. The worker's result
    file is made in ``folder`` (the build's temporary generation: a killed build's next
    build removes it with the folder; in ``$TMPDIR`` it would be left behind)."""
    half = (len(items) + 1) // 2
    fd, result_path = tempfile.mkstemp(prefix="cs-half-", suffix=".pickle", dir=folder)
    os.close(fd)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the worker; coverage cannot see it
        code = 1
        try:
            _die_with_parent()
            if os.getppid() != parent:
                os._exit(1)
            out = fn(items[half:], False)
            with open(result_path, "wb") as fh:
                pickle.dump(out, fh)
            code = 0
        finally:
            os._exit(code)
    try:
        first = fn(items[:half], progress)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError(f"the worker process failed (status {status})")
        with open(result_path, "rb") as fh:
            second = pickle.load(fh)  # written just now by our own worker
    except BaseException:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        raise
    finally:
        os.unlink(result_path)
    return first + second
