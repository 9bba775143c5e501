"""The ``corpus-search`` command: a thin layer over the library, one verb per call.

Verbs: build, search, facets, show, check, trust, terms, kwic, compare, keyness, similar,
collocates, compare-collocates, ngrams, dispersion, duplicates, comentions, entity-report.
Every option default is read from the library function the verb calls, so ``--help`` and
the library never disagree. Errors print one line on stderr and exit with status 2;
``--json`` prints machine-readable output on stdout. Every export carries its provenance
(query, filters, generation, corpus fingerprint, versions, time): a ``"provenance"`` key
in every ``--json`` object (tables print as ``{"attrs", "rows", "provenance"}``), a
``<file>.provenance.json`` sidecar beside ``--csv`` tables, ``--plot`` figures and
``--html`` pages. ``check`` is the one exception: it reports on the index's files, and
must work when the index cannot be opened. Text printed to a terminal has control
characters removed (article data may hold escape sequences).
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from ._build import SEARCH_FIRST_MIN, build
from ._colloc import MEASURES
from ._corpus import ColumnMap
from ._entities import ENTITY_TYPES
from ._errors import CorpusSearchError
from ._export import iso_date, to_csv
from ._facets import FACETS, Selection
from ._index import Index, open_index
from ._keyness import DIRECTIONS
from ._kwic import SORTS as KWIC_SORTS
from ._plots import Chart
from ._provenance import provenance
from ._search import SORTS
from ._terms import FIELDS
from ._trust import check_index, is_damage, trust_index

__all__ = ["main", "make_parser"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
DISPERSION_ORDERS = ("date", "article")
COMENTION_ORDERS = ("count", "g2", "pmi")
ANCHORS = ("left", "right")
_NOT_PARAMETERS = frozenset({"func", "command", "index", "json", "csv", "plot", "html", "query",
                             "filter", "date_from", "date_to"})


def _default(fn: Callable, name: str) -> object:
    """The default of parameter ``name`` of a library function."""
    return inspect.signature(fn).parameters[name].default


def _say(text: object = "") -> None:
    """Print for a person: control characters (terminal escapes, NULs) removed."""
    print(_CONTROL.sub("", str(text)))


def _filters(items: Sequence[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CorpusSearchError(f"--filter wants FIELD=VALUE, got {item!r}")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _dates(args: argparse.Namespace) -> tuple[str | None, str | None] | None:
    lo, hi = getattr(args, "date_from", None), getattr(args, "date_to", None)
    return (lo, hi) if lo or hi else None


def _print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=iso_date)
    sys.stdout.write("\n")


def _frame_json(df: pd.DataFrame) -> list[dict]:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].map(iso_date)
    return out.astype(object).where(out.notna(), None).to_dict(orient="records")


def _rounded(df: pd.DataFrame, digits: int) -> pd.DataFrame:
    """``df`` with its float columns rounded (dates and text untouched)."""
    floats = df.select_dtypes("floating").columns
    return df.assign(**{c: df[c].round(digits) for c in floats}) if len(floats) else df


def _print_frame(df: pd.DataFrame) -> None:
    if df.empty:
        _say("(no rows)")
        return
    with pd.option_context("display.max_rows", 500, "display.max_colwidth", 80,
                           "display.width", 160):
        _say(df.to_string(index=False))


def _limit(args: argparse.Namespace) -> int | None:
    """``--limit 0`` means every row."""
    return args.limit or None


def _selection(args: argparse.Namespace) -> dict:
    """The query, filters, dates (and count_once, where the verb has it) as keywords."""
    out = {"query": args.query or "*", "filters": _filters(args.filter),
           "dates": _dates(args)}
    if hasattr(args, "count_once"):
        out["count_once"] = args.count_once
    return out


def _provenance(index: Index, args: argparse.Namespace) -> dict:
    """Where this verb's result comes from: the selection as given, every other option."""
    given: dict[str, object] = dict(_filters(getattr(args, "filter", None)))
    if _dates(args):
        given["dates"] = list(_dates(args))
    extra = {"command": args.command,
             **{k: v for k, v in sorted(vars(args).items()) if k not in _NOT_PARAMETERS}}
    return provenance(index.snapshot(), query=getattr(args, "query", None) or "",
                      filters=given, extra=extra)


