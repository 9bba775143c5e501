"""Exporting tables safely.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula: a headline such as ``=HYPERLINK(...)`` in a
scraped corpus would become a live link or worse. Exported text cells that start so are
prefixed with a single quote (OWASP's advice), which spreadsheets show as plain text.
Numbers are left as numbers.

Dates are written one way everywhere (JSON, CSV): ISO 8601 to the second,
``2022-06-11T00:57:56``, in UTC without a zone suffix (the index stores UTC).

Given a :func:`~._provenance.provenance` dict, :func:`to_csv` writes it beside the table
as ``<file>.provenance.json`` so a published number can be traced and re-run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ._provenance import write_sidecar

__all__ = ["iso_date", "neutralise", "to_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell made safe for spreadsheets; other values unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def iso_date(value: object) -> str | None:
    """A date or datetime as ``YYYY-MM-DDTHH:MM:SS`` (None for missing)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat()
    return str(value)


def to_csv(df: pd.DataFrame, path: str | Path, *,
           provenance: Mapping | None = None) -> Path:
    """Write ``df`` as UTF-8 CSV with formula-like text cells neutralised.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (its index is not written).
    path : str or Path
        The CSV file.
    provenance : mapping or None, default None
        Where the table comes from (:func:`~._provenance.provenance`); written beside it
        as ``<file>.provenance.json`` (None: no sidecar).

    Returns
    -------
    Path
        The CSV file.
    """
    path = Path(path)
    safe = df.copy()
    for col in safe.columns:
        if pd.api.types.is_datetime64_any_dtype(safe[col]):
            safe[col] = safe[col].map(iso_date)
        elif safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise)
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    safe.to_csv(path, index=False, encoding="utf-8")
    if provenance is not None:
        write_sidecar(path, dict(provenance))
    return path
