"""The front door: :class:`Index`, an open index folder with one method per query.

Each method takes the current :class:`~._snapshot.Snapshot` once (switching to a newer
generation first if a build has published one) and calls the query function below it
with that snapshot, so one call reads one whole generation, old or new, never a mix.
Signatures here repeat the query functions' own parameters, names, defaults and
meanings (a test keeps them equal).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from . import _store as store
from ._build import build
from ._colloc import (
    collocates,
    compare_collocates,
    dispersion,
    dispersion_measures,
    ngrams,
)
from ._comention import comentions, entity_timeline
from ._compare import Comparison, compare
from ._corpus import ColumnMap
from ._dups import duplicate_clusters
from ._entities import Extractor
from ._facets import Dates, Filters, Selection
from ._keyness import as_selection, keyness, similar
from ._kwic import concordance
from ._plots import Chart, plot_terms
from ._plots_views import plot_comentions, plot_dispersion
from ._postings import time_budget
from ._provenance import provenance
from ._query import resolve_entity
from ._search import Article, SearchResult, crosstab, facets, search, show
from ._snapshot import EntityStatus, Snapshot, load_snapshot
from ._terms import term_frequency

__all__ = ["Index", "ensure_index", "open_index"]

T = TypeVar("T")

UNKNOWN_OUTLET = "(unknown outlet)"


def _budgeted(method: Callable[..., T]) -> Callable[..., T]:
    """Run a query method within the query time budget (``_postings.QUERY_SECONDS``)."""
    @functools.wraps(method)
    def run(self: Index, *args: object, **kwargs: object) -> T:
        with time_budget():
            return method(self, *args, **kwargs)
    return run


class Index:
    """An open index folder. Cheap to query many times; every query reads the generation
    published when it starts (see :meth:`snapshot`). Use :func:`open_index` to make one.
    """

    def __init__(self, path: str | Path = "index") -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._snap: Snapshot | None = load_snapshot(self.path)
        self._stamp = self._current_stamp()

    # --- the generation in use ----------------------------------------------------------

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = (self.path / store.CURRENT).stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def snapshot(self) -> Snapshot:
        """The newest published generation, opened (the same object until a build
        publishes another). Queries take it once and read only from it."""
        with self._lock:
            if self._snap is None:
                raise store.IndexProblem(f"the index {self.path}/ was closed; open it again")
            stamp = self._current_stamp()
            if stamp is not None and stamp != self._stamp:
                # The old snapshot is released when the last query using it lets go.
                self._snap, self._stamp = load_snapshot(self.path), stamp
            return self._snap

    def refresh(self) -> bool:
        """Switch to a newer generation if a build has published one; returns whether it did."""
        before = self._snap
        return self.snapshot() is not before

    def entity_status(self) -> EntityStatus:
        """How complete the entities of the generation in use are: all there, or (after a
        search-first build published the keyword index) how far extraction has got."""
        return self.snapshot().entity_status()

    @property
    def generation(self) -> str:
        """The name of the generation in use (``gen-000003``)."""
        return self.snapshot().generation

    def provenance(self, *, query: str = "", filters: Mapping | None = None,
                   extra: Mapping | None = None) -> dict:
        """Where a result comes from, to keep beside an export so it can be traced and re-run.

        Pass it to the exports: ``result.to_csv(path, provenance=...)``,
        ``chart.save(path, provenance=...)``, ``comparison.save_html(path,
        provenance=...)``; each writes ``<file>.provenance.json`` beside the file.

        Parameters
        ----------
        query : str, default ""
            The query the result was computed for ("" for none).
        filters : mapping or None, default None
            The filters (outlet, dates, entities...) as given; None for none.
        extra : mapping or None, default None
            Anything else that decides the result (a view's parameters: window,
            measure, count_once...).

        Returns
        -------
        dict
            query, filters, extra, generation, index (its folder), fingerprint (of the
            corpus, from the build), articles, corpus_search, spacy and model versions,
            created (UTC, ISO 8601).
        """
        return provenance(self.snapshot(), query=query, filters=filters, extra=extra)

    def close(self) -> None:
        """Release the generation's files (queries after this raise)."""
        with self._lock:
            if self._snap is not None:
                self._snap.close()
                self._snap = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.snapshot())

    def __repr__(self) -> str:
        if self._snap is None:
            return f"<Index {self.path}: closed>"
        return f"<Index {self.path}: {len(self._snap):,} articles>"

    # --- what is in it ---------------------------------------------------------------------

    def articles(self) -> pd.DataFrame:
        """Every article: doc_id, title, outlet ("" when unknown), date (UTC), words,
        entities."""
        return self.snapshot().articles()

    def summary(self) -> pd.DataFrame:
        """Per outlet: articles, words, dated articles, first and last date (most first)."""
        df = self.articles()
        df["outlet"] = df["outlet"].replace("", UNKNOWN_OUTLET)
        out = df.groupby("outlet", sort=True).agg(
            articles=("doc_id", "size"), words=("words", "sum"),
            dated=("date", "count"), first=("date", "min"), last=("date", "max"))
        return out.sort_values(["articles", "words"], ascending=False)

    # --- queries ---------------------------------------------------------------------------

    @_budgeted
    def search(self, query: str = "*", *, filters: Filters = None, dates: Dates = None,
               limit: int = 10, page: int = 1, sort: str = "relevance",
               facets: bool | Sequence[str] = True, facet_limit: int | None = 10,
               snippets: bool = True, count_once: bool = False) -> SearchResult:
        """Search the articles; one page of ranked hits, the total and facet counts.

        Parameters
        ----------
        query : str, default "*"
            Whoosh query language: ``AND``, ``OR``, ``NOT``, ``"phrases"``, ``word*``,
            ``word~``, fields ``title:``, ``person:``, ``org:``, ``place:``, ``outlet:``,
            ``date:`` (``date:2022-06``, ``date:[2022-06-01 to 2022-06-30]``,
            ``date:>2022-09-01``). ``*`` or "" is every article.
        filters : mapping or None, default None
            Facet (person, org, place, outlet, month) -> a value or a list of values; OR
            within a facet, AND across facets.
        dates : (from, to) or None, default None
            Inclusive publication-date range ("2022-06-01" strings or dates); either end
            may be None.
        limit : int, default 10
            Hits per page.
        page : int, default 1
            Which page of hits (1-based).
        sort : {"relevance", "date"}, default "relevance"
            BM25F score, or newest first.
        facets : bool or sequence of str, default True
            Facets to count (True: all; False: none). Each facet's counts ignore that
            facet's own filter.
        facet_limit : int or None, default 10
            Values per facet, most articles first (None: all).
        snippets : bool, default True
            Build highlighted snippets (False: empty column, no stored text read).
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        SearchResult
            ``total``, ``hits`` (rank, doc_id, score, title, outlet, date, snippet),
            ``facets`` (facet -> value, count), ``suggestion`` (did-you-mean or None).
        """
        return search(self.snapshot(), query, filters=filters, dates=dates, limit=limit,
                      page=page, sort=sort, facets=facets, facet_limit=facet_limit,
                      snippets=snippets, count_once=count_once)

    @_budgeted
    def facets(self, field: str, *, query: str = "*", filters: Filters = None,
               dates: Dates = None, limit: int | None = 20,
               count_once: bool = False) -> pd.DataFrame:
        """Articles per value of one facet.

        Parameters
        ----------
        field : {"person", "org", "place", "outlet", "month"}
            The facet.
        query : str, default "*"
            Which articles count (Whoosh query language).
        filters : mapping or None, default None
            Facet filters, as in :meth:`search` (a filter on ``field`` itself is ignored).
        dates : (from, to) or None, default None
            Inclusive date range.
        limit : int or None, default 20
            Values, most articles first (months: calendar order); None for all.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns ``value``, ``count``; ``attrs["truncated"]`` says whether ``limit``
            cut values off.
        """
        return facets(self.snapshot(), field, query=query, filters=filters, dates=dates,
                      limit=limit, count_once=count_once)

    @_budgeted
    def crosstab(self, rows: str = "outlet", columns: str = "month", *, query: str = "*",
                 filters: Filters = None, dates: Dates = None,
                 count_once: bool = False) -> pd.DataFrame:
        """Article counts for every pair of two facets (outlet x month) as a table.

        Parameters
        ----------
        rows : {"outlet", "month"}, default "outlet"
            The facet down the side (outlets: most articles first).
        columns : {"outlet", "month"}, default "month"
            The facet across (months: every month from first to last, gaps as 0).
        query : str, default "*"
            Which articles count.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Counts; articles without an outlet or date are left out.
        """
        return crosstab(self.snapshot(), rows, columns, query=query, filters=filters,
                        dates=dates, count_once=count_once)

    def show(self, doc_id: str) -> Article:
        """One stored article with its entities (shows itself in Jupyter).

        Parameters
        ----------
        doc_id : str
            The article's id (as in search results).

        Returns
        -------
        Article
            title, text, outlet, date, url, source and an entity table.
        """
        return show(self.snapshot(), doc_id)

    @_budgeted
    def term_frequency(self, terms: str | Sequence[str], *,
                       by: str | tuple[str, str] | None = "outlet", field: str = "all",
                       query: str | None = None, filters: Filters = None,
                       dates: Dates = None, count_once: bool = False) -> pd.DataFrame:
        """How often each term occurs per group of articles (a long DataFrame).

        Parameters
        ----------
        terms : str or sequence of str
            Words (all their stemmed forms count) or ``"quoted phrases"``.
        by : {"outlet", "month", "article", None} or ("outlet", "month"), default "outlet"
            Per outlet; per month (every month from first to last; an error on an undated
            corpus); per article; None for one group; or outlet and month together.
        field : {"all", "body", "title"}, default "all"
            Count in titles and bodies (what search matches), or in one of them.
        query : str or None, default None
            Count only in articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns term, group, count, articles, tokens, per_10k, forms; ``attrs`` hold
            the grouping, field and the articles and words behind the numbers.
        """
        return term_frequency(self.snapshot(), terms, by=by, field=field, query=query,
                              filters=filters, dates=dates, count_once=count_once)

    @_budgeted
    def plot_terms(self, terms: str | Sequence[str], *,
                   by: str | tuple[str, str] | None = "outlet", field: str = "all",
                   query: str | None = None, filters: Filters = None, dates: Dates = None,
                   count_once: bool = False, per_10k: bool = False, title: str | None = None,
                   max_groups: int = 40) -> Chart:
        """Term frequency as a chart: :meth:`term_frequency` drawn by ``cs.plot_terms``.

        Parameters
        ----------
        terms : str or sequence of str
            Words or ``"quoted phrases"``.
        by : {"outlet", "month", "article", None}, default "outlet"
            Bars by outlet or article, lines by month.
        field : {"all", "body", "title"}, default "all"
            What is counted (stated in the caption).
        query : str or None, default None
            Count only in articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).
        per_10k : bool, default False
            Plot occurrences per 10,000 words instead of counts.
        title : str or None, default None
            Chart title (None: the terms and what is plotted).
        max_groups : int, default 40
            Bars for at most this many outlets or articles.

        Returns
        -------
        Chart
            A matplotlib Figure that shows itself once in Jupyter.
        """
        freq = self.term_frequency(terms, by=by, field=field, query=query, filters=filters,
                                   dates=dates, count_once=count_once)
        return plot_terms(freq, per_10k=per_10k, title=title, max_groups=max_groups)

    @_budgeted
    def concordance(self, query: str, *, width: int = 60, sort: str = "doc",
                    limit: int | None = None, filters: Filters = None,
                    dates: Dates = None) -> pd.DataFrame:
        """Every hit of ``query`` in its context (keyword in context).

        Parameters
        ----------
        query : str
            Words, phrases and wildcards to show (words under NOT are not hits).
        width : int, default 60
            Characters of context on each side.
        sort : {"doc", "left", "right"}, default "doc"
            Article order; or by the words left of the hit (nearest first); or right.
        limit : int or None, default None
            At most this many rows.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.

        Returns
        -------
        pandas.DataFrame
            Columns doc_id, outlet, date, left, match, right, start, end (offsets into
            the stored text).
        """
        return concordance(self.snapshot(), query, width=width, sort=sort, limit=limit,
                           filters=filters, dates=dates)

    def compare(self, doc_a: str, doc_b: str, *, n_terms: int = 15, min_ratio: float = 75,
                min_chars: int = 30) -> Comparison:
        """Two articles side by side: shared entities, terms and sentences.

        Parameters
        ----------
        doc_a, doc_b : str
            The two articles' ids.
        n_terms : int, default 15
            Shared distinctive terms to list (tf-idf against the whole index).
        min_ratio : float, default 75
            How alike (0-100) two sentences must be to be paired.
        min_chars : int, default 30
            Shorter sentences are not paired.

        Returns
        -------
        Comparison
            Shows itself in Jupyter as two columns.
        """
        return compare(self.snapshot(), doc_a, doc_b, n_terms=n_terms, min_ratio=min_ratio,
                       min_chars=min_chars)

    @_budgeted
    def keyness(self, target: Selection | Filters, reference: Selection | Filters = None, *,
                min_freq: int = 5, direction: str = "over",
                limit: int | None = 50) -> pd.DataFrame:
        """Key terms of the target articles against the reference articles, by G2.

        Parameters
        ----------
        target : Selection or mapping
            ``cs.Selection(query=..., filters=..., dates=...)`` or just filters, e.g.
            ``{"outlet": "RT"}``.
        reference : Selection, mapping or None, default None
            What they are compared with (None: the rest of the corpus).
        min_freq : int, default 5
            Words seen fewer times in both together are left out.
        direction : {"over", "under", "both"}, default "over"
            Words used more in the target, less, or both.
        limit : int or None, default 50
            Rows, highest G2 first.

        Returns
        -------
        pandas.DataFrame
            Columns term, forms, target, reference, target_per_10k, reference_per_10k,
            g2, log_ratio, stem.
        """
        return keyness(self.snapshot(), target, reference, min_freq=min_freq,
                       direction=direction, limit=limit)

    @_budgeted
    def similar(self, doc_id: str, *, limit: int = 10, query: str = "*",
                filters: Filters = None, dates: Dates = None) -> pd.DataFrame:
        """Articles most like one article (more-like-this over the body).

        Parameters
        ----------
        doc_id : str
            The article to match.
        limit : int, default 10
            How many articles.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.

        Returns
        -------
        pandas.DataFrame
            Search-hit columns (rank, doc_id, score, title, outlet, date, snippet).
        """
        return similar(self.snapshot(), doc_id, limit=limit, query=query, filters=filters,
                       dates=dates)

    def entity_report(self) -> pd.DataFrame:
        """What corpus-level entity resolution did, to audit it: one row per merge,
        retyping or drop (columns rule, name, type, target, target_type, articles). Undo
        one by a line in ``entity-overrides.csv`` in the index folder (name,action,value;
        actions keep, drop, type, merge) and build again (no model run)."""
        return self.snapshot().entity_report()

    # --- corpus-linguistics views ------------------------------------------------------------

    @_budgeted
    def collocates(self, node: str, *, window_left: int = 5, window_right: int = 5,
                   measure: str = "logdice", min_freq: int = 3, limit: int | None = 50,
                   query: str = "*", filters: Filters = None, dates: Dates = None,
                   count_once: bool = False) -> pd.DataFrame:
        """Words that occur near ``node`` more than chance, with association measures.

        Parameters
        ----------
        node : str
            A word (all its stemmed forms) or a phrase.
        window_left, window_right : int, default 5 and 5
            Words on each side that count as near (windows never cross articles).
        measure : {"logdice", "mi", "g2", "t_score"}, default "logdice"
            The measure rows are sorted by (all four are columns).
        min_freq : int, default 3
            Collocates seen fewer times near the node are left out.
        limit : int or None, default 50
            Rows.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns collocate, stem, cooc, freq, node_freq, logdice, mi, g2, t_score,
            articles.
        """
        snap = self.snapshot()
        mask = Selection(query, filters, dates, count_once).mask(snap)
        return collocates(snap, node, window_left=window_left, window_right=window_right,
                          measure=measure, min_freq=min_freq, limit=limit, mask=mask)

    @_budgeted
    def compare_collocates(self, node: str, a: Selection | Filters,
                           b: Selection | Filters = None, *, window_left: int = 5,
                           window_right: int = 5, measure: str = "logdice",
                           min_freq: int = 3, limit: int | None = 50) -> pd.DataFrame:
        """Collocates of ``node`` in two sets of articles side by side (e.g. RT vs the rest).

        Parameters
        ----------
        node : str
            A word or phrase.
        a : Selection or mapping
            The first set, e.g. ``{"outlet": "RT"}``.
        b : Selection, mapping or None, default None
            The second set (None: every article not in ``a``).
        window_left, window_right, measure, min_freq, limit
            As in :meth:`collocates`.

        Returns
        -------
        pandas.DataFrame
            Columns collocate, stem, cooc_a, score_a, rank_a, cooc_b, score_b, rank_b,
            difference.
        """
        snap = self.snapshot()
        mask_a = as_selection(a).mask(snap)
        mask_b = (as_selection(b).mask(snap) & ~mask_a if b is not None
                  else snap.live & ~mask_a)
        return compare_collocates(snap, node, mask_a, mask_b, window_left=window_left,
                                  window_right=window_right, measure=measure,
                                  min_freq=min_freq, limit=limit)

    @_budgeted
    def ngrams(self, *, n: int | tuple[int, ...] = (2, 3), contains: str | None = None,
               anchor: str | None = None, min_freq: int = 2, limit: int | None = 50,
               query: str = "*", filters: Filters = None, dates: Dates = None,
               count_once: bool = False) -> pd.DataFrame:
        """The most frequent sequences of 2 to 5 words (clusters, in AntConc's terms).

        Parameters
        ----------
        n : int or tuple of int, default (2, 3)
            Sequence lengths, 2 to 5.
        contains : str or None, default None
            Only sequences holding this word (any of its forms).
        anchor : {"left", "right", None}, default None
            With ``contains``: the word starts ("left") or ends ("right") the sequence.
        min_freq : int, default 2
            Sequences seen fewer times are left out.
        limit : int or None, default 50
            Rows, most frequent first.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns ngram, n, count, articles.
        """
        snap = self.snapshot()
        mask = Selection(query, filters, dates, count_once).mask(snap)
        return ngrams(snap, n=n, contains=contains, anchor=anchor, min_freq=min_freq,
                      limit=limit, mask=mask)

    @_budgeted
    def dispersion(self, terms: str | Sequence[str], *, order: str = "date",
                   query: str = "*", filters: Filters = None, dates: Dates = None,
                   count_once: bool = False) -> pd.DataFrame:
        """Where each term occurs across the corpus laid end to end (one row per hit).

        Counted in article bodies (the token stream), not titles: term frequency's
        ``field="body"`` gives the same totals.

        Parameters
        ----------
        terms : str or sequence of str
            Words or phrases.
        order : {"date", "article"}, default "date"
            Articles by date (undated last) or in index order.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns term, docnum, doc_id, position (0-1 through the corpus), date;
            ``attrs`` add ``query`` and ``count_once`` (the chart's caption states them).
        """
        snap = self.snapshot()
        mask = Selection(query, filters, dates, count_once).mask(snap)
        hits = dispersion(snap, list([terms] if isinstance(terms, str) else terms),
                          order=order, mask=mask)
        hits.attrs.update(query=query, count_once=count_once)
        return hits

    @_budgeted
    def dispersion_measures(self, terms: str | Sequence[str], *, query: str = "*",
                            filters: Filters = None, dates: Dates = None,
                            count_once: bool = False) -> pd.DataFrame:
        """How evenly each term is spread over the articles: Juilland's D and Gries' DP
        (over article bodies, as :meth:`dispersion`).

        Parameters
        ----------
        terms : str or sequence of str
            Words or phrases.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns term, freq, articles, parts, juilland_d, dp, dp_norm.
        """
        snap = self.snapshot()
        mask = Selection(query, filters, dates, count_once).mask(snap)
        return dispersion_measures(snap, list([terms] if isinstance(terms, str) else terms),
                                   mask=mask)

    @_budgeted
    def plot_dispersion(self, terms: str | Sequence[str], *, order: str = "date",
                        query: str = "*", filters: Filters = None, dates: Dates = None,
                        count_once: bool = False, title: str | None = None) -> Chart:
        """An AntConc-style dispersion plot: one strip per term, a tick per hit (in article
        bodies; the caption says whether near-duplicate copies were counted once).

        Parameters
        ----------
        terms, order, query, filters, dates, count_once
            As in :meth:`dispersion`.
        title : str or None, default None
            Chart title.

        Returns
        -------
        Chart
        """
        hits = self.dispersion(terms, order=order, query=query, filters=filters, dates=dates,
                               count_once=count_once)
        return plot_dispersion(hits, title=title)

    def duplicates(self, *, min_size: int = 2, query: str = "*", filters: Filters = None,
                   dates: Dates = None) -> pd.DataFrame:
        """Clusters of near-duplicate articles (wire copy, republished or updated stories),
        found at build time with MinHash over word 5-grams and checked (Jaccard >= 0.5).

        Parameters
        ----------
        min_size : int, default 2
            Clusters with fewer articles in the selection are left out.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.

        Returns
        -------
        pandas.DataFrame
            Columns cluster, size, doc_id, outlet, date, similarity (to the cluster's
            first article), first (whether it is the earliest).
        """
        snap = self.snapshot()
        return duplicate_clusters(snap, mask=Selection(query, filters, dates).mask(snap),
                                  min_size=min_size)

    @_budgeted
    def comentions(self, *, types: Sequence[str] = ("person", "org", "place"),
                   min_count: int = 2, order: str = "count", limit: int | None = 50,
                   query: str = "*", filters: Filters = None, dates: Dates = None,
                   count_once: bool = False) -> pd.DataFrame:
        """Pairs of entities mentioned in the same article, with PMI and G2 against
        independence (names as merged by the alias table and corpus-level resolution).

        Per article, not per sentence: the index stores which entities each article
        names, not where in its text, so same-sentence pairs would need the model run
        again over the corpus.

        Parameters
        ----------
        types : sequence of str, default ("person", "org", "place")
            Entity types included.
        min_count : int, default 2
            Pairs in fewer articles are left out.
        order : {"count", "g2", "pmi"}, default "count"
            Sort order.
        limit : int or None, default 50
            Rows.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns entity_a, type_a, entity_b, type_b, count, articles_a, articles_b,
            expected, pmi, g2; ``attrs`` hold ``articles`` in scope, ``query`` and
            ``count_once`` (the network's caption states them).
        """
        snap = self.snapshot()
        mask = Selection(query, filters, dates, count_once).mask(snap)
        pairs = comentions(snap, types=tuple(types), min_count=min_count, order=order,
                           limit=limit, mask=mask)
        pairs.attrs.update(query=query, count_once=count_once)
        return pairs

    @_budgeted
    def plot_comentions(self, *, top: int = 30, types: Sequence[str] = ("person", "org",
                                                                          "place"),
                        min_count: int = 2, order: str = "count", query: str = "*",
                        filters: Filters = None, dates: Dates = None,
                        count_once: bool = False, title: str | None = None) -> Chart:
        """Who is mentioned with whom: a network of the ``top`` pairs (node size by
        articles, edge width by co-mentions; pairs named in the same article; the caption
        says whether near-duplicate copies were counted once).

        Parameters
        ----------
        top : int, default 30
            Pairs drawn.
        types, min_count, order, query, filters, dates, count_once
            As in :meth:`comentions`.
        title : str or None, default None
            Chart title.

        Returns
        -------
        Chart
        """
        pairs = self.comentions(types=types, min_count=min_count, order=order, limit=None,
                                query=query, filters=filters, dates=dates,
                                count_once=count_once)
        return plot_comentions(pairs, top=top, title=title)

    @_budgeted
    def entity_timeline(self, name: str, type_: str, *, query: str = "*",
                        filters: Filters = None, dates: Dates = None,
                        count_once: bool = False) -> pd.DataFrame:
        """Articles mentioning one entity, by month and outlet.

        Parameters
        ----------
        name : str
            The entity (aliases and surnames resolved).
        type_ : {"person", "org", "place"}
            Its type.
        query : str, default "*"
            Only articles matching this query.
        filters : mapping or None, default None
            Facet filters, as in :meth:`search`.
        dates : (from, to) or None, default None
            Inclusive date range.
        count_once : bool, default False
            Count each cluster of near-duplicate articles once (its earliest article).

        Returns
        -------
        pandas.DataFrame
            Columns month, outlet, articles.
        """
        snap = self.snapshot()
        mask = Selection(query, filters, dates, count_once).mask(snap)
        return entity_timeline(snap, resolve_entity(snap, type_, name), type_,
                               mask=mask)