def _scalars(attrs: dict) -> dict:
    """The JSON-ready scalar entries of a DataFrame's ``attrs``."""
    return {k: v.item() if hasattr(v, "item") else v for k, v in attrs.items()
            if isinstance(v, str | int | float | bool) or hasattr(v, "item")}


def _save_plot(chart: Chart, path: str, prov: dict) -> None:
    """Save a figure with its provenance sidecar."""
    chart.save(path, provenance=prov)


def _export(df: pd.DataFrame, args: argparse.Namespace, prov: dict, digits: int = 6) -> bool:
    """``--csv`` (with a sidecar) and ``--json`` (attrs, rows, provenance); True when JSON
    was printed (then nothing else is)."""
    if getattr(args, "csv", None):
        to_csv(df, args.csv, provenance=prov)
    if args.json:
        _print_json({"attrs": _scalars(df.attrs), "rows": _frame_json(_rounded(df, digits)),
                     "provenance": prov})
    return bool(args.json)


def _export_table(df: pd.DataFrame, args: argparse.Namespace, prov: dict, *,
                  shown: pd.DataFrame | None = None, note: str = "") -> None:
    """``--csv`` (with a sidecar), then ``--json`` (rows, attrs, provenance) or an aligned
    text table of ``shown`` (default: every column) and a note."""
    if _export(df, args, prov):
        return
    table = df if shown is None else shown
    _print_frame(_rounded(table, 3))
    saved = [f"{what} saved to {where}" for what, where in
             (("table", args.csv), ("chart", getattr(args, "plot", None))) if where]
    _say(f"\n{len(df):,} rows" + "".join(f"; {x}" for x in [note, *saved] if x))


# --- verbs ---------------------------------------------------------------------------------


def _cmd_build(args: argparse.Namespace) -> int:
    cols = ColumnMap(title=args.title_col, text=args.text_col, outlet=args.outlet_col,
                     date=args.date_col, url=args.url_col, id=args.id_col)
    report = build(args.paths or None, args.index, add=args.add, remove=args.remove,
                   columns=cols, outlet=args.outlet or "", entities=not args.no_entities,
                   follow_links=args.follow_links, scheduler=args.scheduler,
                   search_first=args.search_first)
    if args.json:
        index = open_index(report.index_dir)
        prov = _provenance(index, args)
        index.close()
        _print_json({
            "index": str(report.index_dir), "generation": report.generation,
            "total": report.total, "indexed": report.added, "updated": report.updated,
            "unchanged": report.unchanged, "removed": report.removed,
            "model_runs": report.model_runs, "seconds": round(report.seconds, 3),
            "sources": report.sources, "warnings": report.warnings,
            "outlets": _frame_json(report.outlets) if report.outlets is not None else [],
            "boilerplate": (_frame_json(report.boilerplate)
                            if report.boilerplate is not None else []),
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
            "duplicates": [{"path": s.path, "reason": s.reason} for s in report.duplicates],
            "notes": [{"path": s.path, "reason": s.reason} for s in report.notes],
            "provenance": prov})
    else:
        _say(report)
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    res = index.search(args.query, filters=_filters(args.filter),
                                        dates=_dates(args), limit=args.limit, page=args.page,
                                        sort=args.sort, count_once=args.count_once)
    prov = _provenance(index, args)
    if res.entities_note:
        print(f"note: {res.entities_note}", file=sys.stderr)
    if args.csv:
        res.to_csv(args.csv, provenance=prov)
    if args.json:
        _print_json({**res.to_dict(), "provenance": prov})
        return 0
    _say(f"{res.total:,} articles match {args.query!r}" +
         (f"; did you mean {res.suggestion!r}?" if res.suggestion else ""))
    for row in res.hits.itertuples(index=False):
        meta = " · ".join(x for x in (row.outlet, iso_date(row.date) or "") if x)
        _say(f"\n{row.rank:>3}. {row.title or '(untitled)'}  [{row.doc_id}]  {meta}")
        _say(f"     {row.snippet}")
    for key, df in res.facets.items():
        if len(df):
            _say(f"\n{key}: " + ", ".join(f"{v} ({c})" for v, c in
                                        zip(df["value"], df["count"], strict=True)))
    return 0


