"""Facets and the selection of articles every query works on.

A facet (datasette's idea) is a way of grouping articles: by outlet, by month, or by the
people, organisations or places they mention. Each :class:`Facet` implements, once,
``labels`` (its values), ``mask`` (the articles having any of some values) and ``counts``
(articles per value within a mask), all on a :class:`~._snapshot.Snapshot`'s arrays.

A :class:`Selection` is query + filters + dates: the same three things, read the same
way, choose the articles for search, facets, crosstab, term frequency, concordance,
keyness and similar. Facets combine as OR within one facet and AND across facets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from whoosh import query as wq

from ._dups import count_once
from ._entities import ENTITY_TYPES
from ._errors import QueryError
from ._postings import query_docs
from ._query import parse_query, resolve_entity
from ._snapshot import NO_DAY, Snapshot

__all__ = [
    "FACETS",
    "FACET_COLUMNS",
    "Dates",
    "Facet",
    "Filters",
    "Selection",
    "facet",
    "normalise_filters",
]

FACETS = ("person", "org", "place", "outlet", "month")
FACET_COLUMNS = ("value", "count")
"""Columns of a facet's counts. ``df.attrs``: ``facet``, ``selected`` (values picked),
``values`` (how many values have articles), ``truncated`` (whether ``limit`` cut some),
``note`` (for person/org/place while entities are incomplete: see
:meth:`Snapshot.entity_status`; else None)."""
Filters = Mapping[str, str | Sequence[str]] | None
"""``{"outlet": "RT", "person": ["Joe Biden", "Olaf Scholz"]}``"""
Dates = tuple[object, object] | None
"""``(from, to)``, inclusive, as ``"2022-06-01"`` strings or dates; either end may be None."""


class Facet:
    """One way of grouping articles. Subclasses say which (docnum, code) pairs it has."""

    name = ""

    def labels(self, snap: Snapshot) -> list[str]:
        """The facet's values, numbered by code."""
        raise NotImplementedError

    def pairs(self, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, codes): every article's values (several for an entity facet)."""
        raise NotImplementedError

    def code(self, snap: Snapshot, value: str) -> int | None:
        """The code of a value as a user types it, or None."""
        raise NotImplementedError

    def mask(self, snap: Snapshot, values: Sequence[str]) -> np.ndarray:
        """Articles having any of ``values``."""
        codes = [c for v in values if (c := self.code(snap, v)) is not None]
        docs, have = self.pairs(snap)
        out = np.zeros(len(snap.live), dtype=bool)
        out[docs[np.isin(have, codes)]] = True
        return out

    def order(self, df: pd.DataFrame) -> pd.DataFrame:
        """Most articles first, ties by value."""
        return df.sort_values(["count", "value"], ascending=[False, True], kind="stable")

    def counts(self, snap: Snapshot, mask: np.ndarray, *, limit: int | None = None,
               selected: Sequence[str] = ()) -> pd.DataFrame:
        """Articles per value within ``mask`` (columns :data:`FACET_COLUMNS`)."""
        docs, codes = self.pairs(snap)
        labels = self.labels(snap)
        counts = np.bincount(codes[mask[docs]], minlength=len(labels))
        nz = np.flatnonzero(counts)
        df = self.order(pd.DataFrame({"value": [labels[i] for i in nz],
                                      "count": counts[nz].astype(int)}))
        truncated = limit is not None and len(df) > limit
        if limit is not None:
            df = df.head(limit)
        df = df.reset_index(drop=True)
        df.attrs = {"facet": self.name, "selected": list(selected), "values": len(nz),
                    "truncated": bool(truncated), "note": self.note(snap)}
        return df

    def note(self, snap: Snapshot) -> str | None:
        """What a reader of these counts must know (None: nothing)."""
        return None