def open_index(path: str | Path = "index") -> Index:
    """Open the index built in ``path`` (refuses folders this package did not write).

    Parameters
    ----------
    path : str or Path, default "index"
        The index folder.

    Returns
    -------
    Index
    """
    return Index(path)


def ensure_index(corpus: str | Path | Sequence[str | Path] = "corpus",
                 path: str | Path = "index", *, columns: ColumnMap | None = None,
                 outlet: str = "", entities: bool = True, progress: bool | None = None,
                 extractor: Extractor | None = None, client: Any = None,
                 scheduler: str | None = None, search_first: bool | None = None) -> Index:
    """Build or update the index of ``corpus`` (only new and changed articles), then open
    it: the one call a notebook needs, cheap when nothing changed.

    Parameters
    ----------
    corpus : str, Path or sequence of them, default "corpus"
        Folders and files (.txt, .csv, .jsonl).
    path : str or Path, default "index"
        The index folder.
    columns : ColumnMap or None, default None
        Which CSV/JSONL columns hold which field (None: found by their common names).
    outlet : str, default ""
        The outlet of articles that name none.
    entities : bool, default True
        Run named-entity extraction.
    progress : bool or None, default None
        Show progress bars (None: when standard error is a terminal).
    extractor : Extractor or None, default None
        The entity model runner (None: spaCy's small English model).
    client : distributed.Client or None, default None
        A dask client to run the entity model on.
    scheduler : str or None, default None
        A dask scheduler address (None: ``$CORPUS_SEARCH_SCHEDULER`` or a local cluster).
    search_first : bool or None, default None
        Publish the keyword index before the entities (see :func:`build`); this call
        still returns when both are done. To work while entities are extracted, use
        :func:`build_in_background`.

    Returns
    -------
    Index
    """
    paths = [corpus] if isinstance(corpus, str | Path) else list(corpus)
    build(paths, path, columns=columns, outlet=outlet, entities=entities, progress=progress,
          extractor=extractor, client=client, scheduler=scheduler, search_first=search_first)
    return Index(path)

