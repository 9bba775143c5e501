"""The exceptions corpus_search raises, one tree::

    CorpusSearchError                 every error this package raises on purpose
    ├── CorpusError                   the input could not be read as a corpus at all
    ├── IndexProblem                  something is wrong with an index folder
    │   ├── IndexNotFoundError        no index has been built there yet
    │   ├── UnsafeIndexError          not an index this package built (refused)
    │   │   └── IndexDamagedError     a file does not match its checksum or cannot be read
    │   └── IndexLockedError          another build holds the write lock
    ├── ClusterError                  the dask scheduler given for a build cannot be reached
    ├── BuildCancelled                a background build was cancelled (what it published stays)
    ├── QueryError                    a query that cannot be run; carries ``suggestion``
    └── ArticleNotFoundError          no article with that id

A bad *file* never raises: it is skipped and listed in the build report.
Every message is one line meant for the person who typed the command.
"""

from __future__ import annotations

__all__ = [
    "ArticleNotFoundError",
    "BuildCancelled",
    "ClusterError",
    "CorpusError",
    "CorpusSearchError",
    "IndexDamagedError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexProblem",
    "QueryError",
    "UnsafeIndexError",
]


class CorpusSearchError(Exception):
    """Base class: an error with a one-line message for the user."""

    def _render_traceback_(self) -> list[str]:
        """Show a one-line message in IPython and Jupyter instead of a traceback."""
        return [f"{type(self).__name__}: {self}"]


class CorpusError(CorpusSearchError):
    """The given paths hold nothing that can be read as articles."""


class IndexProblem(CorpusSearchError):
    """Something is wrong with an index folder."""


class IndexNotFoundError(IndexProblem):
    """No index has been built in that folder."""


class UnsafeIndexError(IndexProblem):
    """The folder holds files that this package did not write; it is never opened."""


class IndexDamagedError(UnsafeIndexError):
    """A file of the index is missing, truncated, changed since the build or undecodable."""


class IndexLockedError(IndexProblem):
    """Another build is writing this index."""


class ClusterError(CorpusSearchError):
    """The dask scheduler given for entity extraction cannot be reached."""


class BuildCancelled(CorpusSearchError):
    """A background build was cancelled; generations it had published stay in use."""


class QueryError(CorpusSearchError):
    """A query that cannot be run as typed.

    ``suggestion`` is a query that can be run instead, or ``None``.
    """

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion

    def __str__(self) -> str:
        if self.suggestion:
            return f"{self.message} Try: {self.suggestion}"
        return self.message


class ArticleNotFoundError(CorpusSearchError, KeyError):
    """No article with that id is in the index."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "article not found"
