"""corpus_search: a searchable news corpus with entity facets, term charts and
side-by-side reading, Jupyter first.

    >>> import corpus_search as cs
    >>> report = cs.build(["corpus"], "index")          # doctest: +SKIP
    >>> index = cs.open_index("index")                   # doctest: +SKIP
    >>> index.search("NATO", filters={"person": "Jens Stoltenberg"}).hits  # doctest: +SKIP

The modules behind this namespace are private; everything public is listed in ``__all__``.
"""

from __future__ import annotations

from pathlib import Path

from . import synthetic
from ._compare import Comparison, compare
from ._corpus import Article as SourceArticle
from ._corpus import ColumnMap, LoadReport, load_corpus, parse_date
from ._errors import (
    ArticleNotFoundError,
    ClusterError,
    CorpusError,
    CorpusSearchError,
    IndexLockedError,
    IndexNotFoundError,
    IndexProblem,
    QueryError,
    UnsafeIndexError,
)
from ._index import BuildReport, Index, build, ensure_index, open_index
from ._keyness import KEYNESS_COLUMNS, keyness, similar
from ._kwic import KWIC_COLUMNS, concordance
from ._plots import plot_terms
from ._search import FACETS, HIT_COLUMNS, Article, SearchResult, parse_query
from ._terms import TERM_COLUMNS, term_frequency

__version__ = "0.1.0"

__all__ = [
    "FACETS",
    "HIT_COLUMNS",
    "KEYNESS_COLUMNS",
    "KWIC_COLUMNS",
    "TERM_COLUMNS",
    "Article",
    "ArticleNotFoundError",
    "BuildReport",
    "ClusterError",
    "ColumnMap",
    "Comparison",
    "CorpusError",
    "CorpusSearchError",
    "Index",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexProblem",
    "LoadReport",
    "QueryError",
    "SearchResult",
    "SourceArticle",
    "UnsafeIndexError",
    "__version__",
    "build",
    "compare",
    "concordance",
    "ensure_index",
    "facets",
    "keyness",
    "load_corpus",
    "open_index",
    "parse_date",
    "parse_query",
    "plot_terms",
    "search",
    "show",
    "similar",
    "synthetic",
    "term_frequency",
]


def _as_index(index: Index | str | Path) -> Index:
    return index if isinstance(index, Index) else open_index(index)


def search(query: str = "*", index: Index | str | Path = "index", **kwargs) -> SearchResult:
    """Search an index (an :class:`Index` or its folder); see :meth:`Index.search`."""
    return _as_index(index).search(query, **kwargs)


def facets(field: str, index: Index | str | Path = "index", **kwargs):
    """Facet counts as a DataFrame (value, count); see :meth:`Index.facets`."""
    return _as_index(index).facets(field, **kwargs)


def show(doc_id: str, index: Index | str | Path = "index") -> Article:
    """One article with its entities; see :meth:`Index.show`."""
    return _as_index(index).show(doc_id)
