"""corpus_search: a searchable news corpus with entity facets, term charts and
side-by-side reading, Jupyter first.

    >>> import corpus_search as cs
    >>> report = cs.build(["corpus"], "index")          # doctest: +SKIP
    >>> index = cs.open_index("index")                   # doctest: +SKIP
    >>> index.search("NATO", filters={"person": "Jens Stoltenberg"}).hits  # doctest: +SKIP

The modules behind this namespace are private (their names start with ``_``) and import
only downward: corpus -> enrichment -> store/build -> snapshot -> queries -> views (render,
plots) -> the :class:`Index` front door -> widgets and the CLI. Everything public is
listed in ``__all__``; the exceptions are drawn as one tree in ``_errors``.
"""

from __future__ import annotations

from . import synthetic
from ._build import BuildJob, BuildReport, build, build_in_background
from ._compare import Comparison
from ._corpus import Article as SourceArticle
from ._corpus import ColumnMap, LoadReport, load_corpus, parse_date
from ._errors import (
    ArticleNotFoundError,
    BuildCancelled,
    ClusterError,
    CorpusError,
    CorpusSearchError,
    IndexDamagedError,
    IndexLockedError,
    IndexNotFoundError,
    IndexProblem,
    QueryError,
    UnsafeIndexError,
)
from ._export import to_csv
from ._facets import FACET_COLUMNS, FACETS, Selection
from ._index import Index, ensure_index, open_index
from ._keyness import KEYNESS_COLUMNS
from ._kwic import KWIC_COLUMNS
from ._plots import Chart, plot_terms
from ._search import HIT_COLUMNS, Article, SearchResult
from ._snapshot import EntityStatus, Snapshot
from ._terms import TERM_COLUMNS
from ._trust import CHECK_COLUMNS, check_index, trust_index

__version__ = "0.1.0"

__all__ = [
    "CHECK_COLUMNS",
    "FACETS",
    "FACET_COLUMNS",
    "HIT_COLUMNS",
    "KEYNESS_COLUMNS",
    "KWIC_COLUMNS",
    "TERM_COLUMNS",
    "Article",
    "ArticleNotFoundError",
    "BuildCancelled",
    "BuildJob",
    "BuildReport",
    "Chart",
    "ClusterError",
    "ColumnMap",
    "Comparison",
    "CorpusError",
    "CorpusSearchError",
    "EntityStatus",
    "Index",
    "IndexDamagedError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexProblem",
    "LoadReport",
    "QueryError",
    "SearchResult",
    "Selection",
    "Snapshot",
    "SourceArticle",
    "UnsafeIndexError",
    "__version__",
    "build",
    "build_in_background",
    "check_index",
    "ensure_index",
    "load_corpus",
    "open_index",
    "parse_date",
    "plot_terms",
    "synthetic",
    "to_csv",
    "trust_index",
]
