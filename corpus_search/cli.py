"""The ``corpus-search`` command: build, search, facets, show, check, trust (and the
analysis verbs).

Every verb is a thin layer over the library. Errors print one line on stderr and exit
with status 2; ``--json`` prints machine-readable output on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ._corpus import ColumnMap
from ._errors import CorpusSearchError
from ._trust import check_index, is_damage, trust_index

__all__ = ["main"]


def _filters(items: Sequence[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CorpusSearchError(f"--filter wants FIELD=VALUE, got {item!r}")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _cmd_build(args: argparse.Namespace) -> int:
    from ._index import build

    cols = ColumnMap(title=args.title_col, text=args.text_col, outlet=args.outlet_col,
                     date=args.date_col, url=args.url_col, id=args.id_col)
    report = build(args.paths or ["corpus"], args.index, columns=cols, outlet=args.outlet or "",
                   entities=not args.no_entities)
    if args.json:
        _print_json({
            "index": str(report.index_dir), "generation": report.generation,
            "total": report.total, "indexed": report.added, "updated": report.updated,
            "unchanged": report.unchanged, "removed": report.removed,
            "model_runs": report.model_runs, "seconds": round(report.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
            "duplicates": [{"path": s.path, "reason": s.reason} for s in report.duplicates],
            "notes": [{"path": s.path, "reason": s.reason} for s in report.notes]})
    else:
        print(report)
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from ._index import open_index

    res = open_index(args.index).search(args.query, filters=_filters(args.filter),
                                        limit=args.limit, page=args.page, sort=args.sort)
    if args.csv:
        res.to_csv(args.csv)
    if args.json:
        _print_json(res.to_dict())
        return 0
    print(f"{res.total:,} articles match {args.query!r}" +
          (f"; did you mean {res.suggestion!r}?" if res.suggestion else ""))
    for row in res.hits.itertuples(index=False):
        date = "" if row.date is None or str(row.date) == "NaT" else f" {row.date:%Y-%m-%d}"
        print(f"\n{row.rank:>3}. {row.title or '(untitled)'}  [{row.doc_id}]"
              f"{'  ' + row.outlet if row.outlet else ''}{date}")
        print(f"     {row.snippet}")
    for key, df in res.facets.items():
        if len(df):
            print(f"\n{key}: " + ", ".join(f"{v} ({c})" for v, c in
                                         zip(df["value"], df["count"], strict=True)))
    return 0


def _cmd_facets(args: argparse.Namespace) -> int:
    from ._index import open_index

    df = open_index(args.index).facets(args.field, query=args.query,
                                       filters=_filters(args.filter), limit=args.limit)
    if args.json:
        _print_json([{"value": v, "count": int(c)} for v, c in
                     zip(df["value"], df["count"], strict=True)])
    else:
        for v, c in zip(df["value"], df["count"], strict=True):
            print(f"{c:>7,}  {v}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from ._index import open_index

    art = open_index(args.index).show(args.doc_id)
    if args.json:
        _print_json(art.to_dict())
        return 0
    print(art.title)
    print(" · ".join(x for x in (art.outlet, art.date.date().isoformat() if art.date else "",
                                 art.url, art.doc_id) if x))
    print()
    print(art.text)
    print()
    for t in ("person", "org", "place"):
        names = art.entities[art.entities["type"] == t]
        if len(names):
            print(f"{t}: " + ", ".join(f"{n} ({c})" for n, c in
                                       zip(names["name"], names["count"], strict=True)))
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
        print(f"{args.index}: every file matches its build "
              f"({'whole files' if args.full else 'sizes and quick digests'})")
    return 0


def _cmd_trust(args: argparse.Namespace) -> int:
    gen = trust_index(args.index)
    print(f"{gen} is now signed with your key; only do this for indexes you trust")
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", default="index", help="index folder (default: index)")
    p.add_argument("--json", action="store_true", help="print JSON")


def make_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="corpus-search", description="Search a news corpus by keyword and entity.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build or update the index from corpus files")
    p.add_argument("paths", nargs="*", help="folders or files (default: corpus/)")
    _add_common(p)
    for col in ("title", "text", "outlet", "date", "url", "id"):
        p.add_argument(f"--{col}-col", metavar="COL", help=f"CSV/JSONL column holding the {col}")
    p.add_argument("--outlet", help="outlet of articles that name none")
    p.add_argument("--no-entities", action="store_true",
                   help="skip named-entity extraction (faster; no person/org/place facets)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("search", help="search with the Whoosh query language")
    p.add_argument("query")
    _add_common(p)
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE",
                   help="facet filter, e.g. person='Jens Stoltenberg' (repeatable)")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    p.add_argument("--csv", metavar="FILE", help="also write the hits to a CSV file "
                   "(cells a spreadsheet would run as formulas are neutralised)")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("facets", help="article counts per person, org, place, outlet or month")
    p.add_argument("field", choices=["person", "org", "place", "outlet", "month"])
    _add_common(p)
    p.add_argument("--query", default="*")
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=_cmd_facets)

    p = sub.add_parser("show", help="one article with its entities")
    p.add_argument("doc_id")
    _add_common(p)
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("check", help="check the index's files against their build checksums")
    _add_common(p)
    p.add_argument("--full", action="store_true",
                   help="read every file whole (default: sizes and quick digests, as on open)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("trust", help="sign an index built by another user or machine with "
                       "your key (only for indexes you trust: opening one unpickles its files)")
    p.add_argument("index", metavar="DIR", help="the index folder")
    p.set_defaults(func=_cmd_trust)

    _add_analysis(sub)
    return parser


def _add_analysis(sub: argparse._SubParsersAction) -> None:
    """Analysis verbs (terms, kwic, compare, keyness, similar), when available."""
    try:
        from . import _cli_analysis as cli_analysis
    except ImportError:  # pragma: no cover
        return
    cli_analysis.add_parsers(sub, _add_common, _filters, _print_json)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CorpusSearchError as exc:
        print(f"corpus-search: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an index file damaged where the open-time check can't see
        if not is_damage(exc):
            raise
        index = getattr(args, "index", "index")
        print(f"corpus-search: an index file could not be read ({type(exc).__name__}); run "
              f"`corpus-search check --full --index {index}`, then rebuild it: "
              f"corpus-search build CORPUS_FOLDER --index {index}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - `| head`
        return 0
    except KeyboardInterrupt:
        print("corpus-search: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
