"""The analysis verbs of ``corpus-search``: terms, kwic, compare, keyness, similar."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["add_parsers"]


def _print_frame(df, columns=None) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.max_colwidth", 80,
                           "display.width", 160):
        print(df[columns] if columns else df.to_string(index=False))


def add_parsers(sub: argparse._SubParsersAction, add_common: Callable, filters: Callable,
                print_json: Callable) -> None:
    """Add the analysis sub-commands to the ``corpus-search`` parser."""

    def cmd_terms(args: argparse.Namespace) -> int:
        from ._index import open_index
        from ._terms import term_frequency

        by = None if args.by == "all" else args.by
        df = term_frequency(open_index(args.index), args.terms, by=by, query=args.query,
                            filters=filters(args.filter))
        if args.plot:
            from ._plots import plot_terms

            plot_terms(df, per_10k=args.per_10k).savefig(args.plot, dpi=120,
                                                          bbox_inches="tight")
        if args.json:
            out = df.astype(object).where(df.notna(), None)
            print_json({"by": by, "articles": df.attrs["articles"], "tokens": df.attrs["tokens"],
                        "rows": out.to_dict(orient="records")})
        else:
            cols = ["term", "group", "per_10k" if args.per_10k else "count", "articles",
                    "tokens", "forms"]
            print(df[cols].to_string(index=False))
            print(f"\n{df.attrs['articles']:,} articles, {df.attrs['tokens']:,} words"
                  + (f"; chart saved to {args.plot}" if args.plot else ""))
        return 0

    p = sub.add_parser("terms", help="term frequency by outlet, month or article")
    p.add_argument("terms", nargs="+", help='words or "quoted phrases"')
    add_common(p)
    p.add_argument("--by", choices=["outlet", "month", "article", "all"], default="outlet")
    p.add_argument("--per-10k", action="store_true", help="per 10,000 words instead of counts")
    p.add_argument("--query", help="count only in articles matching this query")
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE")
    p.add_argument("--plot", metavar="PNG", help="save the chart to this file")
    p.set_defaults(func=cmd_terms)

    def cmd_kwic(args: argparse.Namespace) -> int:
        from ._index import open_index
        from ._kwic import concordance

        df = concordance(open_index(args.index), args.query, width=args.width, sort=args.sort,
                         limit=args.limit, filters=filters(args.filter))
        if args.json:
            out = df.assign(date=df["date"].map(lambda d: None if d is None or str(d) == "NaT"
                                                else d.date().isoformat()))
            print_json(out.to_dict(orient="records"))
        else:
            for r in df.itertuples(index=False):
                print(f"{r.left:>{args.width}} [{r.match}] {r.right:<{args.width}}  {r.doc_id}")
            print(f"\n{len(df):,} hits")
        return 0

    p = sub.add_parser("kwic", help="keyword in context (concordance)")
    p.add_argument("query")
    add_common(p)
    p.add_argument("--width", type=int, default=50)
    p.add_argument("--sort", choices=["doc", "left", "right"], default="doc")
    p.add_argument("--limit", type=int)
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE")
    p.set_defaults(func=cmd_kwic)

    def cmd_compare(args: argparse.Namespace) -> int:
        from ._compare import compare
        from ._index import open_index

        cmp = compare(open_index(args.index), args.a, args.b)
        if args.html:
            cmp.save_html(args.html)
        if args.json:
            print_json(cmp.to_dict())
        else:
            d = cmp.to_dict()
            print(f"{cmp.a.title}  |  {cmp.b.title}\nsimilarity {d['similarity']:.3f}")
            for t, parts in d["entities"].items():
                print(f"{t}: shared {', '.join(parts['shared']) or '-'}")
            print("shared terms: " + ", ".join(x["form"] for x in d["terms"]))
            print(f"{len(d['sentences'])} matching sentences"
                  + (f"; HTML saved to {args.html}" if args.html else ""))
        return 0

    p = sub.add_parser("compare", help="two articles side by side")
    p.add_argument("a")
    p.add_argument("b")
    add_common(p)
    p.add_argument("--html", metavar="FILE", help="save the side-by-side view")
    p.set_defaults(func=cmd_compare)

    def cmd_keyness(args: argparse.Namespace) -> int:
        from ._index import open_index
        from ._keyness import keyness

        df = keyness(open_index(args.index), filters(args.filter),
                     filters(args.reference) or None, target_query=args.query,
                     min_freq=args.min_freq, direction=args.direction, limit=args.limit)
        if args.json:
            print_json(df.round(4).to_dict(orient="records"))
        else:
            _print_frame(df.round(2))
        return 0

    p = sub.add_parser("keyness", help="what a set of articles says more than the rest")
    add_common(p)
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE", help="the target")
    p.add_argument("--query", help="target articles matching this query")
    p.add_argument("--reference", action="append", metavar="FIELD=VALUE",
                   help="the reference (default: the rest of the corpus)")
    p.add_argument("--min-freq", type=int, default=5)
    p.add_argument("--direction", choices=["over", "under", "both"], default="over")
    p.add_argument("--limit", type=int, default=30)
    p.set_defaults(func=cmd_keyness)

    def cmd_similar(args: argparse.Namespace) -> int:
        from ._index import open_index
        from ._keyness import similar

        df = similar(open_index(args.index), args.doc_id, limit=args.limit)
        if args.json:
            print_json([{"rank": int(r.rank), "doc_id": r.doc_id, "score": round(r.score, 4),
                         "title": r.title, "outlet": r.outlet} for r in
                        df.itertuples(index=False)])
        else:
            _print_frame(df[["rank", "doc_id", "score", "outlet", "title"]])
        return 0

    p = sub.add_parser("similar", help="articles most like one article")
    p.add_argument("doc_id")
    add_common(p)
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(func=cmd_similar)