class OutletFacet(Facet):
    """The outlet each article came from (case-insensitive values)."""

    name = "outlet"

    def labels(self, snap: Snapshot) -> list[str]:
        return snap.outlets

    def pairs(self, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        docs = np.flatnonzero(snap.outlet_code >= 0)
        return docs, snap.outlet_code[docs]

    def code(self, snap: Snapshot, value: str) -> int | None:
        lower = {o.casefold(): i for i, o in enumerate(snap.outlets)}
        return lower.get(str(value).casefold())


class MonthFacet(Facet):
    """The month ("YYYY-MM") each dated article was published; listed in calendar order."""

    name = "month"

    def labels(self, snap: Snapshot) -> list[str]:
        return snap.months

    def pairs(self, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        docs = np.flatnonzero(snap.month_code >= 0)
        return docs, snap.month_code[docs]

    def code(self, snap: Snapshot, value: str) -> int | None:
        key = str(value)[:7]
        return snap.months.index(key) if key in snap.months else None

    def order(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.sort_values("value", kind="stable")


class EntityFacet(Facet):
    """People, organisations or places the articles mention (aliases and surnames
    resolved, so ``place=Kiev`` picks Kyiv)."""

    def __init__(self, type_: str) -> None:
        self.name = type_

    def labels(self, snap: Snapshot) -> list[str]:
        return snap.entity_names

    def pairs(self, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        return snap.type_pairs[self.name]

    def code(self, snap: Snapshot, value: str) -> int | None:
        return snap.entity_code(resolve_entity(snap, self.name, str(value)), self.name)

    def note(self, snap: Snapshot) -> str | None:
        return snap.entity_status().note


_FACETS: dict[str, Facet] = {"outlet": OutletFacet(), "month": MonthFacet(),
                             **{t: EntityFacet(t) for t in ENTITY_TYPES}}


def facet(name: str) -> Facet:
    """The facet called ``name`` (one of :data:`FACETS`), or a QueryError."""
    try:
        return _FACETS[name]
    except KeyError:
        raise QueryError(f"Unknown facet {name!r}; facets are {', '.join(FACETS)}.") from None


def normalise_filters(filters: Filters) -> dict[str, list[str]]:
    """``{"outlet": "RT"}`` -> ``{"outlet": ["RT"]}``; unknown facets raise QueryError."""
    out: dict[str, list[str]] = {}
    for key, value in (filters or {}).items():
        if key not in FACETS:
            raise QueryError(f"Unknown filter {key!r}; filters are {', '.join(FACETS)}.")
        values = [value] if isinstance(value, str) else list(value)
        if values:
            out[key] = [str(v) for v in values]
    return out


def _day(value: object) -> int:
    try:
        return int((np.datetime64(str(value)[:10], "D") - np.datetime64("1970-01-01", "D"))
                   .astype(np.int64))
    except ValueError:
        raise QueryError(f"Dates are written 2022-01-31; got {value!r}.") from None


@dataclass(frozen=True)
class Selection:
    """Which articles a query works on: ``query`` AND ``filters`` AND ``dates``.

    Parameters
    ----------
    query : str, default "*"
        Whoosh query language; ``*`` is every article.
    filters : mapping or None
        Facet -> value or list of values (OR within a facet, AND across facets).
    dates : (from, to) or None
        Inclusive range of publication dates; either end may be None.
    count_once : bool, default False
        Count each cluster of near-duplicate articles (syndicated wire copy, republished
        stories) once: only its earliest article in the selection is kept.
    """

    query: str = "*"
    filters: Filters = None
    dates: Dates = None
    count_once: bool = False

    def parsed(self, snap: Snapshot) -> wq.Query:
        """The query, parsed against ``snap``."""
        return parse_query(snap, self.query or "*")

    def filter_masks(self, snap: Snapshot) -> dict[str, np.ndarray]:
        """One mask per filtered facet."""
        return {k: facet(k).mask(snap, v) for k, v in normalise_filters(self.filters).items()}

    def date_mask(self, snap: Snapshot) -> np.ndarray | None:
        """Articles within ``dates`` (None when no range is given)."""
        if not self.dates or all(d in (None, "") for d in self.dates):
            return None
        if not snap.dated:
            raise QueryError("This corpus has no dates, so a date range matches nothing; "
                             "clear the dates.")
        lo, hi = self.dates
        mask = snap.day != NO_DAY
        if lo not in (None, ""):
            mask &= snap.day >= _day(lo)
        if hi not in (None, ""):
            mask &= snap.day <= _day(hi)
        return mask

    def matched(self, snap: Snapshot, q: wq.Query | None = None) -> np.ndarray:
        """Live articles matching the query and dates (not the filters)."""
        q = self.parsed(snap) if q is None else q
        mask = snap.live.copy() if isinstance(q, wq.Every) else (
            query_docs(snap.searcher, q, len(snap.live), snap.titles) & snap.live)
        dm = self.date_mask(snap)
        if dm is not None:
            mask &= dm
        return count_once(snap, mask) if self.count_once else mask

    def mask(self, snap: Snapshot) -> np.ndarray:
        """Live articles matching query, filters and dates."""
        mask = self.matched(snap)
        for m in self.filter_masks(snap).values():
            mask &= m
        return mask

    def is_everything(self) -> bool:
        """Whether nothing narrows the selection."""
        return (self.query or "*").strip() in ("", "*") and not normalise_filters(
            self.filters) and not (self.dates and any(d not in (None, "") for d in self.dates))