def _cmd_facets(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.facets(args.field, query=args.query, filters=_filters(args.filter),
                      dates=_dates(args), limit=args.limit, count_once=args.count_once)
    if df.attrs.get("note"):
        print(f"note: {df.attrs['note']}", file=sys.stderr)
    if not _export(df, args, _provenance(index, args)):
        for v, c in zip(df["value"], df["count"], strict=True):
            _say(f"{c:>7,}  {v}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    art = index.show(args.doc_id)
    if args.json:
        _print_json({**art.to_dict(), "provenance": _provenance(index, args)})
        return 0
    _say(art.title)
    _say(" · ".join(x for x in (art.outlet, iso_date(art.date) or "", art.url, art.doc_id)
                    if x))
    _say()
    _say(art.text)
    _say()
    for t in ("person", "org", "place"):
        names = art.entities[art.entities["type"] == t]
        if len(names):
            _say(f"{t}: " + ", ".join(f"{n} ({c})" for n, c in
                                      zip(names["name"], names["count"], strict=True)))
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    st = index.entity_status()
    if args.json:
        _print_json({"index": args.index, "generation": index.generation,
                     "articles": len(index),
                     "entities": {"extracted": st.extracted, "complete": st.complete,
                                  "covered": st.covered, "done": st.done,
                                  "running": st.running, "note": st.note},
                     "provenance": _provenance(index, args)})
        return 0
    _say(f"{args.index}/{index.generation}: {len(index):,} articles; {st}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    bad = check_index(args.index, full=args.full)
    if args.json:
        _print_json({"index": args.index, "full": args.full,
                     "problems": [{"file": f, "problem": p} for f, p in
                                  zip(bad["file"], bad["problem"], strict=True)]})
    for f, p in zip(bad["file"], bad["problem"], strict=True):
        print(f"corpus-search: {f}: {p}", file=sys.stderr)
    if len(bad):
        print(f"corpus-search: {len(bad)} damaged file(s) in {args.index}; rebuild it: "
              f"corpus-search build CORPUS_FOLDER --index {args.index}", file=sys.stderr)
        return 2
    if not args.json:
        _say(f"{args.index}: every file matches its build "
             f"({'whole files' if args.full else 'sizes and quick digests'})")
    return 0


def _cmd_trust(args: argparse.Namespace) -> int:
    gen = trust_index(args.index)
    _say(f"{gen} is now signed with your key; only do this for indexes you trust")
    return 0


def _cmd_terms(args: argparse.Namespace) -> int:
    by = None if args.by == "all" else args.by
    index = open_index(args.index)
    df = index.term_frequency(args.terms, by=by, field=args.field, query=args.query,
                              filters=_filters(args.filter), dates=_dates(args),
                              count_once=args.count_once)
    prov = _provenance(index, args)
    if args.plot:
        _save_plot(index.plot_terms(args.terms, by=by, field=args.field, query=args.query,
                                    filters=_filters(args.filter), dates=_dates(args),
                                    count_once=args.count_once, per_10k=args.per_10k),
                   args.plot, prov)
    if args.csv:
        to_csv(df, args.csv, provenance=prov)
    if args.json:
        _print_json({"by": by, "field": args.field, "articles": df.attrs["articles"],
                     "tokens": df.attrs["tokens"], "rows": _frame_json(df),
                     "provenance": prov})
    else:
        cols = ["term", "group", "per_10k" if args.per_10k else "count", "articles",
                "tokens", "forms"]
        _print_frame(df[cols])
        _say(f"\n{df.attrs['articles']:,} articles, {df.attrs['tokens']:,} words "
             f"(counted in {args.field})" + (f"; chart saved to {args.plot}" if args.plot
                                             else ""))
    return 0


def _cmd_kwic(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.concordance(args.query, width=args.width, sort=args.sort, limit=args.limit,
                           filters=_filters(args.filter), dates=_dates(args))
    if not _export(df, args, _provenance(index, args)):
        for r in df.itertuples(index=False):
            _say(f"{r.left:>{args.width}} [{r.match}] {r.right:<{args.width}}  {r.doc_id}")
        _say(f"\n{len(df):,} hits")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    cmp = index.compare(args.a, args.b)
    prov = _provenance(index, args)
    if args.html:
        cmp.save_html(args.html, provenance=prov)
    if args.json:
        _print_json({**cmp.to_dict(), "provenance": prov})
    else:
        d = cmp.to_dict()
        _say(f"{cmp.a.title}  |  {cmp.b.title}\nsimilarity {d['similarity']:.3f}")
        for t, parts in d["entities"].items():
            _say(f"{t}: shared {', '.join(parts['shared']) or '-'}")
        _say("shared terms: " + ", ".join(x["term"] for x in d["terms"]))
        _say(f"{len(d['sentences'])} matching sentences"
             + (f"; HTML saved to {args.html}" if args.html else ""))
    return 0


def _cmd_keyness(args: argparse.Namespace) -> int:
    target = Selection(args.query or "*", _filters(args.filter))
    reference = (Selection(filters=_filters(args.reference)) if args.reference else None)
    index = open_index(args.index)
    df = index.keyness(target, reference, min_freq=args.min_freq, direction=args.direction,
                       limit=args.limit)
    if not _export(df, args, _provenance(index, args), digits=4):
        _print_frame(df.round(2))
    return 0


def _cmd_similar(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.similar(args.doc_id, limit=args.limit)
    if not _export(df, args, _provenance(index, args), digits=4):
        _print_frame(df[["rank", "doc_id", "score", "outlet", "title"]])
    return 0


def _cmd_collocates(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.collocates(args.node, window_left=args.window_left,
                          window_right=args.window_right, measure=args.measure,
                          min_freq=args.min_freq, limit=_limit(args), **_selection(args))
    _export_table(df, args, _provenance(index, args),
                  shown=df.drop(columns=["stem", "node_freq"]),
                  note=f"sorted by {args.measure}")
    return 0


def _cmd_compare_collocates(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.compare_collocates(args.node, _filters(args.a),
                                  _filters(args.b) if args.b else None,
                                  window_left=args.window_left, window_right=args.window_right,
                                  measure=args.measure, min_freq=args.min_freq,
                                  limit=_limit(args))
    b = " ".join(args.b) if args.b else "the rest"
    _export_table(df, args, _provenance(index, args), shown=df.drop(columns=["stem"]),
                  note=f"A: {' '.join(args.a)}; B: {b}; scores are {args.measure}")
    return 0


def _cmd_ngrams(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.ngrams(n=tuple(args.n), contains=args.contains, anchor=args.anchor,
                      min_freq=args.min_freq, limit=_limit(args), **_selection(args))
    _export_table(df, args, _provenance(index, args))
    return 0


def _cmd_dispersion(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    sel = _selection(args)
    if args.hits:
        df = index.dispersion(args.terms, order=args.order, **sel)
        df = df.assign(position=df["position"].astype(float))
    else:
        df = index.dispersion_measures(args.terms, **sel)
    prov = _provenance(index, args)
    if args.plot:
        _save_plot(index.plot_dispersion(args.terms, order=args.order, **sel), args.plot, prov)
    _export_table(df, args, prov, note="one row per occurrence" if args.hits else
                  "juilland_d: 1 = spread evenly; dp: 0 = spread evenly")
    return 0


def _cmd_duplicates(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.duplicates(min_size=args.min_size, **_selection(args))
    n = df["cluster"].nunique() if len(df) else 0
    _export_table(df, args, _provenance(index, args), note=f"clusters: {n:,}")
    return 0


def _cmd_comentions(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    sel = _selection(args)
    df = index.comentions(types=tuple(args.types), min_count=args.min_count, order=args.order,
                          limit=_limit(args), **sel)
    prov = _provenance(index, args)
    if args.plot:
        _save_plot(index.plot_comentions(top=args.top, types=tuple(args.types),
                                         min_count=args.min_count, order=args.order, **sel),
                   args.plot, prov)
    _export_table(df, args, prov,
                  note=f"{df.attrs.get('articles', 0):,} articles in scope")
    return 0


def _cmd_entity_report(args: argparse.Namespace) -> int:
    index = open_index(args.index)
    df = index.entity_report()
    _export_table(df, args, _provenance(index, args),
                  note="undo a line in entity-overrides.csv in the index folder, then build")
    return 0


# --- the parser ----------------------------------------------------------------------------


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", default="index", help="index folder (default: index)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _add_selection(p: argparse.ArgumentParser, query: bool = True,
                   query_default: object = None) -> None:
    if query:
        p.add_argument("--query", default=query_default,
                       help="only articles matching this query")
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE",
                   help=f"facet filter ({', '.join(FACETS)}), e.g. outlet=RT (repeatable)")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first date (2022-06-01)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last date (inclusive)")


def _add_count_once(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count-once", action="store_true",
                   help="count each cluster of near-duplicate articles (wire copy) once")


def _add_csv(p: argparse.ArgumentParser, plot: bool = False) -> None:
    p.add_argument("--csv", metavar="FILE",
                   help="also write the table to a CSV file (with FILE.provenance.json)")
    if plot:
        p.add_argument("--plot", metavar="PNG",
                       help="save the chart to this file (with PNG.provenance.json)")


def _add_collocate_options(p: argparse.ArgumentParser, fn: Callable) -> None:
    p.add_argument("node", help='a word (all its forms) or a "phrase"')
    p.add_argument("--window-left", type=int, default=_default(fn, "window_left"),
                   metavar="N", help="words to the left that count as near")
    p.add_argument("--window-right", type=int, default=_default(fn, "window_right"),
                   metavar="N", help="words to the right that count as near")
    p.add_argument("--measure", choices=MEASURES, default=_default(fn, "measure"),
                   help="the association measure rows are sorted by")
    p.add_argument("--min-freq", type=int, default=_default(fn, "min_freq"),
                   help="leave out collocates seen fewer times near the node")
    p.add_argument("--limit", type=int, default=_default(fn, "limit"), help="rows (0: all)")


def _add_index_verbs(sub: argparse._SubParsersAction) -> None:
    """Verbs: build, status, check and trust: making and checking an index."""
    p = sub.add_parser("build", help="build or update the index from corpus files")
    p.add_argument("paths", nargs="*", metavar="PATH[=OUTLET]",
                   help="folders or files; RT.csv=RT gives a file its outlet (default: the "
                        "sources the index records, or corpus/)")
    p.add_argument("--add", action="store_true",
                   help="add PATHs to the index's sources instead of replacing them")
    p.add_argument("--remove", action="store_true",
                   help="remove PATHs from the index's sources (their articles leave)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the entity model on this dask cluster (tcp://host:8786; "
                        "default: $CORPUS_SEARCH_SCHEDULER, else a local cluster)")
    p.add_argument("--follow-links", action="store_true",
                   help="follow symlinks that lead out of a corpus folder")
    _add_common(p)
    for col in ("title", "text", "outlet", "date", "url", "id"):
        p.add_argument(f"--{col}-col", metavar="COL", help=f"CSV/JSONL column holding the {col}")
    p.add_argument("--outlet", help="outlet of articles that name none")
    p.add_argument("--no-entities", action="store_true",
                   help="skip named-entity extraction (faster; no person/org/place facets)")
    first = p.add_mutually_exclusive_group()
    first.add_argument("--search-first", dest="search_first", action="store_const",
                       const=True, default=_default(build, "search_first"),
                       help="publish the keyword index before extracting entities (default: "
                            f"when {SEARCH_FIRST_MIN:,}+ articles need the model)")
    first.add_argument("--no-search-first", dest="search_first", action="store_const",
                       const=False, help="publish once, with entities")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("status", help="the generation in use and how complete its entities "
                       "are (how far a running extraction has got)")
    _add_common(p)
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("check", help="check the index's files against their build checksums")
    _add_common(p)
    p.add_argument("--full", action="store_true",
                   help="read every file whole (default: sizes and quick digests, as on open)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("trust", help="sign an index built by another user or machine with "
                       "your key (only for indexes you trust: opening one unpickles its files)")
    p.add_argument("index", metavar="DIR", help="the index folder")
    p.set_defaults(func=_cmd_trust)


def _add_search_verbs(sub: argparse._SubParsersAction) -> None:
    """Verbs: search, facets, show."""
    p = sub.add_parser("search", help="search with the Whoosh query language")
    p.add_argument("query")
    _add_common(p)
    _add_selection(p, query=False)
    p.add_argument("--limit", type=int, default=_default(Index.search, "limit"))
    p.add_argument("--page", type=int, default=_default(Index.search, "page"))
    p.add_argument("--sort", choices=SORTS, default=_default(Index.search, "sort"))
    _add_count_once(p)
    p.add_argument("--csv", metavar="FILE", help="also write the hits to a CSV file "
                   "(cells a spreadsheet would run as formulas are neutralised; with "
                   "FILE.provenance.json)")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("facets", help="article counts per person, org, place, outlet or month")
    p.add_argument("field", choices=FACETS)
    _add_common(p)
    p.add_argument("--query", default=_default(Index.facets, "query"))
    _add_selection(p, query=False)
    p.add_argument("--limit", type=int, default=_default(Index.facets, "limit"))
    _add_count_once(p)
    _add_csv(p)
    p.set_defaults(func=_cmd_facets)

    p = sub.add_parser("show", help="one article with its entities")
    p.add_argument("doc_id")
    _add_common(p)
    p.set_defaults(func=_cmd_show)


def _add_analysis_verbs(sub: argparse._SubParsersAction) -> None:
    """Verbs: terms, kwic, compare, keyness, similar."""
    p = sub.add_parser("terms", help="term frequency by outlet, month or article")
    p.add_argument("terms", nargs="+", help='words or "quoted phrases"')
    _add_common(p)
    p.add_argument("--by", choices=["outlet", "month", "article", "all"],
                   default=_default(Index.term_frequency, "by"))
    p.add_argument("--field", choices=FIELDS, default=_default(Index.term_frequency, "field"),
                   help="count in titles and bodies (all), or one of them")
    p.add_argument("--per-10k", action="store_true", help="per 10,000 words instead of counts")
    _add_selection(p)
    _add_count_once(p)
    _add_csv(p, plot=True)
    p.set_defaults(func=_cmd_terms)

    p = sub.add_parser("kwic", help="keyword in context (concordance)")
    p.add_argument("query")
    _add_common(p)
    p.add_argument("--width", type=int, default=_default(Index.concordance, "width"))
    p.add_argument("--sort", choices=KWIC_SORTS, default=_default(Index.concordance, "sort"))
    p.add_argument("--limit", type=int, default=_default(Index.concordance, "limit"))
    _add_selection(p, query=False)
    _add_csv(p)
    p.set_defaults(func=_cmd_kwic)

    p = sub.add_parser("compare", help="two articles side by side")
    p.add_argument("a")
    p.add_argument("b")
    _add_common(p)
    p.add_argument("--html", metavar="FILE",
                   help="save the side-by-side view (with FILE.provenance.json)")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("keyness", help="what a set of articles says more than the rest")
    _add_common(p)
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE", help="the target")
    p.add_argument("--query", help="target articles matching this query")
    p.add_argument("--reference", action="append", metavar="FIELD=VALUE",
                   help="the reference (default: the rest of the corpus)")
    p.add_argument("--min-freq", type=int, default=_default(Index.keyness, "min_freq"))
    p.add_argument("--direction", choices=DIRECTIONS,
                   default=_default(Index.keyness, "direction"))
    p.add_argument("--limit", type=int, default=_default(Index.keyness, "limit"))
    _add_csv(p)
    p.set_defaults(func=_cmd_keyness)

    p = sub.add_parser("similar", help="articles most like one article")
    p.add_argument("doc_id")
    _add_common(p)
    p.add_argument("--limit", type=int, default=_default(Index.similar, "limit"))
    _add_csv(p)
    p.set_defaults(func=_cmd_similar)


def _add_view_verbs(sub: argparse._SubParsersAction) -> None:
    """Verbs: the corpus-linguistics views and the entity audit."""
    p = sub.add_parser("collocates", help="words near a word more often than chance")
    _add_collocate_options(p, Index.collocates)
    _add_common(p)
    _add_selection(p, query_default=_default(Index.collocates, "query"))
    _add_count_once(p)
    _add_csv(p)
    p.set_defaults(func=_cmd_collocates)

    p = sub.add_parser("compare-collocates",
                       help="collocates in two sets of articles side by side (RT vs the rest)")
    _add_collocate_options(p, Index.compare_collocates)
    _add_common(p)
    p.add_argument("--a", action="append", required=True, metavar="FIELD=VALUE",
                   help="the first set, e.g. outlet=RT (repeatable)")
    p.add_argument("--b", action="append", metavar="FIELD=VALUE",
                   help="the second set (default: every article not in the first)")
    _add_csv(p)
    p.set_defaults(func=_cmd_compare_collocates)

    p = sub.add_parser("ngrams", help="the most frequent sequences of 2 to 5 words (clusters)")
    _add_common(p)
    p.add_argument("--n", type=int, nargs="+", metavar="N",
                   default=list(_default(Index.ngrams, "n")), help="sequence lengths, 2 to 5")
    p.add_argument("--contains", metavar="WORD", default=_default(Index.ngrams, "contains"),
                   help="only sequences holding this word (any of its forms)")
    p.add_argument("--anchor", choices=ANCHORS, default=_default(Index.ngrams, "anchor"),
                   help="with --contains: the word starts (left) or ends (right) them")
    p.add_argument("--min-freq", type=int, default=_default(Index.ngrams, "min_freq"))
    p.add_argument("--limit", type=int, default=_default(Index.ngrams, "limit"),
                   help="rows (0: all)")
    _add_selection(p, query_default=_default(Index.ngrams, "query"))
    _add_count_once(p)
    _add_csv(p)
    p.set_defaults(func=_cmd_ngrams)

    p = sub.add_parser("dispersion", help="how evenly terms spread over the corpus "
                       "(Juilland's D, Gries' DP) and a dispersion plot")
    p.add_argument("terms", nargs="+", help='words or "quoted phrases"')
    _add_common(p)
    p.add_argument("--order", choices=DISPERSION_ORDERS,
                   default=_default(Index.dispersion, "order"),
                   help="articles by date or in index order (plot and --hits)")
    p.add_argument("--hits", action="store_true",
                   help="one row per occurrence (its position through the corpus) instead "
                        "of the measures")
    _add_selection(p, query_default=_default(Index.dispersion, "query"))
    _add_count_once(p)
    _add_csv(p, plot=True)
    p.set_defaults(func=_cmd_dispersion)

    p = sub.add_parser("duplicates", help="clusters of near-duplicate articles (wire copy)")
    _add_common(p)
    p.add_argument("--min-size", type=int, default=_default(Index.duplicates, "min_size"))
    _add_selection(p, query_default=_default(Index.duplicates, "query"))
    _add_csv(p)
    p.set_defaults(func=_cmd_duplicates)

    p = sub.add_parser("comentions", help="who is mentioned with whom (pairs, PMI, G2) and "
                       "a network figure")
    _add_common(p)
    p.add_argument("--types", nargs="+", choices=ENTITY_TYPES,
                   default=list(_default(Index.comentions, "types")), help="entity types")
    p.add_argument("--min-count", type=int, default=_default(Index.comentions, "min_count"),
                   help="leave out pairs named together in fewer articles")
    p.add_argument("--order", choices=COMENTION_ORDERS,
                   default=_default(Index.comentions, "order"))
    p.add_argument("--limit", type=int, default=_default(Index.comentions, "limit"),
                   help="rows (0: all)")
    p.add_argument("--top", type=int, default=_default(Index.plot_comentions, "top"),
                   help="pairs drawn with --plot")
    _add_selection(p, query_default=_default(Index.comentions, "query"))
    _add_count_once(p)
    _add_csv(p, plot=True)
    p.set_defaults(func=_cmd_comentions)

    p = sub.add_parser("entity-report", help="what corpus-level entity resolution merged, "
                       "retyped or dropped (to audit it)")
    _add_common(p)
    _add_csv(p)
    p.set_defaults(func=_cmd_entity_report)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="corpus-search", description="Search a news corpus by keyword and entity.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_index_verbs(sub)
    _add_search_verbs(sub)
    _add_analysis_verbs(sub)
    _add_view_verbs(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CorpusSearchError as exc:
        print(f"corpus-search: {_CONTROL.sub('', str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - `| head`
        return 0
    except Exception as exc:  # an index file damaged where the open-time check can't see
        if not is_damage(exc):
            raise
        index = getattr(args, "index", "index")
        print(f"corpus-search: an index file could not be read ({type(exc).__name__}); run "
              f"`corpus-search check --full --index {index}`, then rebuild it: "
              f"corpus-search build CORPUS_FOLDER --index {index}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("corpus-search: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
